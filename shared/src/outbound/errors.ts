// What an upstream call can end with; the api maps these to answers (503 + Retry-After, fallbacks).

/**
 * Builds an error without capturing a stack trace. Load shedding is expected control flow under
 * overload, and its stack says nothing: capturing one for each refusal (the toolkit's error and the
 * api's problem) cost ~8% of the api's CPU while it refused 2,500 answers/s in bench:answer.
 */
export function withoutStack<T extends Error>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

export class UpstreamError extends Error {
  override name = "UpstreamError";
  /** The Upstream's name ("openai-chat", ...); stamped by the toolkit on errors an adapter threw without it. */
  upstream: string;

  constructor(upstream: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.upstream = upstream;
  }
}

/** Thrown by adapters when the upstream answered with an error status; the toolkit decides on retries from it. */
export class UpstreamHttpError extends UpstreamError {
  override name = "UpstreamHttpError";

  constructor(
    readonly status: number,
    message = `upstream answered ${status}`,
    /** From Retry-After / retry-after-ms; honoured on 429 within the caller's deadline. */
    readonly retryAfterMs?: number,
    upstream = "",
  ) {
    super(upstream, message);
  }
}

/** No HTTP answer arrived (refused, reset, dropped) on the last attempt; `cause` is the network error. */
export class UpstreamConnectionError extends UpstreamError {
  override name = "UpstreamConnectionError";
}

/** Too many callers waiting, or a caller waited too long for a slot: shed load, answer 503 + Retry-After. */
export class UpstreamOverloadedError extends UpstreamError {
  override name = "UpstreamOverloadedError";

  constructor(
    upstream: string,
    /** Estimated; at least 1. */
    readonly retryAfterSeconds: number,
    readonly reason: "queue-full" | "queue-wait",
  ) {
    super(upstream, `${upstream} is overloaded (${reason}); retry after ${retryAfterSeconds}s`);
  }
}

/** The circuit breaker is open (or the Upstream is closed): refused without trying, the caller may fall back. */
export class UpstreamUnavailableError extends UpstreamError {
  override name = "UpstreamUnavailableError";

  constructor(
    upstream: string,
    readonly retryAfterSeconds: number,
    readonly reason: "breaker-open" | "closed" = "breaker-open",
  ) {
    super(upstream, `${upstream} is unavailable (${reason}); retry after ${retryAfterSeconds}s`);
  }
}

/**
 * `attempt`: one attempt ran past attemptTimeoutMs (retryable, and a sign of upstream trouble);
 * `deadline`: the caller's deadline passed while queued, in flight or before a retry (not retried).
 */
export class UpstreamTimeoutError extends UpstreamError {
  override name = "UpstreamTimeoutError";

  constructor(
    upstream: string,
    readonly kind: "attempt" | "deadline",
    timeoutMs?: number,
  ) {
    super(
      upstream,
      kind === "attempt"
        ? `${upstream}: attempt timed out after ${timeoutMs}ms`
        : `${upstream}: deadline exceeded`,
    );
  }
}

/** The caller's signal aborted (client went away): the wait or the in-flight attempt was cancelled. */
export class UpstreamAbortedError extends UpstreamError {
  override name = "UpstreamAbortedError";

  constructor(upstream: string, reason?: unknown) {
    super(upstream, `${upstream}: call aborted by the caller`, { cause: reason });
  }
}

/**
 * Milliseconds from `retry-after-ms` (OpenAI sends it) or `retry-after` (seconds or an HTTP date);
 * undefined when absent or unreadable. For adapters building an UpstreamHttpError.
 */
export function parseRetryAfterMs(
  headers: { get(name: string): string | null | undefined },
  now = Date.now(),
) {
  const ms = Number(headers.get("retry-after-ms") ?? Number.NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
