// Test fixtures: a private key prefix per test on the shared Redis, small Upstream settings, gates.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import type { UpstreamOptions } from "../options.js";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** Fails fast while disconnected, like the api's client, so the toolkit's memory fallback is what is tested. */
export function connectRedis(url = REDIS_URL): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1_000,
    retryStrategy: () => 100,
  });
  redis.on("error", () => {});
  return redis;
}

export async function ready(redis: Redis): Promise<Redis> {
  if (redis.status !== "ready") await new Promise((resolve) => redis.once("ready", resolve));
  return redis;
}

export function testPrefix(): string {
  return `kogi-test:outbound:${randomUUID().slice(0, 8)}:`;
}

export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== "0");
}

export function upstreamOptions(overrides: Partial<UpstreamOptions> = {}): UpstreamOptions {
  return {
    name: "test",
    maxConcurrent: 2,
    maxQueue: 100,
    maxQueueWaitMs: 10_000,
    leaseMs: 5_000,
    attemptTimeoutMs: 5_000,
    retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 50 },
    breaker: { failureThreshold: 100, halfOpenAfterMs: 1_000 },
    ...overrides,
  };
}

/** A promise with its resolve at hand: lets a test hold an fn open until it says so. */
export function gate<T = void>() {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Resolves when the signal aborts (with its reason), for fns that honour it. */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}
