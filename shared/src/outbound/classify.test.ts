// Error judgement: what is retried, what counts against the breaker, Retry-After parsing.
import { describe, expect, it } from "vitest";
import { healthOutcome, isConnectionError, MAX_RETRY_AFTER_MS, retryKind } from "./classify.js";
import {
  parseRetryAfterMs,
  UpstreamAbortedError,
  UpstreamHttpError,
  UpstreamTimeoutError,
} from "./errors.js";

const http = (status: number, retryAfterMs?: number) => new UpstreamHttpError(status, "x", retryAfterMs);
/** An error whose class has the given name, as the openai SDK's are told apart. */
function named(name: string): Error {
  const Named = { [name]: class extends Error {} }[name] as typeof Error;
  return new Named();
}

describe("classify", () => {
  it("retries 408, 429, 5xx, attempt timeouts and connection errors; nothing else", () => {
    expect(retryKind(http(500))).toEqual({ retry: true });
    expect(retryKind(http(503))).toEqual({ retry: true });
    expect(retryKind(http(408))).toEqual({ retry: true });
    expect(retryKind(http(429, 300))).toEqual({ retry: true, afterMs: 300 });
    expect(retryKind(http(429))).toEqual({ retry: true, afterMs: undefined });
    expect(retryKind(http(429, MAX_RETRY_AFTER_MS + 1))).toEqual({ retry: false });
    for (const status of [400, 401, 403, 404, 409, 422])
      expect(retryKind(http(status))).toEqual({ retry: false });
    expect(retryKind(new UpstreamTimeoutError("u", "attempt", 10))).toEqual({ retry: true });
    expect(retryKind(new UpstreamTimeoutError("u", "deadline"))).toEqual({ retry: false });
    expect(retryKind(new UpstreamAbortedError("u"))).toEqual({ retry: false });
    expect(retryKind(new Error("bug"))).toEqual({ retry: false });
  });

  it("recognises connection errors by code, by SDK class and through fetch's cause", () => {
    const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    expect(isConnectionError(reset)).toBe(true);
    expect(isConnectionError(new TypeError("fetch failed", { cause: reset }))).toBe(true);
    expect(isConnectionError(Object.assign(new Error("x"), { code: "UND_ERR_SOCKET" }))).toBe(true);
    expect(isConnectionError(Object.assign(new Error("x"), { code: "UND_ERR_ABORTED" }))).toBe(false);
    expect(isConnectionError(named("APIConnectionTimeoutError"))).toBe(true);
    expect(isConnectionError(new Error("x", { cause: new Error("y") }))).toBe(false);
  });

  it("counts 5xx, 408, attempt timeouts and connection errors against health; an answer is health", () => {
    expect(healthOutcome(http(502))).toBe("failure");
    expect(healthOutcome(http(408))).toBe("failure");
    expect(healthOutcome(http(429))).toBe("success");
    expect(healthOutcome(http(400))).toBe("success");
    expect(healthOutcome(new UpstreamTimeoutError("u", "attempt", 10))).toBe("failure");
    expect(healthOutcome(new UpstreamTimeoutError("u", "deadline"))).toBe("none");
    expect(healthOutcome(new UpstreamAbortedError("u"))).toBe("none");
    expect(healthOutcome(Object.assign(new Error("x"), { code: "ECONNREFUSED" }))).toBe("failure");
    expect(healthOutcome(new Error("bug"))).toBe("none");
  });

  it("reads retry-after-ms, retry-after seconds and retry-after dates", () => {
    const headers = (entries: Record<string, string>) => ({ get: (name: string) => entries[name] ?? null });
    expect(parseRetryAfterMs(headers({ "retry-after-ms": "250", "retry-after": "9" }))).toBe(250);
    expect(parseRetryAfterMs(headers({ "retry-after": "2" }))).toBe(2_000);
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfterMs(headers({ "retry-after": "Wed, 01 Jan 2025 00:00:03 GMT" }), now)).toBe(3_000);
    expect(parseRetryAfterMs(headers({ "retry-after": "soon" }))).toBeUndefined();
    expect(parseRetryAfterMs(headers({}))).toBeUndefined();
  });
});
