// The Redis budget across real processes: two workers share one concurrency limit, and a crashed
// holder's lease expires so that others get its slot.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Child, runScript } from "./testing/child.js";
import {
  connectRedis,
  deleteKeys,
  gate,
  REDIS_URL,
  ready,
  testPrefix,
  upstreamOptions,
} from "./testing/fixtures.js";
import { Upstream } from "./upstream.js";

const redis = connectRedis();
const prefixes: string[] = [];
const children: Child[] = [];

beforeAll(async () => {
  await ready(redis);
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill();
    await child.exited;
  }
});

afterAll(async () => {
  for (const prefix of prefixes) await deleteKeys(redis, prefix);
  redis.disconnect();
});

function newPrefix() {
  const prefix = testPrefix();
  prefixes.push(prefix);
  return prefix;
}

describe("across processes", () => {
  it("two processes never run more than maxConcurrent calls together", async () => {
    const prefix = newPrefix();
    const env = { REDIS_URL, PREFIX: prefix };
    // Each process keeps 2 calls going and 3 may run in all: neither can fill the limit alone, so both
    // run at once, and together they ask for 4.
    const workers = [0, 1].map(() =>
      runScript("overlap-worker.ts", { ...env, CALLS: "20", LANES: "2", MAX_CONCURRENT: "3" }),
    );
    children.push(...workers);
    await Promise.all(workers.map((worker) => worker.line((line) => line === "ready")));
    await redis.set(`${prefix}go`, "1");
    const summaries = await Promise.all(workers.map((worker) => worker.line((line) => line.startsWith("{"))));
    expect(await Promise.all(workers.map((worker) => worker.exited))).toEqual([0, 0]);

    for (const summary of summaries) {
      expect(JSON.parse(summary).stats).toMatchObject({ backend: "redis", succeeded: 20, active: 0 });
    }
    const intervals = (await redis.lrange(`${prefix}intervals`, 0, -1)).map(
      (line) => JSON.parse(line) as { pid: number; start: number; end: number },
    );
    expect(intervals).toHaveLength(40);
    // The most calls ever inside fn at once, counted in Redis by the calls themselves.
    const max = Number(await redis.get(`${prefix}max`));
    expect(max).toBeLessThanOrEqual(3);
    expect(max).toBeGreaterThanOrEqual(2);
    // And the same from the recorded intervals, which also show both processes ran interleaved.
    const events = intervals.flatMap((i) => [
      { at: i.start, delta: 1 },
      { at: i.end, delta: -1 },
    ]);
    events.sort((a, b) => a.at - b.at || a.delta - b.delta);
    let running = 0;
    let peak = 0;
    for (const event of events) {
      running += event.delta;
      peak = Math.max(peak, running);
    }
    expect(peak).toBeLessThanOrEqual(3);
    const [a, b] = [...new Set(intervals.map((i) => i.pid))];
    const ofA = intervals.filter((i) => i.pid === a);
    const ofB = intervals.filter((i) => i.pid === b);
    expect(ofA.some((x) => ofB.some((y) => x.start < y.end && y.start < x.end))).toBe(true);
    expect(await redis.zcard(`${prefix}{overlap}:leases`)).toBe(0);
  });

  it("a crashed holder's slot comes free after about leaseMs, not before, while the holder renews", async () => {
    const prefix = newPrefix();
    const leaseMs = 1_500;
    const holder = runScript("hold-slot.ts", {
      REDIS_URL,
      PREFIX: prefix,
      LEASE_MS: String(leaseMs),
    });
    children.push(holder);
    await holder.line((line) => line === "holding");

    const upstream = new Upstream(
      upstreamOptions({ name: "crash", redis, prefix, maxConcurrent: 1, leaseMs, maxQueueWaitMs: 30_000 }),
    );
    const started = gate<number>();
    const call = upstream.call(async () => started.open(Date.now()));
    call.catch(() => {});
    // Twice the lease: the holder renews, so the slot must stay taken all along.
    const early = await Promise.race([
      started.promise.then(() => "started"),
      new Promise((resolve) => setTimeout(resolve, 2 * leaseMs, "still waiting")),
    ]);
    expect(early).toBe("still waiting");

    holder.kill();
    const killedAt = Date.now();
    await holder.exited;
    const startedAt = await started.promise;
    await call;
    // The last renewal was at most leaseMs/3 before the kill, so the lease expires within (2/3 leaseMs, leaseMs].
    expect(startedAt - killedAt).toBeGreaterThanOrEqual(leaseMs / 3);
    expect(startedAt - killedAt).toBeLessThanOrEqual(leaseMs + 1_500);
    await upstream.close();
  });
});
