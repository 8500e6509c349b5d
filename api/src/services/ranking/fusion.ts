// Fusing the lexical and vector rankings of the same courses into one: reciprocal rank fusion or a
// blend of scores (answers use a blend, see DEFAULT_FUSION; bench:quality compares them).

export interface RankedList {
  /** Keys (courses) best first; a key appears at most once. */
  keys: number[];
  /** Scores beside the keys (used by the score blend only). */
  scores?: number[];
  /** The score blend divides by this (default: the list's best score). */
  scale?: number;
  weight?: number;
}

export interface Fused {
  key: number;
  score: number;
  /** 1-based rank of the key in each input list, null where that list did not find it. */
  ranks: (number | null)[];
}

/**
 * A list's scores read as standard scores against the list itself: max(0, z - above) / per, with z =
 * (score - the list's mean) / its standard deviation. Only a key that stands out of its own list
 * counts, however high or low that list's scores run for this question.
 */
export interface StandardScore {
  above: number;
  per: number;
}

/**
 * rrf: reciprocal rank fusion with per-list weights; blend: weighted sum of scores, each divided by
 * its list's `scale` (or, `relative`, by the list's best score), or read as a standard score
 * (`standard` for that list).
 */
export type FusionMethod =
  | { kind: "rrf"; k: number; weights?: number[] }
  | {
      kind: "blend";
      weights?: number[];
      relative?: boolean[];
      standard?: (StandardScore | undefined)[];
    };

/** Cormack et al.'s k: ranks deep in a list still count, but top ranks of either list stand out. */
export const RRF_K = 60;

function collect(lists: RankedList[]): Map<number, (number | null)[]> {
  const ranks = new Map<number, (number | null)[]>();
  for (const [l, list] of lists.entries())
    for (const [i, key] of list.keys.entries()) {
      let entry = ranks.get(key);
      if (!entry) {
        entry = lists.map(() => null);
        ranks.set(key, entry);
      }
      entry[l] ??= i + 1;
    }
  return ranks;
}

/** Ties: the better best rank first, then the smaller key, so equal inputs give equal output. */
function order(fused: Fused[]): Fused[] {
  const best = new Map<Fused, number>();
  for (const f of fused) {
    let rank = Number.POSITIVE_INFINITY;
    for (const r of f.ranks) if (r !== null && r < rank) rank = r;
    best.set(f, rank);
  }
  return fused.sort(
    (a, b) => b.score - a.score || (best.get(a) as number) - (best.get(b) as number) || a.key - b.key,
  );
}

/** score(key) = sum over lists of weight / (k + rank). */
export function reciprocalRankFusion(lists: RankedList[], k = RRF_K): Fused[] {
  return rrf(lists, k);
}

function rrf(lists: RankedList[], k: number): Fused[] {
  const fused: Fused[] = [];
  for (const [key, ranks] of collect(lists)) {
    let score = 0;
    for (const [l, rank] of ranks.entries()) if (rank !== null) score += (lists[l]?.weight ?? 1) / (k + rank);
    fused.push({ key, score, ranks });
  }
  return order(fused);
}

/**
 * Fewer candidates than this say too little about a list's spread: such a list adds nothing to a
 * standard-score blend and only orders ties. (With n scores no z exceeds (n - 1) / sqrt(n): above
 * 3.5 needs n >= 15, so answers filtered to fewer courses rank by words, then by vector rank.)
 */
const MIN_STANDARD_SCORES = 10;

export function standardScores(scores: number[], { above, per }: StandardScore): number[] {
  const n = scores.length;
  if (n < MIN_STANDARD_SCORES) return scores.map(() => 0);
  const mean = scores.reduce((sum, s) => sum + s, 0) / n;
  const sd = Math.sqrt(scores.reduce((sum, s) => sum + (s - mean) ** 2, 0) / n);
  if (!(sd > 0)) return scores.map(() => 0);
  return scores.map((s) => Math.max(0, (s - mean) / sd - above) / per);
}

/**
 * score(key) = sum over lists of weight x score / scale, the scale being the list's own (or, with
 * `relative` for that list, its best score), or the standard score of `standard` for that list; a
 * list that did not find the key adds 0.
 */
export function scoreBlend(
  lists: RankedList[],
  relative: boolean[] = [],
  standard: (StandardScore | undefined)[] = [],
): Fused[] {
  const scaled = lists.map((list, l) => {
    const scores = list.scores ?? list.keys.map((_, i) => list.keys.length - i);
    const standardOf = standard[l];
    if (standardOf) {
      const values = standardScores(scores, standardOf);
      return new Map(list.keys.map((key, i) => [key, values[i] as number]));
    }
    const max = (!relative[l] && list.scale) || Math.max(...scores) || 1;
    return new Map(list.keys.map((key, i) => [key, Math.max(0, scores[i] as number) / max]));
  });
  const fused: Fused[] = [];
  for (const [key, ranks] of collect(lists)) {
    let score = 0;
    for (const [l, values] of scaled.entries()) score += (lists[l]?.weight ?? 1) * (values.get(key) ?? 0);
    fused.push({ key, score, ranks });
  }
  return order(fused);
}

export function fuse(lists: RankedList[], method: FusionMethod): Fused[] {
  const weighted = lists.map((list, l) => ({ ...list, weight: method.weights?.[l] ?? list.weight }));
  return method.kind === "rrf"
    ? rrf(weighted, method.k)
    : scoreBlend(weighted, method.relative, method.standard);
}
