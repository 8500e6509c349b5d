// Production's way to run: `npm run build`, then plain `node` on the built JavaScript (no TypeScript
// loader) for every CLI, the api as a cluster, the index build and the sidecar with its built thread script.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { ApiInstance } from "./cluster/worker-link.js";
import { cleanIsolatedState, isolatedState } from "./testutil/api-process.js";
import { freePort, waitFor } from "./testutil/redis-server.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const state = isolatedState("compiled");
const running: ChildProcess[] = [];

/** `node <args>` from the repository root, without any loader the test runner might pass down. */
function node(args: string[], env: Record<string, string> = {}) {
  const { NODE_OPTIONS: _, ...inherited } = process.env;
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: {
      ...inherited,
      LOG_LEVEL: "info",
      DATABASE_URL: state.databaseUrl,
      REDIS_PREFIX: state.redisPrefix,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.push(child);
  let output = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const logs = (msg: string) =>
    output
      .split("\n")
      .filter((line) => line.startsWith("{") && line.includes(`"msg":"${msg}"`))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { child, exited, output: () => output, logs };
}

/** What the kernel says a process was started with. */
const commandLine = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);

describe("the compiled build", () => {
  afterAll(async () => {
    for (const child of running)
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await cleanIsolatedState(state);
  });

  it("builds when stale and is a fast no-op when not", async () => {
    const first = node(["scripts/build.mjs", "--if-stale"]);
    expect(await first.exited).toBe(0);
    const again = node(["scripts/build.mjs", "--if-stale"]);
    expect(await again.exited).toBe(0);
    expect(again.output()).toBe("");
    // A changed input (here only its modification time) makes the next start rebuild.
    const input = join(root, "api/src/prepare-database.ts");
    const now = new Date();
    await utimes(input, now, now);
    const rebuilt = node(["scripts/build.mjs", "--if-stale"]);
    expect(await rebuilt.exited).toBe(0);
    expect(rebuilt.output()).toMatch(/compiling \(api\/src\/prepare-database\.ts changed\)/);
  }, 120_000);

  it("runs the CLIs, the api cluster, the index build and the sidecar with node alone", async () => {
    expect(await node(["scripts/build.mjs", "--if-stale"]).exited).toBe(0);
    const dir = await mkdtemp(join(tmpdir(), "kogi-compiled-"));
    try {
      // Migrations are found beside the built code.
      const migrate = node(["api/dist/migrate.js"]);
      expect(await migrate.exited).toBe(0);
      expect(migrate.output()).toMatch(/applied 001_catalog\.sql/);
      const catalog = join(dir, "catalog.json");
      const generate = node([
        "api/dist/catalog-generate.js",
        "--courses",
        "60",
        "--seed",
        "7",
        "--out",
        catalog,
      ]);
      expect(await generate.exited).toBe(0);
      const load = node(["api/dist/catalog-import.js", catalog]);
      expect(await load.exited).toBe(0);
      expect(load.output()).toMatch(/60 courses/);

      const vectorPort = await freePort();
      const env = {
        HOST: "127.0.0.1",
        PORT: "0",
        API_WORKERS: "2",
        DEMO_COURSES: "0",
        VECTOR_PORT: String(vectorPort),
        VECTOR_URL: `http://127.0.0.1:${vectorPort}`,
        VECTOR_INDEX_DIR: join(dir, "index"),
        VECTOR_THREADS: "1",
        SHUTDOWN_DELAY_MS: "0",
      };
      const api = node(["--enable-source-maps", "api/dist/main.js"], env);
      await waitFor(() => api.logs("kogi api listening").length === 2, "both workers to listen", 60_000);
      const base = `http://127.0.0.1:${api.logs("kogi api listening")[0]?.port}`;
      const index = node(["vector-worker/dist/index-build.js"], env);
      expect(await index.exited).toBe(0);
      expect(index.output()).toMatch(/60 courses, 1536 dims/);
      const sidecar = node(["vector-worker/dist/main.js"], env);
      await waitFor(
        () => sidecar.logs("vector sidecar listening").length === 1,
        "the sidecar to listen",
        60_000,
      );
      // The search threads run the worker built beside the sidecar, not a bundle made at start-up.
      expect(sidecar.logs("vector sidecar listening")[0]?.threadScript).toBe(
        join(root, "vector-worker/dist/worker.js"),
      );
      await waitFor(
        async () => {
          const ready = (await (await fetch(`${base}/ready`)).json()) as {
            checks: { vector: { ok: boolean } };
          };
          return ready.checks.vector.ok;
        },
        "the api to see the sidecar",
        30_000,
      );
      const answer = await fetch(`${base}/v1/answer`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ question: "an introduction", k: 3 }),
      });
      expect(answer.status).toBe(200);
      expect(((await answer.json()) as { results: unknown[] }).results).toHaveLength(3);

      // No process runs a TypeScript loader: each was started as `node [flags] <built file>`.
      const stats = (await (await fetch(`${base}/v1/stats`)).json()) as { api: ApiInstance };
      for (const pid of [api.child.pid, stats.api.pid, sidecar.child.pid]) {
        const args = commandLine(pid ?? 0);
        expect(args.join(" ")).not.toMatch(/tsx|\.ts\b/);
        expect(args.at(-1)).toMatch(/\/dist\/main\.js$/);
      }

      sidecar.child.kill("SIGTERM");
      api.child.kill("SIGTERM");
      expect(await sidecar.exited).toBe(0);
      expect(await api.exited).toBe(0);
      expect(api.logs("api cluster primary: all workers stopped")).toEqual([
        expect.objectContaining({ clean: true }),
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
