// The recall oracle: brute-force top-k over the matrix the benchmark built, written independently of the sidecar's kernel.

export interface Scored {
  id: number;
  score: number;
}

/** Allowed-row mask over the course-ordered matrix; undefined = every row. */
export function rowMask(ids: Int32Array, allowed: Int32Array | undefined): Uint8Array | undefined {
  if (!allowed) return undefined;
  const wanted = new Set(allowed);
  return Uint8Array.from(ids, (id) => (wanted.has(id) ? 1 : 0));
}

/**
 * Exact top-k of every query under every mask, one pass over the matrix per query (the dot products are
 * shared by all masks). Doubles throughout and a plain sort of the survivors: slow, simple, obviously right.
 */
export function exactTopK(
  matrix: Float32Array,
  ids: Int32Array,
  dims: number,
  queries: Float32Array[],
  masks: (Uint8Array | undefined)[],
  k: number,
): Scored[][][] {
  const count = ids.length;
  if (dims % 4 !== 0) throw new Error("exactTopK: dims must be a multiple of 4");
  return queries.map((query) => {
    // Per mask: the best k so far, kept sorted descending (k is 9, insertion is cheapest).
    const best = masks.map(() => [] as Scored[]);
    for (let row = 0; row < count; row++) {
      const offset = row * dims;
      // Four partial sums only for speed (100k rows x 200 queries); the order differs from the
      // sidecar's kernel, which the 1e-5 tolerance of the comparisons absorbs.
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let j = 0; j < dims; j += 4) {
        s0 += (matrix[offset + j] as number) * (query[j] as number);
        s1 += (matrix[offset + j + 1] as number) * (query[j + 1] as number);
        s2 += (matrix[offset + j + 2] as number) * (query[j + 2] as number);
        s3 += (matrix[offset + j + 3] as number) * (query[j + 3] as number);
      }
      const score = s0 + s1 + s2 + s3;
      masks.forEach((mask, m) => {
        if (mask && mask[row] === 0) return;
        const top = best[m] as Scored[];
        if (top.length === k && score <= (top[k - 1] as Scored).score) return;
        let i = top.length < k ? top.length : k - 1;
        if (top.length < k) top.push({ id: 0, score: 0 });
        while (i > 0 && (top[i - 1] as Scored).score < score) {
          top[i] = top[i - 1] as Scored;
          i--;
        }
        top[i] = { id: ids[row] as number, score };
      });
    }
    return best;
  });
}

/**
 * Tie-tolerant recall, the same rule as vector-worker/test/harness.ts recallAtK: a hit is any result
 * scoring at least the k-th exact score (duplicated courses make many exact ties).
 */
export function recallAtK(results: { score: number }[], exact: { score: number }[], k: number): number {
  if (exact.length === 0) return 1;
  const threshold = (exact[Math.min(k, exact.length) - 1]?.score ?? Number.NEGATIVE_INFINITY) - 1e-5;
  return results.slice(0, k).filter((r) => r.score >= threshold).length / Math.min(k, exact.length);
}

/** Exact in the strict sense: the same scores as brute force, position by position (ids may differ on ties). */
export function sameScores(results: { score: number }[], exact: { score: number }[]): boolean {
  return (
    results.length === exact.length &&
    results.every((r, i) => Math.abs(r.score - (exact[i] as Scored).score) <= 1e-5)
  );
}
