// The one way to call an upstream (OpenAI, D-ID): limiter, per-attempt timeout, retries, deadline, breaker.
//
// The retry loop is ours rather than cockatiel's retry()/timeout()/circuitBreaker() wrapped together:
// cockatiel cannot give up early when the next backoff would end past the caller's deadline, and its
// cooperative timeout neither tells a timeout from a caller abort nor stops waiting for an fn that
// ignores its signal. From cockatiel we take ExponentialBackoff (decorrelated jitter) for the delays.
//
// Each retry gives its concurrency slot back during the backoff and queues again (same priority) for
// the next attempt, so a call that is backing off holds no capacity; every attempt counts against
// rpm/tpm, as it does at the upstream.
import { ExponentialBackoff, type IBackoff } from "cockatiel";
import { type AttemptFn, runAttempt } from "./attempt.js";
import { Breaker } from "./breaker.js";
import { healthOutcome, isConnectionError, retryKind } from "./classify.js";
import {
  UpstreamAbortedError,
  UpstreamConnectionError,
  UpstreamError,
  UpstreamOverloadedError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
  withoutStack,
} from "./errors.js";
import { type AcquireRequest, Limiter } from "./limiter.js";
import {
  type CallOptions,
  type ResolvedOptions,
  type RetryingCallOptions,
  resolveOptions,
  type Slot,
  type UpstreamOptions,
  type UpstreamStats,
} from "./options.js";
import { sleep } from "./timers.js";

export { isConnectionError } from "./classify.js";
export * from "./errors.js";
export { registerUpstreamMetrics } from "./metrics.js";
export type {
  BreakerState,
  CallOptions,
  Priority,
  RetryingCallOptions,
  Slot,
  UpstreamOptions,
  UpstreamStats,
} from "./options.js";

export class Upstream {
  readonly name: string;
  readonly #options: ResolvedOptions;
  readonly #limiter: Limiter;
  readonly #breaker: Breaker;
  readonly #backoff: ExponentialBackoff<unknown>;
  readonly #counts = { calls: 0, succeeded: 0, failed: 0, retries: 0, breakerOpen: 0, timeouts: 0 };
  #closed = false;

