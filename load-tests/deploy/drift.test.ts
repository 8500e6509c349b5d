// docker-compose.yml, the Dockerfile, nginx/nginx.conf (+ upstreams.conf) and the api's own defaults agree
// on every number they share; and `docker compose config` accepts the compose file where compose exists.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "@kogi/shared/config";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { LEGACY_UPLOAD_PATHS } from "../../api/src/routes/legacy_d_id_uploads.js";
import { UPLOAD_PATH_PREFIX } from "../../api/src/routes/v1_videos_upload.js";
import { composeService, composeSettings } from "./compose-file.js";
import { block, bytes, type Directive, milliseconds, parseNginxConf, value } from "./nginx-conf.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const read = (path: string) => readFileSync(join(root, path), "utf8");

const service = composeService;
const api = composeSettings("api");
const vector = composeSettings("vector-worker");

const http = block(parseNginxConf(read("nginx/nginx.conf")), "http");
const server = block(http, "server");
const location = (...args: string[]) => block(server, "location", ...args);
const only = (directives: Directive[], name: string) => {
  const args = value(directives, name);
  if (!args) throw new Error(`nginx.conf: ${name} is not set there`);
  return args[0] as string;
};
/** A location's own value, else the server's (nginx inheritance, one level here). */
const effective = (directives: Directive[], name: string) =>
  value(directives, name)?.[0] ?? only(server, name);

const upstreamServers = read("nginx/upstreams.conf")
  .split("\n")
  .flatMap((line) => line.match(/^\s*server\s+(\S+?):(\d+)\b/)?.slice(1, 3) ?? []);
const exposed = (text: string) =>
  text
    .match(/^EXPOSE\s+(.+)$/m)?.[1]
    ?.split(/\s+/)
    .map(Number) ?? [];

describe("deploy files agree", () => {
  it("nginx's upstream names compose's api service on the port the api listens on", () => {
    const [host, port] = upstreamServers;
    expect(host).toBe("api");
    expect(Number(port)).toBe(api.PORT);
    expect(service("api").expose?.map(Number)).toContain(api.PORT);
    expect(exposed(read("Dockerfile"))).toContain(api.PORT);
    // The vector sidecar: its port, what compose exposes and where the api looks for it.
    expect(vector.VECTOR_PORT).toBe(Number(new URL(api.VECTOR_URL).port));
    expect(service("vector-worker").expose?.map(Number)).toContain(vector.VECTOR_PORT);
    expect(exposed(read("Dockerfile"))).toContain(vector.VECTOR_PORT);
    // Both upstream blocks take their servers from the one include.
    for (const name of ["api", "api_uploads"])
      expect(value(block(http, "upstream", name), "include")).toEqual(["upstreams.conf"]);
  });

  it("compose publishes nginx's listen port and mounts both config files where nginx reads them", () => {
    const listen = Number(only(server, "listen"));
    const nginx = service("nginx");
    expect(nginx.ports?.map((mapping) => Number(String(mapping).split(":").at(-1)))).toContain(listen);
    expect(nginx.volumes).toEqual(
      expect.arrayContaining([
        "./nginx/nginx.conf:/etc/nginx/nginx.conf:ro",
        "./nginx/upstreams.conf:/etc/nginx/upstreams.conf:ro",
      ]),
    );
    expect(nginx.healthcheck?.test.join(" ")).toContain(
      `http://127.0.0.1${listen === 80 ? "" : `:${listen}`}/nginx-health`,
    );
    expect(() => location("=", "/nginx-health")).not.toThrow();
    expect(service("api").healthcheck?.test.join(" ")).toMatch(/\/ready/);
  });

  it("nginx's body limit is the api's, and each upload route's is its file limit plus the multipart envelope", () => {
    expect(bytes(only(server, "client_max_body_size"))).toBe(api.BODY_LIMIT_BYTES);
    const envelope = read("api/src/services/uploads.ts").match(/const ENVELOPE_BYTES = ([\d_ *]+);/)?.[1];
    const envelopeBytes = (envelope ?? "0")
      .split("*")
      .reduce((product, n) => product * Number(n.trim().replaceAll("_", "")), 1);
    expect(envelopeBytes).toBeGreaterThan(0);
    const uploads = {
      [`${UPLOAD_PATH_PREFIX}images`]: api.VIDEO_UPLOAD_IMAGE_MAX_BYTES,
      [LEGACY_UPLOAD_PATHS.image]: api.VIDEO_UPLOAD_IMAGE_MAX_BYTES,
      [`${UPLOAD_PATH_PREFIX}audios`]: api.VIDEO_UPLOAD_AUDIO_MAX_BYTES,
      [LEGACY_UPLOAD_PATHS.audio]: api.VIDEO_UPLOAD_AUDIO_MAX_BYTES,
    };
    for (const [path, fileLimit] of Object.entries(uploads)) {
      const upload = location("=", path);
      expect(bytes(only(upload, "client_max_body_size")), path).toBe(fileLimit + envelopeBytes);
      expect(only(upload, "proxy_pass"), path).toBe("http://api_uploads");
    }
  });

  it("nginx closes an idle upstream connection before the api would (no request on a closing socket)", () => {
    const keepalive = milliseconds(only(block(http, "upstream", "api"), "keepalive_timeout"));
    expect(keepalive).toBeLessThan(api.KEEP_ALIVE_TIMEOUT_MS);
    expect(keepalive).toBeLessThan(loadConfig({}).KEEP_ALIVE_TIMEOUT_MS);
  });

  it("nginx waits longer than the api's slowest answers: answers, long-polls, legacy generate-video", () => {
    expect(milliseconds(only(server, "proxy_read_timeout"))).toBeGreaterThan(api.ANSWER_TIMEOUT_MS);
    expect(milliseconds(effective(location("/v1/videos"), "proxy_read_timeout"))).toBeGreaterThan(
      api.VIDEO_WAIT_MAX_SECONDS * 1000,
    );
    expect(
      milliseconds(effective(location("=", "/api/d_id_optimized/generate-video"), "proxy_read_timeout")),
    ).toBeGreaterThan(api.VIDEO_LEGACY_WAIT_MS);
    for (const path of [`${UPLOAD_PATH_PREFIX}images`, `${UPLOAD_PATH_PREFIX}audios`])
      expect(milliseconds(effective(location("=", path), "proxy_read_timeout"))).toBeGreaterThan(
        api.D_ID_ATTEMPT_TIMEOUT_MS,
      );
  });

  it("compose lets each Node service finish draining before it kills it", () => {
    for (const [name, config] of [
      ["api", api],
      ["vector-worker", vector],
    ] as const) {
      const grace = service(name).stop_grace_period;
      expect(grace, `${name} stop_grace_period`).toBeDefined();
      expect(milliseconds(String(grace)), name).toBeGreaterThanOrEqual(
        config.SHUTDOWN_GRACE_MS + config.SHUTDOWN_DELAY_MS,
      );
    }
  });
});

