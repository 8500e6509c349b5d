// POST /v1/answer: courses for a question in plain language, within optional filters, marked against a calendar.

import type { ServerResponse } from "node:http";
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { App } from "../app.js";
import type { HonoEnv } from "../context.js";
import { type AnswerRequest, answerRequestSchema, answerResponseSchema } from "../contracts/answer.js";
import { errorResponses } from "../errors.js";
import { answerQuestion } from "../services/answer.js";

const answerRoute = createRoute({
  method: "post",
  path: "/v1/answer",
  tags: ["answers"],
  summary: "Answer a question with ranked courses",
  description:
    "Stages: filters -> allowed courses, question -> rewritten catalog-style text (LLM), text -> embedding, vector search " +
    "restricted to the allowed courses, hydration, calendar marks. Each stage and the whole answer are cached; `stages` and " +
    "`Server-Timing` say what ran and what was cached. Overloaded upstreams answer 503 with Retry-After. " +
    "`X-Request-Timeout-Ms` lowers the deadline (default ANSWER_TIMEOUT_MS).",
  request: { body: { required: true, content: { "application/json": { schema: answerRequestSchema } } } },
  responses: {
    200: { description: "Ranked courses", content: { "application/json": { schema: answerResponseSchema } } },
    ...errorResponses(400, 401, 404, 413, 503),
  },
});

/**
 * A signal that aborts when the client disconnects. Under Node it listens on the response socket:
 * c.req.raw.signal would build a full web Request per answer (~10% of the api's CPU when shedding
 * load in bench:answer).
 */
function clientGone(c: Context<HonoEnv>): AbortSignal {
  const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  if (!outgoing) return c.req.raw.signal;
  const controller = new AbortController();
  outgoing.once("close", () => {
    if (!outgoing.writableFinished) controller.abort(new Error("client disconnected"));
  });
  return controller.signal;
}

/** Shared with the legacy alias: deadline, client-abort signal, stage timings, problem mapping. */
export async function respondWithAnswer(c: Context<HonoEnv>, request: AnswerRequest) {
  const services = c.get("services");
  const asked = Number(c.req.header("x-request-timeout-ms"));
  const timeout =
    Number.isFinite(asked) && asked > 0
      ? Math.min(asked, services.config.ANSWER_TIMEOUT_MS)
      : services.config.ANSWER_TIMEOUT_MS;
  const outcome = await answerQuestion(services, request, {
    authorization: c.req.header("authorization"),
    // Aborts when the client disconnects: queued and in-flight upstream calls are cancelled.
    signal: clientGone(c),
    deadline: Date.now() + timeout,
  });
  c.get("timings").push(
    ...outcome.stages.map((s) => ({ name: s.name, ms: s.ms, desc: s.cached ? "cached" : undefined })),
  );
  c.set("cacheStatus", outcome.cache);
  return c.body(outcome.body, 200, { "Content-Type": "application/json" });
}

export function registerV1Answer(app: App) {
  app.openapi(answerRoute, async (c) => (await respondWithAnswer(c, c.req.valid("json"))) as never);
}
