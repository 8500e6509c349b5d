// The real Docker Compose v2 on docker-compose.yml (through scripts/compose.sh: the system's plugin,
// else the bootstrap's copy in .cache/compose), for the checks a YAML parse cannot make.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** A service as `docker compose config --format json` normalizes it (the fields the tests read). */
export interface NormalizedService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[] | null;
  init?: boolean;
  environment?: Record<string, string>;
  expose?: string[];
  ports?: { target: number; published: string; protocol: string }[];
  volumes?: { type: string; source: string; target: string; read_only?: boolean }[];
  stop_grace_period?: string;
  deploy?: { replicas?: number };
  healthcheck?: { test: string[]; timeout?: string };
}
export interface NormalizedCompose {
  name: string;
  services: Record<string, NormalizedService>;
  volumes?: Record<string, unknown>;
}

export interface ComposeRun {
  /** Variables as the shell that runs compose would have them (nothing else leaks in from the test's). */
  env?: Record<string, string>;
  /** An env file in place of `.env` beside the compose file (default: none, so a local .env cannot leak in). */
  envFile?: string;
}

/** `docker compose -f docker-compose.yml <args>`; throws with compose's own message when it fails. */
export function compose(
  args: string[],
  { env = {}, envFile = "/dev/null" }: ComposeRun = {},
): { stdout: string; stderr: string } {
  const passThrough = ["PATH", "HOME", "DOCKER_CONFIG"].flatMap((key) => {
    const value = process.env[key];
    return value === undefined ? [] : [[key, value] as const];
  });
  const result = spawnSync(
    "bash",
    ["scripts/compose.sh", "-f", "docker-compose.yml", "--env-file", envFile, ...args],
    { cwd: root, encoding: "utf8", env: { ...Object.fromEntries(passThrough), ...env } },
  );
  if (result.error) throw result.error;
  if (result.status !== 0)
    throw new Error(`docker compose ${args.join(" ")} exited ${result.status}: ${result.stderr.trim()}`);
  return { stdout: result.stdout, stderr: result.stderr };
}

/** The compose model after interpolation, defaults and normalization, exactly as `up` would use it. */
export function composeConfig(run?: ComposeRun): NormalizedCompose {
  return JSON.parse(compose(["config", "--format", "json"], run).stdout) as NormalizedCompose;
}
