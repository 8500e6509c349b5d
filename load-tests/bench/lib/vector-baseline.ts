// Parent side of the faiss flat baseline: hand the queries to the faiss-flat.ts child and summarise its timings.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { percentile } from "./vector-load.js";

export interface FlatBaseline {
  ompThreads: number;
  addMs: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** Single-thread queries per second: 1 / mean latency. */
  queriesPerSecond: number;
  rssMb: number;
  results: { id: number; score: number }[][];
}

export async function flatBaseline(options: {
  cwd: string;
  folder: string;
  scratchDir: string;
  queries: Float32Array[];
  k: number;
  ompThreads: number;
  timeoutMs?: number;
}): Promise<FlatBaseline> {
  const dims = options.queries[0]?.length ?? 0;
  const packed = new Float32Array(options.queries.length * dims);
  options.queries.forEach((q, i) => {
    packed.set(q, i * dims);
  });
  const queriesFile = join(options.scratchDir, "queries.f32");
  await writeFile(queriesFile, new Uint8Array(packed.buffer));
  const threads = String(options.ompThreads);
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "load-tests/bench/faiss-flat.ts", options.folder, queriesFile, String(options.k)],
    {
      cwd: options.cwd,
      env: { ...process.env, OMP_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let output = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (data: string) => {
    output += data;
  });
  // Bounded like every run of the bench: a hung faiss call must not hang the benchmark.
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 300_000);
  const [code, signal] = (await once(child, "exit")) as [number | null, string | null];
  clearTimeout(timer);
  if (code !== 0) throw new Error(`faiss-flat.ts exited with ${code ?? signal}`);
  const parsed = JSON.parse(output) as {
    addMs: number;
    totalMs: number;
    latenciesMs: number[];
    results: { id: number; score: number }[][];
    rssMb: number;
  };
  const mean = parsed.totalMs / parsed.latenciesMs.length;
  return {
    ompThreads: options.ompThreads,
    addMs: parsed.addMs,
    p50Ms: round(percentile(parsed.latenciesMs, 50)),
    p99Ms: round(percentile(parsed.latenciesMs, 99)),
    meanMs: round(mean),
    queriesPerSecond: Math.round(1000 / mean),
    rssMb: parsed.rssMb,
    results: parsed.results,
  };
}

const round = (value: number) => Math.round(value * 1000) / 1000;
