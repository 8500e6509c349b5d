// Entry-point glue for the command-line tools (npm run migrate, catalog:import, catalog:generate,
// index:build): a failure ends the process with one sentence on stderr that says what is wrong and what to
// do, and exit status 1; never a stack trace (KOGI_DEBUG=1 adds it, for bug reports).
import { ConfigError } from "./config.js";

/** A failure whose message is already the sentence to show. */
export class CliError extends Error {}

/** The settings a failure is explained against: which server DATABASE_URL and REDIS_URL name. */
export interface CliContext {
  databaseUrl?: string;
  redisUrl?: string;
}

interface SystemError extends Error {
  code?: string;
  errno?: number;
  syscall?: string;
  address?: string;
  port?: number;
  hostname?: string;
  path?: string;
  sqlMessage?: string;
}

/** `host:port` of a URL, with the scheme's default port. */
function endpoint(url: string | undefined, defaultPort: number): { host: string; port: number } | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return { host: parsed.hostname, port: Number(parsed.port || defaultPort) };
  } catch {
    return undefined;
  }
}

function databaseName(url: string | undefined): string {
  try {
    return url ? decodeURIComponent(new URL(url).pathname.replace(/^\//, "")) : "";
  } catch {
    return "";
  }
}

/** Which configured server a connection error is about, by the port it tried. */
function whichServer(error: SystemError, context: CliContext) {
  const db = endpoint(context.databaseUrl, 3306);
  const redis = endpoint(context.redisUrl, 6379);
  if (redis && error.port === redis.port && (!db || db.port !== redis.port))
    return {
      what: "Redis",
      setting: "REDIS_URL",
      at: `${redis.host}:${redis.port}`,
      hint: "start it (npm run bootstrap starts a local one)",
    };
  if (db)
    return {
      what: "MySQL/MariaDB",
      setting: "DATABASE_URL",
      at: `${db.host}:${db.port}`,
      hint: "start it (npm run bootstrap starts a local one)",
    };
  return {
    what: "the server",
    setting: "the configuration",
    at: error.address ? `${error.address}:${error.port}` : "its address",
    hint: "start it",
  };
}

/** One sentence for a failure; errors nobody foresaw still get one line, with their own message. */
export function explainError(error: unknown, context: CliContext = {}): string {
  if (error instanceof CliError || error instanceof ConfigError) return error.message;
  // Node's happy-eyeballs connect (localhost = ::1 and 127.0.0.1) fails with one error per address.
  const first = (error instanceof AggregateError ? (error.errors[0] ?? error) : error) as SystemError;
  const raw = (error as SystemError)?.code ?? first?.code;
  // MariaDB and MySQL name the refused logins differently (…_NO_PASSWORD_ERROR, …_ERROR).
  const code = raw?.startsWith("ER_ACCESS_DENIED") ? "ER_ACCESS_DENIED_ERROR" : raw;
  const server = () => whichServer(first, context);
  switch (code) {
    case "ECONNREFUSED": {
      const s = server();
      return `${s.what} is not answering at ${s.at} (${s.setting}): ${s.hint}, or point ${s.setting} at a running server.`;
    }
    case "ETIMEDOUT":
    case "ECONNRESET": {
      const s = server();
      return `${s.what} at ${s.at} (${s.setting}) did not answer in time (${code}): check that it is up and reachable.`;
    }
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `The host "${first.hostname ?? "?"}" does not resolve (${code}): check DATABASE_URL and REDIS_URL.`;
    case "ER_ACCESS_DENIED_ERROR":
    case "ER_DBACCESS_DENIED_ERROR":
      return `MySQL/MariaDB refused the login (${first.sqlMessage ?? code}): check the user and password in DATABASE_URL.`;
    case "ER_BAD_DB_ERROR":
      return `The database "${databaseName(context.databaseUrl)}" does not exist: create it and its tables with npm run migrate, then import a catalog (npm run catalog:import -- <file>).`;
    case "ER_NO_SUCH_TABLE":
      return `The database "${databaseName(context.databaseUrl)}" has no Kogi tables yet (${first.sqlMessage}): run npm run migrate, then import a catalog (npm run catalog:import -- <file>).`;
    case "ENOENT":
    case "EEXIST":
    case "EACCES":
    case "EISDIR":
    case "ENOTDIR":
    case "EROFS":
    case "ENOSPC":
      return `Cannot ${first.syscall ?? "use"} ${first.path ?? "a file"} (${code}): check the path and its permissions.`;
  }
  if (first?.sqlMessage) return `MySQL/MariaDB refused a statement: ${first.sqlMessage} (${code}).`;
  const message = (error instanceof Error ? error.message : String(error)).split("\n")[0];
  return `Failed: ${message} (KOGI_DEBUG=1 shows where).`;
}

/**
 * Runs a command's body: its number (or 0) is the exit status; a throw prints `name: <sentence>` and
 * exits 1. The body fills `context` with the configured URLs as soon as it has read them.
 */
export async function runCli(
  name: string,
  main: (context: CliContext) => Promise<number | undefined>,
): Promise<never> {
  const context: CliContext = {};
  let status: number;
  try {
    status = (await main(context)) ?? 0;
  } catch (error) {
    console.error(`${name}: ${explainError(error, context)}`);
    if (process.env.KOGI_DEBUG) console.error(error);
    status = 1;
  }
  // Exit explicitly: a Redis client still reconnecting must not keep a finished command alive.
  process.exit(status);
}
