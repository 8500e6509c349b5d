// How the toolkit judges an attempt's error: whether to retry it, and what it says about upstream health.
import { UpstreamAbortedError, UpstreamHttpError, UpstreamTimeoutError } from "./errors.js";

/** Retry-After beyond this is not waited for even without a deadline: the error goes back to the caller. */
export const MAX_RETRY_AFTER_MS = 60_000;

const CONNECTION_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);
// The openai SDK's network failures (its own timeout included); undici's socket errors carry UND_ERR_* codes.
const CONNECTION_CLASSES = new Set(["APIConnectionError", "APIConnectionTimeoutError", "FetchError"]);

/** Network-level failure: no HTTP answer arrived. Looks through `cause` (fetch wraps the socket error). */
export function isConnectionError(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 3) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && (CONNECTION_CODES.has(code) || code.startsWith("UND_ERR_"))) {
    return code !== "UND_ERR_ABORTED";
  }
  if (CONNECTION_CLASSES.has(error.constructor.name) || CONNECTION_CLASSES.has(error.name)) return true;
  if (error instanceof TypeError && error.message === "fetch failed") return true;
  return isConnectionError(error.cause, depth + 1);
}

export type RetryKind =
  /** 429: wait Retry-After when given (within the deadline), else back off. */
  { retry: true; afterMs?: number } | { retry: false };

/** 408, 429, 5xx, attempt timeouts and connection errors are retried; other 4xx and everything else never. */
export function retryKind(error: unknown): RetryKind {
  if (error instanceof UpstreamHttpError) {
    if (error.status === 429) {
      const afterMs = error.retryAfterMs;
      if (afterMs !== undefined && afterMs > MAX_RETRY_AFTER_MS) return { retry: false };
      return { retry: true, afterMs };
    }
    return { retry: error.status === 408 || error.status >= 500 };
  }
  if (error instanceof UpstreamTimeoutError) return { retry: error.kind === "attempt" };
  return { retry: isConnectionError(error) };
}

/**
 * What a finished call tells the breaker. `failure`: 5xx, 408, attempt timeouts, connection errors.
 * `success`: the upstream answered, including 4xx and 429 (rate limiting is the limiter's and
 * Retry-After's business, not a sign the upstream is down). `none`: no evidence either way (caller
 * abort, caller deadline, shed in the queue, an adapter's own error).
 */
export type HealthOutcome = "success" | "failure" | "none";

export function healthOutcome(error: unknown): HealthOutcome {
  if (error instanceof UpstreamHttpError)
    return error.status === 408 || error.status >= 500 ? "failure" : "success";
  if (error instanceof UpstreamTimeoutError) return error.kind === "attempt" ? "failure" : "none";
  if (error instanceof UpstreamAbortedError) return "none";
  return isConnectionError(error) ? "failure" : "none";
}
