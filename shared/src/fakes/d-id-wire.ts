// D-ID's wire conventions for the fake: error bodies, ids, timestamps, the two auth header forms, JSON bodies.
import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** Thrown by the fake's route code; the server turns it into D-ID's error JSON. */
export class DIdError extends Error {
  constructor(
    readonly status: number,
    readonly kind: string,
    readonly description: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`${status} ${kind}: ${description}`);
  }

  body(): { kind: string; description: string; details?: unknown } {
    return this.details === undefined
      ? { kind: this.kind, description: this.description }
      : { kind: this.kind, description: this.description, details: this.details };
  }
}

// Descriptions are the ones D-ID's OpenAPI examples and forum reports show (research doc §2.2, §5); 429 is not
// documented at all, so its body is a guess in the same shape and clients must not depend on it.
const KNOWN: Record<number, [kind: string, description: string]> = {
  400: ["BadRequestError", "bad request"],
  401: ["AuthorizationError", "user unauthenticated"],
  402: ["InsufficientCreditsError", "not enough credits"],
  403: ["PermissionError", "user has no permission for stitch"],
  404: ["NotFoundError", "not found"],
  409: ["NotReadyError", "talk is in process, try again later"],
  415: ["UnsupportedMimeTypeError", "The provided mime type is not supported"],
  429: ["TooManyRequestsError", "too many requests"],
  451: [
    "ImageModerationError",
    "Automatic content moderation - contact support if you would like to submit for manual review",
  ],
};

/** The error a scripted step answers with; `retryAfterSeconds` becomes a `Retry-After` header when set. */
export function errorForStatus(status: number, retryAfterSeconds?: number): DIdError {
  const [kind, description] =
    KNOWN[status] ??
    (status >= 500 ? ["InternalServerError", "internal server error"] : ["BadRequestError", "bad request"]);
  const headers: Record<string, string> =
    retryAfterSeconds === undefined ? {} : { "retry-after": String(retryAfterSeconds) };
  return new DIdError(status, kind, description, undefined, headers);
}

/** D-ID validates bodies with tsoa: one entry per failing field, keyed like `body.script.input`. */
export function validationError(field: string, message: string, value?: unknown): DIdError {
  const entry = value === undefined ? { message } : { message, value };
  return new DIdError(400, "ValidationError", "validation failed", { [field]: entry });
}

/** 21 url-safe characters, like D-ID's nanoid-style ids (`tlk_TMj4G1wiEGpQrdNFvrqAk` without its prefix). */
export function newDIdId(): string {
  return randomBytes(16).toString("base64url").slice(0, 21);
}

/** `created_at` / `modified_at`: ISO-8601 with milliseconds and `Z`. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** `started_at` comes without the trailing `Z` in every real body seen (research doc §2.3); clients must cope. */
export function isoTimeWithoutZone(ms: number): string {
  return new Date(ms).toISOString().slice(0, -1);
}

export async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Without `Content-Type: application/json` D-ID's body parser leaves the body empty, so the answer is the
 * puzzling "'script' is required" users report (research doc §2.2); the fake reproduces that.
 */
export async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const type = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  const text = await readBody(request);
  if (type !== "application/json" || text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new DIdError(400, "BadRequestError", "invalid JSON body");
  }
}

/**
 * D-ID documents the key verbatim after "Basic " (not RFC 7617), while many clients base64 it as RFC 7617 says;
 * both work against the real API, so both work here.
 */
export function authorized(header: string | undefined, apiKey: string): boolean {
  const credential = /^basic\s+(\S+)\s*$/i.exec(header ?? "")?.[1];
  if (!credential) return false;
  const unpadded = (value: string) => value.replace(/=+$/, "");
  return credential === apiKey || unpadded(credential) === unpadded(Buffer.from(apiKey).toString("base64"));
}
