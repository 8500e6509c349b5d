// Start-up work that must happen once per deployment step, not once per worker: create the database if
// needed, apply migrations, and load the synthetic demo catalog into an empty one.
import type { Config } from "@kogi/shared/config";
import type { Logger } from "@kogi/shared/logger";
import { ensureDatabase, migrate } from "./adapters/mysql/migrate.js";
import { createPool } from "./adapters/mysql/pool.js";
import { generateCatalog } from "./catalog/generator.js";
import { importTerms } from "./catalog/importer.js";

/** What `npm start` loads into an empty database (and what the README's examples run on). */
export const demoCatalog = (courses: number) => generateCatalog({ courses, seed: 42 }).terms;

export async function prepareDatabase(config: Config, logger: Logger): Promise<void> {
  await ensureDatabase(config.DATABASE_URL);
  // Its own small pool, without the request path's statement deadlines: a demo import takes a while.
  const pool = createPool({ databaseUrl: config.DATABASE_URL, size: 2, queueLimit: 0 });
  try {
    const applied = await migrate(pool);
    if (applied.length) logger.info({ applied }, "migrations applied");
    const [[{ n: termCount }]] = (await pool.query("SELECT COUNT(*) AS n FROM terms")) as unknown as [
      [{ n: number }],
    ];
    if (Number(termCount) === 0 && config.DEMO_COURSES > 0) {
      logger.info({ courses: config.DEMO_COURSES }, "empty catalog: loading the synthetic demo catalog");
      // Marked synthetic: GET /v1/terms says so, and the first real import removes it.
      await importTerms(pool, demoCatalog(config.DEMO_COURSES), undefined, { synthetic: true });
    }
  } finally {
    await pool.end();
  }
}
