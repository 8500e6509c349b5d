// The api's error surface: problem details (shared), their OpenAPI schema, and common constructors.
import { z } from "@hono/zod-openapi";
import {
  UpstreamAbortedError,
  UpstreamHttpError,
  UpstreamOverloadedError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
  withoutStack,
} from "@kogi/shared/outbound/errors";
import { ProblemError, TITLES } from "@kogi/shared/problem";
import { DIdApiError } from "./adapters/d-id/errors.js";
import { DatabaseUnavailableError } from "./adapters/mysql/guard.js";
import { VectorSidecarError } from "./adapters/vector-client.js";

export {
  type FieldError,
  ProblemError,
  problemResponse,
  toProblem,
  validationProblem,
} from "@kogi/shared/problem";

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z
      .string()
      .openapi({ description: "Stable machine-readable error code", example: "validation_failed" }),
    detail: z.string(),
    instance: z.string().optional(),
    requestId: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem");

export const notFound = (what: string) => new ProblemError(404, "not_found", `${what} was not found`);

/** Standard error responses added to every route's OpenAPI definition. */
export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: TITLES[status] ?? "Error",
        content: { "application/problem+json": { schema: problemSchema } },
      },
    ]),
  );
}

/**
 * Dependency and upstream outcomes as answers, decided by which adapter failed (each throws its own
 * error type): shed load, open breakers and unavailable dependencies say when to come back.
 */
export function upstreamProblem(error: unknown): ProblemError | undefined {
  const retry = (seconds: number) => ({ "Retry-After": String(Math.max(1, Math.ceil(seconds))) });
  if (error instanceof UpstreamOverloadedError)
    return withoutStack(
      () =>
        new ProblemError(
          503,
          "upstream_overloaded",
          `${error.upstream} is at capacity; retry later`,
          undefined,
          retry(error.retryAfterSeconds),
        ),
    );
  if (error instanceof UpstreamUnavailableError)
    return new ProblemError(
      503,
      "upstream_unavailable",
      `${error.upstream} is unavailable; retry later`,
      undefined,
      retry(error.retryAfterSeconds),
    );
  if (error instanceof UpstreamTimeoutError)
    return new ProblemError(504, "upstream_timeout", `${error.upstream} did not answer within the deadline`);
  if (error instanceof UpstreamAbortedError)
    return new ProblemError(503, "client_closed", "The request was cancelled");
  if (error instanceof DIdApiError) return dIdProblem(error);
  if (error instanceof UpstreamHttpError)
    return new ProblemError(
      502,
      "upstream_error",
      `${error.upstream || "an upstream"} refused the request (${error.status})`,
    );
  if (error instanceof VectorSidecarError)
    return new ProblemError(
      503,
      "vector_unavailable",
      "The vector search is busy or unavailable; retry later",
      undefined,
      retry(1),
    );
  if (error instanceof DatabaseUnavailableError)
    return withoutStack(
      () =>
        new ProblemError(
          503,
          "database_unavailable",
          "The database is unavailable or too slow right now; retry later",
          undefined,
          retry(2),
        ),
    );
  return undefined;
}

/** D-ID's refusals on a synchronous route (uploads, legacy reads), by what the caller can do about them. */
function dIdProblem(error: DIdApiError): ProblemError {
  const said = `D-ID: ${error.description}`;
  switch (error.type) {
    case "auth":
    case "permission":
      return new ProblemError(
        502,
        "upstream_misconfigured",
        `D-ID refused this server's credentials (${error.status}); the operator must check D_ID_API_KEY and the plan`,
      );
    case "insufficient_credits":
      return new ProblemError(402, "insufficient_credits", `The D-ID account is out of credits. ${said}`);
    case "moderation":
      return new ProblemError(422, "content_rejected", said);
    case "validation":
    case "not_ready":
      return new ProblemError(422, "upstream_rejected", said);
    case "not_found":
      return new ProblemError(404, "not_found", said);
    case "rate_limit":
      return new ProblemError(503, "upstream_overloaded", "D-ID is rate limiting; retry later", undefined, {
        "Retry-After": String(Math.max(1, Math.ceil((error.retryAfterMs ?? 5_000) / 1000))),
      });
    case "server":
      return new ProblemError(502, "upstream_error", `D-ID failed (${error.status}); retry later`);
  }
}
