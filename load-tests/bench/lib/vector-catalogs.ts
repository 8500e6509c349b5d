// The vector benchmark's two catalogs (real UIUC, synthetic 100k) as course texts, and their timed index builds.
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { generateCatalog } from "@kogi/api/catalog/generator";
import { parseUiucCsv } from "@kogi/api/catalog/uiuc-csv";
import { LocalEmbedder } from "@kogi/shared/embedding/local";
import { calibrationTitles, writeIndexVersion } from "@kogi/vector-worker/build-index";
import type { Manifest } from "@kogi/vector-worker/index-format";

export const DIMS = 1536;
const UIUC_DIR = resolve(
  fileURLToPath(new URL("../../../", import.meta.url)),
  "../shared/datasets/uiuc-course-catalog",
);

export interface CourseText {
  id: number;
  title: string;
  text: string;
}

/**
 * The real UIUC catalog (~10.8k courses), exactly as vector-worker/test/harness.ts catalogTexts() reads
 * it. Copied rather than imported because that harness pulls in the api's test harness (and its
 * database and Redis wiring) just for a path.
 */
export function uiucCourses(): CourseText[] {
  const courses = readdirSync(UIUC_DIR)
    .filter((f) => f.endsWith(".csv"))
    .sort()
    .flatMap((f) =>
      parseUiucCsv(readFileSync(`${UIUC_DIR}/${f}`, "utf8"), f).terms.flatMap((t) => t.courses),
    );
  if (courses.length === 0) throw new Error(`no UIUC courses under ${UIUC_DIR}`);
  // Sparse ids like the database's, so the sidecar's id -> row map is exercised as in production.
  return courses.map((c, i) => ({
    id: 1000 + i * 3,
    title: c.title,
    text: `${c.title}. ${c.subject} ${c.number}. ${c.description}`,
  }));
}

/** The synthetic catalog the api's generator makes for large-scale runs, with the same text layout. */
export function syntheticCourses(courses: number, seed: number): CourseText[] {
  const catalog = generateCatalog({ courses, seed });
  return catalog.terms
    .flatMap((t) => t.courses)
    .map((c, i) => ({
      id: 1000 + i * 3,
      title: c.title,
      text: `${c.title}. ${c.subject} ${c.number}. ${c.description}`,
    }));
}

export interface BuildTimings {
  learnIdfMs: number;
  embedMs: number;
  /** writeIndexVersion as a whole, and its phases (from its progress callbacks). */
  indexMs: number;
  trainMs: number;
  /** Nearest-centroid assignment and the row layout by list. */
  assignMs: number;
  /** nprobe calibration plus the file writes (writeIndexVersion gives no mark between them). */
  calibrateMs: number;
}

export interface BuiltCatalog {
  manifest: Manifest;
  embedder: LocalEmbedder;
  /** count x dims in course order (not the index's list order): the oracle's input. */
  matrix: Float32Array;
  ids: Int32Array;
  /** Lower-cased titles the build calibrated nprobe with; queries avoid them. */
  calibration: Set<string>;
  timings: BuildTimings;
}

const since = (start: number) => Math.round(performance.now() - start);

/** What `npm run index:build` does after reading MySQL: learn IDF, embed, writeIndexVersion. */
export async function buildCatalogIndex(dir: string, courses: CourseText[]): Promise<BuiltCatalog> {
  const texts = courses.map((c) => c.text);
  let start = performance.now();
  const idf = LocalEmbedder.learnIdf(texts);
  const learnIdfMs = since(start);
  const embedder = new LocalEmbedder({ dims: DIMS, idf });
  start = performance.now();
  const matrix = new Float32Array(courses.length * DIMS);
  // embed() yields between chunks; filling the matrix chunk by chunk keeps at most one chunk of arrays alive.
  const chunk = 4096;
  for (let from = 0; from < courses.length; from += chunk) {
    const vectors = await embedder.embed(texts.slice(from, from + chunk));
    for (const [i, v] of vectors.entries()) matrix.set(v, (from + i) * DIMS);
  }
  const embedMs = since(start);

  const titles = calibrationTitles(courses);
  const calibrationQueries = await embedder.embed(titles);
  const phases: Record<string, number> = {};
  start = performance.now();
  const manifest = await writeIndexVersion({
    dir,
    matrix,
    ids: Int32Array.from(courses, (c) => c.id),
    embedder,
    catalogVersion: 1,
    idf,
    calibrationQueries,
    // Progress marks the start of each phase; the gaps between them are the phase times.
    onProgress: (step) => {
      phases[step] ??= performance.now();
    },
  });
  const end = performance.now();
  const mark = (step: string, fallback: number) => phases[step] ?? fallback;
  const trainAt = mark("training", start);
  const assignAt = mark("assigning", trainAt);
  const calibrateAt = mark("calibrating", assignAt);
  return {
    manifest,
    embedder,
    matrix,
    ids: Int32Array.from(courses, (c) => c.id),
    calibration: new Set(titles),
    timings: {
      learnIdfMs,
      embedMs,
      indexMs: Math.round(end - start),
      trainMs: Math.round(assignAt - trainAt),
      assignMs: Math.round(calibrateAt - assignAt),
      calibrateMs: Math.round(end - calibrateAt),
    },
  };
}
