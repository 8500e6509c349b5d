// Upstream.call on real Redis: retries (5xx, 429 Retry-After, 4xx, deadline), attempt timeout, caller
// aborts while queued and in flight, the breaker's cycle, stats and metrics.

import { waitFor } from "@kogi/api/testutil/redis-server";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { UpstreamOptions } from "./options.js";
import {
  connectRedis,
  deleteKeys,
  gate,
  ready,
  testPrefix,
  untilAborted,
  upstreamOptions,
} from "./testing/fixtures.js";
import {
  registerUpstreamMetrics,
  Upstream,
  UpstreamAbortedError,
  UpstreamConnectionError,
  UpstreamHttpError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from "./upstream.js";

const redis = connectRedis();
const prefixes: string[] = [];
const upstreams: Upstream[] = [];

function upstream(overrides: Partial<UpstreamOptions> = {}) {
  const prefix = testPrefix();
  prefixes.push(prefix);
  const created = new Upstream(upstreamOptions({ redis, prefix, ...overrides }));
  upstreams.push(created);
  return created;
}

beforeAll(async () => {
  await ready(redis);
});

afterEach(async () => {
  await Promise.all(upstreams.splice(0).map((u) => u.close()));
});

afterAll(async () => {
  for (const prefix of prefixes) await deleteKeys(redis, prefix);
  redis.disconnect();
});

/** An fn that plays the given outcomes in turn (an error to throw, or a value), recording each attempt. */
function script(...outcomes: unknown[]) {
  const attempts: { attempt: number; at: number }[] = [];
  const fn = async ({ attempt }: { attempt: number }) => {
    attempts.push({ attempt, at: Date.now() });
    const outcome = outcomes[Math.min(attempts.length, outcomes.length) - 1];
    if (outcome instanceof Error) throw outcome;
    return outcome;
  };
  return { fn, attempts };
}

describe("retries", () => {
  it("retries a 5xx and returns the next attempt's answer", async () => {
    const target = upstream();
    const { fn, attempts } = script(new UpstreamHttpError(503), "ok");
    await expect(target.call(fn)).resolves.toBe("ok");
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2]);
    expect(target.stats()).toMatchObject({ retries: 1, succeeded: 1, active: 0, backend: "redis" });
  });

  it("retries connection errors, and gives up after maxAttempts with an UpstreamConnectionError", async () => {
    const target = upstream({ retry: { maxAttempts: 3, initialDelayMs: 5, maxDelayMs: 20 } });
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const fetchFailed = new TypeError("fetch failed", { cause: refused });
    const { fn, attempts } = script(fetchFailed);
    const error = await target.call(fn).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamConnectionError);
    expect((error as UpstreamConnectionError).cause).toBe(fetchFailed);
    expect((error as UpstreamConnectionError).upstream).toBe(target.name);
    expect(attempts).toHaveLength(3);
  });

  it("waits Retry-After on a 429, then succeeds", async () => {
    const target = upstream();
    const { fn, attempts } = script(new UpstreamHttpError(429, "slow down", 300), "ok");
    await expect(target.call(fn)).resolves.toBe("ok");
    expect(attempts).toHaveLength(2);
    expect((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)).toBeGreaterThanOrEqual(295);
  });

  it("never retries other 4xx, and stamps the upstream's name on the error", async () => {
    const target = upstream({ name: "openai-chat" });
    const { fn, attempts } = script(new UpstreamHttpError(400, "bad request"));
    const error = await target.call(fn).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamHttpError);
    expect((error as UpstreamHttpError).upstream).toBe("openai-chat");
    expect(attempts).toHaveLength(1);
  });

  it("stops retrying when the next wait would end past the deadline", async () => {
    const target = upstream({ retry: { maxAttempts: 5, initialDelayMs: 10, maxDelayMs: 50 } });
    const tooLate = new UpstreamHttpError(429, "slow down", 2_000);
    const { fn, attempts } = script(tooLate, "ok");
    const started = Date.now();
    await expect(target.call(fn, { deadline: Date.now() + 500 })).rejects.toBe(tooLate);
    expect(Date.now() - started).toBeLessThan(400);
    expect(attempts).toHaveLength(1);
  });

  it("does not start another attempt after the deadline while backing off on 5xx", async () => {
    const target = upstream({ retry: { maxAttempts: 50, initialDelayMs: 40, maxDelayMs: 40 } });
    const { fn, attempts } = script(new UpstreamHttpError(502));
    const started = Date.now();
    const error = await target.call(fn, { deadline: Date.now() + 300 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(600);
    expect(error).toBeInstanceOf(UpstreamHttpError);
    expect(attempts.length).toBeGreaterThan(1);
    expect(attempts.length).toBeLessThan(50);
    for (const attempt of attempts) expect(attempt.at).toBeLessThan(started + 300);
  });

  it("releases the slot while backing off, so another caller runs in between", async () => {
    const target = upstream({
      maxConcurrent: 1,
      retry: { maxAttempts: 2, initialDelayMs: 0, maxDelayMs: 0 },
    });
    const order: string[] = [];
    const busy = gate();
    const retrying = target.call(async ({ attempt }) => {
      order.push(`retrying#${attempt}`);
      if (attempt === 1) {
        await busy.promise;
        throw new UpstreamHttpError(429, "slow down", 200);
      }
      return "done";
    });
    await waitFor(() => target.stats().active === 1, "first attempt running");
    const other = target.call(async () => void order.push("other"));
    await waitFor(() => target.stats().queued.normal === 1, "other queued");
    busy.open();
    await Promise.all([retrying, other]);
    expect(order).toEqual(["retrying#1", "other", "retrying#2"]);
  });
});

