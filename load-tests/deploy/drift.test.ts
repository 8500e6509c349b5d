// docker-compose.yml, the Dockerfile, nginx/nginx.conf (+ upstreams.conf) and the api's own defaults agree
// on every number they share; the real `docker compose config` accepts the compose file and normalizes it
// to what these checks read; the image runs node on the build's output with production files only.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { LEGACY_UPLOAD_PATHS } from "@kogi/api/routes/legacy_d_id_uploads";
import { UPLOAD_PATH_PREFIX } from "@kogi/api/routes/v1_videos_upload";
import { loadConfig } from "@kogi/shared/config";
import { afterAll, describe, expect, it } from "vitest";
import { compose, composeConfig } from "./compose-cli.js";
import { composeEnvironment, composeService, composeSettings } from "./compose-file.js";
import { instructionArgs as args, dockerfileStages, stageSteps } from "./dockerfile.js";
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

const dockerfile = read("Dockerfile");
const stages = dockerfileStages(dockerfile);
const stage = (name: string) => stageSteps(stages, name);
/** The milliseconds a `node -e "fetch(..., { signal: AbortSignal.timeout(N) })"` probe waits. */
const probeTimeout = (probe: string) => Number(probe.match(/AbortSignal\.timeout\((\d+)\)/)?.[1]);

describe("Dockerfile", () => {
  const runtime = stages.at(-1)?.steps ?? [];

  it("runs node on the built output in a runtime stage that has only production files", () => {
    expect(stages.at(-1)?.from).toMatch(/ AS runtime$/);
    const cmd = JSON.parse(args(runtime, "CMD").at(-1) ?? "[]") as string[];
    expect(cmd[0]).toBe("node");
    expect(cmd.at(-1)).toBe("api/dist/main.js");
    // The sidecar runs the same image with compose's command: node on its own bundle, no loader.
    const sidecar = composeService("vector-worker").command ?? [];
    expect(sidecar[0]).toBe("node");
    expect(sidecar.at(-1)).toBe("vector-worker/dist/main.js");
    expect(composeService("api").command).toBeUndefined();
    for (const command of [cmd, sidecar])
      expect(command.join(" ")).not.toMatch(/tsx|ts-node|--loader|--import/);
    // Everything in it comes from the pruned /out, never the build context or an npm run in this stage.
    expect(args(runtime, "COPY")).toEqual(["--from=production-files /out /app"]);
    expect(args(runtime, "ENV")).toContain("NODE_ENV=production");
    for (const run of args(runtime, "RUN")) {
      expect(run).not.toMatch(/\bnpm\b|\bnpx\b/);
      expect(run).not.toMatch(/\b(g\+\+|gcc|make|cmake|python3|libfaiss-dev|build-essential)\b/);
    }
  });

  it("prunes devDependencies and lets the lockfile say which ones must be gone", () => {
    const runs = args(stage("production-files"), "RUN").join(" ");
    expect(runs).toMatch(/npm prune --omit=dev/);
    expect(runs).toMatch(/node scripts\/check-no-dev-deps\.mjs \/out\b/);
  });

  it("installs exactly the lockfile: npm ci, with no `npm install` fallback here or in any script", () => {
    expect(args(stage("build"), "RUN").join(" ")).toMatch(/\bnpm ci\b/);
    const scripts = readdirSync(join(root, "scripts")).filter((name) => name.endsWith(".sh"));
    for (const [path, text] of [
      ["Dockerfile", dockerfile],
      ...scripts.map((name) => [`scripts/${name}`, read(`scripts/${name}`)]),
    ] as const)
      expect(text.replace(/\\\n/g, " "), path).not.toMatch(/\|\|\s*npm (install|i)\b/);
  });

  it("probes the api's default port, and every health probe gives up before Docker's timeout", () => {
    const healthcheck = args(runtime, "HEALTHCHECK").at(-1) ?? "";
    expect(Number(healthcheck.match(/process\.env\.PORT \|\| (\d+)/)?.[1])).toBe(loadConfig({}).PORT);
    expect(exposed(dockerfile)).toContain(loadConfig({}).PORT);
    expect(exposed(dockerfile)).toContain(loadConfig({}).VECTOR_PORT);
    const imageTimeout = healthcheck.match(/--timeout=(\S+)/)?.[1] ?? "";
    expect(probeTimeout(healthcheck)).toBeLessThan(milliseconds(imageTimeout));
    for (const name of ["api", "vector-worker"]) {
      const check = composeService(name).healthcheck;
      expect(probeTimeout(check?.test.join(" ") ?? ""), name).toBeLessThan(
        milliseconds(check?.timeout ?? "0s"),
      );
    }
  });

  it("the sidecar's index lives in the volume compose mounts, in a directory the image gives the node user", () => {
    const workdir = args(runtime, "WORKDIR").at(-1) ?? "";
    const indexDir = posix.resolve(workdir, vector.VECTOR_INDEX_DIR);
    const dataVolume = (composeService("vector-worker").volumes ?? [])
      .map((volume) => volume.split(":"))
      .find(([source]) => source === "vector-data");
    const target = dataVolume?.[1] ?? "";
    expect(indexDir.startsWith(`${target}/`), `${indexDir} is under ${target}`).toBe(true);
    expect(args(runtime, "RUN").join(" ")).toContain(`chown node:node ${target}`);
    expect(args(runtime, "USER")).toEqual(["node"]);
  });
});

