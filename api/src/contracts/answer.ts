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
  name: z.enum(["answer", "filters", "lexical", "rewrite", "embed", "vector", "hydrate", "calendar"]),
  ms: z.number(),
  cached: z.boolean(),
});

export const answerResponseSchema = z
  .object({
    results: z.array(
      courseSchema.extend({
        score: z.number().openapi({
          description:
            "Fused relevance: the course's lexical (BM25F) score as a share of what a title saying every word of the question would score, plus the inner product of the question's and the course's embeddings (each 0 when that ranking did not find the course)",
        }),
        why: z
          .object({
            terms: z.array(z.string()).openapi({
              description:
                "Words of the question (stopwords and filler left out) found in the course's title, description or code; a corrected typo shows the catalog's word",
            }),
            lexicalRank: z.number().int().nullable().openapi({
              description:
                "Rank of the course in the lexical (BM25F) ranking, 1 = best; null when it did not match",
            }),
            vectorRank: z.number().int().nullable().openapi({
              description:
                "Rank of the course in the vector (embedding) ranking, 1 = best; null when outside its candidates",
            }),
          })
          .openapi({ example: { terms: ["machine", "learning"], lexicalRank: 1, vectorRank: 4 } }),
        otherTerms: z.array(z.object({ id: z.number().int(), term: z.string() })).openapi({
          description: "The same course (subject and number) in other terms, newest first",
        }),
        crossListings: z
          .array(z.object({ id: z.number().int(), subject: z.string(), number: z.string() }))
          .openapi({ description: "Cross-listed copies of the course in the same term" }),
      }),
    ),
    query: z.object({
      rewritten: z.string(),
      terms: z.array(z.string()).openapi({
        description: "The question's words the lexical ranking looked for (no stopwords or filler)",
      }),
      provider: z
        .string()
        .openapi({ description: "Rewriter and embedder that answered, e.g. openai/gpt-4o-mini + local" }),
      fallback: z
        .array(z.enum(["rewrite", "embed"]))
        .openapi({ description: "Stages answered by a fallback because their upstream was unavailable" }),
      indexStale: z.boolean().openapi({
        description:
          "The vector index is older than the catalog (a rebuild is under way): courses it does not know yet were ranked by the lexical ranking alone",
      }),
    }),
    stages: z.array(stageSchema),
  })
  .openapi("AnswerResponse");

export type AnswerResponse = z.infer<typeof answerResponseSchema>;
export type Stage = z.infer<typeof stageSchema>;
