// The command-line tools as a new user runs them: catalog:import creates a missing database and its
// schema; every tool that cannot go on stops with one sentence (exit 1), never a stack trace.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { acquireBuildLock } from "@kogi/vector-worker/build-lock";
import mysql from "mysql2/promise";
import { afterAll, describe, expect, it } from "vitest";
import { dropDatabase, ensureDatabase } from "../adapters/mysql/migrate.js";
import { cleanIsolatedState, isolatedState } from "../testutil/api-process.js";
import { UIUC_DIR } from "../testutil/harness.js";
import { freePort } from "../testutil/redis-server.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const CLIS = {
  migrate: "api/src/cli/migrate.ts",
  "catalog:import": "api/src/cli/catalog-import.ts",
  "catalog:generate": "api/src/cli/catalog-generate.ts",
  "index:build": "vector-worker/src/cli/index-build.ts",
} as const;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One CLI as `npm run` starts it (its own process), with `env` over a quiet test environment. */
function run(cli: keyof typeof CLIS, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CLIS[cli], ...args], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 50_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** What a failed run must look like: exit 1 and exactly one line on stderr, naming the command. */
function expectOneSentence(result: Run, cli: string, pattern: RegExp) {
  expect(result.code, result.stderr).toBe(1);
  const lines = result.stderr.trim().split("\n");
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^${cli}: `));
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr + result.stdout).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
}

const states: ReturnType<typeof isolatedState>[] = [];
const fresh = () => {
  const state = isolatedState("cli");
  states.push(state);
  return state;
};
afterAll(async () => {
  for (const state of states) await cleanIsolatedState(state);
});

describe("command-line tools", () => {
  it("catalog:import creates a database that does not exist, applies the migrations and imports", async () => {
    const state = fresh();
    await dropDatabase(state.databaseUrl);
    const file = join(UIUC_DIR, "2017-su.csv");
    const env = { DATABASE_URL: state.databaseUrl, REDIS_PREFIX: state.redisPrefix };
    const first = await run("catalog:import", [file], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/schema: applied 001_catalog\.sql/);
    expect(first.stdout).toMatch(/term 2017-su: \d+ courses, \d+ sections, imported/);
    expect(first.stderr).toBe("");
    const connection = await mysql.createConnection({ uri: state.databaseUrl });
    try {
      const [[row]] = (await connection.query("SELECT COUNT(*) AS n FROM courses")) as unknown as [
        [{ n: number }],
      ];
      expect(Number(row?.n)).toBeGreaterThan(1000);
    } finally {
      await connection.end();
    }
    // Again: the schema is there, the term unchanged.
    const second = await run("catalog:import", [file], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).not.toMatch(/schema: applied/);
    expect(second.stdout).toMatch(/term 2017-su: .* unchanged/);
  }, 120_000);

  it("each tool names the database server that does not answer, in one sentence", async () => {
    const port = await freePort();
    const env = { DATABASE_URL: `mysql://root@127.0.0.1:${port}/kogi`, REDIS_URL: "redis://127.0.0.1:9" };
    const results = await Promise.all([
      run("migrate", [], env),
      run("catalog:import", [join(UIUC_DIR, "2017-su.csv")], env),
      run("index:build", [], env),
    ]);
    for (const [i, cli] of (["migrate", "catalog:import", "index:build"] as const).entries())
      expectOneSentence(
        results[i] as Run,
        cli,
        new RegExp(`MySQL/MariaDB is not answering at 127\\.0\\.0\\.1:${port} \\(DATABASE_URL\\)`),
      );
  });

  it("index:build says which step is missing: the database, then the catalog", async () => {
    const state = fresh();
    const env = {
      DATABASE_URL: state.databaseUrl,
      VECTOR_INDEX_DIR: join(tmpdir(), "kogi-cli-never-written"),
    };
    const missing = await run("index:build", [], env);
    expectOneSentence(
      missing,
      "index:build",
      /database "kogi_test_cli_\w+" does not exist: .*npm run migrate/,
    );
    await ensureDatabase(state.databaseUrl);
    const migrated = await run("migrate", [], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toMatch(/^applied 001_catalog\.sql/);
    expect((await run("migrate", [], env)).stdout).toMatch(/schema is up to date/);
    const empty = await run("index:build", [], env);
    expectOneSentence(empty, "index:build", /catalog is empty.*catalog:import/);
  }, 120_000);

  it("index:build --if-stale builds only when the index does not fit the catalog or the embedder", async () => {
    const state = fresh();
    const dir = await mkdtemp(join(tmpdir(), "kogi-cli-index-"));
    try {
      const catalog = join(dir, "catalog.json");
      const env = {
        DATABASE_URL: state.databaseUrl,
        REDIS_PREFIX: state.redisPrefix,
        VECTOR_INDEX_DIR: join(dir, "index"),
      };
      expect((await run("catalog:generate", ["--courses", "40", "--out", catalog], env)).code).toBe(0);
      expect((await run("catalog:import", [catalog], env)).code).toBe(0);
      const first = await run("index:build", ["--if-stale"], env);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/rebuilding: no index has been built yet/);
      const again = await run("index:build", ["--if-stale"], env);
      expect(again.stdout).toMatch(/is current \(catalog v\d+\); nothing to build/);
      // Another embedder configured (what npm start sees after OPENAI_API_KEY or EMBEDDING_DIMS changes).
      const other = await run("index:build", ["--if-stale"], { ...env, EMBEDDING_DIMS: "64" });
      expect(other.code, other.stderr).toBe(0);
      expect(other.stdout).toMatch(
        /rebuilding: the index was built with .*1536 dims\), the configured embedder is .*64 dims/,
      );

      // While another builder holds the lock, --no-wait gives up at once with EX_TEMPFAIL.
      const lock = await acquireBuildLock(state.databaseUrl);
      try {
        const busy = await run("index:build", ["--if-stale", "--no-wait"], env);
        expect(busy.code).toBe(75);
        expect(busy.stdout).toMatch(/another index build is running/);
      } finally {
        await lock?.release();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("bad settings, flags and paths are one sentence too", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kogi-cli-"));
    try {
      const [config, login, path, flag] = await Promise.all([
        run("migrate", [], { DATABASE_URL: "postgres://x" }),
        run("migrate", [], { DATABASE_URL: "mysql://kogi_no_such_user:pw@127.0.0.1:3306/kogi" }),
        run("catalog:generate", ["--courses", "5", "--out", "/dev/null/catalog.json"], {}),
        run("catalog:generate", ["--bogus"], {}),
      ]);
      expect(config.code).toBe(1);
      expect(config.stderr).toMatch(/^migrate: Invalid configuration:\n\s+DATABASE_URL: /);
      expect(config.stderr).not.toMatch(/\n\s+at /);
      expectOneSentence(login, "migrate", /refused the login .*check the user and password in DATABASE_URL/);
      expectOneSentence(path, "catalog:generate", /Cannot mkdir \/dev\/null \(EEXIST\)/);
      expect(flag.code).toBe(1);
      expect(flag.stderr).toMatch(/^catalog:generate: Unknown option '--bogus'\nusage: /);
      const ok = await run("catalog:generate", ["--courses", "5", "--out", join(dir, "c.json")], {});
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/wrote 5 courses/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
