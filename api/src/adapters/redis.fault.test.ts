// A private redis-server SIGKILLed under a bounded load of searches: Redis is a cache tier, so every
// search stays 200 (new ones from MySQL, repeated ones from the in-process tier), /ready says degraded
// while it is gone, and the service uses Redis again by itself once it is back.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateCatalog } from "../catalog/generator.js";
import { createHarness, type Harness } from "../testutil/harness.js";
import { startRedisServer, waitFor } from "../testutil/redis-server.js";
import { listen } from "../testutil/video-harness.js";

const catalog = generateCatalog({ courses: 200, seed: 5 });
const term = catalog.terms[0]?.code as string;
const SUBJECTS = [...new Set(catalog.terms[0]?.courses.map((course) => course.subject))];

let redisServer: Awaited<ReturnType<typeof startRedisServer>>;
let h: Harness;
let server: Awaited<ReturnType<typeof listen>>;
let probe: Redis;

beforeAll(async () => {
  redisServer = await startRedisServer();
  h = await createHarness({ redisUrl: redisServer.url, env: { READY_PROBE_TIMEOUT_MS: "400" } });
  await h.importTerms(catalog.terms);
  server = await listen(h.app);
  probe = new Redis(redisServer.url, { maxRetriesPerRequest: 0, retryStrategy: () => 100 });
  probe.on("error", () => {});
}, 120_000);

afterAll(async () => {
  probe?.disconnect();
  await server?.close();
  await h?.close().catch(() => undefined);
  await redisServer?.stop();
});

interface Seen {
  status: number;
  code?: string;
  cache: string | null;
}

let n = 0;
/** Half new searches (MySQL, then written to both tiers), half repeats of a few (served from a tier). */
async function search(): Promise<Seen> {
  n++;
  const body =
    n % 2 === 0
      ? { term, keyword: `w${n}` }
      : { term, subjects: [SUBJECTS[n % SUBJECTS.length]], limit: 1 + (n % 5) };
  const response = await fetch(`${server.url}/v1/courses/search`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as { code?: string };
  return { status: response.status, code: json.code, cache: response.headers.get("x-cache") };
}

function startLoad(seen: Seen[]) {
  let stop = false;
  const client = async () => {
    while (!stop && seen.length < 50_000) seen.push(await search());
  };
  const clients = Promise.all(Array.from({ length: 4 }, client));
  return async () => {
    stop = true;
    await clients;
  };
}

const readiness = async () => {
  const response = await fetch(`${server.url}/ready`);
  const body = (await response.json()) as { status: string; checks: { redis: { ok: boolean } } };
  return { httpStatus: response.status, ...body };
};
const keysInRedis = async () => (await probe.keys(`${h.config.REDIS_PREFIX}*`).catch(() => [])).length;

describe("Redis killed under load", () => {
  it("keeps every search at 200, says degraded, and goes back to Redis after a restart", async () => {
    const seen: Seen[] = [];
    const stopLoad = startLoad(seen);
    try {
      await waitFor(() => seen.length >= 50, "some load before the kill");
      await waitFor(async () => (await keysInRedis()) > 0, "search results to reach Redis");
      await redisServer.stop();
      const killedAt = seen.length;
      await waitFor(() => seen.length - killedAt >= 200, "searches while Redis is down", 30_000);
      const down = await readiness();
      expect(down.httpStatus).toBe(200);
      expect(down.status).toBe("degraded");
      expect(down.checks.redis.ok).toBe(false);

      await redisServer.start();
      // The restarted server is empty: new entries reaching it show the api writes to Redis again.
      await waitFor(async () => (await keysInRedis()) > 0, "the api to write to Redis again", 20_000);
      // No sidecar runs here, so /ready stays degraded for the vector check; Redis's own check recovers.
      await waitFor(async () => (await readiness()).checks.redis.ok, "/ready to see Redis again", 20_000);
      const since = seen.length;
      await waitFor(() => seen.length - since >= 50, "searches after the restart");
    } finally {
      await stopLoad();
    }
    console.log(
      `Redis killed: ${seen.length} searches, ${seen.filter((s) => s.status !== 200).length} failed`,
    );
    expect(seen.filter((s) => s.status !== 200)).toEqual([]);
  }, 90_000);
});
