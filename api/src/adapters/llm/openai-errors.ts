// Translates the openai SDK's errors into the toolkit's: an HTTP status (and Retry-After) it can judge.
import { UpstreamHttpError } from "@kogi/shared/outbound/upstream";
import OpenAI from "openai";

export function toUpstreamError(error: unknown): unknown {
  if (error instanceof OpenAI.APIError && typeof error.status === "number") {
    const retryAfter = error.headers?.get?.("retry-after");
    const seconds = retryAfter ? Number(retryAfter) : Number.NaN;
    return new UpstreamHttpError(error.status, error.message, Number.isFinite(seconds) ? seconds * 1000 : undefined);
  }
  return error;
}
