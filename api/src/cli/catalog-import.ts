// `npm run catalog:import -- <files...>`: imports UIUC CSV or JSON catalog files, one transaction per file.

import { loadConfig } from "@kogi/shared/config";
import { SingleBar } from "cli-progress";
import { migrate } from "../adapters/mysql/migrate.js";
import { createPool } from "../adapters/mysql/pool.js";
import { createRedis } from "../adapters/redis.js";
import { CatalogFileError, readCatalogFile } from "../catalog/files.js";
import { type ImportProgress, importTerms, readCatalogVersion } from "../catalog/importer.js";
import { publishCatalogVersion } from "../services/catalog-version.js";

const files = process.argv.slice(2).filter((arg) => arg !== "--");
if (files.length === 0) {
  console.error("usage: npm run catalog:import -- <file.csv|file.json> [...]");
  process.exit(2);
}

const config = loadConfig();
const pool = createPool({ databaseUrl: config.DATABASE_URL, size: 2, queueLimit: 0 });
const interactive = process.stderr.isTTY;
let failed = 0;
try {
  await migrate(pool);
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
      const results = await importTerms(pool, terms, progress);
      bar?.stop();
      for (const r of results)
        console.log(
          `${path}: term ${r.term}: ${r.courses} courses, ${r.sections} sections, ${r.changed ? "imported" : "unchanged"}`,
        );
      for (const s of skipped) console.log(`skipped ${s.file}:${s.line}: ${s.reason}`);
    } catch (error) {
      failed++;
      const message =
        error instanceof CatalogFileError ? error.message : `${path}: ${(error as Error).message}`;
      console.error(`refused ${message} (database unchanged for this file)`);
    }
  }
  const redis = createRedis(config.REDIS_URL, { subscriber: true });
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
process.exit(failed ? 1 : 0);
