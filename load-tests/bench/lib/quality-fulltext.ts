// bench:quality's engine comparison: MariaDB FULLTEXT (MATCH ... AGAINST in natural language mode over
// title + description, one row per course on a scratch table) beside the in-process BM25F index, on the
// same questions, graded the same way, with each one's latency.

import { lexicalCandidates, rankingSnapshot } from "@kogi/api/services/answer-ranking";
import type { RankingSnapshot, Scope } from "@kogi/api/services/ranking/ranking-snapshot";
import { focusQuestion, queryTerms } from "@kogi/api/services/ranking/text-analysis";
import type { Pool } from "mysql2/promise";
import { allowedCourses, gradeRanking, type QuestionResult, type World } from "./quality-eval.js";
import type { Question } from "./quality-set.js";

export const FULLTEXT_METHOD = "MariaDB FULLTEXT";
export const IN_PROCESS_METHOD = "in-process BM25F (lexical)";
const TABLE = "bench_quality_fulltext";
const DEPTH = 9;
/** DDL and the bulk insert may take longer than a request's statement deadline. */
const SETUP_TIMEOUT_MS = 120_000;

export interface EngineLatency {
  engine: string;
  /** Timed calls: every question of the set, `rounds` times. */
  calls: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

async function snapshotOf(world: World): Promise<RankingSnapshot> {
  const { services } = world.harness;
  return rankingSnapshot(services, services.catalogVersion.current);
}

/** One row per course, the text the in-process index scores (its newest real description). */
async function createTable(world: World, snapshot: RankingSnapshot): Promise<void> {
  const pool = world.harness.pool as Pool;
  const rows = await world.harness.services.catalog.courseTexts();
  const byId = new Map(rows.map((row) => [row.id, row]));
  await pool.query({ sql: `DROP TABLE IF EXISTS ${TABLE}`, timeout: SETUP_TIMEOUT_MS });
  await pool.query({
    sql: `CREATE TABLE ${TABLE} (
      course_group INT UNSIGNED NOT NULL PRIMARY KEY,
      title VARCHAR(255) NOT NULL,
      description TEXT NOT NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
    timeout: SETUP_TIMEOUT_MS,
  });
  const values = snapshot.groups.groups.map((group, g) => {
    const text = byId.get(group.canonical);
    return [g, text?.title ?? "", text?.description ?? ""];
  });
  for (let i = 0; i < values.length; i += 500)
    await pool.query({
      sql: `INSERT INTO ${TABLE} (course_group, title, description) VALUES ?`,
      values: [values.slice(i, i + 500)],
      timeout: SETUP_TIMEOUT_MS,
    });
  // Built after the rows are in, as one sort: InnoDB's fastest way to a FULLTEXT index.
  await pool.query({
    sql: `ALTER TABLE ${TABLE} ADD FULLTEXT KEY ${TABLE}_text (title, description)`,
    timeout: SETUP_TIMEOUT_MS,
  });
}

/** The question's focus (its wrapper removed, as both rankings read it) in natural language mode. */
async function fulltextRanking(pool: Pool, scope: Scope, question: string, filtered: boolean) {
  const text = focusQuestion(question);
  const allowed: number[] = [];
  if (filtered) for (const [g, on] of scope.mask.entries()) if (on === 1) allowed.push(g);
  const [rows] = (await pool.query(
    `SELECT course_group, MATCH(title, description) AGAINST (? IN NATURAL LANGUAGE MODE) AS score
     FROM ${TABLE}
     WHERE MATCH(title, description) AGAINST (? IN NATURAL LANGUAGE MODE)
       ${filtered ? "AND course_group IN (?)" : ""}
     ORDER BY score DESC, course_group LIMIT ${DEPTH}`,
    filtered ? [text, text, allowed.length ? allowed : [-1]] : [text, text],
  )) as unknown as [{ course_group: number; score: number }[]];
  return rows.map((row) => Number(row.course_group));
}

/** Nearest-rank percentiles to 0.01 ms (closed-loop's round to 0.1 ms, too coarse for ~0.3 ms). */
function latency(engine: string, values: number[]): EngineLatency {
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) =>
    sorted.length === 0
      ? null
      : Math.round(
          (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0) * 100,
        ) / 100;
  return { engine, calls: values.length, p50Ms: at(50), p99Ms: at(99), maxMs: at(100) };
}

/**
 * FULLTEXT results graded per question, and both engines' latency over `rounds` passes of the set
 * (the first pass warms both up and is not timed). FULLTEXT's time includes the round trip to the
 * database; the in-process time is the lexical stage's own (scope + BM25F).
 */
export async function compareLexicalEngines(
  worlds: Record<World["name"], World>,
  questions: Question[],
  rounds: number,
): Promise<{ results: QuestionResult[]; latency: EngineLatency[] }> {
  const snapshots = new Map<World["name"], RankingSnapshot>();
  for (const world of Object.values(worlds)) {
    const snapshot = await snapshotOf(world);
    await createTable(world, snapshot);
    snapshots.set(world.name, snapshot);
  }
  const results: QuestionResult[] = [];
  const fulltextMs: number[] = [];
  const inProcessMs: number[] = [];
  for (let round = 0; round <= rounds; round++)
    for (const question of questions) {
      const world = worlds[question.catalog];
      const snapshot = snapshots.get(world.name) as RankingSnapshot;
      const allowed = await allowedCourses(world, question);
      let started = performance.now();
      const scope = snapshot.scope(allowed);
      lexicalCandidates(snapshot, scope, queryTerms(question.question), 50);
      if (round > 0) inProcessMs.push(performance.now() - started);
      started = performance.now();
      const groups = await fulltextRanking(world.harness.pool as Pool, scope, question.question, !!allowed);
      if (round > 0) fulltextMs.push(performance.now() - started);
      if (round !== rounds) continue;
      const ranked = groups.map((group, i) => ({
        id: scope.representative[group] as number,
        group,
        lexicalRank: i + 1,
        vectorRank: null,
      }));
      results.push(await gradeRanking(world, question, FULLTEXT_METHOD, snapshot, ranked));
    }
  for (const world of Object.values(worlds))
    await (world.harness.pool as Pool).query(`DROP TABLE IF EXISTS ${TABLE}`);
  return {
    results,
    latency: [latency(IN_PROCESS_METHOD, inProcessMs), latency(FULLTEXT_METHOD, fulltextMs)],
  };
}