// No skip: CI and every machine that ran the bootstrap have Compose v2 (scripts/install-compose.sh).
describe("docker compose config", () => {
  const nodeServices = ["api", "vector-worker"];

  it("accepts docker-compose.yml without errors or warnings", () => {
    const { stderr } = compose(["config", "--quiet"]);
    expect(stderr).toBe("");
  });

  it("normalizes it to what the drift checks read from the YAML", () => {
    const model = composeConfig();
    expect(model.name).toBe("kogi");
    expect(Object.keys(model.services).sort()).toEqual(["api", "mysql", "nginx", "redis", "vector-worker"]);
    for (const name of nodeServices) {
      const normalized = model.services[name];
      // compose-file.ts's own `${VAR:-default}` reading gives what compose itself passes.
      expect(normalized?.environment, name).toEqual(composeEnvironment(name));
      expect(normalized?.expose, name).toEqual(composeService(name).expose);
      expect(normalized?.stop_grace_period, name).toBe(composeService(name).stop_grace_period);
      expect(normalized?.build, name).toEqual({ context: resolve(root), dockerfile: "Dockerfile" });
      expect(normalized?.image, name).toBe("kogi:local");
      expect(normalized?.init, name).toBe(true);
    }
    expect(model.services.api?.command ?? undefined).toBeUndefined();
    expect(model.services.api?.deploy?.replicas).toBe(2);
    const nginx = model.services.nginx;
    expect(nginx?.ports).toEqual([
      expect.objectContaining({ target: Number(only(server, "listen")), published: "8080", protocol: "tcp" }),
    ]);
    for (const file of ["nginx.conf", "upstreams.conf"])
      expect(nginx?.volumes).toContainEqual(
        expect.objectContaining({
          type: "bind",
          source: join(resolve(root), "nginx", file),
          target: `/etc/nginx/${file}`,
          read_only: true,
        }),
      );
  });

  describe("with what ops set", () => {
    const dir = mkdtempSync(join(tmpdir(), "kogi-compose-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("takes the host port and the password from an env file and the log level from the shell", () => {
      const envFile = join(dir, ".env");
      writeFileSync(envFile, "KOGI_HTTP_PORT=9080\nMYSQL_ROOT_PASSWORD=0ps-s3cret\n");
      const model = composeConfig({ envFile, env: { LOG_LEVEL: "debug" } });
      expect(model.services.nginx?.ports).toEqual([
        expect.objectContaining({ target: Number(only(server, "listen")), published: "9080" }),
      ]);
      expect(model.services.mysql?.environment?.MYSQL_ROOT_PASSWORD).toBe("0ps-s3cret");
      const apiEnvironment = model.services.api?.environment ?? {};
      expect(new URL(apiEnvironment.DATABASE_URL ?? "").password).toBe("0ps-s3cret");
      for (const name of nodeServices)
        expect(model.services[name]?.environment?.LOG_LEVEL, name).toBe("debug");
      // The api still parses what it is given, and the numbers nginx depends on did not move.
      const settings = loadConfig(apiEnvironment);
      expect(settings.PORT).toBe(api.PORT);
      expect(settings.BODY_LIMIT_BYTES).toBe(api.BODY_LIMIT_BYTES);
      expect(settings.LOG_LEVEL).toBe("debug");
    });
  });
});
