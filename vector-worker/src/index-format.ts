// The on-disk vector index: one folder per version, a CURRENT pointer, and a manifest that says what it holds.
//
// <dir>/CURRENT                 name of the live version
// <dir>/<version>/manifest.json the Manifest below
// <dir>/<version>/vectors.f32   count x dims float32, L2-normalised, rows grouped by IVF list
// <dir>/<version>/ids.i32       course id of each row
// <dir>/<version>/lists.u32     nlist + 1 row offsets: list i is rows [lists[i], lists[i+1])
// <dir>/<version>/centroids.faiss  faiss IndexFlatIP over the nlist centroids (absent for small catalogs)
// <dir>/<version>/idf.json      local embedder only: the IDF table learned from this catalog
import { createHash } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";

export const manifestSchema = z.object({
  format: z.literal("kogi-vectors-v1"),
  version: z.string(),
  provider: z.enum(["local", "openai"]),
  model: z.string(),
  /** Embedder identity incl. its IDF table: queries must be embedded by the same one. */
  embedderFingerprint: z.string(),
  dims: z.number().int().positive(),
  count: z.number().int().min(0),
  metric: z.literal("inner_product"),
  nlist: z.number().int().min(0),
  /** Lists an unfiltered query probes, calibrated at build time for recall@9 (0 without IVF). */
  nprobe: z.number().int().min(0),
  /** Recall@9 the calibration measured at that nprobe (leave-one-out on sample rows). */
  calibratedRecall: z.number().min(0).max(1),
  catalogVersion: z.number().int().min(0),
  /** sha256 over vectors.f32 + ids.i32 + lists.u32, checked on load. */
  checksum: z.string(),
  builtAt: z.string(),
});
export type Manifest = z.infer<typeof manifestSchema>;

export const FILES = {
  manifest: "manifest.json",
  vectors: "vectors.f32",
  ids: "ids.i32",
  lists: "lists.u32",
  centroids: "centroids.faiss",
  idf: "idf.json",
} as const;

export function checksumOf(parts: Uint8Array[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest("hex");
}

export async function readCurrentVersion(dir: string): Promise<string | undefined> {
  try {
    return (await readFile(join(dir, "CURRENT"), "utf8")).trim() || undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Atomically points CURRENT at a version (write + rename), so a reader never sees half a name. */
export async function writeCurrentVersion(dir: string, version: string): Promise<void> {
  const temp = join(dir, `.CURRENT.${process.pid}`);
  await writeFile(temp, `${version}\n`);
  await rename(temp, join(dir, "CURRENT"));
}

export async function readManifest(folder: string): Promise<Manifest> {
  const parsed = manifestSchema.safeParse(JSON.parse(await readFile(join(folder, FILES.manifest), "utf8")));
  if (!parsed.success)
    throw new Error(
      `${folder}: invalid manifest (${parsed.error.issues.map((i) => i.path.join(".")).join(", ")})`,
    );
  return parsed.data;
}
