// The relevance set of bench:quality: questions, their class, and hand-given grades (zod-checked).
import { readFile } from "node:fs/promises";
import { z } from "zod";

export const QUESTION_CLASSES = [
  "exact title",
  "title paraphrase",
  "description paraphrase",
  "topical",
  "typo",
  "japanese",
] as const;
export type QuestionClass = (typeof QUESTION_CLASSES)[number];

/** 3 = the course asked for, 2 = a good answer, 1 = acceptable; anything not listed is 0. */
const grade = z.union([z.literal(1), z.literal(2), z.literal(3)]);

const questionSchema = z
  .object({
    id: z.string().min(1),
    class: z.enum(QUESTION_CLASSES),
    catalog: z.enum(["uiuc", "synthetic"]),
    question: z.string().min(1),
    filters: z.record(z.string(), z.unknown()).optional(),
    /** Grades by course code ("CS 225"): a course counts when any of its codes is listed. */
    codes: z.record(z.string(), grade).optional(),
    /** Grades by a part of the title (synthetic catalog, whose codes are random). */
    titles: z.record(z.string(), grade).optional(),
    note: z.string().optional(),
  })
  .strict()
  .refine((q) => q.codes || q.titles, "needs codes or titles");

export const relevanceSetSchema = z.object({
  description: z.string(),
  synthetic: z.object({ courses: z.number().int().positive(), seed: z.number().int() }),
  questions: z.array(questionSchema).min(1),
});

export type RelevanceSet = z.infer<typeof relevanceSetSchema>;
export type Question = z.infer<typeof questionSchema>;

export async function readRelevanceSet(path: string): Promise<RelevanceSet> {
  const set = relevanceSetSchema.parse(JSON.parse(await readFile(path, "utf8")));
  const ids = new Set<string>();
  for (const q of set.questions) {
    if (ids.has(q.id)) throw new Error(`${path}: question id ${q.id} appears twice`);
    ids.add(q.id);
  }
  return set;
}

/** The grade of a course known by its codes and title. */
export function gradeOf(question: Question, codes: string[], title: string): number {
  let best = 0;
  for (const code of codes) best = Math.max(best, question.codes?.[code] ?? 0);
  const lower = title.toLowerCase();
  for (const [part, g] of Object.entries(question.titles ?? {}))
    if (lower.includes(part.toLowerCase())) best = Math.max(best, g);
  return best;
}
