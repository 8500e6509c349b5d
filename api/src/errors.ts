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

/** Upstream outcomes as answers: shed load and open breakers say when to come back. */
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
  if (
    (error as { code?: string })?.code === "UND_ERR_CONNECT_TIMEOUT" ||
    (error as { code?: string })?.code === "ECONNREFUSED"
  )
    return new ProblemError(
      503,
      "vector_unavailable",
      "The vector search is unreachable; retry later",
      undefined,
      retry(5),
    );
  return undefined;
}
