// Redis going away and coming back, on a private redis-server: calls go on against the memory budget,
// return to Redis once it is ready again, and the Lua script survives the restart's empty script cache.

import { startRedisServer, waitFor } from "@kogi/api/testutil/redis-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRedis, deleteKeys, gate, ready, testPrefix, upstreamOptions } from "./testing/fixtures.js";
import { Upstream } from "./upstream.js";

let server: Awaited<ReturnType<typeof startRedisServer>>;
let redis: ReturnType<typeof connectRedis>;

beforeAll(async () => {
  server = await startRedisServer();
  redis = await ready(connectRedis(server.url));
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

/** Runs a call that waits on a gate, and resolves once it holds its slot. */
async function holding(upstream: Upstream) {
  const release = gate();
  const before = upstream.stats().active;
  const done = upstream.call(() => release.promise);
  await waitFor(() => upstream.stats().active === before + 1, "slot held");
  return { release: () => release.open(), done };
}

describe("Redis outage", () => {
  it("falls back to memory while Redis is down and goes back to Redis after a restart", async () => {
    const prefix = testPrefix();
    const leases = `${prefix}{outage}:leases`;
    const redisErrors: Error[] = [];
    const upstream = new Upstream(
      upstreamOptions({
        name: "outage",
        redis,
        prefix,
        maxConcurrent: 2,
        maxQueueWaitMs: 200,
        onRedisError: (error) => redisErrors.push(error),
      }),
    );

    const before = await holding(upstream);
    expect(await redis.zcard(leases)).toBe(1);
    expect(upstream.stats()).toMatchObject({
      backend: "redis",
      limitScope: "all-processes",
      activeGlobal: 1,
    });

    await server.stop();
    await waitFor(() => redis.status !== "ready", "client noticed the outage");
    await expect(upstream.call(async () => "during outage")).resolves.toBe("during outage");
    expect(upstream.stats()).toMatchObject({ backend: "memory", limitScope: "this-process" });
    expect(upstream.stats().activeGlobal).toBeUndefined();
    // The memory budget counts the slot still held from before the outage: one more fits, not two.
    const during = await holding(upstream);
    await expect(upstream.call(async () => "third")).rejects.toMatchObject({
      name: "UpstreamOverloadedError",
    });
    during.release();
    before.release();
    await Promise.all([during.done, before.done]);
    // The slot taken before the outage could not be given back to Redis (there it would just expire).
    await waitFor(() => redisErrors.length > 0, "failed release reported");
    redisErrors.length = 0;
    expect(upstream.stats().fallbacks).toBeGreaterThanOrEqual(2);

    // A fresh server: empty data and an empty script cache, so EVALSHA answers NOSCRIPT at first.
    await server.start();
    await waitFor(() => redis.status === "ready", "client reconnected");
    const after = await holding(upstream);
    expect(upstream.stats()).toMatchObject({ backend: "redis", limitScope: "all-processes" });
    expect(await redis.zcard(leases)).toBe(1);
    after.release();
    await after.done;
    await waitFor(async () => (await redis.zcard(leases)) === 0, "lease released in Redis");

    // ioredis sends EVAL first on a new connection; a flush under a live connection makes EVALSHA fail.
    await redis.script("FLUSH");
    await expect(upstream.call(async () => "after flush")).resolves.toBe("after flush");
    expect(upstream.stats().backend).toBe("redis");
    expect(await redis.info("errorstats")).toMatch(/errorstat_NOSCRIPT:count=[1-9]/);
    expect(redisErrors).toEqual([]);
    await upstream.close();
    await deleteKeys(redis, prefix);
  });

  it("decides in memory when a budget command fails, and in Redis again once it works", async () => {
    const prefix = testPrefix();
    const redisErrors: Error[] = [];
    const upstream = new Upstream(
      upstreamOptions({ name: "broken", redis, prefix, onRedisError: (error) => redisErrors.push(error) }),
    );
    // A string where the script expects a sorted set: every acquisition fails with WRONGTYPE.
    await redis.set(`${prefix}{broken}:leases`, "not a zset");
    await expect(upstream.call(async () => "in memory")).resolves.toBe("in memory");
    expect(upstream.stats()).toMatchObject({ backend: "memory", fallbacks: 1 });
    expect(redisErrors[0]?.message).toMatch(/WRONGTYPE/);

    await redis.del(`${prefix}{broken}:leases`);
    await expect(upstream.call(async () => "in redis")).resolves.toBe("in redis");
    expect(upstream.stats()).toMatchObject({ backend: "redis", fallbacks: 1 });
    await upstream.close();
    await deleteKeys(redis, prefix);
  });

  it("counts a budget command that hangs as failed, and gives back its lease if it lands later", async () => {
    const prefix = testPrefix();
    const upstream = new Upstream(
      upstreamOptions({ name: "slow", redis, prefix, rpm: 100, leaseMs: 60_000, redisTimeoutMs: 100 }),
    );
    // Every client's commands, ours included, wait 700 ms on the server.
    await redis.call("CLIENT", "PAUSE", "700", "ALL");
    const started = Date.now();
    await expect(upstream.call(async () => "decided in memory")).resolves.toBe("decided in memory");
    expect(Date.now() - started).toBeLessThan(600);
    expect(upstream.stats()).toMatchObject({ backend: "memory", fallbacks: 1 });
    // After the pause the script still ran and granted a lease (its request is in the log), which was
    // then given back at once instead of blocking a slot for the 60 s lease.
    await waitFor(async () => (await redis.zcard(`${prefix}{slow}:log`)) === 1, "late acquisition landed");
    await waitFor(async () => (await redis.zcard(`${prefix}{slow}:leases`)) === 0, "late lease given back");
    await upstream.close();
    await deleteKeys(redis, prefix);
  });
});
