// docker-compose.yml as data: its services, and the settings a service's process runs with there
// (its compose environment over the api's own defaults), for the drift test and the test replicas.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Config, loadConfig } from "@kogi/shared/config";
import { parse as parseYaml } from "yaml";

export interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  expose?: string[];
  ports?: string[];
  volumes?: string[];
  stop_grace_period?: string;
  healthcheck?: { test: string[]; timeout?: string };
}

const COMPOSE_FILE = fileURLToPath(new URL("../../docker-compose.yml", import.meta.url));
// merge: the Node services take their image, init and restart from `<<: *kogi-image`.
const compose = parseYaml(readFileSync(COMPOSE_FILE, "utf8"), { merge: true }) as {
  services: Record<string, ComposeService>;
};

export function composeService(name: string): ComposeService {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no ${name} service`);
  return found;
}

/** Compose's `${VAR:-default}` with nothing set, as a fresh `docker compose up` sees it. */
const interpolate = (text: string) =>
  text.replace(/\$\{[A-Z_]+(?::?-([^}]*))?\}/g, (_, fallback) => fallback ?? "");

/** The service's environment as compose passes it, interpolated. */
export function composeEnvironment(name: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(composeService(name).environment ?? {}).map(([key, v]) => [key, interpolate(String(v))]),
  );
}

/** What a process of that service runs with in compose. */
export function composeSettings(name: string): Config {
  return loadConfig(composeEnvironment(name));
}
