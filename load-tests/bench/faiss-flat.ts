// Child process for the vector benchmark: the faiss-node flat exact-search baseline, timed per query, in its own process.
//
// A child (not the bench process) because libgomp reads OMP_NUM_THREADS once, when the addon loads: the
// bench process has faiss loaded with all cores for IVF training, the baseline must run with the
// thread count the parent chose. It also keeps faiss's private copy of the matrix out of the parent.
//
// argv: <index version folder> <queries.f32> <k>; prints one JSON line to stdout.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const faiss = require("faiss-node") as typeof import("faiss-node");

const [folder, queriesFile, kArg] = process.argv.slice(2);
if (!folder || !queriesFile) throw new Error("usage: faiss-flat.ts <index folder> <queries.f32> <k>");
const k = Number(kArg ?? 9);
const manifest = JSON.parse(readFileSync(join(folder, "manifest.json"), "utf8")) as { dims: number };
const dims = manifest.dims;
const floats = (path: string) => {
  const bytes = readFileSync(path);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
};
// The index's own files: rows are grouped by IVF list, ids.i32 maps each row back to its course.
const matrix = floats(join(folder, "vectors.f32"));
const idBytes = readFileSync(join(folder, "ids.i32"));
const ids = new Int32Array(idBytes.buffer.slice(idBytes.byteOffset, idBytes.byteOffset + idBytes.length));
const queries = floats(queriesFile);
const count = matrix.length / dims;

let started = performance.now();
const index = new faiss.IndexFlatIP(dims);
// faiss-node takes plain arrays only: add in chunks so no 100k x 1536 JS array (1.2 GB of doubles) exists.
const chunk = 4096;
for (let from = 0; from < count; from += chunk)
  index.add(Array.from(matrix.subarray(from * dims, Math.min(count, from + chunk) * dims)));
const addMs = performance.now() - started;

const queryCount = queries.length / dims;
const plain = Array.from({ length: queryCount }, (_, q) =>
  Array.from(queries.subarray(q * dims, (q + 1) * dims)),
);
// Warm-up: page in faiss's copy and settle the CPU caches; not timed.
for (let q = 0; q < Math.min(20, queryCount); q++) index.search(plain[q] as number[], k);
const latenciesMs: number[] = [];
const results: { id: number; score: number }[][] = [];
started = performance.now();
for (const query of plain) {
  // Timed as a caller sees it: the JS -> native copy of the query and the result arrays included.
  const t = performance.now();
  const { labels, distances } = index.search(query, k);
  latenciesMs.push(performance.now() - t);
  results.push(labels.map((row, i) => ({ id: ids[row] as number, score: distances[i] as number })));
}
const totalMs = performance.now() - started;
process.stdout.write(
  `${JSON.stringify({
    count,
    ompThreads: process.env.OMP_NUM_THREADS ?? null,
    addMs: Math.round(addMs),
    totalMs,
    latenciesMs,
    results,
    rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
  })}\n`,
);
