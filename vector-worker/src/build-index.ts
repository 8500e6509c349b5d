// Builds a vector index version from the catalog in MySQL: embed every course (batched, resumable,
// with progress), lay the rows out by IVF list, write the files and manifest, then point CURRENT at it.
import { createHash } from "node:crypto";
import { appendFile, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Embedder } from "@kogi/shared/embedding/embedder";
import type { IdfTable } from "@kogi/shared/embedding/local";
import mysql from "mysql2/promise";
import { checksumOf, FILES, type Manifest, writeCurrentVersion } from "./index-format.js";
import {
  assignLists,
  calibrateNprobe,
  centroidIndex,
  chooseNlist,
  groupByList,
  trainCentroids,
} from "./ivf.js";

export interface CourseText {
  id: number;
  title: string;
  text: string;
}

export interface BuildOptions {
  databaseUrl: string;
  dir: string;
  /** Creates the embedder from the catalog's texts (the local provider learns its IDF table from them). */
  embedder: (corpus: string[]) => { embedder: Embedder & { fingerprint(): string }; idf?: IdfTable };
  batchSize?: number;
  onProgress?: (step: string, done: number, total: number) => void;
}

export async function readCourseTexts(
  databaseUrl: string,
): Promise<{ courses: CourseText[]; catalogVersion: number }> {
  const connection = await mysql.createConnection({ uri: databaseUrl, charset: "utf8mb4_unicode_ci" });
  try {
    const [[meta]] = (await connection.query("SELECT version FROM catalog_meta WHERE id = 1")) as unknown as [
      [{ version: number }],
    ];
    const [rows] = (await connection.query(
      `SELECT c.id, c.subject, c.number, c.title, c.description,
         (SELECT GROUP_CONCAT(g.name SEPARATOR '; ') FROM course_gen_eds cg JOIN gen_eds g ON g.id = cg.gen_ed_id
          WHERE cg.course_id = c.id) AS gen_eds
       FROM courses c ORDER BY c.id`,
    )) as unknown as [
      {
        id: number;
        subject: string;
        number: string;
        title: string;
        description: string;
        gen_eds: string | null;
      }[],
    ];
    return {
      catalogVersion: Number(meta?.version ?? 0),
      courses: rows.map((r) => ({
        id: r.id,
        title: r.title,
        text: [
          `${r.title}.`,
          `${r.subject} ${r.number}.`,
          r.description,
          r.gen_eds ? `Gen ed: ${r.gen_eds}.` : "",
        ]
          .filter(Boolean)
          .join(" "),
      })),
    };
  } finally {
    await connection.end();
  }
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/**
 * Embeddings go to `<dir>/.staging-<key>/embeddings.f32` batch by batch, with the number of rows done
 * in progress.json; a rerun with the same catalog version and embedder continues where it stopped.
 */
async function embedAll(texts: string[], embedder: Embedder, staging: string, options: BuildOptions) {
  const dims = embedder.dims;
  const partial = join(staging, "embeddings.f32");
  const progressFile = join(staging, "progress.json");
  let done = 0;
  if (await exists(progressFile)) {
    done = (JSON.parse(await readFile(progressFile, "utf8")) as { rows: number }).rows;
    const size = (await exists(partial)) ? (await stat(partial)).size : 0;
    if (size < done * dims * 4) done = 0;
    else if (size > done * dims * 4)
      await writeFile(partial, (await readFile(partial)).subarray(0, done * dims * 4));
  }
  if (done === 0) await writeFile(partial, new Uint8Array(0));
  const batchSize = options.batchSize ?? (embedder.provider === "openai" ? 96 : 512);
  for (let from = done; from < texts.length; from += batchSize) {
    const batch = texts.slice(from, from + batchSize);
    const vectors = await embedder.embed(batch);
    const block = new Float32Array(batch.length * dims);
    for (const [i, v] of vectors.entries()) block.set(v, i * dims);
    await appendFile(partial, new Uint8Array(block.buffer));
    done = from + batch.length;
    await writeFile(progressFile, JSON.stringify({ rows: done }));
    options.onProgress?.("embedding", done, texts.length);
  }
  const bytes = await readFile(partial);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

export interface IndexContent {
  dir: string;
  /** count x dims, L2-normalised, in the order of `ids`. */
  matrix: Float32Array;
  ids: Int32Array;
  embedder: { provider: Manifest["provider"]; model: string; dims: number; fingerprint(): string };
  catalogVersion: number;
  idf?: IdfTable;
  /** Short title-like queries (embedded) used to calibrate nprobe. */
  calibrationQueries?: Float32Array[];
  /** Override the IVF list count (0 = no IVF, exact scans only). */
  nlist?: number;
  onProgress?: BuildOptions["onProgress"];
}

/** Lays rows out by IVF list, writes a new version folder and points CURRENT at it. */
export async function writeIndexVersion(content: IndexContent): Promise<Manifest> {
  const { matrix, embedder } = content;
  const dims = embedder.dims;
  const count = content.ids.length;
  const nlist = content.nlist ?? chooseNlist(count);
  let order: Int32Array = Int32Array.from(content.ids.keys());
  let offsets: Uint32Array = Uint32Array.of(0, count);
  let centroids: Float32Array | undefined;
  if (nlist > 0) {
    content.onProgress?.("training", 0, 1);
    centroids = trainCentroids(matrix, dims, nlist);
    content.onProgress?.("assigning", 0, 1);
    ({ order, offsets } = groupByList(assignLists(matrix, dims, centroids), nlist));
  }
  const vectors = new Float32Array(matrix.length);
  const ids = new Int32Array(count);
  order.forEach((source, row) => {
    vectors.set(matrix.subarray(source * dims, (source + 1) * dims), row * dims);
    ids[row] = content.ids[source] as number;
  });
  let calibration = { nprobe: 0, recall: 1 };
  if (centroids) {
    content.onProgress?.("calibrating", 0, 1);
    calibration = calibrateNprobe(vectors, dims, offsets, centroids, content.calibrationQueries ?? []);
  }

  const version = `v${new Date()
    .toISOString()
    .replace(/[-:.TZ]/g, "")
    .slice(0, 17)}-c${content.catalogVersion}-${process.pid}`;
  await mkdir(content.dir, { recursive: true });
  const folder = join(content.dir, version);
  const building = join(content.dir, `.${version}.tmp`);
  await mkdir(building, { recursive: true });
  const parts = [new Uint8Array(vectors.buffer), new Uint8Array(ids.buffer), new Uint8Array(offsets.buffer)];
  await writeFile(join(building, FILES.vectors), parts[0] as Uint8Array);
  await writeFile(join(building, FILES.ids), parts[1] as Uint8Array);
  await writeFile(join(building, FILES.lists), parts[2] as Uint8Array);
  if (centroids) centroidIndex(centroids, dims).write(join(building, FILES.centroids));
  if (content.idf) await writeFile(join(building, FILES.idf), JSON.stringify(content.idf));
  const manifest: Manifest = {
    format: "kogi-vectors-v1",
    version,
    provider: embedder.provider,
    model: embedder.model,
    embedderFingerprint: embedder.fingerprint(),
    dims,
    count,
    metric: "inner_product",
    nlist,
    nprobe: calibration.nprobe,
    calibratedRecall: calibration.recall,
    catalogVersion: content.catalogVersion,
    checksum: checksumOf(parts),
    builtAt: new Date().toISOString(),
  };
  await writeFile(join(building, FILES.manifest), JSON.stringify(manifest, null, 2));
  await rename(building, folder);
  await writeCurrentVersion(content.dir, version);
  return manifest;
}

/** Titles of up to 200 courses spread over the catalog: the kind of short query users send. */
export function calibrationTitles(courses: { title: string }[]): string[] {
  const step = Math.max(1, Math.floor(courses.length / 200));
  return courses
    .filter((_, i) => i % step === 0)
    .slice(0, 200)
    .map((c) => c.title.toLowerCase());
}

export async function buildIndex(options: BuildOptions): Promise<Manifest> {
  const { courses, catalogVersion } = await readCourseTexts(options.databaseUrl);
  const { embedder, idf } = options.embedder(courses.map((c) => c.text));
  const key = createHash("sha256")
    .update(`${catalogVersion}|${embedder.fingerprint()}|${courses.length}|${courses.at(-1)?.id ?? 0}`)
    .digest("hex")
    .slice(0, 16);
  await mkdir(options.dir, { recursive: true });
  const staging = join(options.dir, `.staging-${key}`);
  await mkdir(staging, { recursive: true });
  // A course offered term after term has the same text: each distinct text is embedded (and paid
  // for, with OpenAI) once. UIUC: 10,805 courses, 2,496 texts.
  const texts = [...new Set(courses.map((c) => c.text))];
  const embedded = await embedAll(texts, embedder, staging, options);
  const rowOfText = new Map(texts.map((text, row) => [text, row]));
  const dims = embedder.dims;
  const matrix = new Float32Array(courses.length * dims);
  courses.forEach((course, i) => {
    const row = rowOfText.get(course.text) as number;
    matrix.set(embedded.subarray(row * dims, (row + 1) * dims), i * dims);
  });
  const manifest = await writeIndexVersion({
    dir: options.dir,
    matrix,
    ids: Int32Array.from(courses, (c) => c.id),
    embedder,
    catalogVersion,
    idf,
    calibrationQueries: await embedder.embed(calibrationTitles(courses)),
    onProgress: options.onProgress,
  });
  await rm(staging, { recursive: true, force: true });
  return manifest;
}
