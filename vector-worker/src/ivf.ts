// Builds the inverted-file (IVF) layout with faiss-node: k-means centroids, and each vector's list.
//
// faiss-node can train an IVF index but has no nprobe setter, no ID selector, no add_with_ids and
// no access to the trained quantizer, and an IVF-Flat index would hold a private copy of every
// vector in each thread. So faiss does what it is good at here (k-means training, batched
// nearest-centroid assignment), we read the trained centroids out of its serialized format, and
// the lists become row ranges over ONE shared float matrix that the search threads scan exactly.
import { createRequire } from "node:module";
import { dot, TopK } from "./search-kernel.js";

const require = createRequire(import.meta.url);
const faiss = require("faiss-node") as typeof import("faiss-node");

/** Lists grow with sqrt(n); below this many vectors an exact scan is cheaper than any index. */
export const MIN_VECTORS_FOR_IVF = 2_000;

/** faiss's k-means wants at least this many training points per centroid (it warns below). */
const MIN_POINTS_PER_CENTROID = 39;

export function chooseNlist(count: number): number {
  if (count < MIN_VECTORS_FOR_IVF) return 0;
  const bySqrt = Math.max(16, Math.round(2 * Math.sqrt(count)));
  return Math.min(4096, bySqrt, Math.floor(count / MIN_POINTS_PER_CENTROID));
}

/**
 * faiss serialization (faiss/impl/index_write.cpp, 1.7.x):
 *   IVF:   "IwFl" | index header | nlist u64 | nprobe u64 | quantizer | direct map | inverted lists
 *   Flat:  "IxFI" (inner product) | index header | xb: u64 count + count float32
 *   index header = d i32 | ntotal i64 | dummy i64 | dummy i64 | is_trained u8 | metric_type i32
 */
const HEADER_BYTES = 4 + 8 + 8 + 8 + 1 + 4;

export function readTrainedCentroids(serialized: Buffer, dims: number, nlist: number): Float32Array {
  const expectFourcc = (offset: number, fourcc: string) => {
    const found = serialized.subarray(offset, offset + 4).toString("latin1");
    if (found !== fourcc)
      throw new Error(`unexpected faiss format: "${found}" at ${offset}, expected "${fourcc}"`);
  };
  expectFourcc(0, "IwFl");
  const ivfHeaderEnd = 4 + HEADER_BYTES;
  if (serialized.readInt32LE(4) !== dims) throw new Error("faiss index has unexpected dims");
  if (Number(serialized.readBigUInt64LE(ivfHeaderEnd)) !== nlist)
    throw new Error("faiss index has unexpected nlist");
  const quantizer = ivfHeaderEnd + 16;
  expectFourcc(quantizer, "IxFI");
  const vectorBytes = quantizer + 4 + HEADER_BYTES;
  const floats = Number(serialized.readBigUInt64LE(vectorBytes));
  if (floats !== nlist * dims)
    throw new Error(`faiss quantizer holds ${floats} floats, expected ${nlist * dims}`);
  const start = vectorBytes + 8;
  // Copy into an aligned buffer (the Buffer's offset is not 4-byte aligned in general).
  return new Float32Array(
    serialized.buffer.slice(serialized.byteOffset + start, serialized.byteOffset + start + floats * 4),
  );
}

function rows(matrix: Float32Array, dims: number, from: number, to: number): number[] {
  // faiss-node accepts only plain arrays (it checks IsArray()).
  return Array.from(matrix.subarray(from * dims, to * dims));
}

/** k-means (inner product) on an evenly strided sample of at most 40 points per list. */
export function trainCentroids(matrix: Float32Array, dims: number, nlist: number): Float32Array {
  const count = matrix.length / dims;
  const sampleSize = Math.min(count, nlist * 40);
  const stride = count / sampleSize;
  const sample: number[] = [];
  for (let i = 0; i < sampleSize; i++) {
    const row = Math.floor(i * stride);
    for (const value of matrix.subarray(row * dims, (row + 1) * dims)) sample.push(value);
  }
  const index = faiss.Index.fromFactory(dims, `IVF${nlist},Flat`, faiss.MetricType.METRIC_INNER_PRODUCT);
  index.train(sample);
  return readTrainedCentroids(index.toBuffer(), dims, nlist);
}

