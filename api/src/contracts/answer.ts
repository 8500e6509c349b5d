// Answer (natural-language search) contracts.
import { z } from "@hono/zod-openapi";
import { courseSchema, searchFiltersSchema } from "./search.js";

export const answerRequestSchema = z
  .object({
    question: z.string().trim().min(1).max(1000).openapi({ example: "a hands-on intro to machine learning" }),
    filters: searchFiltersSchema.default({}),
    calendarId: z.string().min(1).max(64).optional().openapi({
      description: "Mark sections against this calendar (send its token as a Bearer credential)",
    }),
    k: z.number().int().min(1).max(50).default(9),
  })
  .strict()
  .openapi("AnswerRequest");

export type AnswerRequest = z.infer<typeof answerRequestSchema>;

export const stageSchema = z.object({
  name: z.enum(["answer", "filters", "rewrite", "embed", "vector", "hydrate", "calendar"]),
  ms: z.number(),
  cached: z.boolean(),
});

export const answerResponseSchema = z
  .object({
    results: z.array(
      courseSchema.extend({
        score: z
          .number()
          .openapi({ description: "Similarity to the rewritten question (inner product of unit vectors)" }),
        why: z.array(z.string()).openapi({
          description: "Words of the rewritten question found in the course's title or description",
        }),
      }),
    ),
    query: z.object({
      rewritten: z.string(),
      provider: z
        .string()
        .openapi({ description: "Rewriter and embedder that answered, e.g. openai/gpt-4o-mini + local" }),
      fallback: z
        .array(z.enum(["rewrite", "embed"]))
        .openapi({ description: "Stages answered by a fallback because their upstream was unavailable" }),
    }),
    stages: z.array(stageSchema),
  })
  .openapi("AnswerResponse");

export type AnswerResponse = z.infer<typeof answerResponseSchema>;
export type Stage = z.infer<typeof stageSchema>;
