// Redis going away under the video runner (a private redis-server, stopped and started again): jobs
// keep being rendered on the in-process render budget, none is lost, and the shared budget in Redis is
// used again once Redis is back.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisServer, waitFor } from "../testutil/redis-server.js";
import { createVideoHarness, textVideo, type VideoHarness } from "../testutil/video-harness.js";

let redis: Awaited<ReturnType<typeof startRedisServer>>;
let h: VideoHarness;

beforeAll(async () => {
  redis = await startRedisServer();
  h = await createVideoHarness({
    redisUrl: redis.url,
    fake: { queueMs: 0, renderMs: 400 },
    env: { D_ID_MAX_CONCURRENCY: "2" },
  });
});

afterAll(async () => {
  await h?.close();
  await redis?.stop();
});

interface RenderStats {
  backend: string;
  limitScope: string;
  active: number;
  fallbacks: number;
}

async function renderStats(): Promise<RenderStats> {
  const response = await h.request("/v1/stats");
  const body = (await response.json()) as { upstreams: (RenderStats & { name: string })[] };
  const found = body.upstreams.find((u) => u.name === "d-id-renders");
  if (!found) throw new Error(`no d-id-renders in /v1/stats: ${JSON.stringify(body.upstreams)}`);
  return found;
}

async function submit(n: number, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const { response, body } = await h.video.create(textVideo(`${label} announcement number ${i}.`));
    expect(response.status).toBe(202);
    ids.push(body.id);
  }
  return ids;
}

/** Starts the private Redis again if a test left it stopped. */
async function redisUp(): Promise<void> {
  const client = new Redis(redis.url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => {});
  const up = await client
    .connect()
    .then(() => client.ping())
    .then(
      () => true,
      () => false,
    );
  client.disconnect();
  if (!up) await redis.start();
}

async function activeJobs(ids: string[]): Promise<number> {
  const [rows] = (await h.pool.query(
    "SELECT COUNT(*) AS n FROM video_jobs WHERE id IN (?) AND status IN ('queued', 'submitting', 'processing')",
    [ids],
  )) as unknown as [{ n: number }[]];
  return Number(rows[0]?.n);
}

const allDone = async (ids: string[]) => {
  for (const id of ids) await h.video.until(id, ["done", "failed", "rejected"], 20_000);
  const [rows] = (await h.pool.query("SELECT id, status FROM video_jobs WHERE id IN (?)", [
    ids,
  ])) as unknown as [{ id: string; status: string }[]];
  return Object.fromEntries(rows.map((row) => [row.id, row.status]));
};

describe("the video runner through a Redis outage", () => {
  it("renders every job on the memory budget while Redis is down, and on Redis again after it is back", async () => {
    // Before: the shared budget in Redis.
    const before = await submit(4, "Before");
    await waitFor(async () => (await renderStats()).active > 0, "a render slot to be held");
    expect(await renderStats()).toMatchObject({ backend: "redis", limitScope: "all-processes" });

    // Down while those jobs are being rendered (and some still wait for a slot); more arrive meanwhile.
    const unfinished = await activeJobs(before);
    await redis.stop();
    expect(unfinished).toBeGreaterThanOrEqual(2);
    await waitFor(
      async () => (await renderStats()).backend === "memory",
      "the budget to fall back to memory",
    );
    const during = await submit(4, "During");
    const statuses = await allDone([...before, ...during]);
    expect(Object.values(statuses)).toEqual(Array(8).fill("done"));
    expect(Object.keys(statuses).sort()).toEqual([...before, ...during].sort());
    const outage = await renderStats();
    expect(outage).toMatchObject({ backend: "memory", limitScope: "this-process" });
    // The jobs submitted during the outage took their slots in memory.
    expect(outage.fallbacks).toBeGreaterThanOrEqual(4);

    // Back (an empty Redis: nothing persisted). The runner's next slots come from Redis again, once its
    // budget connection has reconnected (ioredis retries every 200 ms .. 2 s).
    await redis.start();
    const probes: string[] = [];
    await waitFor(
      async () => {
        const [id] = await submit(1, "Probe");
        probes.push(id as string);
        await allDone([id as string]);
        return (await renderStats()).backend === "redis";
      },
      "a job to be rendered on the Redis budget again",
      20_000,
    );
    const fallbacks = (await renderStats()).fallbacks;
    const after = await submit(4, "After");
    const afterStatuses = await allDone([...probes, ...after]);
    expect(Object.values(afterStatuses)).toEqual(Array(probes.length + 4).fill("done"));
    expect(await renderStats()).toMatchObject({ backend: "redis", limitScope: "all-processes", fallbacks });

    // Nothing lost, nothing paid twice, and one process never rendered more than its limit.
    const all = [...before, ...during, ...probes, ...after];
    const fake = h.video.fake.stats();
    for (const id of all) expect(fake.talksByUserData[id], `talks for ${id}`).toBe(1);
    expect(fake.creditsCharged).toBe(all.length);
    expect(fake.maxInProgress).toBeLessThanOrEqual(2);
  });

  it("still renders at most D_ID_MAX_CONCURRENCY when Redis comes back while slots taken in memory are held", async () => {
    // Long renders: the talks started during the outage are still rendering when Redis is back.
    h.video.fake.reset();
    h.video.fake.setBehavior({ queueMs: 0, renderMs: 3_000 });
    try {
      await redis.stop();
      await waitFor(
        async () => (await renderStats()).backend === "memory",
        "the budget to fall back to memory",
      );
      const ids = await submit(4, "Outage");
      // Two render in memory-budget slots, two wait for a slot.
      await waitFor(() => h.video.fake.stats().inProgress === 2, "two talks rendering");
      expect(await activeJobs(ids)).toBe(4);
      await redis.start();
      // This one process still holds both slots; the jobs waiting must wait for them, whatever the
      // budget that decides next.
      await allDone(ids);
      const { maxInProgress } = h.video.fake.stats();
      expect(maxInProgress, "talks rendering at once, D_ID_MAX_CONCURRENCY=2").toBeLessThanOrEqual(2);
    } finally {
      h.video.fake.setBehavior({ queueMs: 0, renderMs: 400 });
      await redisUp();
    }
  });

  it("still renders at most D_ID_MAX_CONCURRENCY after a restart empties Redis while its slots are held", async () => {
    await redisUp();
    await waitFor(
      async () => {
        // Until the budget has decided on Redis again (its connection may still be reconnecting).
        const [id] = await submit(1, "Warm-up");
        await allDone([id as string]);
        return (await renderStats()).backend === "redis";
      },
      "the budget to be back on Redis",
      20_000,
    );
    h.video.fake.reset();
    h.video.fake.setBehavior({ queueMs: 0, renderMs: 3_000 });
    try {
      const ids = await submit(4, "Restart");
      await waitFor(() => h.video.fake.stats().inProgress === 2, "two talks rendering");
      expect(await renderStats()).toMatchObject({ backend: "redis", active: 2 });
      // A restart with nothing persisted (as docker-compose runs Redis): the two leases are gone.
      await redis.stop();
      await redis.start();
      await allDone(ids);
      const { maxInProgress } = h.video.fake.stats();
      expect(maxInProgress, "talks rendering at once, D_ID_MAX_CONCURRENCY=2").toBeLessThanOrEqual(2);
    } finally {
      h.video.fake.setBehavior({ queueMs: 0, renderMs: 400 });
      await redisUp();
    }
  });
});
