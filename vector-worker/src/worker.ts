// The Piscina task: one nearest-neighbour search, run on a worker thread over the shared matrix.
import { createRequire } from "node:module";
import { LocalEmbedder } from "@kogi/shared/embedding/local";
import type { SharedIndex } from "./index-store.js";
import { planSearch, type Strategy } from "./planner.js";
import { scanRange, scanRows, TopK } from "./search-kernel.js";
import { WasmScanner } from "./simd/kernel.js";

const require = createRequire(import.meta.url);
const faiss = require("faiss-node") as typeof import("faiss-node");

export interface SearchTask {
  index: SharedIndex;
  /** L2-normalised query; absent when `text` is to be embedded here (local embedder). */
  vector?: Float32Array;
  text?: string;
  k: number;
  /** Allowed course ids (already checked to exist), or absent for no filter. */
  allowed?: Int32Array;
  exactThreshold: number;
}

export interface SearchOutput {
  ids: Int32Array;
  scores: Float32Array;
  strategy: Strategy;
  nprobe: number;
  scanned: number;
  /** IVF found fewer than k allowed rows and the exact scan answered instead. */
  fellBack: boolean;
  /** The query vector and the time it took, when this thread embedded `text`. */
  embedded?: { vector: Float32Array; ms: number };
}

interface ThreadIndex {
  shared: SharedIndex;
  vectors: Float32Array;
  members: Uint32Array;
  memberIds: Int32Array;
  lists: Uint32Array;
  rowOfId: Int32Array;
  centroids: ReturnType<typeof faiss.Index.fromBuffer> | null;
  /** This thread's SIMD scanner; null: the plain-JS kernel (no WebAssembly memory, or no slot left). */
  scanner: WasmScanner | null;
  /** Built on the first text query only: most queries arrive as vectors. */
  embedder: LocalEmbedder | null | undefined;
  /** Scratch marks of filterOf, made on the first filtered search. */
  idMarks?: Uint8Array;
  rowMarks?: Uint8Array;
}

function embedderOf(view: ThreadIndex): LocalEmbedder | null {
  if (view.embedder === undefined) {
    const idf = view.shared.idf;
    view.embedder = idf
      ? new LocalEmbedder({
          dims: view.shared.dims,
          idf: JSON.parse(new TextDecoder().decode(new Uint8Array(idf).slice())),
        })
      : null;
  }
  return view.embedder;
}

// Views over the shared buffers plus this thread's small faiss centroid index, per version. Two
// versions can be live for a moment during a hot swap (queued searches finish on the old one).
const views = new Map<string, ThreadIndex>();

function viewsOf(shared: SharedIndex): ThreadIndex {
  let view = views.get(shared.version);
  if (view) return view;
  view = {
    shared,
    vectors: new Float32Array(shared.vectors, 0, shared.rows * shared.dims),
    members: new Uint32Array(shared.members),
    memberIds: new Int32Array(shared.memberIds),
    lists: new Uint32Array(shared.lists),
    rowOfId: new Int32Array(shared.rowOfId),
    // fromBuffer copies, but only the centroids (nlist x dims), never the vectors.
    centroids: shared.centroids ? faiss.Index.fromBuffer(Buffer.from(shared.centroids)) : null,
    scanner: shared.memory ? WasmScanner.claim(shared.memory, shared.rows, shared.dims) : null,
    embedder: undefined,
  };
  views.set(shared.version, view);
  if (views.size > 2) views.delete(views.keys().next().value as string);
  return view;
}

interface Filter {
  /** Distinct rows holding at least one allowed course. */
  rows: Int32Array;
  /** Allowed courses that exist in the index. */
  courses: number;
  /** This thread's marks: idMarks[id] = 1 for an allowed id, until clearFilter. */
  idMarks: Uint8Array;
}

/**
 * Allowed ids -> distinct rows. Marks live in per-thread arrays reused by every search (a Set or a
 * fresh array per query was garbage that grew each thread's heap under load) and are cleared after.
 */
function filterOf(view: ThreadIndex, allowed: Int32Array): Filter {
  view.idMarks ??= new Uint8Array(view.rowOfId.length);
  view.rowMarks ??= new Uint8Array(view.shared.rows);
  const { idMarks, rowMarks } = view;
  const rows = new Int32Array(allowed.length);
  let courses = 0;
  let n = 0;
  for (const id of allowed) {
    const row = id < view.rowOfId.length ? (view.rowOfId[id] as number) : -1;
    if (row < 0 || idMarks[id]) continue;
    idMarks[id] = 1;
    courses++;
    if (rowMarks[row]) continue;
    rowMarks[row] = 1;
    rows[n++] = row;
  }
  for (let i = 0; i < n; i++) rowMarks[rows[i] as number] = 0;
  return { rows: rows.subarray(0, n), courses, idMarks };
}

