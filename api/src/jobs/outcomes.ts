// What a D-ID failure means for a video job: end it (and how), or try again later.
import {
  UpstreamConnectionError,
  UpstreamHttpError,
  UpstreamOverloadedError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from "@kogi/shared/outbound/errors";
import { DIdApiError } from "../adapters/d-id/errors.js";
import type { Finish } from "../adapters/mysql/video-repository.js";

export type JobOutcome = { end: Finish } | { retryLater: true };

/** D-ID refused for good (4xx but 429) or kept failing (5xx after retries): the job ends. */
export function outcomeOf(error: unknown): JobOutcome {
  if (error instanceof DIdApiError) {
    const detail = `D-ID: ${error.description}`;
    switch (error.type) {
      case "auth":
      case "permission":
        return { end: { status: "failed", errorCode: "upstream_misconfigured", errorDetail: detail } };
      case "insufficient_credits":
        return { end: { status: "failed", errorCode: "insufficient_credits", errorDetail: detail } };
      case "moderation":
        return { end: { status: "rejected", errorCode: "content_rejected", errorDetail: detail } };
      case "validation":
      case "not_found":
      case "not_ready":
        return { end: { status: "failed", errorCode: "invalid_request", errorDetail: detail } };
      case "server":
        return { end: { status: "failed", errorCode: "upstream_error", errorDetail: detail } };
      case "rate_limit":
        return { retryLater: true };
    }
  }
  if (error instanceof UpstreamHttpError && error.status >= 500)
    return { end: { status: "failed", errorCode: "upstream_error", errorDetail: error.message } };
  if (
    error instanceof UpstreamTimeoutError ||
    error instanceof UpstreamConnectionError ||
    error instanceof UpstreamOverloadedError ||
    error instanceof UpstreamUnavailableError ||
    error instanceof UpstreamHttpError
  )
    return { retryLater: true };
  throw error;
}

/** A talk that ended at D-ID, as the job's end (research §2.4: `error` is not billed, `rejected` is moderation). */
export function talkEnd(talk: {
  status: string;
  error?: { kind?: string; description?: string };
}): Finish | undefined {
  const reason = talk.error
    ? `${talk.error.kind ?? "Error"}: ${talk.error.description ?? ""}`.trim()
    : undefined;
  if (talk.status === "error")
    return { status: "failed", talkStatus: "error", errorCode: "render_failed", errorDetail: reason };
  if (talk.status === "rejected")
    return {
      status: "rejected",
      talkStatus: "rejected",
      errorCode: "content_rejected",
      errorDetail: reason ?? "D-ID's moderation rejected the talk",
    };
  return undefined;
}

/** result_url is presigned (`Expires=<epoch s>`, about 24 h); without one, assume 24 h from now. */
export function resultExpiry(resultUrl: string, now = Date.now()): Date {
  const expires = Number(new URL(resultUrl).searchParams.get("Expires"));
  return new Date(Number.isFinite(expires) && expires > 0 ? expires * 1000 : now + 24 * 3_600_000);
}
