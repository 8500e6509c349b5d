// Deadlines and one error type for the request path's database: every statement has a client-side
// deadline (a frozen server never answers, so a server-side max_statement_time would not help), taking
// a connection from the pool waits at most acquireMs, a connection that timed out is destroyed, and a
// failure of the database itself (not of the SQL) becomes DatabaseUnavailableError, which the api
// answers with 503 + Retry-After.
import type { Pool, PoolConnection } from "mysql2/promise";

export class DatabaseUnavailableError extends Error {
  override name = "DatabaseUnavailableError";
}

export interface Deadlines {
  statementMs: number;
  acquireMs: number;
}

// Errors that say the database (or the connection to it) failed, not the statement.
const UNAVAILABLE_CODES = new Set([
  "PROTOCOL_SEQUENCE_TIMEOUT", // mysql2's own timeout, when a caller passes one
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "ER_CON_COUNT_ERROR",
  "ER_SERVER_SHUTDOWN",
  "ER_STATEMENT_TIMEOUT", // MariaDB max_statement_time
  "ER_QUERY_TIMEOUT", // MySQL max_execution_time
]);
const UNAVAILABLE_MESSAGES = /Pool is closed|Queue limit reached|closed state|Connection lost/i;

export function isDatabaseFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code, fatal } = error as { code?: string; fatal?: boolean };
  return (
    fatal === true ||
    (code !== undefined && UNAVAILABLE_CODES.has(code)) ||
    UNAVAILABLE_MESSAGES.test(error.message)
  );
}

function translate(error: unknown): never {
  if (error instanceof DatabaseUnavailableError || !isDatabaseFailure(error)) throw error;
  throw new DatabaseUnavailableError(`the database is unavailable: ${(error as Error).message}`, {
    cause: error,
  });
}

type Runner = (sql: unknown, values?: unknown) => Promise<unknown>;

/**
 * `work` or DatabaseUnavailableError after `ms`, by our own timer: mysql2's per-query `timeout` does not
 * cover the PREPARE that `execute()` sends first, nor a statement queued behind one that timed out on
 * the same connection (measured on a frozen server: both wait for ever).
 */
function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  // What the abandoned statement does later (fails when its connection is destroyed) has no reader.
  work.catch(() => undefined);
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new DatabaseUnavailableError(`the database did not answer within ${ms} ms`));
    }, ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * Every command on the connection has the statement deadline. A connection whose command timed out or
 * failed at the connection level is destroyed, never handed back to the pool: a frozen server would
 * otherwise leave it holding a command that never ends, and every later statement on it would wait.
 */
function guardConnection(conn: PoolConnection, deadlines: Deadlines): PoolConnection {
  let broken = false;
  const discard = () => {
    if (broken) return;
    broken = true;
    conn.destroy();
  };
  const guarded = (work: () => Promise<unknown>) =>
    withDeadline(work(), deadlines.statementMs, discard).catch((error: unknown) => {
      if (isDatabaseFailure(error)) discard();
      return translate(error);
    });
  return new Proxy(conn, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property === "query" || property === "execute")
        return (sql: unknown, values?: unknown) => guarded(() => (value as Runner).call(target, sql, values));
      if (
        property === "beginTransaction" ||
        property === "commit" ||
        property === "rollback" ||
        property === "ping"
      )
        return () => guarded(() => (value as () => Promise<unknown>).call(target));
      if (property === "release") return () => (broken ? undefined : target.release());
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** A pool whose every use has a deadline; its type is mysql2's, so repositories do not change. */
export function guardPool(pool: Pool, deadlines: Deadlines): Pool {
  const acquire = async (): Promise<PoolConnection> => {
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const pending = pool.getConnection();
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new DatabaseUnavailableError(`no database connection within ${deadlines.acquireMs} ms`));
      }, deadlines.acquireMs);
    });
    // A connection that arrives after we gave up goes straight back.
    pending.then(
      (conn) => timedOut && conn.release(),
      () => undefined,
    );
    try {
      return guardConnection(await Promise.race([pending, late]).catch(translate), deadlines);
    } finally {
      clearTimeout(timer);
    }
  };
  const run = (method: "query" | "execute") => async (sql: unknown, values?: unknown) => {
    const conn = await acquire();
    try {
      return await (conn[method] as unknown as Runner)(sql, values);
    } finally {
      conn.release();
    }
  };
  const overrides: Record<string | symbol, unknown> = {
    getConnection: acquire,
    query: run("query"),
    execute: run("execute"),
  };
  return new Proxy(pool, {
    get(target, property, receiver) {
      if (property in overrides) return overrides[property];
      const value = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
