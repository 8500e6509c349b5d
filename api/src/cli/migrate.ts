// `npm run migrate`: creates the database if needed and applies pending migrations.
import { runCli } from "@kogi/shared/cli";
import { loadConfig } from "@kogi/shared/config";
import { ensureDatabase, migrate } from "../adapters/mysql/migrate.js";
import { createPool } from "../adapters/mysql/pool.js";

await runCli("migrate", async (context) => {
  const config = loadConfig();
  context.databaseUrl = config.DATABASE_URL;
  await ensureDatabase(config.DATABASE_URL);
  const pool = createPool({ databaseUrl: config.DATABASE_URL, size: 1, queueLimit: 0 });
  try {
    const applied = await migrate(pool);
    console.log(applied.length ? `applied ${applied.join(", ")}` : "schema is up to date");
  } finally {
    await pool.end();
  }
  return 0;
});
