// `npm run catalog:import -- <files...>`: imports UIUC CSV or JSON catalog files, one transaction per file.
// Creates the database and applies the migrations first when they are missing.

import { runCli } from "@kogi/shared/cli";
import { loadConfig } from "@kogi/shared/config";
import { SingleBar } from "cli-progress";
import { ensureDatabase, migrate } from "../adapters/mysql/migrate.js";
import { createPool } from "../adapters/mysql/pool.js";
import { createRedis } from "../adapters/redis.js";
import { CatalogFileError, readCatalogFile } from "../catalog/files.js";
import { type ImportProgress, importTerms, readCatalogVersion } from "../catalog/importer.js";
import { publishCatalogVersion } from "../services/catalog-version.js";

/** The database itself is gone or refusing us: no later file would fare better. */
const CONNECTION_ERRORS = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "PROTOCOL_CONNECTION_LOST",
  "ER_DBACCESS_DENIED_ERROR",
]);

await runCli("catalog:import", async (context) => {
  const files = process.argv.slice(2).filter((arg) => arg !== "--");
  if (files.length === 0) {
    console.error("usage: npm run catalog:import -- <file.csv|file.json> [...]");
    return 2;
  }
  const config = loadConfig();
  Object.assign(context, { databaseUrl: config.DATABASE_URL, redisUrl: config.REDIS_URL });
  await ensureDatabase(config.DATABASE_URL);
  const pool = createPool({ databaseUrl: config.DATABASE_URL, size: 2, queueLimit: 0 });
  const interactive = process.stderr.isTTY;
  let failed = 0;
  try {
    const applied = await migrate(pool);
    if (applied.length) console.log(`schema: applied ${applied.join(", ")}`);
    for (const path of files) {
      try {
        const { terms, skipped } = await readCatalogFile(path);
        const bar = interactive
          ? new SingleBar({ format: `${path} {step} [{bar}] {value}/{total}` })
          : undefined;
        const progress: ImportProgress = ({ step, done, total }) => {
          if (!bar) return;
          if (done === 0) bar.start(total, 0, { step });
          else bar.update(done, { step });
        };
        const results = await importTerms(pool, terms, progress).finally(() => bar?.stop());
        for (const r of results)
          if (r.removedSynthetic)
            console.log(
              `removed the synthetic demo term ${r.term} (${r.courses} generated courses): a real catalog replaces it`,
            );
          else if (r.keptSynthetic)
            console.log(
              `kept the synthetic demo term ${r.term}: ${r.keptSynthetic.calendars} calendar(s) use it; delete them to let an import remove it`,
            );
          else
            console.log(
              `${path}: term ${r.term}: ${r.courses} courses, ${r.sections} sections, ${r.changed ? "imported" : "unchanged"}`,
            );
        for (const s of skipped) console.log(`skipped ${s.file}:${s.line}: ${s.reason}`);
      } catch (error) {
        // A file that cannot be read, parsed or stored is refused alone; losing the database stops the run.
        const code = (error as { code?: string }).code ?? "";
        if (CONNECTION_ERRORS.has(code) || code.startsWith("ER_ACCESS_DENIED")) throw error;
        failed++;
        const message =
          error instanceof CatalogFileError ? error.message : `${path}: ${(error as Error).message}`;
        console.error(`refused ${message} (database unchanged for this file)`);
      }
    }
    const redis = createRedis(config.REDIS_URL, { subscriber: true });
    // ioredis reports a missing Redis through "error" events; the warning below is the one line about it.
    redis.on("error", () => undefined);
    // Running apis also poll the version, so a Redis outage only delays (never loses) the invalidation.
    await publishCatalogVersion(redis, config.REDIS_PREFIX, await readCatalogVersion(pool)).catch(
      (error: Error) =>
        console.warn(
          `could not notify running apis through Redis (${error.message}); they will see the import within seconds`,
        ),
    );
    redis.disconnect();
  } finally {
    await pool.end();
  }
  return failed ? 1 : 0;
});
