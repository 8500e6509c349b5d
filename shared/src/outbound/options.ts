// The toolkit's public shapes: per-call options, per-upstream settings (validated once) and stats.
import type { Redis } from "ioredis";

export type Priority = "high" | "normal" | "low";
export const PRIORITIES: readonly Priority[] = ["high", "normal", "low"];

export interface CallOptions {
  /** Default "normal". High is served before normal before low; FIFO within a priority. */
  priority?: Priority;
  /** Estimated tokens of this call, for the TPM budget (default 0). */
  tokens?: number;
  /** The client request's signal: aborting cancels waiting and the in-flight attempt. */
  signal?: AbortSignal;
  /** Epoch ms by which the whole call (queue + attempts + backoff) must be done. */
  deadline?: number;
  /** Fewer attempts than the upstream's retry.maxAttempts for this call (never more). */
  maxAttempts?: number;
}

export interface RetryingCallOptions<T> extends CallOptions {
  /**
   * Runs before each retry, after the backoff: a call whose outcome is unknown (a create that timed
   * out after its body was sent) can find out whether it happened. A value ends the call with it.
   */
  beforeRetry?: (error: unknown, attempt: number) => Promise<{ value: T } | undefined>;
}

/** A held concurrency slot (see Upstream.slot): renewed until released. */
export interface Slot {
  release(): void;
}

export interface UpstreamOptions {
  /** "openai-chat", "openai-embeddings", "d-id": part of the Redis keys, metric labels and errors. */
  name: string;
  /** Shared budget when given and ready; the in-process budget otherwise. */
  redis?: Redis;
  /** Redis key prefix (default "kogi:upstream:"); processes with the same prefix and name share one budget. */
  prefix?: string;
  /** Across all processes sharing the prefix. */
  maxConcurrent: number;
  /** Requests per window, across all processes (unset = unlimited). */
  rpm?: number;
  /** Tokens per window, across all processes (unset = unlimited). */
  tpm?: number;
  /** The rpm/tpm window; 60 000 in production, shorter in tests. */
  windowMs?: number;
  /** Waiting callers per process; beyond -> UpstreamOverloadedError at once. */
  maxQueue: number;
  /** A caller waiting longer -> UpstreamOverloadedError. */
  maxQueueWaitMs: number;
  /** A concurrency slot not renewed for this long expires (crashed process); renewed every leaseMs/3. */
  leaseMs: number;
  attemptTimeoutMs: number;
  /** maxAttempts includes the first. Exponential backoff with jitter between attempts. */
  retry: { maxAttempts: number; initialDelayMs: number; maxDelayMs: number };
  /** `failureThreshold` consecutive failed calls open it; after `halfOpenAfterMs` one probe may run. */
  breaker: { failureThreshold: number; halfOpenAfterMs: number };
  /** Longest nap of the queue head between budget polls while concurrency is exhausted (default 25). */
  pollMs?: number;
  /** A budget command slower than this counts as a Redis failure for that acquisition (default 500). */
  redisTimeoutMs?: number;
  /** Redis errors are survived (memory fallback); this hears about them, e.g. to log. */
  onRedisError?: (error: Error) => void;
}

export type BreakerState = "closed" | "open" | "half-open";
export type Backend = "redis" | "memory";

export interface UpstreamStats {
  name: string;
  /** Where the last acquisition was decided. */
  backend: Backend;
  /**
   * "all-processes" while the budget lives in Redis; "this-process" on the memory fallback, when every
   * process enforces the limits alone (N processes may use N x the budget).
   */
  limitScope: "all-processes" | "this-process";
  /** Slots held by this process. */
  active: number;
  /** Slots held by all processes as of this process's last acquisition, less its releases since (redis only). */
  activeGlobal?: number;
  /** Free concurrency slots, by the same view. */
  available: number;
  queued: Record<Priority, number>;
  breaker: BreakerState;
  calls: number;
  succeeded: number;
  failed: number;
  retries: number;
  /** Acquisitions decided in memory although a Redis client was configured. */
  fallbacks: number;
  /** Calls refused without running: queue full, queue wait exceeded, breaker open. */
  rejected: number;
  rejectedBy: { queueFull: number; queueWait: number; breakerOpen: number };
  /** Attempt timeouts and deadlines that expired (queued or in flight). */
  timeouts: number;
}

export interface ResolvedOptions
  extends Required<Omit<UpstreamOptions, "redis" | "rpm" | "tpm" | "onRedisError">> {
  redis?: Redis;
  /** 0 = unlimited. */
  rpm: number;
  tpm: number;
  onRedisError: (error: Error) => void;
}

function check(name: string, value: number, min: number, integer = true) {
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new Error(
      `Upstream: ${name} must be ${integer ? "an integer" : "a number"} >= ${min} (got ${value})`,
    );
  }
}

export function resolveOptions(options: UpstreamOptions): ResolvedOptions {
  if (!/^[\w.-]+$/.test(options.name)) throw new Error(`Upstream: bad name ${JSON.stringify(options.name)}`);
  const resolved: ResolvedOptions = {
    ...options,
    prefix: options.prefix ?? "kogi:upstream:",
    rpm: options.rpm ?? 0,
    tpm: options.tpm ?? 0,
    windowMs: options.windowMs ?? 60_000,
    pollMs: options.pollMs ?? 25,
    redisTimeoutMs: options.redisTimeoutMs ?? 500,
    onRedisError: options.onRedisError ?? (() => {}),
  };
  check("maxConcurrent", resolved.maxConcurrent, 1);
  check("rpm", resolved.rpm, 0);
  check("tpm", resolved.tpm, 0);
  check("windowMs", resolved.windowMs, 1);
  check("maxQueue", resolved.maxQueue, 0);
  check("maxQueueWaitMs", resolved.maxQueueWaitMs, 0, false);
  check("leaseMs", resolved.leaseMs, 30);
  check("attemptTimeoutMs", resolved.attemptTimeoutMs, 1, false);
  check("retry.maxAttempts", resolved.retry.maxAttempts, 1);
  check("retry.initialDelayMs", resolved.retry.initialDelayMs, 0, false);
  check("retry.maxDelayMs", resolved.retry.maxDelayMs, 0, false);
  check("breaker.failureThreshold", resolved.breaker.failureThreshold, 1);
  check("breaker.halfOpenAfterMs", resolved.breaker.halfOpenAfterMs, 0, false);
  check("pollMs", resolved.pollMs, 1, false);
  check("redisTimeoutMs", resolved.redisTimeoutMs, 1, false);
  return resolved;
}
