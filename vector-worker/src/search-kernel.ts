// Exact inner-product scans over the shared vector matrix, keeping the best k: the hot loop of every search.
// Plain JS: faiss-node would need its own copy of the rows (plain arrays only), and this build of
// faiss is no faster per vector than V8 on a 4-way unrolled loop (measured: ~1.1 ms per 1000 x 1536).

export class TopK {
  readonly rows: Int32Array;
  readonly scores: Float32Array;
  size = 0;

  constructor(readonly k: number) {
    this.rows = new Int32Array(k);
    this.scores = new Float32Array(k).fill(Number.NEGATIVE_INFINITY);
  }

  get floor(): number {
    return this.size < this.k ? Number.NEGATIVE_INFINITY : (this.scores[this.k - 1] as number);
  }

  /** Insertion into a sorted array: k is small (<= 100), so this beats a heap. */
  offer(row: number, score: number): void {
    if (this.size === this.k && score <= (this.scores[this.k - 1] as number)) return;
    let i = this.size < this.k ? this.size++ : this.k - 1;
    while (i > 0 && (this.scores[i - 1] as number) < score) {
      this.scores[i] = this.scores[i - 1] as number;
      this.rows[i] = this.rows[i - 1] as number;
      i--;
    }
    this.scores[i] = score;
    this.rows[i] = row;
  }
}

export function dot(matrix: Float32Array, offset: number, query: Float32Array, dims: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 3 < dims; j += 4) {
    s0 += (matrix[offset + j] as number) * (query[j] as number);
    s1 += (matrix[offset + j + 1] as number) * (query[j + 1] as number);
    s2 += (matrix[offset + j + 2] as number) * (query[j + 2] as number);
    s3 += (matrix[offset + j + 3] as number) * (query[j + 3] as number);
  }
  for (; j < dims; j++) s0 += (matrix[offset + j] as number) * (query[j] as number);
  return s0 + s1 + s2 + s3;
}

/** Scores the given rows. */
export function scanRows(
  matrix: Float32Array,
  dims: number,
  query: Float32Array,
  rows: Int32Array,
  top: TopK,
) {
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as number;
    top.offer(row, dot(matrix, row * dims, query, dims));
  }
}

/** Scores rows [from, to), skipping rows whose bit is clear in `allowed` when given. */
export function scanRange(
  matrix: Float32Array,
  dims: number,
  query: Float32Array,
  from: number,
  to: number,
  top: TopK,
  allowed?: Uint8Array,
): number {
  let scanned = 0;
  for (let row = from; row < to; row++) {
    if (allowed && !((allowed[row >> 3] as number) & (1 << (row & 7)))) continue;
    top.offer(row, dot(matrix, row * dims, query, dims));
    scanned++;
  }
  return scanned;
}
