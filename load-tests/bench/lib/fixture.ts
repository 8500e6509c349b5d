// The benchmark's private world: its own database and Redis prefix, filled with the real UIUC catalog.
import { readdir } from "node:fs/promises";
import { resolve } from "node:path";
import { dropDatabase, ensureDatabase, migrate } from "@kogi/api/adapters/mysql/migrate";
import { createPool } from "@kogi/api/adapters/mysql/pool";
import { readCatalogFile } from "@kogi/api/catalog/files";
import { importTerms } from "@kogi/api/catalog/importer";
import { loadConfig } from "@kogi/shared/config";
import { Redis } from "ioredis";
import type { Pool } from "mysql2/promise";

export interface Fixture {
  /** Environment for the api child: the same variables main.ts reads. */
  env: Record<string, string>;
  pool: Pool;
  drop(): Promise<void>;
}

/** `name` tells benchmarks apart: database `<name>_<pid>`, Redis prefix `<name with dashes>:<pid>:`. */
export async function createFixture(name = "kogi_bench"): Promise<Fixture> {
  // The pid keeps concurrent runs (and a crashed run's leftovers) apart.
  const env = {
    DATABASE_URL: `mysql://root@127.0.0.1:3306/${name}_${process.pid}`,
    REDIS_URL: "redis://127.0.0.1:6379",
    REDIS_PREFIX: `${name.replaceAll("_", "-")}:${process.pid}:`,
    LOG_LEVEL: "silent",
    HOST: "127.0.0.1",
    PORT: "0",
  };
  const config = loadConfig(env);
  await ensureDatabase(config.DATABASE_URL);
  const pool = createPool({ databaseUrl: config.DATABASE_URL, size: 2, queueLimit: 0 });
  let dropped = false;
  return {
    env,
    pool,
    async drop() {
      if (dropped) return;
      dropped = true;
      await pool.end().catch(() => undefined);
      await deleteRedisPrefix(config.REDIS_URL, config.REDIS_PREFIX);
      await dropDatabase(config.DATABASE_URL);
    },
  };
}

async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

/** Migrates and imports every CSV of the catalog directory, one transaction per file like the CLI. */
export async function importCatalog(pool: Pool, dir: string): Promise<{ files: number; skipped: number }> {
  await migrate(pool);
  const files = (await readdir(dir)).filter((file) => file.endsWith(".csv")).sort();
  if (files.length === 0) throw new Error(`no catalog CSV files in ${dir}`);
  let skipped = 0;
  for (const file of files) {
    const parsed = await readCatalogFile(resolve(dir, file));
    skipped += parsed.skipped.length;
    await importTerms(pool, parsed.terms);
  }
  return { files: files.length, skipped };
}

export interface SubjectInTerm {
  term: string;
  subject: string;
  /** A word that starts a real course title of this subject, so keyword searches find something. */
  keyword: string;
}

/**
 * (term, subject) pairs with a few courses at least, the raw material of distinct cache-miss requests.
 * Tiny subjects are left out: stacked filters on them mostly return empty pages, which are cheap.
 */
export async function subjectsByTerm(pool: Pool): Promise<SubjectInTerm[]> {
  const [rows] = (await pool.query(
    `SELECT t.code AS term, c.subject, MIN(c.title) AS title
     FROM courses c JOIN terms t ON t.id = c.term_id
     GROUP BY t.code, c.subject HAVING COUNT(*) >= 5 ORDER BY t.code, c.subject`,
  )) as unknown as [{ term: string; subject: string; title: string }[]];
  return rows.map((row) => ({
    term: row.term,
    subject: row.subject,
    keyword: (row.title.match(/[A-Za-z]{4,}/)?.[0] ?? row.subject).toLowerCase(),
  }));
}
