// An api with a real vector sidecar on loopback, over a catalog indexed from its own test database.

import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { loadConfig } from "@kogi/shared/config";
import { createLogger } from "@kogi/shared/logger";
import { buildIndex } from "@kogi/vector-worker/build-index";
import { embedderForBuild, expectedEmbedder } from "@kogi/vector-worker/embedders";
import { IndexFollower } from "@kogi/vector-worker/index-follower";
import { buildIfStale, readCatalogState } from "@kogi/vector-worker/index-freshness";
import { IndexStore } from "@kogi/vector-worker/index-store";
import { createSearchPool } from "@kogi/vector-worker/pool";
import { createSidecarApp } from "@kogi/vector-worker/server";
import type { CatalogTerm } from "../catalog/model.js";
import { createHarness, type HarnessOptions } from "./harness.js";

async function listen(
  fetch: (request: Request) => Response | Promise<Response>,
): Promise<{ server: Server; url: string }> {
  return new Promise((resolve) => {
    // Keep the global Response: app.request() in the same process must see the real one.
    const server = serve({ fetch, port: 0, hostname: "127.0.0.1", overrideGlobalObjects: false }, (info) =>
      resolve({ server: server as Server, url: `http://127.0.0.1:${info.port}` }),
    ) as Server;
  });
}

/**
 * `load` imports the catalog before the index is built; env reaches the api's config (and, with
 * EMBEDDINGS_PROVIDER=openai and a key, chooses the OpenAI-compatible embedder for the index too).
 * `followMs`: the sidecar follows the catalog as in production (checks every followMs, rebuilds in
 * process under the build lock); without it the index stays as first built.
 */
export async function createAnswerHarness(
  options: HarnessOptions & {
    load: (h: Awaited<ReturnType<typeof createHarness>>) => Promise<unknown>;
    followMs?: number;
    /** Builds the first index with these settings instead (another embedder: the sidecar refuses it). */
    firstBuildEnv?: Record<string, string>;
  },
) {
  const dir = await mkdtemp(join(tmpdir(), "kogi-answer-index-"));
  const embedderConfig = loadConfig({ EMBEDDINGS_PROVIDER: "local", ...options.env });
  const expected = expectedEmbedder(embedderConfig);
  const store = new IndexStore(dir, expected);
  const pool = createSearchPool({ threads: 1, maxQueue: 256 });
  const logger = createLogger("silent", "test");
  let follower: IndexFollower | undefined;
  const sidecarApp = createSidecarApp({
    store,
    pool,
    logger,
    exactThreshold: 4000,
    accepting: () => true,
    follower: {
      get status() {
        return follower?.status ?? { state: "unknown" as const };
      },
    },
  });
  const sidecar = await listen(sidecarApp.fetch);
  const harness = await createHarness({
    ...options,
    env: { VECTOR_URL: sidecar.url, VECTOR_TIMEOUT_MS: "5000", ...options.env },
  });
  await options.load(harness);
  const embedder = embedderForBuild({
    ...harness.config,
    EMBEDDINGS_PROVIDER: embedderConfig.EMBEDDINGS_PROVIDER,
  });
  const databaseUrl = harness.config.DATABASE_URL;
  await buildIndex({
    databaseUrl,
    dir,
    embedder: options.firstBuildEnv
      ? embedderForBuild(loadConfig({ EMBEDDINGS_PROVIDER: "local", ...options.firstBuildEnv }))
      : embedder,
  });
  await store.reload().catch((error: Error) => {
    if (!options.firstBuildEnv) throw error;
  });
  if (options.followMs) {
    follower = new IndexFollower({
      store,
      expected,
      catalogState: () => readCatalogState(harness.pool),
      build: () => buildIfStale({ databaseUrl, dir, embedder, expected }),
      intervalMs: options.followMs,
      logger,
    });
    follower.start();
  }
  const answer = async (body: unknown, headers: Record<string, string> = {}) => {
    const response = await harness.request("/v1/answer", { json: body, headers });
    return { response, body: (await response.json()) as AnswerBody };
  };
  return {
    ...harness,
    answer,
    sidecarUrl: sidecar.url,
    store,
    follower: () => follower,
    async close() {
      await follower?.stop();
      await harness.close();
      await new Promise((resolve) => sidecar.server.close(resolve));
      await pool.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export type AnswerHarness = Awaited<ReturnType<typeof createAnswerHarness>>;

export interface AnswerBody {
  results: {
    id: number;
    term: string;
    subject: string;
    number: string;
    title: string;
    score: number;
    why: { terms: string[]; lexicalRank: number | null; vectorRank: number | null };
    otherTerms: { id: number; term: string }[];
    crossListings: { id: number; subject: string; number: string }[];
    sections: { crn: string; inCalendar: boolean; conflicts: string[] }[];
  }[];
  query: { rewritten: string; terms: string[]; provider: string; fallback: string[]; indexStale: boolean };
  stages: { name: string; ms: number; cached: boolean }[];
  code?: string;
  errors?: { field: string }[];
}

export type { CatalogTerm };
