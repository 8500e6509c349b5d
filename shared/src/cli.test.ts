// explainError: every failure a CLI can meet becomes one sentence naming the setting to fix.
import { describe, expect, it } from "vitest";
import { CliError, explainError } from "./cli.js";
import { ConfigError } from "./config.js";

const context = { databaseUrl: "mysql://root@db.internal:3307/kogi_x", redisUrl: "redis://127.0.0.1:6390" };
const sysError = (fields: Record<string, unknown>) => Object.assign(new Error("raw"), fields);

describe("explainError", () => {
  it("tells the database from Redis by the port a refused connection tried", () => {
    expect(explainError(sysError({ code: "ECONNREFUSED", port: 3307 }), context)).toBe(
      "MySQL/MariaDB is not answering at db.internal:3307 (DATABASE_URL): start it (npm run bootstrap starts a local one), or point DATABASE_URL at a running server.",
    );
    expect(explainError(sysError({ code: "ECONNREFUSED", port: 6390 }), context)).toMatch(
      /^Redis is not answering at 127\.0\.0\.1:6390 \(REDIS_URL\)/,
    );
  });

  it("reads the first error of a happy-eyeballs AggregateError", () => {
    const error = new AggregateError([sysError({ code: "ECONNREFUSED", port: 3307 })], "");
    expect(explainError(error, context)).toMatch(/^MySQL\/MariaDB is not answering at db\.internal:3307/);
  });

  it("names database states and the next command", () => {
    expect(
      explainError(sysError({ code: "ER_BAD_DB_ERROR", sqlMessage: "Unknown database" }), context),
    ).toMatch(/^The database "kogi_x" does not exist: .*npm run migrate/);
    expect(explainError(sysError({ code: "ER_NO_SUCH_TABLE", sqlMessage: "no courses" }), context)).toMatch(
      /has no Kogi tables yet \(no courses\): run npm run migrate/,
    );
    expect(
      explainError(
        sysError({ code: "ER_ACCESS_DENIED_NO_PASSWORD_ERROR", sqlMessage: "Access denied" }),
        context,
      ),
    ).toMatch(/refused the login \(Access denied\): check the user and password in DATABASE_URL/);
    expect(explainError(sysError({ code: "ER_PARSE_ERROR", sqlMessage: "bad SQL" }), context)).toBe(
      "MySQL/MariaDB refused a statement: bad SQL (ER_PARSE_ERROR).",
    );
  });

  it("keeps its own messages, config errors and file errors readable, and anything else to one line", () => {
    expect(explainError(new CliError("Nothing to do."))).toBe("Nothing to do.");
    expect(explainError(new ConfigError("Invalid configuration:\n  PORT: bad"))).toBe(
      "Invalid configuration:\n  PORT: bad",
    );
    expect(explainError(sysError({ code: "ENOENT", syscall: "open", path: "/x.csv" }))).toBe(
      "Cannot open /x.csv (ENOENT): check the path and its permissions.",
    );
    expect(explainError(sysError({ code: "ENOTFOUND", hostname: "db.nowhere" }))).toMatch(
      /^The host "db\.nowhere" does not resolve/,
    );
    expect(explainError(new Error("first line\nsecond line"))).toBe(
      "Failed: first line (KOGI_DEBUG=1 shows where).",
    );
  });
});