function clearFilter(view: ThreadIndex, allowed: Int32Array): void {
  const marks = view.idMarks as Uint8Array;
  for (const id of allowed) if (id < marks.length) marks[id] = 0;
}

/** The best rows' courses in rank order (courses sharing a vector by id), up to k. */
function expand(view: ThreadIndex, top: TopK, k: number, filter?: Filter) {
  const ids = new Int32Array(k);
  const scores = new Float32Array(k);
  let n = 0;
  for (let i = 0; i < top.size && n < k; i++) {
    const row = top.rows[i] as number;
    for (let m = view.members[row] as number; m < (view.members[row + 1] as number) && n < k; m++) {
      const id = view.memberIds[m] as number;
      if (filter && !filter.idMarks[id]) continue;
      ids[n] = id;
      scores[n++] = top.scores[i] as number;
    }
  }
  return { ids: ids.subarray(0, n), scores: scores.subarray(0, n) };
}

interface Scanner {
  scanRange(from: number, to: number, top: TopK, allowed?: Uint8Array): number;
  scanRows(rows: Int32Array, top: TopK): void;
}

/** The SIMD kernel when this thread has one, else the plain-JS kernel: same results (test-checked). */
function scannerFor(view: ThreadIndex, query: Float32Array): Scanner {
  if (view.scanner) {
    view.scanner.setQuery(query);
    return view.scanner;
  }
  const { vectors } = view;
  const { dims } = view.shared;
  return {
    scanRange: (from, to, top, allowed) => scanRange(vectors, dims, query, from, to, top, allowed),
    scanRows: (rows, top) => scanRows(vectors, dims, query, rows, top),
  };
}

export interface EmbedTask {
  index: SharedIndex;
  embedOnly: string[];
}

export default function run(task: SearchTask | EmbedTask): SearchOutput | Float32Array[] {
  if ("embedOnly" in task) {
    const embedder = embedderOf(viewsOf(task.index));
    if (!embedder) throw new Error("this index has no local embedder");
    return task.embedOnly.map((text) => embedder.embedOne(text));
  }
  return search(task);
}

export function search(task: SearchTask): SearchOutput {
  const view = viewsOf(task.index);
  const embedStarted = performance.now();
  const query = task.vector ?? embedderOf(view)?.embedOne(task.text ?? "");
  if (!query) throw new Error("no query vector and no local embedder for text");
  const embedded = task.vector ? undefined : { vector: query, ms: performance.now() - embedStarted };
  const filter = task.allowed ? filterOf(view, task.allowed) : undefined;
  try {
    return { ...rank(view, task, query, filter), embedded };
  } finally {
    if (task.allowed) clearFilter(view, task.allowed);
  }
}

function rank(view: ThreadIndex, task: SearchTask, query: Float32Array, filter: Filter | undefined) {
  const { rows: count, courses, nlist, nprobe } = task.index;
  // k courses need at most k rows: every row ranked holds at least one allowed course.
  const k = Math.min(task.k, filter ? filter.courses : courses);
  const plan = planSearch({
    count,
    nlist,
    nprobe,
    k: Math.min(k, filter ? filter.rows.length : count),
    allowed: filter?.rows.length,
    exactThreshold: task.exactThreshold,
  });
  const scanner = scannerFor(view, query);
  let top = new TopK(Math.max(k, 1));
  let scanned = 0;
  let fellBack = false;

  if (k > 0 && plan.strategy === "ivf" && view.centroids) {
    let bitmap: Uint8Array | undefined;
    if (filter) {
      bitmap = new Uint8Array((count + 7) >> 3);
      for (const row of filter.rows) bitmap[row >> 3] = (bitmap[row >> 3] as number) | (1 << (row & 7));
    }
    const { labels } = view.centroids.search(Array.from(query), plan.nprobe);
    for (const list of labels) {
      if (list < 0) continue;
      scanned += scanner.scanRange(view.lists[list] as number, view.lists[list + 1] as number, top, bitmap);
    }
    if (expand(view, top, k, filter).ids.length < k) {
      fellBack = true;
      top = new TopK(k);
    }
  }
  if (k > 0 && (plan.strategy === "exact" || fellBack)) {
    if (filter) {
      scanner.scanRows(filter.rows, top);
      scanned += filter.rows.length;
    } else scanned += scanner.scanRange(0, count, top);
  }

  const { ids, scores } =
    k > 0 ? expand(view, top, k, filter) : { ids: new Int32Array(0), scores: new Float32Array(0) };
  return { ids, scores, strategy: plan.strategy, nprobe: plan.nprobe, scanned, fellBack };
}
