// API_WORKERS=2 as real processes on loopback: the database is prepared once, both workers serve the one
// port, /v1/stats names the worker, /metrics on either is the whole api's, the catalog-version
// notification reaches both, a killed worker is replaced, and SIGTERM drains both before the primary exits.
import { Agent, request } from "node:http";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { catalogVersionChannel } from "../services/catalog-version.js";
import {
  type ApiProcess,
  cleanIsolatedState,
  isolatedState,
  killAll,
  startApiProcess,
} from "../testutil/api-process.js";
import { waitFor } from "../testutil/redis-server.js";
import type { ApiInstance } from "./worker-link.js";

const state = isolatedState("cluster");
const started: ApiProcess[] = [];

interface Answer {
  status: number;
  body: string;
  connection?: string;
}

/** One HTTP request on `agent` (a fresh connection per request when none is given). */
function get(base: string, path: string, agent: Agent | false = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    request(`${base}${path}`, { agent }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }));
    })
      .on("error", reject)
      .end();
  });
}

/** A connection to one worker: its identity first, then requests on the same socket. */
async function workerConnection(base: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const stats = JSON.parse((await get(base, "/v1/stats", agent)).body) as {
    api: ApiInstance;
    catalogVersion: number;
  };
  return { agent, api: stats.api, catalogVersion: stats.catalogVersion };
}

/** Opens connections until every worker in `ids` (or `count` distinct workers) has been reached. */
async function oneConnectionPerWorker(base: string, count: number) {
  const byWorker = new Map<number, Awaited<ReturnType<typeof workerConnection>>>();
  await waitFor(
    async () => {
      const connection = await workerConnection(base);
      const id = connection.api.worker ?? -1;
      if (byWorker.has(id)) connection.agent.destroy();
      else byWorker.set(id, connection);
      return byWorker.size >= count;
    },
    `${count} distinct workers to answer`,
    30_000,
  );
  return byWorker;
}

const termsServed = (metrics: string) =>
  Number(
    metrics.match(/^kogi_http_request_duration_seconds_count\{[^}]*route="\/v1\/terms"[^}]*\} (\d+)$/m)?.[1],
  );