describe("timeouts and cancellation", () => {
  it("aborts fn's signal when an attempt times out, retries, then gives up with UpstreamTimeoutError", async () => {
    const target = upstream({
      attemptTimeoutMs: 100,
      retry: { maxAttempts: 2, initialDelayMs: 0, maxDelayMs: 0 },
    });
    const reasons: unknown[] = [];
    const error = await target
      .call(({ signal }) =>
        untilAborted(signal).catch((reason: unknown) => Promise.reject(reasons.push(reason))),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamTimeoutError);
    expect((error as UpstreamTimeoutError).kind).toBe("attempt");
    expect(reasons).toHaveLength(2);
    expect(reasons[0]).toBeInstanceOf(UpstreamTimeoutError);
    expect(target.stats()).toMatchObject({ timeouts: 2, retries: 1, active: 0 });
  });

  it("cuts an attempt at the deadline, not retried", async () => {
    const target = upstream({ attemptTimeoutMs: 10_000 });
    let calls = 0;
    const started = Date.now();
    const error = await target
      .call(
        ({ signal }) => {
          calls++;
          return untilAborted(signal);
        },
        { deadline: Date.now() + 150 },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamTimeoutError);
    expect((error as UpstreamTimeoutError).kind).toBe("deadline");
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(calls).toBe(1);
  });

  it("returns at the attempt timeout even if fn ignores its signal", async () => {
    const target = upstream({
      attemptTimeoutMs: 100,
      retry: { maxAttempts: 1, initialDelayMs: 0, maxDelayMs: 0 },
    });
    const stuck = gate();
    const started = Date.now();
    await expect(target.call(() => stuck.promise)).rejects.toBeInstanceOf(UpstreamTimeoutError);
    expect(Date.now() - started).toBeLessThan(2_000);
    // The slot stays held until fn really ends (the upstream is still busy with it).
    expect(target.stats().active).toBe(1);
    stuck.open();
    await waitFor(() => target.stats().active === 0, "slot released when fn ended");
  });

  it("caller abort while in flight aborts fn's signal and frees the slot", async () => {
    const target = upstream();
    const controller = new AbortController();
    const inside = gate<AbortSignal>();
    const call = target
      .call(
        ({ signal }) => {
          inside.open(signal);
          return untilAborted(signal);
        },
        { signal: controller.signal },
      )
      .catch((e: unknown) => e);
    const signal = await inside.promise;
    controller.abort(new Error("client went away"));
    const error = await call;
    expect(error).toBeInstanceOf(UpstreamAbortedError);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(UpstreamAbortedError);
    await waitFor(() => target.stats().active === 0, "slot released");
    expect(await redis.zcard(`${prefixes.at(-1)}{test}:leases`)).toBe(0);
  });

  it("caller abort while queued never runs fn", async () => {
    const target = upstream({ maxConcurrent: 1 });
    const busy = gate();
    const first = target.call(() => busy.promise);
    await waitFor(() => target.stats().active === 1, "slot taken");
    const controller = new AbortController();
    let ran = false;
    const queued = target
      .call(
        async () => {
          ran = true;
        },
        { signal: controller.signal },
      )
      .catch((e: unknown) => e);
    await waitFor(() => target.stats().queued.normal === 1, "queued");
    controller.abort();
    expect(await queued).toBeInstanceOf(UpstreamAbortedError);
    busy.open();
    await first;
    expect(ran).toBe(false);
  });

  it("caller abort during the backoff sleep ends the call at once", async () => {
    const target = upstream();
    const controller = new AbortController();
    const { fn, attempts } = script(new UpstreamHttpError(429, "slow down", 5_000), "ok");
    const call = target.call(fn, { signal: controller.signal }).catch((e: unknown) => e);
    await waitFor(() => attempts.length === 1 && target.stats().active === 0, "backing off");
    controller.abort();
    expect(await call).toBeInstanceOf(UpstreamAbortedError);
    expect(attempts).toHaveLength(1);
  });
});