export function centroidIndex(centroids: Float32Array, dims: number) {
  const index = new faiss.IndexFlatIP(dims);
  index.add(Array.from(centroids));
  return index;
}

/** Nearest centroid of every row, searched by faiss in batches. */
export function assignLists(matrix: Float32Array, dims: number, centroids: Float32Array): Int32Array {
  const index = centroidIndex(centroids, dims);
  const count = matrix.length / dims;
  const assignment = new Int32Array(count);
  const batch = 1024;
  for (let from = 0; from < count; from += batch) {
    const to = Math.min(count, from + batch);
    const { labels } = index.search(rows(matrix, dims, from, to), 1);
    for (let i = 0; i < labels.length; i++) assignment[from + i] = labels[i] as number;
  }
  return assignment;
}

/** Row order grouped by list, and the list offsets. */
export function groupByList(
  assignment: Int32Array,
  nlist: number,
): { order: Int32Array; offsets: Uint32Array } {
  const offsets = new Uint32Array(nlist + 1);
  for (const list of assignment) (offsets[list + 1] as number)++;
  for (let i = 0; i < nlist; i++) offsets[i + 1] = (offsets[i + 1] as number) + (offsets[i] as number);
  const cursor = offsets.slice(0, nlist);
  const order = new Int32Array(assignment.length);
  assignment.forEach((list, row) => {
    order[(cursor[list] as number)++] = row;
  });
  return { order, offsets };
}

/**
 * Picks the number of lists to probe from the data itself, as vector databases auto-tune: for
 * calibration queries (short, title-like texts embedded by the build), find where each exact top-k
 * neighbour's list ranks among the lists ordered by centroid score, and return the smallest probe
 * count whose mean recall@k reaches the target. Hashed TF-IDF vectors cluster loosely and short
 * queries sit between clusters (UIUC: recall@9 0.88 at 4% of the lists, 0.92 at 10%, 0.96 at 15%),
 * so a fixed fraction would be wrong for some catalogs and wasteful for others.
 */
export function calibrateNprobe(
  vectors: Float32Array,
  dims: number,
  offsets: Uint32Array,
  centroids: Float32Array,
  queries: Float32Array[],
  options: { k?: number; targetRecall?: number } = {},
): { nprobe: number; recall: number } {
  const k = options.k ?? 9;
  // 0.99 on bare titles leaves a margin for real questions, which are wordier: calibrated at 0.97,
  // `npm run bench:vector` measured recall@9 0.90 for "a course on <title>" queries at 100k courses.
  const target = options.targetRecall ?? 0.99;
  const nlist = offsets.length - 1;
  const count = vectors.length / dims;
  const listOf = new Int32Array(count);
  for (let list = 0; list < nlist; list++)
    for (let row = offsets[list] as number; row < (offsets[list + 1] as number); row++) listOf[row] = list;
  // hits[p] = neighbours (over all queries) whose list ranks p-th for their query.
  const hits = new Float64Array(nlist + 1);
  let total = 0;
  for (const query of queries) {
    const top = new TopK(k);
    for (let row = 0; row < count; row++) top.offer(row, dot(vectors, row * dims, query, dims));
    const listScores = Array.from({ length: nlist }, (_, list) => ({
      list,
      score: dot(centroids, list * dims, query, dims),
    }));
    listScores.sort((a, b) => b.score - a.score);
    const rank = new Int32Array(nlist);
    listScores.forEach((entry, position) => {
      rank[entry.list] = position;
    });
    for (let i = 0; i < top.size; i++)
      (hits[(rank[listOf[top.rows[i] as number] as number] as number) + 1] as number)++;
    total += top.size;
  }
  let found = 0;
  for (let p = 1; p <= nlist; p++) {
    found += hits[p] as number;
    if (total === 0 || found / total >= target) return { nprobe: p, recall: total ? found / total : 1 };
  }
  return { nprobe: nlist, recall: 1 };
}
