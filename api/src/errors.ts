// The api's error surface: problem details (shared), their OpenAPI schema, and common constructors.
import { z } from "@hono/zod-openapi";
import { ProblemError, TITLES } from "@kogi/shared/problem";

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
