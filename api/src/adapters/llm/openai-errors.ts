// Translates the openai SDK's errors into the toolkit's: an HTTP status (and Retry-After) it can judge.
import { parseRetryAfterMs, UpstreamHttpError } from "@kogi/shared/outbound/errors";
import OpenAI from "openai";

export function toUpstreamError(error: unknown): unknown {
  if (error instanceof OpenAI.APIError && typeof error.status === "number") {
    const headers = error.headers ?? new Headers();
    return new UpstreamHttpError(error.status, error.message, parseRetryAfterMs(headers));
  }
  return error;
}