/** `docker compose` (the CLI plugin) or a v2 `docker-compose`, whichever answers. */
function composeCommand(): string[] | undefined {
  for (const command of [["docker", "compose"], ["docker-compose"]]) {
    const [bin, ...args] = command as [string, ...string[]];
    const probe = spawnSync(bin, [...args, "version", "--short"], { encoding: "utf8" });
    if (probe.status === 0 && /^v?2\./.test(probe.stdout.trim())) return command;
  }
  return undefined;
}

const composeCli = composeCommand();

// Compose v2 is not a Debian package and not on this machine or CI: where it is missing the file is
// still checked for what `config` would catch first (services, their references, named volumes).
describe("docker-compose.yml", () => {
  it(
    composeCli
      ? "is accepted by docker compose config -q"
      : "references only services and volumes it defines",
    () => {
      if (composeCli) {
        const [bin, ...args] = composeCli as [string, ...string[]];
        const result = spawnSync(bin, [...args, "-f", "docker-compose.yml", "config", "-q"], {
          cwd: root,
          encoding: "utf8",
        });
        expect(result.stderr).toBe("");
        expect(result.status).toBe(0);
        return;
      }
      console.warn("docker compose (v2) is not installed here: checking docker-compose.yml structurally");
      const file = parseYaml(readFileSync(join(root, "docker-compose.yml"), "utf8"), { merge: true }) as {
        services: Record<
          string,
          {
            depends_on?: Record<string, unknown> | string[];
            volumes?: string[];
            image?: string;
            build?: unknown;
          }
        >;
        volumes?: Record<string, unknown>;
      };
      const services = Object.keys(file.services);
      expect(services).toEqual(expect.arrayContaining(["mysql", "redis", "nginx"]));
      for (const [name, definition] of Object.entries(file.services)) {
        expect(definition.image ?? definition.build, `${name} has an image or a build`).toBeDefined();
        const needs = Array.isArray(definition.depends_on)
          ? definition.depends_on
          : Object.keys(definition.depends_on ?? {});
        for (const other of needs) expect(services, `${name} depends on ${other}`).toContain(other);
        for (const volume of definition.volumes ?? []) {
          const source = volume.split(":")[0] ?? "";
          if (!source.startsWith(".") && !source.startsWith("/"))
            expect(Object.keys(file.volumes ?? {}), `${name} mounts volume ${source}`).toContain(source);
        }
      }
    },
  );
});