describe("API_WORKERS=2", () => {
  afterAll(async () => {
    await killAll(started);
    await cleanIsolatedState(state);
  });

  it("prepares once, serves from both workers, aggregates, replaces a dead worker and drains on SIGTERM", async () => {
    const api = await startApiProcess(
      "cluster",
      {
        DATABASE_URL: state.databaseUrl,
        REDIS_PREFIX: state.redisPrefix,
        API_WORKERS: "2",
        DEMO_COURSES: "40",
        DB_POOL_SIZE: "4",
        SHUTDOWN_DELAY_MS: "300",
      },
      started,
      90_000,
    );
    await waitFor(() => api.logs("kogi api listening").length === 2, "both workers to listen", 90_000);
    const primary = api.child.pid;
    // Migrations and the demo catalog ran once, in the primary, before any worker started.
    expect(api.logs("migrations applied").map((line) => line.pid)).toEqual([primary]);
    expect(api.logs("empty catalog: loading the synthetic demo catalog")).toHaveLength(1);
    expect(api.logs("api cluster primary: forking workers")).toHaveLength(1);

    // /v1/stats says which worker answered and how many there are.
    const workers = await oneConnectionPerWorker(api.url, 2);
    const [a, b] = [...workers.values()];
    if (!a || !b) throw new Error("expected two workers");
    for (const worker of [a, b]) {
      expect(worker.api).toMatchObject({ mode: "cluster", workers: 2 });
      expect(worker.api.pid).not.toBe(primary);
      // The primary tells every worker when the number serving changes; it may still be on its way.
      await waitFor(
        async () =>
          (JSON.parse((await get(api.url, "/v1/stats", worker.agent)).body) as { api: ApiInstance }).api
            .serving === 2,
        `worker ${worker.api.worker} to hear that 2 serve`,
      );
    }
    expect(a.api.pid).not.toBe(b.api.pid);

    // /metrics on either worker is the whole api's: both count the /v1/terms requests both served.
    for (let i = 0; i < 3; i++) expect((await get(api.url, "/v1/terms", a.agent)).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await get(api.url, "/v1/terms", b.agent)).status).toBe(200);
    for (const worker of [a, b]) {
      const metrics = (await get(api.url, "/metrics", worker.agent)).body;
      expect(termsServed(metrics)).toBe(5);
      expect(metrics).toMatch(/^kogi_api_workers\{state="serving"\} 2$/m);
      expect(metrics).toMatch(/^kogi_api_metrics_missing_workers 0$/m);
    }

    // The catalog-version notification (Redis pub/sub) reaches every worker, not just one.
    const redis = new Redis("redis://127.0.0.1:6379", { maxRetriesPerRequest: 1 });
    try {
      await redis.publish(catalogVersionChannel(state.redisPrefix), "999");
    } finally {
      redis.disconnect();
    }
    await waitFor(
      async () =>
        (
          await Promise.all(
            [a, b].map(async (w) => JSON.parse((await get(api.url, "/v1/stats", w.agent)).body)),
          )
        )
          .map((stats: { catalogVersion: number }) => stats.catalogVersion)
          .every((version) => version === 999),
      "both workers to see catalog version 999",
    );
    a.agent.destroy();
    b.agent.destroy();

    // A killed worker is replaced; the other keeps serving meanwhile.
    process.kill(a.api.pid, "SIGKILL");
    await waitFor(
      () => api.logs("api worker exited; starting a replacement").length === 1,
      "the primary to notice",
    );
    expect((await get(api.url, "/ready")).status).toBe(200);
    await waitFor(() => api.logs("kogi api listening").length === 3, "the replacement to listen", 60_000);
    const after = await oneConnectionPerWorker(api.url, 2);
    const ids = [...after.keys()].sort();
    expect(ids).toContain(b.api.worker);
    expect(ids).not.toContain(a.api.worker);
    for (const worker of after.values()) worker.agent.destroy();
    expect((await get(api.url, "/metrics")).body).toMatch(/^kogi_api_worker_restarts_total 1$/m);

    // SIGTERM to the primary under a keep-alive load: both workers drain, nothing fails, exit code 0.
    const agent = new Agent({ keepAlive: true, maxSockets: 10 });
    let signalled = false;
    let answered = 0;
    const failures: string[] = [];
    const client = async () => {
      for (let n = 0; n < 5_000; n++) {
        const sentAfterSignal = signalled;
        const answer = await get(api.url, "/v1/terms", agent).catch((error: Error) => {
          failures.push(error.message);
          return undefined;
        });
        if (!answer) return;
        answered++;
        if (answer.status !== 200) failures.push(`HTTP ${answer.status}`);
        if (sentAfterSignal && answer.connection !== "close") failures.push("no Connection: close");
        if (answer.connection === "close") return;
      }
      failures.push("never told to close");
    };
    const clients = Array.from({ length: 10 }, client);
    await waitFor(() => answered >= 100, "the load to run", 30_000);
    api.child.kill("SIGTERM");
    await waitFor(
      () => api.logs("shutting down: readiness off, finishing in-flight requests").length === 2,
      "both workers to take the signal",
    );
    signalled = true;
    await Promise.all(clients);
    agent.destroy();
    expect(failures).toEqual([]);
    expect(await api.exited).toBe(0);
    expect(api.logs("stopped")).toHaveLength(2);
    for (const line of api.logs("stopped"))
      expect(line).toMatchObject({ cutConnections: 0, unfinishedRequests: 0 });
    expect(api.logs("api cluster primary: all workers stopped")).toEqual([
      expect.objectContaining({ clean: true }),
    ]);
    expect(api.output()).not.toMatch(/Pool is closed/);
  }, 240_000);
});
