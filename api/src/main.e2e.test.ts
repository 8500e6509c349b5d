// The real entry point as ops run it: config checks, demo catalog on an empty database, graceful SIGTERM.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { dropDatabase } from "./adapters/mysql/migrate.js";
import { createPool } from "./adapters/mysql/pool.js";
import { importTerms, readCatalogVersion } from "./catalog/importer.js";
import { scheduleTerm } from "./testutil/fixtures.js";
import { waitFor } from "./testutil/redis-server.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const databaseUrl = `mysql://root@127.0.0.1:3306/kogi_test_main_${process.pid}`;
const redisPrefix = `kogi-test:main-${process.pid}:`;

function startApi(env: Record<string, string>, script = "api/src/main.ts") {
  // `node --import tsx` rather than the tsx CLI: the PID signalled is the api itself.
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: "info", REDIS_PREFIX: redisPrefix, API_WORKERS: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited, output: () => output };
}

describe("api entry point", () => {
  let running: ChildProcess | undefined;
  afterAll(async () => {
    if (running && running.exitCode === null) running.kill("SIGKILL");
    await dropDatabase(databaseUrl);
    const redis = new Redis("redis://127.0.0.1:6379", { maxRetriesPerRequest: 1 });
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it("refuses to start on a wrong setting and names it", async () => {
    const api = startApi({ PORT: "eighty", DATABASE_URL: "postgres://x" });
    expect(await api.exited).toBe(1);
    expect(api.output()).toMatch(/PORT/);
    expect(api.output()).toMatch(/DATABASE_URL/);
    expect(api.output()).not.toMatch(/at .*\.ts:\d+/);
  });

  it("loads the demo catalog on an empty database, indexes it for the sidecar, serves, and drains on SIGTERM", async () => {
    const port = 20000 + (process.pid % 20000);
    const vectorPort = port + 1;
    const indexDir = await mkdtemp(join(tmpdir(), "kogi-e2e-index-"));
    const env = {
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      DEMO_COURSES: "150",
      VECTOR_URL: `http://127.0.0.1:${vectorPort}`,
      VECTOR_PORT: String(vectorPort),
      VECTOR_INDEX_DIR: indexDir,
      INDEX_FOLLOW_INTERVAL_MS: "200",
    };
    const api = startApi(env);
    running = api.child;
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => (await fetch(`${base}/ready`).catch(() => undefined))?.status === 200,
      "the api to become ready",
      60_000,
    );
    const termsResponse = await fetch(`${base}/v1/terms`);
    // Over real HTTP (node-server's response fast path) the per-request headers are there too.
    expect(termsResponse.headers.get("x-cache")).toBe("MISS");
    expect(termsResponse.headers.get("server-timing")).toMatch(/total;dur=/);
    expect(termsResponse.headers.get("x-request-id")).toBeTruthy();
    const terms = (await termsResponse.json()) as { terms: { courses: number }[] };
    expect(terms.terms[0]?.courses).toBe(150);

    // npm run index:build from MySQL, then the sidecar serves it and the api's /ready sees it.
    const build = startApi(env, "vector-worker/src/cli/index-build.ts");
    expect(await build.exited).toBe(0);
    expect(build.output()).toMatch(/150 courses, 1536 dims/);
    const sidecar = startApi(env, "vector-worker/src/main.ts");
    await waitFor(
      async () => {
        const ready = (await (await fetch(`${base}/ready`)).json()) as {
          checks: { vector: { ok: boolean } };
        };
        return ready.checks.vector.ok;
      },
      "the api to see the sidecar",
      60_000,
    );
    const answer = await fetch(`http://127.0.0.1:${vectorPort}/v1/search`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "introduction", k: 3 }),
    });
    expect(((await answer.json()) as { results: unknown[] }).results).toHaveLength(3);

    // An import while it runs: the sidecar rebuilds in a child process (index:build --if-stale
    // --no-wait) and swaps the new index in by itself.
    const pool = createPool({ databaseUrl, size: 1, queueLimit: 0 });
    try {
      await importTerms(pool, [scheduleTerm]);
      const version = await readCatalogVersion(pool);
      const sidecarReady = async () =>
        (await (await fetch(`http://127.0.0.1:${vectorPort}/ready`)).json()) as {
          catalogVersion: number;
          follow: { state: string; lastBuild?: { outcome: string } };
        };
      await waitFor(
        async () => {
          const ready = await sidecarReady();
          return ready.catalogVersion === version && ready.follow.state === "current";
        },
        "the sidecar to rebuild for the import",
        60_000,
      );
      expect((await sidecarReady()).follow).toMatchObject({
        state: "current",
        lastBuild: { outcome: "built" },
      });
    } finally {
      await pool.end();
    }
    sidecar.child.kill("SIGTERM");
    expect(await sidecar.exited).toBe(0);
    await rm(indexDir, { recursive: true, force: true });

    // SIGTERM under a bounded keep-alive load: 20 clients in a closed loop, each leaving once told
    // `Connection: close` (as a proxy moves to another replica). Every request must succeed, every
    // response to a request sent after the signal must say `Connection: close`, and the pools must
    // close only after the last request (no "Pool is closed").
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    const search = (i: number) =>
      new Promise<{ status: number; connection?: string }>((resolve, reject) => {
        const req = request(
          `${base}/v1/courses/search`,
          { method: "POST", agent, headers: { "content-type": "application/json" } },
          (res) => {
            res.resume();
            res.on("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
          },
        );
        req.on("error", reject);
        req.end(JSON.stringify({ keyword: `intro ${i % 40}`, limit: 100 }));
      });
    await Promise.all(Array.from({ length: 20 }, (_, i) => search(i)));
    let signalled = false;
    let sent = 0;
    const failures: string[] = [];
    const afterSignal: (string | undefined)[] = [];
    const client = async () => {
      for (let n = 0; n < 5_000; n++) {
        const sentAfterSignal = signalled;
        const response = await search(sent++).catch((error: Error) => {
          failures.push(error.message);
          return undefined;
        });
        if (!response) return;
        if (response.status !== 200) failures.push(`HTTP ${response.status}`);
        if (sentAfterSignal) afterSignal.push(response.connection);
        if (response.connection === "close") return;
      }
      failures.push("never told to close");
    };
    const clients = Array.from({ length: 20 }, client);
    await waitFor(() => sent >= 200, "the load to run", 30_000);
    api.child.kill("SIGTERM");
    // Requests sent once the api has logged the signal reach it after it began draining.
    await waitFor(() => /shutting down/.test(api.output()), "the api to take the signal", 10_000);
    signalled = true;
    await Promise.all(clients);
    // Every client ended on a `Connection: close` (a failure or a missing header would show here).
    expect(failures).toEqual([]);
    expect(afterSignal.filter((connection) => connection !== "close")).toEqual([]);
    expect(await api.exited).toBe(0);
    expect(api.output()).toMatch(/shutting down/);
    expect(api.output()).not.toMatch(/Pool is closed/);
    const stopped = api
      .output()
      .split("\n")
      .filter((line) => line.includes('"msg":"stopped"'))
      .map((line) => JSON.parse(line) as { cutConnections: number; unfinishedRequests: number });
    expect(stopped).toEqual([expect.objectContaining({ cutConnections: 0, unfinishedRequests: 0 })]);
    await expect(fetch(`${base}/health`)).rejects.toThrow();
    agent.destroy();
  });
});
