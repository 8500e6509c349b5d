// Runs the relevance set's questions through the api's own ranking (lexical, vector, hybrid) on a
// catalog world and grades each ranked list.
import { answerRequestSchema } from "@kogi/api/contracts/answer";
import { type RankOptions, rankAnswer } from "@kogi/api/services/answer";
import type { RankedCourse, RankingMode } from "@kogi/api/services/answer-ranking";
import type { FusionMethod } from "@kogi/api/services/ranking/fusion";
import type { RankingSnapshot } from "@kogi/api/services/ranking/ranking-snapshot";
import type { AnswerHarness } from "@kogi/api/testutil/answer-harness";
import { type QuestionScore, scoreQuestion } from "./quality-metrics.js";
import { gradeOf, type Question } from "./quality-set.js";

export interface Ranked {
  code: string;
  title: string;
  grade: number;
  lexicalRank: number | null;
  vectorRank: number | null;
}

export interface QuestionResult {
  question: Question;
  method: string;
  score: QuestionScore;
  top: Ranked[];
}

export interface Method {
  /** Row label: "lexical", "vector", "hybrid" or a fusion variant. */
  name: string;
  mode: RankingMode;
  fusion?: FusionMethod;
}

/** One catalog's harness plus what grading needs: each course's codes and title, by course id. */
export interface World {
  name: "uiuc" | "synthetic";
  harness: AnswerHarness;
  titles: Map<number, string>;
}

export async function worldOf(name: World["name"], harness: AnswerHarness): Promise<World> {
  const rows = await harness.services.catalog.courseTexts();
  return { name, harness, titles: new Map(rows.map((r) => [r.id, r.title])) };
}

export async function evaluate(world: World, question: Question, method: Method): Promise<QuestionResult> {
  const { services } = world.harness;
  const request = answerRequestSchema.parse({ question: question.question, filters: question.filters, k: 9 });
  const options: RankOptions = { mode: method.mode, fusion: method.fusion };
  const { ranked, snapshot } = await rankAnswer(
    services,
    request,
    { deadline: Date.now() + 30_000 },
    [],
    options,
  );
  if (!snapshot) throw new Error(`${question.id}: no courses allowed by its filters`);
  return gradeRanking(world, question, method.name, snapshot, ranked);
}

/** The courses a question's filters allow (undefined: no filters), as /v1/answer reads them. */
export async function allowedCourses(world: World, question: Question): Promise<number[] | undefined> {
  if (!question.filters) return undefined;
  const request = answerRequestSchema.parse({ question: question.question, filters: question.filters, k: 9 });
  return world.harness.services.catalog.matchingCourseIds(request.filters);
}

/** Grades a ranked list of courses (offering shown + its group) against every course the filters allow. */
export async function gradeRanking(
  world: World,
  question: Question,
  method: string,
  snapshot: RankingSnapshot,
  ranked: Pick<RankedCourse, "id" | "group" | "lexicalRank" | "vectorRank">[],
): Promise<QuestionResult> {
  const gradeOfGroup = (g: number, id: number) =>
    gradeOf(question, snapshot.groups.codes(g), world.titles.get(id) ?? "");
  const top: Ranked[] = ranked.map((r) => {
    const row = snapshot.groups.row(r.id);
    return {
      code: row ? `${row.subject} ${row.number}` : String(r.id),
      title: world.titles.get(r.id) ?? "",
      grade: gradeOfGroup(r.group, r.id),
      lexicalRank: r.lexicalRank,
      vectorRank: r.vectorRank,
    };
  });
  // The ideal list: every course the filters allow, graded the same way.
  const scope = snapshot.scope(await allowedCourses(world, question));
  const ideal: number[] = [];
  for (const [g] of snapshot.groups.groups.entries()) {
    if (scope.mask[g] !== 1) continue;
    const grade = gradeOfGroup(g, scope.representative[g] as number);
    if (grade > 0) ideal.push(grade);
  }
  return {
    question,
    method,
    score: scoreQuestion(
      top.map((t) => t.grade),
      ideal,
    ),
    top,
  };
}
