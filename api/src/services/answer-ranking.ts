// Hybrid ranking of an answer: a lexical (BM25F) and a vector ranking of the same courses (one entry
// per course, never per offering), fused by a calibrated score blend. See README "How answers are ranked".
import type { ServiceContext } from "../context.js";
import { type FusionMethod, fuse } from "./ranking/fusion.js";
import { type RankingSnapshot, RankingSnapshots, type Scope } from "./ranking/ranking-snapshot.js";
import { type QueryTerm, queryTerms } from "./ranking/text-analysis.js";

export type RankingMode = "hybrid" | "lexical" | "vector";
/**
 * lexical score / the question's ceiling (what a course whose title says every word of the question
 * would score) + how far the course's inner product stands above the vector ranking's other
 * candidates: max(0, z - 3.5) / 5 in standard deviations. The offline embedder's first 50 are mostly
 * near-equal noise (a typo, words the catalog does not use), so only a clear vector match adds; raw
 * inner products let that noise outrank lexical matches. Chosen on bench:quality over reciprocal rank
 * fusion (k = 20, 60, weighted) and raw-score blends (README, "How answers are ranked").
 */
export const VECTOR_STANDARD_SCORE = { above: 3.5, per: 5 };
export const DEFAULT_FUSION: FusionMethod = { kind: "blend", standard: [undefined, VECTOR_STANDARD_SCORE] };

export interface RankedCourse {
  /** The offering shown: the best allowed row of the course (the filtered term, or the newest). */
  id: number;
  /** The course (group) in the snapshot. */
  group: number;
  score: number;
  lexicalRank: number | null;
  vectorRank: number | null;
}

export interface Candidates {
  /** Groups, best first. */
  keys: number[];
  scores: number[];
  /** What the scores are read against in a score blend (lexical: the question's ceiling; vector: 1). */
  scale: number;
}

/**
 * How deep each ranking is read before fusion: deep enough that a course one ranking puts at 30 can
 * still be lifted by the other, within the sidecar's k <= 100.
 */
export const candidateDepth = (k: number) => Math.min(100, Math.max(50, 2 * k));

// One set of snapshots per catalog repository (per api process); built on first use, not at wiring.
const snapshotsByCatalog = new WeakMap<ServiceContext["catalog"], RankingSnapshots>();

/** The built snapshot at once, or the promise of its build (the first answer after an import). */
export function rankingSnapshot(
  services: ServiceContext,
  version: number,
): RankingSnapshot | Promise<RankingSnapshot> {
  let snapshots = snapshotsByCatalog.get(services.catalog);
  if (!snapshots) {
    snapshots = new RankingSnapshots(() => services.catalog.courseTexts());
    snapshotsByCatalog.set(services.catalog, snapshots);
  }
  return snapshots.ready(version) ?? snapshots.get(version);
}

export function lexicalCandidates(
  snapshot: RankingSnapshot,
  scope: Scope,
  terms: QueryTerm[],
  depth: number,
): Candidates {
  const { hits, ceiling } = snapshot.lexicalRanking(terms, scope, depth);
  return { keys: hits.map((h) => h.doc), scores: hits.map((h) => h.score), scale: ceiling || 1 };
}

/** Sidecar results (course ids, best first) -> allowed courses, each once, at its best rank. */
export function vectorCandidates(
  snapshot: RankingSnapshot,
  scope: Scope,
  results: { id: number; score: number }[],
): Candidates {
  const keys: number[] = [];
  const scores: number[] = [];
  const seen = new Set<number>();
  for (const { id, score } of results) {
    const g = snapshot.groups.groupOf(id);
    // A course imported after this snapshot was built is left out until the next one.
    if (g < 0 || seen.has(g) || scope.mask[g] !== 1) continue;
    seen.add(g);
    keys.push(g);
    scores.push(score);
  }
  // Inner products of unit vectors: already one scale for every question.
  return { keys, scores, scale: 1 };
}

export function fuseCandidates(
  scope: Scope,
  lexical: Candidates | undefined,
  vector: Candidates | undefined,
  k: number,
  method: FusionMethod = DEFAULT_FUSION,
): RankedCourse[] {
  const empty: Candidates = { keys: [], scores: [], scale: 1 };
  // One ranking alone (ANSWER_RANKING=vector, or no lexical match) keeps its own scores: standard
  // scores only decide how much the vector ranking adds to a lexical one.
  const alone = !lexical || lexical.keys.length === 0;
  const fused = fuse([lexical ?? empty, vector ?? empty], alone ? { kind: "blend" } : method);
  return fused.slice(0, k).map((f) => ({
    id: scope.representative[f.key] as number,
    group: f.key,
    score: f.score,
    lexicalRank: f.ranks[0] ?? null,
    vectorRank: f.ranks[1] ?? null,
  }));
}

export { queryTerms };
