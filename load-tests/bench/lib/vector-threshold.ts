// Planner threshold evidence: exact subset scans vs IVF probes at growing allowed-set sizes, in-process on the real worker code.
import { LOCAL_EMBEDDING_MODEL } from "@kogi/shared/embedding/local";
import { loadIndexVersion } from "@kogi/vector-worker/index-store";
import { search } from "@kogi/vector-worker/worker";
import { recallAtK } from "./vector-exact.js";
import { percentile } from "./vector-load.js";
import { randomSubset } from "./vector-queries.js";

export interface ThresholdRow {
  allowed: number;
  exactP50Ms: number;
  exactP90Ms: number;
  ivfP50Ms: number;
  ivfP90Ms: number;
  ivfNprobe: number;
  /** Mean allowed rows the IVF plan scored. */
  ivfScanned: number;
  /** IVF answers that found fewer than k allowed rows and re-ran exact. */
  ivfFellBack: number;
  /** Recall@k of the IVF plan against the exact plan's answer. */
  ivfRecall: number;
  faster: "exact" | "ivf";
}

export interface ThresholdResult {
  nlist: number;
  nprobe: number;
  count: number;
  /** Unfiltered IVF p50 for scale. */
  unfilteredIvfP50Ms: number;
  rows: ThresholdRow[];
  /** Smallest allowed size from which IVF is faster at every larger size measured (undefined: never). */
  crossover: number | undefined;
}

const round = (value: number) => Math.round(value * 1000) / 1000;

/**
 * Calls the worker's `search` (what each Piscina thread runs for a search task) directly, with an exactThreshold that
 * forces one strategy or the other: Infinity = always exact, 0 = always IVF. Same index files, same
 * kernel, no HTTP or thread hand-off, so the difference is the strategies' own cost.
 */
export async function measureThreshold(options: {
  dir: string;
  version: string;
  ids: Int32Array;
  queries: Float32Array[];
  sizes: number[];
  k: number;
}): Promise<ThresholdResult> {
  const loaded = await loadIndexVersion(options.dir, options.version, {
    provider: "local",
    model: LOCAL_EMBEDDING_MODEL,
    dims: options.queries[0]?.length ?? 0,
  });
  const index = loaded.shared;
  const run = (vector: Float32Array, allowed: Int32Array | undefined, exactThreshold: number) => {
    const started = performance.now();
    const output = search({ index, vector, k: options.k, allowed, exactThreshold });
    return { ms: performance.now() - started, output };
  };
  // JIT warm-up of both paths (and the thread-local faiss centroid copy), untimed.
  const warm = randomSubset(options.ids, Math.min(2000, options.ids.length), 1);
  for (const query of options.queries.slice(0, 20)) {
    run(query, warm, Number.POSITIVE_INFINITY);
    run(query, warm, 0);
    run(query, undefined, 0);
  }
  const unfiltered = options.queries.map((q) => run(q, undefined, 0).ms);

  const rows: ThresholdRow[] = [];
  for (const [i, size] of options.sizes.entries()) {
    if (size > options.ids.length) continue;
    const allowed = randomSubset(options.ids, size, 500 + i);
    const exact: number[] = [];
    const ivf: number[] = [];
    let nprobe = 0;
    let scanned = 0;
    let fellBack = 0;
    let recall = 0;
    // Interleaved per query, so drift (frequency, a noisy neighbour) hits both strategies alike.
    for (const query of options.queries) {
      const a = run(query, allowed, Number.POSITIVE_INFINITY);
      const b = run(query, allowed, 0);
      if (a.output.strategy !== "exact" || b.output.strategy !== "ivf")
        throw new Error(`threshold run at ${size}: the forced strategies were not taken`);
      exact.push(a.ms);
      ivf.push(b.ms);
      nprobe = b.output.nprobe;
      scanned += b.output.scanned;
      if (b.output.fellBack) fellBack++;
      const exactAnswer = Array.from(a.output.scores, (score) => ({ score }));
      recall += recallAtK(
        Array.from(b.output.scores, (score) => ({ score })),
        exactAnswer,
        options.k,
      );
    }
    const exactP50 = percentile(exact, 50);
    const ivfP50 = percentile(ivf, 50);
    rows.push({
      allowed: size,
      exactP50Ms: round(exactP50),
      exactP90Ms: round(percentile(exact, 90)),
      ivfP50Ms: round(ivfP50),
      ivfP90Ms: round(percentile(ivf, 90)),
      ivfNprobe: nprobe,
      ivfScanned: Math.round(scanned / options.queries.length),
      ivfFellBack: fellBack,
      ivfRecall: round(recall / options.queries.length),
      faster: ivfP50 < exactP50 ? "ivf" : "exact",
    });
  }
  let crossover: number | undefined;
  for (let i = rows.length - 1; i >= 0 && rows[i]?.faster === "ivf"; i--) crossover = rows[i]?.allowed;
  return {
    nlist: index.nlist,
    nprobe: index.nprobe,
    count: index.rows,
    unfilteredIvfP50Ms: round(percentile(unfiltered, 50)),
    rows,
    crossover,
  };
}
