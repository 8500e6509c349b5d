// Real api processes for multi-process tests: `node --import tsx api/src/main.ts` (one OS process, so a
// SIGKILL really kills the api), its JSON log lines, and cleanup of the database and Redis keys it used.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseLogLines } from "@kogi/shared/logger";
import { Redis } from "ioredis";
import mysql from "mysql2/promise";
import { dropDatabase } from "../adapters/mysql/migrate.js";
import { waitFor } from "./redis-server.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));

export interface ApiProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** http://127.0.0.1:PORT once listening. */
  readonly url: string;
  readonly exited: Promise<number | null>;
  /** Everything the process wrote, stdout and stderr. */
  output(): string;
  /** Log lines (pino JSON) whose msg is `msg`. */
  logs(msg: string): Record<string, unknown>[];
  /** Sends a signal that does not end it (SIGSTOP, SIGCONT). */
  signal(signal: NodeJS.Signals): void;
  /** SIGKILL (default) or another signal; resolves once the process is gone. Safe to call twice. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Names for one test's isolated state: its database and Redis prefix. */
export function isolatedState(tag: string) {
  const id = `${tag}_${process.pid}_${Math.random().toString(36).slice(2, 7)}`;
  return {
    databaseUrl: `mysql://root@127.0.0.1:3306/kogi_test_${id}`,
    redisPrefix: `kogi-test:${id}:`,
  };
}

/**
 * Starts the api entry point with `env` on top of a quiet test setup (no demo catalog, no sidecar, a
 * free port) and waits until it listens. Its children are also tracked in `started` for afterAll.
 */
export async function startApiProcess(
  name: string,
  env: Record<string, string>,
  started: ApiProcess[] = [],
  timeoutMs = 30_000,
): Promise<ApiProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "api/src/main.ts"], {
    cwd: root,
    env: {
      ...process.env,
      LOG_LEVEL: "info",
      HOST: "127.0.0.1",
      PORT: "0",
      DEMO_COURSES: "0",
      // One OS process per api (no cluster), so a SIGKILL or SIGSTOP reaches the process that serves.
      API_WORKERS: "1",
      VECTOR_URL: "http://127.0.0.1:9",
      VECTOR_TIMEOUT_MS: "500",
      DB_POOL_SIZE: "8",
      SHUTDOWN_DELAY_MS: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const parsed = () => parseLogLines(output);
  let url = "";
  const api: ApiProcess = {
    name,
    child,
    exited,
    get url() {
      return url;
    },
    output: () => output,
    logs: (msg) => parsed().filter((line) => line.msg === msg),
    signal(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    async kill(signal = "SIGKILL") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
  started.push(api);
  try {
    await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`api ${name} exited early:\n${output}`);
        const port = api.logs("kogi api listening")[0]?.port;
        if (typeof port === "number") url = `http://127.0.0.1:${port}`;
        return url !== "";
      },
      `api ${name} to listen`,
      timeoutMs,
    );
  } catch (error) {
    await api.kill();
    throw new Error(`${(error as Error).message}\n--- ${name} output ---\n${output}`);
  }
  return api;
}

/** Kills every process still running (afterAll), whatever the tests did. */
export async function killAll(started: ApiProcess[]): Promise<void> {
  await Promise.all(started.splice(0).map((api) => api.kill()));
}

/** Drops the database and deletes the Redis keys under the prefix. */
export async function cleanIsolatedState(
  state: { databaseUrl: string; redisPrefix: string },
  redisUrl = "redis://127.0.0.1:6379",
): Promise<void> {
  await dropDatabase(state.databaseUrl);
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${state.redisPrefix}*`, "COUNT", 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

/** A small pool on the test's database, for reading video_jobs directly. */
export function testPool(databaseUrl: string) {
  const url = new URL(databaseUrl);
  return mysql.createPool({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: "root",
    database: url.pathname.slice(1),
    connectionLimit: 2,
    timezone: "Z",
  });
}

export interface JobRow {
  id: string;
  status: string;
  priority: number;
  talk_id: string | null;
  attempts: number;
  lease_owner: string | null;
}

export async function jobRows(pool: mysql.Pool): Promise<JobRow[]> {
  const [rows] = await pool.query(
    "SELECT id, status, priority, talk_id, attempts, lease_owner FROM video_jobs ORDER BY created_at, id",
  );
  return rows as JobRow[];
}

/** POST /v1/videos over real HTTP; returns the job id. */
export async function postVideo(baseUrl: string, key: string, body: unknown): Promise<string> {
  const response = await fetch(`${baseUrl}/v1/videos`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as { id?: string };
  if (response.status !== 202 || !json.id)
    throw new Error(`POST /v1/videos answered ${response.status}: ${JSON.stringify(json)}`);
  return json.id;
}
