// Test harness: an isolated database and Redis prefix per harness, the real adapters, and the app.
import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "@kogi/shared/config";
import { createLogger } from "@kogi/shared/logger";
import { Redis } from "ioredis";
import { dropDatabase, ensureDatabase, migrate } from "../adapters/mysql/migrate.js";
import { createApp } from "../app.js";
import { readCatalogFile } from "../catalog/files.js";
import { importTerms } from "../catalog/importer.js";
import type { CatalogTerm } from "../catalog/model.js";
import { createServices } from "../wiring.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const UIUC_DIR = resolve(repoRoot, "../shared/datasets/uiuc-course-catalog");
export const uiucFiles = () =>
  readdirSync(UIUC_DIR)
    .filter((f) => f.endsWith(".csv"))
    .sort()
    .map((f) => resolve(UIUC_DIR, f));

export interface HarnessOptions {
  redisUrl?: string;
  env?: Record<string, string>;
}

export async function createHarness(options: HarnessOptions = {}) {
  const id = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const config = loadConfig({
    DATABASE_URL: `mysql://root@127.0.0.1:3306/kogi_test_${id}`,
    REDIS_URL: options.redisUrl ?? "redis://127.0.0.1:6379",
    REDIS_PREFIX: `kogi-test:${id}:`,
    LOG_LEVEL: "silent",
    DB_POOL_SIZE: "8",
    // Nothing listens here unless a test starts a sidecar: /ready then reports vector as down.
    VECTOR_URL: "http://127.0.0.1:9",
    VECTOR_TIMEOUT_MS: "500",
    // Headroom for ~70 files sharing 2 cores and one MariaDB; tests of the deadlines themselves set
    // their own (database.fault.test.ts: 1 s).
    DB_STATEMENT_TIMEOUT_MS: "10000",
    ...options.env,
  });
  await ensureDatabase(config.DATABASE_URL);
  // KOGI_TEST_LOG=debug shows what the app logs during a test run.
  const wiring = await createServices(config, createLogger(process.env.KOGI_TEST_LOG ?? "silent", "test"));
  await migrate(wiring.pool);
  await wiring.start();
  const app = createApp(wiring.services);

  const harness = {
    config,
    app,
    services: wiring.services,
    pool: wiring.pool,
    redis: wiring.redis,
    /** Imports terms the way the CLI does, then lets the app see the new catalog version at once. */
    async importTerms(
      terms: CatalogTerm[],
      progress?: Parameters<typeof importTerms>[2],
      options?: Parameters<typeof importTerms>[3],
    ) {
      const results = await importTerms(wiring.pool, terms, progress, options);
      await wiring.services.catalogVersion.refresh();
      return results;
    },
    async importFiles(paths: string[]) {
      const skipped = [];
      for (const path of paths) {
        const file = await readCatalogFile(path);
        skipped.push(...file.skipped);
        await harness.importTerms(file.terms);
      }
      return skipped;
    },
    request(path: string, init: RequestInit & { json?: unknown } = {}) {
      const { json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (json !== undefined) headers.set("content-type", "application/json");
      return app.request(path, {
        ...rest,
        method: rest.method ?? (json !== undefined ? "POST" : "GET"),
        headers,
        body: json !== undefined ? JSON.stringify(json) : rest.body,
      });
    },
    async search(body: unknown, headers: Record<string, string> = {}) {
      const response = await harness.request("/v1/courses/search", { json: body, headers });
      return { response, body: (await response.json()) as SearchBody };
    },
    async close() {
      const cleaner = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await cleaner.connect();
        let cursor = "0";
        do {
          const [next, keys] = await cleaner.scan(cursor, "MATCH", `${config.REDIS_PREFIX}*`, "COUNT", 1000);
          if (keys.length) await cleaner.del(...keys);
          cursor = next;
        } while (cursor !== "0");
      } catch {
        // Redis may be the thing a test stopped; its keys died with it.
      } finally {
        cleaner.disconnect();
      }
      await wiring.close();
      await dropDatabase(config.DATABASE_URL);
    },
  };
  return harness;
}

export type Harness = Awaited<ReturnType<typeof createHarness>>;

export interface SearchBody {
  results: {
    id: number;
    term: string;
    subject: string;
    number: string;
    title: string;
    creditHours: { min: number; max: number };
    genEd: string[];
    sections: {
      crn: string;
      type: string;
      days: string;
      start: string | null;
      end: string | null;
      status: string;
      instructors: string[];
      meetings: { type: string; days: string; start: string | null; end: string | null }[];
      inCalendar: boolean;
      conflicts: string[];
    }[];
  }[];
  nextCursor: string | null;
  code?: string;
  errors?: { field: string; message: string }[];
}

/** Follows nextCursor until the end; returns every page's results in order. */
export async function searchAll(
  harness: Harness,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  const all: SearchBody["results"] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const { response, body: result } = await harness.search(
      { ...body, ...(cursor ? { cursor } : {}) },
      headers,
    );
    if (response.status !== 200)
      throw new Error(`search failed ${response.status}: ${JSON.stringify(result)}`);
    all.push(...result.results);
    cursor = result.nextCursor;
    if (!cursor) return all;
  }
  throw new Error("pagination did not end");
}
