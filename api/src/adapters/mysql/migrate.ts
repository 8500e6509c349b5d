// Versioned schema migrations: numbered .sql files applied once each, in order, under a named lock.
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Pool } from "mysql2/promise";
import { createPool, databaseName } from "./pool.js";

const migrationsDir = fileURLToPath(new URL("./migrations/", import.meta.url));

export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const admin = createPool({ databaseUrl, size: 1, queueLimit: 0, withoutDatabase: true });
  try {
    await admin.query(
      `CREATE DATABASE IF NOT EXISTS \`${databaseName(databaseUrl)}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
  } finally {
    await admin.end();
  }
}

export async function dropDatabase(databaseUrl: string): Promise<void> {
  const admin = createPool({ databaseUrl, size: 1, queueLimit: 0, withoutDatabase: true });
  try {
    await admin.query(`DROP DATABASE IF EXISTS \`${databaseName(databaseUrl)}\``);
  } finally {
    await admin.end();
  }
}

/** Splits a migration file into statements; our files keep one statement per `;`-terminated block. */
function statements(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((part) =>
      part
        .split("\n")
        .filter((line) => !line.trim().startsWith("--"))
        .join("\n")
        .trim(),
    )
    .filter(Boolean);
}

/** Applies pending migrations; returns the names applied. Safe to run from several processes at once. */
export async function migrate(pool: Pool): Promise<string[]> {
  const conn = await pool.getConnection();
  try {
    const [[lock]] = (await conn.query("SELECT GET_LOCK('kogi_migrate', 60) AS ok")) as unknown as [
      [{ ok: number }],
    ];
    if (lock?.ok !== 1) throw new Error("could not take the migration lock within 60 s");
    await conn.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         name VARCHAR(255) NOT NULL PRIMARY KEY,
         applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
       ) ENGINE=InnoDB`,
    );
    const [rows] = (await conn.query("SELECT name FROM schema_migrations")) as unknown as [
      { name: string }[],
    ];
    const done = new Set(rows.map((row) => row.name));
    const files = (await readdir(migrationsDir)).filter((file) => file.endsWith(".sql")).sort();
    const applied: string[] = [];
    for (const file of files) {
      if (done.has(file)) continue;
      // DDL commits implicitly in MySQL, so each statement is its own step; the record comes last.
      for (const statement of statements(await readFile(migrationsDir + file, "utf8")))
        await conn.query(statement);
      await conn.query("INSERT INTO schema_migrations (name) VALUES (?)", [file]);
      applied.push(file);
    }
    return applied;
  } finally {
    await conn.query("SELECT RELEASE_LOCK('kogi_migrate')").catch(() => undefined);
    conn.release();
  }
}
