// The answer benchmark's world: its database with the UIUC catalog, course titles, and the two vector indexes.
import { loadConfig } from "@kogi/shared/config";
import { buildIndex } from "@kogi/vector-worker/build-index";
import { embedderForBuild } from "@kogi/vector-worker/embedders";
import type { Manifest } from "@kogi/vector-worker/index-format";
import type { Pool } from "mysql2/promise";

/** Distinct course titles: the raw material of distinct questions ("a course about <title> <n>"). */
export async function courseTitles(pool: Pool): Promise<string[]> {
  const [rows] = (await pool.query("SELECT DISTINCT title FROM courses ORDER BY title")) as unknown as [
    { title: string }[],
  ];
  const titles = rows.map((row) => row.title.trim()).filter((title) => title.length > 0);
  if (titles.length === 0) throw new Error("no course titles in the catalog");
  return titles;
}

export interface BuiltIndex {
  provider: "local" | "openai";
  dir: string;
  manifest: Pick<Manifest, "version" | "count" | "nlist" | "nprobe" | "model">;
  ms: number;
}

/**
 * What `npm run index:build` does, from the benchmark's own database. For "openai" the embedder is the
 * OpenAI client pointed at the fake, so the index and the api's query vectors come from the same model.
 */
export async function buildVectorIndex(
  databaseUrl: string,
  dir: string,
  provider: "local" | "openai",
  openai: { apiKey: string; baseUrl: string },
): Promise<BuiltIndex> {
  const started = performance.now();
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    EMBEDDINGS_PROVIDER: provider,
    ...(provider === "openai" ? { OPENAI_API_KEY: openai.apiKey, OPENAI_BASE_URL: openai.baseUrl } : {}),
  });
  const manifest = await buildIndex({ databaseUrl, dir, embedder: embedderForBuild(config) });
  const { version, count, nlist, nprobe, model } = manifest;
  return {
    provider,
    dir,
    manifest: { version, count, nlist, nprobe, model },
    ms: Math.round(performance.now() - started),
  };
}
