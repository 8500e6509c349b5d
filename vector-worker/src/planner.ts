// Chooses how to answer one query: an exact scan of the allowed rows, or the IVF lists nearest the query.
//
// Costs (measured on this machine, 1536 dims): an exact dot product costs ~0.45 us per row in the
// SIMD kernel (1.1 us in plain JS);
// an IVF probe costs a centroid search (nlist rows) plus the rows of the probed lists, with a bitmap
// check for rows outside a filter. An exact scan of m allowed rows costs m; IVF for a filter that
// keeps fraction s of the catalog touches about nprobe/s lists' worth of rows to find k matches, so
// exact wins for small allowed sets. VECTOR_EXACT_THRESHOLD (default 4000 rows) is the crossover
// measured by `npm run bench:vector`; below it results are exact by construction. Rows are distinct
// vectors: a catalog whose courses repeat term after term may have few enough to always scan exactly.

export type Strategy = "exact" | "ivf";

export interface Plan {
  strategy: Strategy;
  /** Lists probed (ivf only). */
  nprobe: number;
}

export interface PlanInput {
  count: number;
  nlist: number;
  /** Calibrated probe count for unfiltered queries (manifest.nprobe). */
  nprobe: number;
  k: number;
  /** Number of allowed rows, or undefined for an unfiltered query. */
  allowed?: number;
  exactThreshold: number;
}

export function planSearch({ count, nlist, nprobe, k, allowed, exactThreshold }: PlanInput): Plan {
  // Few rows to score (a small filter, or a small catalog of distinct vectors): scan them all, exactly.
  if (nlist === 0 || (allowed ?? count) <= exactThreshold) return { strategy: "exact", nprobe: 0 };
  const base = nprobe;
  if (allowed === undefined) return { strategy: "ivf", nprobe: base };
  // Over-fetch for filters: a filter keeping fraction s of the rows probes 2·base/s lists, so twice as
  // many allowed rows are scored as in an unfiltered probe (the allowed neighbours lie farther out);
  // skipped rows cost only a bitmap test. Rows are scored exactly, so the best need no re-ranking.
  const selectivity = Math.max(allowed, k) / count;
  return { strategy: "ivf", nprobe: Math.min(nlist, Math.ceil((2 * base) / selectivity)) };
}
