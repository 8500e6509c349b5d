// The mysql2 pool with explicit limits; the only place connection settings live.
import mysql, { type Pool } from "mysql2/promise";
import { type Deadlines, guardPool } from "./guard.js";

export interface PoolOptions {
  databaseUrl: string;
  size: number;
  queueLimit: number;
  /** Connect without selecting the database (used to create it). */
  withoutDatabase?: boolean;
  /** The request path's deadlines (see guard.ts); CLIs and migrations run without them. */
  deadlines?: Deadlines;
}

export function databaseName(databaseUrl: string): string {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ""));
  if (!/^[A-Za-z0-9_]+$/.test(name))
    throw new Error(`DATABASE_URL needs a database name of [A-Za-z0-9_], got "${name}"`);
  return name;
}

export function createPool({ databaseUrl, size, queueLimit, withoutDatabase, deadlines }: PoolOptions): Pool {
  const url = new URL(databaseUrl);
  const pool = mysql.createPool({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username || "root"),
    password: decodeURIComponent(url.password),
    database: withoutDatabase ? undefined : databaseName(databaseUrl),
    connectionLimit: size,
    maxIdle: size,
    idleTimeout: 60_000,
    // A full queue fails fast instead of growing without bound.
    queueLimit,
    enableKeepAlive: true,
    keepAliveInitialDelay: 10_000,
    connectTimeout: 5_000,
    // Statement shapes are bounded by the filter combinations; cap the per-connection cache anyway.
    maxPreparedStatements: 1000,
    decimalNumbers: true,
    charset: "utf8mb4_unicode_ci",
    timezone: "Z",
    multipleStatements: false,
  });
  return deadlines ? guardPool(pool, deadlines) : pool;
}

/** Pool occupancy for metrics; mysql2 exposes no public counters, so read its documented-by-source fields. */
export function poolStats(pool: Pool): { size: number; inUse: number; idle: number; queued: number } {
  const inner = (pool as unknown as { pool: Record<string, { length: number } | undefined> }).pool;
  const all = inner._allConnections?.length ?? 0;
  const free = inner._freeConnections?.length ?? 0;
  return {
    size: (pool as unknown as { pool: { config: { connectionLimit: number } } }).pool.config.connectionLimit,
    inUse: all - free,
    idle: free,
    queued: inner._connectionQueue?.length ?? 0,
  };
}