describe("breaker", () => {
  it("opens after N failed calls, refuses fast, half-opens after the delay and closes on success", async () => {
    const target = upstream({
      breaker: { failureThreshold: 3, halfOpenAfterMs: 300 },
      retry: { maxAttempts: 2, initialDelayMs: 0, maxDelayMs: 0 },
    });
    const down = script(new UpstreamHttpError(500));
    for (let i = 0; i < 3; i++) await expect(target.call(down.fn)).rejects.toBeInstanceOf(UpstreamHttpError);
    expect(down.attempts).toHaveLength(6);
    expect(target.stats().breaker).toBe("open");

    const refusedAt = Date.now();
    const refused = await target.call(down.fn).catch((e: unknown) => e);
    expect(Date.now() - refusedAt).toBeLessThan(50);
    expect(refused).toBeInstanceOf(UpstreamUnavailableError);
    expect((refused as UpstreamUnavailableError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(down.attempts).toHaveLength(6);
    expect(target.stats().rejectedBy.breakerOpen).toBe(1);

    await waitFor(() => target.stats().breaker === "half-open", "half-open");
    // One probe at a time: a second caller is refused while the probe runs.
    const probeGate = gate();
    const probe = target.call(async () => {
      await probeGate.promise;
      return "probe ok";
    });
    await expect(target.call(async () => "second")).rejects.toBeInstanceOf(UpstreamUnavailableError);
    probeGate.open();
    await expect(probe).resolves.toBe("probe ok");
    expect(target.stats().breaker).toBe("closed");
    await expect(target.call(async () => "again")).resolves.toBe("again");
  });

  it("re-opens when the probe fails, and 4xx/429 answers never open it", async () => {
    const target = upstream({
      breaker: { failureThreshold: 2, halfOpenAfterMs: 100 },
      retry: { maxAttempts: 1, initialDelayMs: 0, maxDelayMs: 0 },
    });
    for (const status of [400, 404, 429, 422, 429]) {
      await expect(target.call(script(new UpstreamHttpError(status)).fn)).rejects.toBeInstanceOf(
        UpstreamHttpError,
      );
    }
    expect(target.stats().breaker).toBe("closed");
    const down = script(new UpstreamHttpError(503));
    for (let i = 0; i < 2; i++) await target.call(down.fn).catch(() => {});
    expect(target.stats().breaker).toBe("open");
    await waitFor(() => target.stats().breaker === "half-open", "half-open");
    await expect(target.call(down.fn)).rejects.toBeInstanceOf(UpstreamHttpError);
    expect(target.stats().breaker).toBe("open");
  });
});

describe("metrics", () => {
  it("exposes active, queued by priority, breaker state, retries, rejections and timeouts", async () => {
    const target = upstream({ name: "openai-embeddings" });
    await target.call(script(new UpstreamHttpError(503), "ok").fn);
    const registry = new Registry();
    registerUpstreamMetrics(registry, [target]);
    const text = await registry.metrics();
    expect(text).toContain('kogi_upstream_active{upstream="openai-embeddings"} 0');
    expect(text).toContain('kogi_upstream_queued{upstream="openai-embeddings",priority="high"} 0');
    expect(text).toContain('kogi_upstream_breaker_state{upstream="openai-embeddings"} 0');
    expect(text).toContain('kogi_upstream_retries_total{upstream="openai-embeddings"} 1');
    expect(text).toContain(
      'kogi_upstream_rejected_total{upstream="openai-embeddings",reason="queue_full"} 0',
    );
    expect(text).toContain('kogi_upstream_timeouts_total{upstream="openai-embeddings"} 0');
    expect(text).toContain('kogi_upstream_shared_budget{upstream="openai-embeddings"} 1');
  });
});

describe("long-held slots", () => {
  it("holds a slot past the lease time while renewed, in priority order, until released", async () => {
    const target = upstream({ maxConcurrent: 1, leaseMs: 300 });
    const first = await target.slot();
    const order: string[] = [];
    const take = (priority: "low" | "high") =>
      target.slot({ priority }).then((slot) => {
        order.push(priority);
        return slot;
      });
    const low = take("low");
    const high = take("high");
    // Three lease periods: a slot that was not renewed would have expired and let a waiter in.
    await new Promise((resolve) => setTimeout(resolve, 900));
    expect(order).toEqual([]);
    expect(target.stats()).toMatchObject({ active: 1, available: 0 });
    first.release();
    (await high).release();
    (await low).release();
    expect(order).toEqual(["high", "low"]);
    expect(target.stats().active).toBe(0);
  });
});

describe("beforeRetry", () => {
  it("settles an unknown outcome instead of sending the call again", async () => {
    const target = upstream();
    const { fn, attempts } = script(new UpstreamTimeoutError("test", "attempt", 1), "sent twice");
    const checks: number[] = [];
    const value = await target.call(fn, {
      beforeRetry: async (_error, attempt) => {
        checks.push(attempt);
        return { value: "found" };
      },
    });
    expect(value).toBe("found");
    expect(attempts).toHaveLength(1);
    expect(checks).toEqual([1]);
  });

  it("lets the retry go ahead when it finds nothing, and maxAttempts caps a single call", async () => {
    const target = upstream({ retry: { maxAttempts: 3, initialDelayMs: 5, maxDelayMs: 10 } });
    const { fn, attempts } = script(new UpstreamHttpError(500), new UpstreamHttpError(500), "ok");
    await expect(target.call(fn, { beforeRetry: async () => undefined })).resolves.toBe("ok");
    expect(attempts).toHaveLength(3);
    const capped = script(new UpstreamHttpError(500), "ok");
    await expect(target.call(capped.fn, { maxAttempts: 1 })).rejects.toBeInstanceOf(UpstreamHttpError);
    expect(capped.attempts).toHaveLength(1);
  });
});
