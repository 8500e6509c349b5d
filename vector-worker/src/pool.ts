// The Piscina pool of search threads: fixed size, bounded queue, threads kept alive (no churn).
import { createHash } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";

export interface PoolOptions {
  /** 0 = one per core. */
  threads: number;
  maxQueue: number;
}

const require = createRequire(import.meta.url);

/**
 * The threads' script, plain JavaScript either way. Loading TypeScript through tsx in every thread cost
 * ~26 MiB of resident memory per thread against ~9 MiB for a bundle (measured with 1 vs 4 threads), and
 * memory per thread is what must stay small next to the shared vectors. Built (`npm run build`), this
 * module is vector-worker/dist/main.js and the build wrote worker.js beside it; run from source (tsx,
 * tests), worker.ts is bundled now.
 */
export function workerScript(): string {
  if (!import.meta.url.endsWith(".ts")) return fileURLToPath(new URL("./worker.js", import.meta.url));
  return bundledWorker();
}

export function bundledWorker(): string {
  // Loaded here only: the production image has no esbuild (nor any other compiler).
  const { buildSync } = require("esbuild") as typeof import("esbuild");
  const faissNodePath = require.resolve("faiss-node");
  const entry = fileURLToPath(new URL("./worker.ts", import.meta.url));
  const result = buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    write: false,
    external: ["faiss-node"],
  });
  // The native addon stays outside the bundle; the bundle lives in tmp, so require it by absolute path
  // (buildSync takes no resolver plugins, hence the rewrite).
  const code = (result.outputFiles[0]?.text ?? "").replace(
    /(\brequire\d*)\("faiss-node"\)/g,
    (_, fn: string) => `${fn}(${JSON.stringify(faissNodePath)})`,
  );
  if (!code.includes(faissNodePath)) throw new Error("worker bundle: faiss-node require not found");
  const file = join(
    tmpdir(),
    `kogi-vector-worker-${createHash("sha256").update(code).digest("hex").slice(0, 16)}.mjs`,
  );
  if (!existsSync(file)) writeFileSync(file, code);
  return file;
}

export function createSearchPool({ threads, maxQueue }: PoolOptions): Piscina {
  const size = threads || availableParallelism();
  return new Piscina({
    filename: workerScript(),
    minThreads: size,
    maxThreads: size,
    // Piscina's default idleTimeout of 0 ends idle threads, and each restart re-copies the centroids.
    idleTimeout: Number.POSITIVE_INFINITY,
    maxQueue,
    concurrentTasksPerWorker: 1,
    // By default a task that cannot be placed goes back to the END of the queue: with one thread that
    // starved some searches for seconds (bench: max 8 s vs 153 ms with strict FIFO).
    stricterFIFO: true,
    // The script is plain JS: no TypeScript loader in the threads.
    execArgv: [],
  });
}
