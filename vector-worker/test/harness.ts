// Sidecar test harness: a real index built from the synthetic catalog, a real Piscina pool, the real app.

import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseUiucCsv } from "@kogi/api/catalog/uiuc-csv";
import { UIUC_DIR } from "@kogi/api/testutil/harness";
import { LOCAL_EMBEDDING_MODEL, LocalEmbedder } from "@kogi/shared/embedding/local";
import { createLogger } from "@kogi/shared/logger";
import { calibrationTitles, writeIndexVersion } from "../src/build-index.js";
import { IndexStore } from "../src/index-store.js";
import { createSearchPool } from "../src/pool.js";
import { createSidecarApp } from "../src/server.js";

export const DIMS = 1536;

/** The real UIUC catalog's courses (~10.8k), with sparse ids like the database's. */
export function catalogTexts(limit = Number.POSITIVE_INFINITY) {
  const courses = readdirSync(UIUC_DIR)
    .filter((f) => f.endsWith(".csv"))
    .sort()
    .flatMap((f) =>
      parseUiucCsv(readFileSync(`${UIUC_DIR}/${f}`, "utf8"), f).terms.flatMap((t) => t.courses),
    );
  return courses.slice(0, limit).map((c, i) => ({
    id: 1000 + i * 3,
    title: c.title,
    text: `${c.title}. ${c.subject} ${c.number}. ${c.description}`,
  }));
}

/** Embeds the texts and writes an index version into `dir`; returns the row-ordered matrix for oracles. */
export async function buildTestIndex(
  dir: string,
  courses: { id: number; title: string; text: string }[],
  catalogVersion = 1,
  nlist?: number,
) {
  const idf = LocalEmbedder.learnIdf(courses.map((c) => c.text));
  const embedder = new LocalEmbedder({ dims: DIMS, idf });
  const vectors = await embedder.embed(courses.map((c) => c.text));
  const matrix = new Float32Array(courses.length * DIMS);
  for (const [i, v] of vectors.entries()) matrix.set(v, i * DIMS);
  const manifest = await writeIndexVersion({
    dir,
    matrix,
    ids: Int32Array.from(courses, (c) => c.id),
    embedder,
    catalogVersion,
    idf,
    nlist,
    calibrationQueries: await embedder.embed(calibrationTitles(courses)),
  });
  return { manifest, embedder, matrix, ids: courses.map((c) => c.id) };
}

/** Brute force over the matrix: the oracle every search result is checked against. */
export function exactTopK(
  matrix: Float32Array,
  ids: number[],
  query: Float32Array,
  k: number,
  allowed?: Set<number>,
) {
  const scored: { id: number; score: number }[] = [];
  ids.forEach((id, row) => {
    if (allowed && !allowed.has(id)) return;
    let score = 0;
    for (let j = 0; j < DIMS; j++) score += (matrix[row * DIMS + j] as number) * (query[j] as number);
    scored.push({ id, score });
  });
  return scored.sort((a, b) => b.score - a.score).slice(0, k);
}

export async function createSidecar(
  options: {
    courses?: number;
    threads?: number;
    maxQueue?: number;
    nlist?: number;
    exactThreshold?: number;
  } = {},
) {
  const dir = await mkdtemp(join(tmpdir(), "kogi-vectors-"));
  const courses = catalogTexts(options.courses);
  const built = await buildTestIndex(dir, courses, 1, options.nlist);
  const store = new IndexStore(dir, { provider: "local", model: LOCAL_EMBEDDING_MODEL, dims: DIMS });
  await store.reload();
  const pool = createSearchPool({ threads: options.threads ?? 2, maxQueue: options.maxQueue ?? 256 });
  const app = createSidecarApp({
    store,
    pool,
    logger: createLogger("silent", "test"),
    exactThreshold: options.exactThreshold ?? 4000,
    accepting: () => true,
  });
  const search = async (body: unknown) => {
    const response = await app.request("/v1/search", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as SearchBody,
    };
  };
  return {
    dir,
    courses,
    store,
    pool,
    app,
    search,
    ...built,
    async close() {
      await pool.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface SearchBody {
  results: { id: number; score: number }[];
  plan: { strategy: string; nprobe: number; scanned: number; fellBack: boolean };
  index: { version: string; catalogVersion: number; unknownIds: number };
  embedded?: { vectorBase64: string; fingerprint: string; ms: number };
  code?: string;
  errors?: { field: string; message: string }[];
}

/** Recall that treats ties fairly: a hit is any result scoring at least the k-th exact score. */
export function recallAtK(results: { score: number }[], exact: { score: number }[], k: number): number {
  const threshold = (exact[Math.min(k, exact.length) - 1]?.score ?? Number.NEGATIVE_INFINITY) - 1e-5;
  return results.slice(0, k).filter((r) => r.score >= threshold).length / Math.min(k, exact.length);
}
