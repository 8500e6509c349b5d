// The limiter through Upstream, on real Redis and on the memory budget: priorities, shedding, queue
// wait, deadlines and aborts while queued, rpm/tpm windows.

import { waitFor } from "@kogi/api/testutil/redis-server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { UpstreamOptions } from "./options.js";
import { connectRedis, deleteKeys, gate, ready, testPrefix, upstreamOptions } from "./testing/fixtures.js";
import {
  Upstream,
  UpstreamAbortedError,
  UpstreamOverloadedError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from "./upstream.js";

const redis = connectRedis();
const prefixes: string[] = [];
const upstreams: Upstream[] = [];

beforeAll(async () => {
  await ready(redis);
});

afterEach(async () => {
  await Promise.all(upstreams.splice(0).map((upstream) => upstream.close()));
});

afterAll(async () => {
  for (const prefix of prefixes) await deleteKeys(redis, prefix);
  redis.disconnect();
});

describe.each(["redis", "memory"] as const)("limiter on %s", (backend) => {
  function upstream(overrides: Partial<UpstreamOptions> = {}) {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const created = new Upstream(
      upstreamOptions({ ...(backend === "redis" ? { redis, prefix } : {}), ...overrides }),
    );
    upstreams.push(created);
    return created;
  }

  /** Occupies every slot until `release.open()`; resolves once they are all held. */
  async function occupy(target: Upstream, slots: number) {
    const release = gate();
    const calls = Array.from({ length: slots }, () => target.call(() => release.promise));
    await waitFor(() => target.stats().active === slots, "slots taken");
    return { release, done: Promise.all(calls) };
  }

  const queued = (target: Upstream) => Object.values(target.stats().queued).reduce((a, b) => a + b, 0);

  it("serves queued callers by priority, FIFO within one", async () => {
    const target = upstream({ maxConcurrent: 1 });
    const first = await occupy(target, 1);
    expect(target.stats().backend).toBe(backend);
    const order: string[] = [];
    const queue = (label: string, priority: "high" | "normal" | "low") =>
      target.call(async () => void order.push(label), { priority });
    const calls = [
      queue("low", "low"),
      queue("normal-1", "normal"),
      queue("high", "high"),
      queue("normal-2", "normal"),
    ];
    await waitFor(() => queued(target) === 4, "four callers queued");
    expect(target.stats().queued).toEqual({ high: 1, normal: 2, low: 1 });
    first.release.open();
    await Promise.all([first.done, ...calls]);
    expect(order).toEqual(["high", "normal-1", "normal-2", "low"]);
    expect(target.stats().active).toBe(0);
  });

  it("sheds callers beyond maxQueue at once with a Retry-After of at least 1 s", async () => {
    const target = upstream({ maxConcurrent: 1, maxQueue: 2 });
    const first = await occupy(target, 1);
    const waiting = [target.call(async () => "a"), target.call(async () => "b")];
    await waitFor(() => queued(target) === 2, "queue full");
    const started = Date.now();
    const error = await target.call(async () => "c").catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(UpstreamOverloadedError);
    expect((error as UpstreamOverloadedError).reason).toBe("queue-full");
    expect((error as UpstreamOverloadedError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(target.stats().rejectedBy.queueFull).toBe(1);
    first.release.open();
    await expect(Promise.all(waiting)).resolves.toEqual(["a", "b"]);
  });

  it("lets a higher priority into a full line by shedding the newest lower-priority waiter", async () => {
    const target = upstream({ maxConcurrent: 1, maxQueue: 2 });
    const first = await occupy(target, 1);
    const low1 = target.call(async () => "low1", { priority: "low" });
    const low2 = target.call(async () => "low2", { priority: "low" }).catch((e: unknown) => e);
    await waitFor(() => queued(target) === 2, "queue full");
    const high = target.call(async () => "high", { priority: "high" });
    expect(await low2).toBeInstanceOf(UpstreamOverloadedError);
    first.release.open();
    await expect(Promise.all([high, low1])).resolves.toEqual(["high", "low1"]);
  });

  it("rejects a caller that waited longer than maxQueueWaitMs as overloaded", async () => {
    const target = upstream({ maxConcurrent: 1, maxQueueWaitMs: 150 });
    const first = await occupy(target, 1);
    const started = Date.now();
    const error = await target.call(async () => "late").catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(error).toBeInstanceOf(UpstreamOverloadedError);
    expect((error as UpstreamOverloadedError).reason).toBe("queue-wait");
    expect((error as UpstreamOverloadedError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(queued(target)).toBe(0);
    first.release.open();
    await first.done;
  });

  it("rejects a queued caller whose deadline passes with UpstreamTimeoutError", async () => {
    const target = upstream({ maxConcurrent: 1 });
    const first = await occupy(target, 1);
    const error = await target
      .call(async () => "late", { deadline: Date.now() + 100 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamTimeoutError);
    expect((error as UpstreamTimeoutError).kind).toBe("deadline");
    expect(target.stats().timeouts).toBe(1);
    first.release.open();
    await first.done;
  });

  it("removes a queued caller whose signal aborts, and the next one gets the slot", async () => {
    const target = upstream({ maxConcurrent: 1 });
    const first = await occupy(target, 1);
    const controller = new AbortController();
    let ran = false;
    const aborted = target
      .call(
        async () => {
          ran = true;
        },
        { signal: controller.signal, priority: "high" },
      )
      .catch((e: unknown) => e);
    const next = target.call(async () => "next");
    await waitFor(() => queued(target) === 2, "both queued");
    controller.abort();
    expect(await aborted).toBeInstanceOf(UpstreamAbortedError);
    expect(target.stats().queued).toEqual({ high: 0, normal: 1, low: 0 });
    first.release.open();
    await expect(next).resolves.toBe("next");
    expect(ran).toBe(false);
  });

  it("rejects queued callers when closed", async () => {
    const target = upstream({ maxConcurrent: 1 });
    const first = await occupy(target, 1);
    const waiting = target.call(async () => "never").catch((e: unknown) => e);
    await waitFor(() => queued(target) === 1, "queued");
    await target.close();
    expect(await waiting).toBeInstanceOf(UpstreamUnavailableError);
    first.release.open();
    await first.done;
  });

  it("holds the 6th call of an rpm-5 window until the window moves on", async () => {
    const windowMs = 1_000;
    const target = upstream({ maxConcurrent: 10, rpm: 5, windowMs });
    const starts: number[] = [];
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: 6 }, () => target.call(async () => void starts.push(Date.now() - t0))),
    );
    starts.sort((a, b) => a - b);
    expect(starts[4]).toBeLessThan(windowMs / 2);
    expect(starts[5]).toBeGreaterThanOrEqual(windowMs - 50);
  });

  it("sheds the 6th call of an rpm-5 window when it may not wait that long", async () => {
    const target = upstream({ maxConcurrent: 10, rpm: 5, windowMs: 60_000, maxQueueWaitMs: 100 });
    await Promise.all(Array.from({ length: 5 }, () => target.call(async () => "ok")));
    const error = await target.call(async () => "sixth").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamOverloadedError);
    // The window frees in about a minute, and the estimate says so.
    expect((error as UpstreamOverloadedError).retryAfterSeconds).toBeGreaterThan(30);
  });

  it("holds a call whose tokens do not fit the tpm window", async () => {
    const windowMs = 800;
    const target = upstream({ maxConcurrent: 10, tpm: 100, windowMs });
    const t0 = Date.now();
    await target.call(async () => "a", { tokens: 60 });
    await target.call(async () => "b", { tokens: 30 });
    const started = await target.call(async () => Date.now() - t0, { tokens: 20 });
    expect(started).toBeGreaterThanOrEqual(windowMs - 50);
  });
});
