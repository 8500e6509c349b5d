// POST /answer/{text}?calendar_id=: the replaced service's route, a thin alias of /v1/answer.
import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../app.js";
import { answerRequestSchema, answerResponseSchema } from "../contracts/answer.js";
import { searchFiltersSchema } from "../contracts/search.js";
import { errorResponses, validationProblem } from "../errors.js";
import { respondWithAnswer } from "./v1_answer.js";

const legacyAnswerRoute = createRoute({
  method: "post",
  path: "/answer/{text}",
  tags: ["compatibility"],
  summary: "Answer a question (legacy alias)",
  description:
    "Same as POST /v1/answer with the question in the path, the body holding the filters, and calendar_id in the query.",
  request: {
    params: z.object({ text: z.string().min(1).max(1000) }),
    query: z.object({ calendar_id: z.string().min(1).max(64).optional() }),
    body: { required: false, content: { "application/json": { schema: searchFiltersSchema } } },
  },
  responses: {
    200: { description: "Ranked courses", content: { "application/json": { schema: answerResponseSchema } } },
    ...errorResponses(400, 401, 404, 413, 503),
  },
});

export function registerLegacyAnswer(app: App) {
  app.openapi(legacyAnswerRoute, async (c) => {
    const { text } = c.req.valid("param");
    const { calendar_id } = c.req.valid("query");
    const filters = c.req.header("content-type")?.includes("json") ? c.req.valid("json") : {};
    const parsed = answerRequestSchema.safeParse({
      question: text,
      filters,
      ...(calendar_id ? { calendarId: calendar_id } : {}),
    });
    if (!parsed.success) throw validationProblem(parsed.error, "request");
    return (await respondWithAnswer(c, parsed.data)) as never;
  });
}