  constructor(options: UpstreamOptions) {
    this.#options = resolveOptions(options);
    this.name = options.name;
    this.#limiter = new Limiter(this.#options);
    this.#breaker = new Breaker(options.breaker.failureThreshold, options.breaker.halfOpenAfterMs);
    this.#backoff = new ExponentialBackoff({
      initialDelay: options.retry.initialDelayMs,
      maxDelay: options.retry.maxDelayMs,
    });
  }

  /**
   * Runs fn under the limiter, with retries, per-attempt timeout, overall deadline and breaker. fn gets
   * a signal that aborts on attempt timeout, deadline or caller abort; adapters pass it to fetch/the SDK.
   */
  async call<T>(fn: AttemptFn<T>, options: RetryingCallOptions<T> = {}): Promise<T> {
    this.#counts.calls++;
    const { signal, deadline } = options;
    if (this.#closed) throw new UpstreamUnavailableError(this.name, 1, "closed");
    if (signal?.aborted) throw new UpstreamAbortedError(this.name, signal.reason);
    const ticket = this.#breaker.admit();
    if (!("probe" in ticket)) {
      this.#counts.breakerOpen++;
      throw new UpstreamUnavailableError(this.name, Math.max(1, Math.ceil(ticket.refusedForMs / 1000)));
    }
    const request: AcquireRequest = {
      priority: options.priority ?? "normal",
      tokens: Math.max(0, Math.ceil(options.tokens ?? 0)),
      signal,
      deadline,
    };
    const ran: { error?: unknown; attempted: boolean } = { attempted: false };
    try {
      // The half-open probe gets one attempt: its job is to find out, not to insist on a likely-down upstream.
      const maxAttempts = Math.min(this.#options.retry.maxAttempts, options.maxAttempts ?? Infinity);
      const value = await this.#attempts(
        fn,
        request,
        ticket.probe ? 1 : maxAttempts,
        ran,
        options.beforeRetry,
      );
      this.#breaker.record(ticket, "success");
      this.#counts.succeeded++;
      return value;
    } catch (error) {
      // Judged by the last attempt that ran: a call shed in the queue after a 503 still saw a 503.
      this.#breaker.record(ticket, ran.attempted ? healthOutcome(ran.error) : "none");
      this.#counts.failed++;
      if (error instanceof UpstreamError && error.upstream === "") error.upstream = this.name;
      // A network failure that outlived its retries is the upstream's failure, whatever the client library
      // called it: callers see one toolkit error they can fall back on.
      if (!(error instanceof UpstreamError) && isConnectionError(error))
        throw new UpstreamConnectionError(
          this.name,
          `${this.name} could not be reached: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      throw error;
    }
  }

  /**
   * Waits for one concurrency slot (in priority order, under the shared budget) and holds it, renewed,
   * until released: for a scarce resource that outlives any HTTP call, such as a talk being rendered.
   * A crashed holder's slot expires after leaseMs. No breaker and no retries: nothing is called.
   */
  async slot(options: Omit<CallOptions, "tokens" | "maxAttempts"> = {}): Promise<Slot> {
    if (this.#closed) throw new UpstreamUnavailableError(this.name, 1, "closed");
    const lease = await this.#limiter.acquire({
      priority: options.priority ?? "normal",
      tokens: 0,
      signal: options.signal,
      deadline: options.deadline,
    });
    const holding = new AbortController();
    const release = this.#limiter.hold(lease, holding.signal);
    return {
      release: () => {
        holding.abort();
        release();
      },
    };
  }

  /**
   * Throws the error a call would end with if it cannot be admitted now (queue full, breaker open), so
   * a caller can shed load before doing its own work (cache lookups, parsing) for a doomed request.
   */
  refuseEarly(): void {
    if (this.#limiter.saturated)
      throw withoutStack(
        () => new UpstreamOverloadedError(this.name, this.#limiter.retryAfterSeconds(), "queue-full"),
      );
  }

  stats(): UpstreamStats {
    const limiter = this.#limiter.stats();
    const { queueFull, queueWait, timeouts, fallbacks } = this.#limiter.counters;
    const { calls, succeeded, failed, retries, breakerOpen } = this.#counts;
    return {
      name: this.name,
      ...limiter,
      limitScope: limiter.backend === "redis" ? "all-processes" : "this-process",
      breaker: this.#breaker.state,
      calls,
      succeeded,
      failed,
      retries,
      fallbacks,
      rejected: queueFull + queueWait + breakerOpen,
      rejectedBy: { queueFull, queueWait, breakerOpen },
      timeouts: timeouts + this.#counts.timeouts,
    };
  }

  /** Refuses new calls and rejects queued ones; calls in flight finish on their own and release their slots. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#limiter.close();
  }

  async #attempts<T>(
    fn: AttemptFn<T>,
    request: AcquireRequest,
    maxAttempts: number,
    ran: { error?: unknown; attempted: boolean },
    beforeRetry?: RetryingCallOptions<T>["beforeRetry"],
  ): Promise<T> {
    const { deadline, signal } = request;
    let backoff: IBackoff<unknown> | undefined;
    for (let attempt = 1; ; attempt++) {
      const lease = await this.#limiter.acquire(request);
      if (deadline !== undefined && deadline <= Date.now()) {
        this.#limiter.release(lease);
        this.#counts.timeouts++;
        throw new UpstreamTimeoutError(this.name, "deadline");
      }
      try {
        return await runAttempt(fn, {
          upstream: this.name,
          attempt,
          timeoutMs: this.#options.attemptTimeoutMs,
          deadline,
          signal,
          hold: (attemptSignal) => this.#limiter.hold(lease, attemptSignal),
        });
      } catch (error) {
        ran.error = error;
        ran.attempted = true;
        if (error instanceof UpstreamTimeoutError) this.#counts.timeouts++;
        const kind = retryKind(error);
        if (!kind.retry || attempt >= maxAttempts) throw error;
        backoff = backoff ? backoff.next(undefined) : this.#backoff.next();
        // Retry-After is the upstream's word; a little jitter on top keeps the waiters from all landing at once.
        const delayMs =
          kind.afterMs !== undefined
            ? kind.afterMs + Math.random() * Math.min(100, kind.afterMs / 10)
            : backoff.duration;
        // Never sleep past the deadline: give up now with the error that made us want to retry.
        if (deadline !== undefined && Date.now() + delayMs >= deadline) throw error;
        this.#counts.retries++;
        await sleep(delayMs, signal, () => new UpstreamAbortedError(this.name, signal?.reason));
        const settled = await beforeRetry?.(error, attempt);
        if (settled) return settled.value;
      }
    }
  }
}
