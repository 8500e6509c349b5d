// D-ID's error answers as typed errors: its `kind` and status decide the type, and so what Kogi does.
import { UpstreamHttpError } from "@kogi/shared/outbound/errors";

export type DIdErrorType =
  | "auth"
  | "insufficient_credits"
  | "permission"
  | "not_found"
  | "not_ready"
  | "moderation"
  | "validation"
  | "rate_limit"
  | "server";

/** `{kind, description, details?}`, D-ID's error body (research §5); absent or unreadable on some 429/5xx. */
export interface DIdErrorBody {
  kind?: string;
  description?: string;
  details?: unknown;
}

function typeOf(status: number, kind: string): DIdErrorType {
  if (status === 401) return "auth";
  if (status === 402 || kind === "InsufficientCreditsError") return "insufficient_credits";
  if (status === 403) return "permission";
  if (status === 404) return "not_found";
  if (status === 409) return "not_ready";
  if (status === 451 || /Moderation|CelebrityRecognized/.test(kind)) return "moderation";
  if (status === 429) return "rate_limit";
  if (status >= 500) return "server";
  return "validation";
}

/**
 * Extends UpstreamHttpError so the outbound toolkit decides retries by status (5xx and 429 retried,
 * other 4xx never) and the breaker counts only server failures.
 */
export class DIdApiError extends UpstreamHttpError {
  override name = "DIdApiError";
  readonly type: DIdErrorType;
  readonly kind: string;
  readonly description: string;
  readonly details: unknown;

  constructor(status: number, body: DIdErrorBody | undefined, retryAfterMs?: number) {
    const kind = typeof body?.kind === "string" ? body.kind : `HTTP${status}`;
    const description = typeof body?.description === "string" ? body.description : `answered ${status}`;
    super(status, `D-ID ${status} ${kind}: ${description}`, retryAfterMs, "d-id");
    this.type = typeOf(status, kind);
    this.kind = kind;
    this.description = description;
    this.details = body?.details;
  }
}
