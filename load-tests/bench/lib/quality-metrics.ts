// Ranking quality measures of bench:quality: hit rates at 1 and 3 and nDCG@9, per question and per class.

export interface QuestionScore {
  /** A course graded >= 2 at rank 1. */
  top1: number;
  /** A course graded >= 2 within the first 3. */
  top3: number;
  ndcg9: number;
}

export const HIT_GRADE = 2;
export const NDCG_DEPTH = 9;

const dcg = (grades: number[]) =>
  grades.slice(0, NDCG_DEPTH).reduce((sum, g, i) => sum + (2 ** g - 1) / Math.log2(i + 2), 0);

/**
 * `ranked`: the grades of the results in order; `ideal`: the grades of every course that could have
 * been returned (any order). Hits count courses of grade >= 2 (the one asked for, or a good answer).
 */
export function scoreQuestion(ranked: number[], ideal: number[]): QuestionScore {
  const best = dcg([...ideal].sort((a, b) => b - a));
  return {
    top1: (ranked[0] ?? 0) >= HIT_GRADE ? 1 : 0,
    top3: ranked.slice(0, 3).some((g) => g >= HIT_GRADE) ? 1 : 0,
    ndcg9: best > 0 ? dcg(ranked) / best : 0,
  };
}

export function mean(scores: QuestionScore[]): QuestionScore & { questions: number } {
  const n = scores.length || 1;
  const sum = (pick: (s: QuestionScore) => number) => scores.reduce((total, s) => total + pick(s), 0) / n;
  return {
    top1: sum((s) => s.top1),
    top3: sum((s) => s.top3),
    ndcg9: sum((s) => s.ndcg9),
    questions: scores.length,
  };
}
