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
}

interface ThreadIndex {
  shared: SharedIndex;
  vectors: Float32Array;
  ids: Int32Array;
  lists: Uint32Array;
  rowOfId: Int32Array;
  centroids: ReturnType<typeof faiss.Index.fromBuffer> | null;
  /** This thread's SIMD scanner; null: the plain-JS kernel (no WebAssembly memory, or no slot left). */
  scanner: WasmScanner | null;
  /** Built on the first text query only: most queries arrive as vectors. */
  embedder: LocalEmbedder | null | undefined;
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
    vectors: new Float32Array(shared.vectors, 0, shared.count * shared.dims),
    ids: new Int32Array(shared.ids),
    lists: new Uint32Array(shared.lists),
    rowOfId: new Int32Array(shared.rowOfId),
    // fromBuffer copies, but only the centroids (nlist x dims), never the vectors.
    centroids: shared.centroids ? faiss.Index.fromBuffer(Buffer.from(shared.centroids)) : null,
    scanner: shared.memory ? WasmScanner.claim(shared.memory, shared.count, shared.dims) : null,
    embedder: undefined,
  };
  views.set(shared.version, view);
  if (views.size > 2) views.delete(views.keys().next().value as string);
  return view;
}

function allowedRows(view: ThreadIndex, allowed: Int32Array): Int32Array {
  const rows = new Int32Array(allowed.length);
  let n = 0;
  for (const id of allowed) {
    const row = id < view.rowOfId.length ? (view.rowOfId[id] as number) : -1;
    if (row >= 0) rows[n++] = row;
  }
  return rows.subarray(0, n);
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
  const { count, nlist, nprobe } = task.index;
  const query = task.vector ?? embedderOf(view)?.embedOne(task.text ?? "");
  if (!query) throw new Error("no query vector and no local embedder for text");
  const rows = task.allowed ? allowedRows(view, task.allowed) : undefined;
  const k = Math.min(task.k, rows ? rows.length : count);
  const plan = planSearch({
    count,
    nlist,
    nprobe,
    k,
    allowed: rows?.length,
    exactThreshold: task.exactThreshold,
  });
  const scanner = scannerFor(view, query);
  let top = new TopK(Math.max(k, 1));
  let scanned = 0;
  let fellBack = false;

  if (k > 0 && plan.strategy === "ivf" && view.centroids) {
    let bitmap: Uint8Array | undefined;
    if (rows) {
      bitmap = new Uint8Array((count + 7) >> 3);
      for (const row of rows) bitmap[row >> 3] = (bitmap[row >> 3] as number) | (1 << (row & 7));
    }
    const { labels } = view.centroids.search(Array.from(query), plan.nprobe);
    for (const list of labels) {
      if (list < 0) continue;
      scanned += scanner.scanRange(view.lists[list] as number, view.lists[list + 1] as number, top, bitmap);
    }
    if (top.size < k) {
      fellBack = true;
      top = new TopK(k);
    }
  }
  if (k > 0 && (plan.strategy === "exact" || fellBack)) {
    if (rows) {
      scanner.scanRows(rows, top);
      scanned += rows.length;
    } else scanned += scanner.scanRange(0, count, top);
  }

  const n = k > 0 ? top.size : 0;
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = view.ids[top.rows[i] as number] as number;
  return {
    ids,
    scores: top.scores.slice(0, n),
    strategy: plan.strategy,
    nprobe: plan.nprobe,
    scanned,
    fellBack,
  };
}
