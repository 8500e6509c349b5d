// An api with a real vector sidecar on loopback, over a catalog indexed from its own test database.

import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { loadConfig } from "@kogi/shared/config";
import { createLogger } from "@kogi/shared/logger";
import { buildIndex } from "../../../vector-worker/src/build-index.js";
import { embedderForBuild, expectedEmbedder } from "../../../vector-worker/src/embedders.js";
import { IndexStore } from "../../../vector-worker/src/index-store.js";
import { createSearchPool } from "../../../vector-worker/src/pool.js";
import { createSidecarApp } from "../../../vector-worker/src/server.js";
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
 */
export async function createAnswerHarness(
  options: HarnessOptions & { load: (h: Awaited<ReturnType<typeof createHarness>>) => Promise<unknown> },
) {
  const dir = await mkdtemp(join(tmpdir(), "kogi-answer-index-"));
  const embedderConfig = loadConfig({ EMBEDDINGS_PROVIDER: "local", ...options.env });
  const store = new IndexStore(dir, expectedEmbedder(embedderConfig));
  const pool = createSearchPool({ threads: 1, maxQueue: 256 });
  const sidecarApp = createSidecarApp({
    store,
    pool,
    logger: createLogger("silent", "test"),
    exactThreshold: 4000,
    accepting: () => true,
  });
  const sidecar = await listen(sidecarApp.fetch);
  const harness = await createHarness({
    ...options,
    env: { VECTOR_URL: sidecar.url, VECTOR_TIMEOUT_MS: "5000", ...options.env },
  });
  await options.load(harness);
  await buildIndex({
    databaseUrl: harness.config.DATABASE_URL,
    dir,
    embedder: embedderForBuild({
      ...harness.config,
      EMBEDDINGS_PROVIDER: embedderConfig.EMBEDDINGS_PROVIDER,
    }),
  });
  await store.reload();
  const answer = async (body: unknown, headers: Record<string, string> = {}) => {
    const response = await harness.request("/v1/answer", { json: body, headers });
    return { response, body: (await response.json()) as AnswerBody };
  };
  return {
    ...harness,
    answer,
    sidecarUrl: sidecar.url,
    async close() {
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
  query: { rewritten: string; terms: string[]; provider: string; fallback: string[] };
  stages: { name: string; ms: number; cached: boolean }[];
  code?: string;
  errors?: { field: string }[];
}

export type { CatalogTerm };
