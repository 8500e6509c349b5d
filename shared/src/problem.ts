// RFC 9457 problem details: errors as values with stable codes, rendered the same way by every service.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";

export interface FieldError {
  field: string;
  message: string;
}

export class ProblemError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
  }
}

export const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

export function problemResponse(c: Context, problem: ProblemError): Response {
  const body = {
    type: `https://kogi.dev/problems/${problem.code}`,
    title: TITLES[problem.status] ?? "Error",
    status: problem.status,
    code: problem.code,
    detail: problem.detail,
    instance: c.req.path,
    requestId: c.get("requestId" as never) as string | undefined,
    ...(problem.errors ? { errors: problem.errors } : {}),
  };
  return c.json(body, problem.status, { "Content-Type": "application/problem+json", ...problem.headers });
}

/** Every zod issue becomes one field error; the path names the field ("creditHours.max", "subjects.2"). */
export function validationProblem(error: ZodError, where: string): ProblemError {
  const errors = error.issues.flatMap((issue): FieldError[] => {
    const base = issue.path.map(String);
    if (issue.code === "unrecognized_keys")
      return issue.keys.map((key) => ({ field: [...base, key].join("."), message: "is not a known field" }));
    return [{ field: base.join(".") || where, message: issue.message }];
  });
  return new ProblemError(
    400,
    "validation_failed",
    `Invalid ${where}: ${errors.map((e) => e.field).join(", ")}`,
    errors,
  );
}

/** Maps anything thrown to a problem; unknown errors are logged by the caller and never leak details. */
export function toProblem(error: unknown): ProblemError | undefined {
  if (error instanceof ProblemError) return error;
  if (error instanceof HTTPException) {
    if (error.status === 413) return new ProblemError(413, "body_too_large", "The request body is too large");
    if (error.status === 400)
      return new ProblemError(400, "malformed_request", error.message || "Malformed request");
    if (error.status === 415)
      return new ProblemError(
        415,
        "unsupported_media_type",
        "Send the body as Content-Type: application/json",
      );
    return new ProblemError(error.status as ContentfulStatusCode, `http_${error.status}`, error.message);
  }
  return undefined;
}
