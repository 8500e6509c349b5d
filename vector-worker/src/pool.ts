// The Piscina pool of search threads: fixed size, bounded queue, threads kept alive (no churn).
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";

export interface PoolOptions {
  /** 0 = one per core. */
  threads: number;
  maxQueue: number;
}

export function createSearchPool({ threads, maxQueue }: PoolOptions): Piscina {
  const size = threads || availableParallelism();
  const workerFile = new URL("./worker.ts", import.meta.url);
  return new Piscina({
    filename: fileURLToPath(workerFile),
    minThreads: size,
    maxThreads: size,
    // Piscina's default idleTimeout of 0 ends idle threads, and each restart re-copies the centroids.
    idleTimeout: Number.POSITIVE_INFINITY,
    maxQueue,
    concurrentTasksPerWorker: 1,
    // The worker source is TypeScript: let each thread load it through tsx, whatever started us.
    execArgv: [...process.execArgv.filter((arg) => !arg.includes("tsx")), "--import", "tsx"],
  });
}
