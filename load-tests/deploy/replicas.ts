// Real api replicas for the deploy tests and bench:deploy: each on a fixed loopback port (so nginx's
// upstream names it across restarts), sharing one isolated database and Redis prefix, and counting the
// TCP connections it accepts.

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { migrate } from "@kogi/api/adapters/mysql/migrate";
import { generateCatalog } from "@kogi/api/catalog/generator";
import { importTerms } from "@kogi/api/catalog/importer";
import { parseLogLines } from "@kogi/shared/logger";
import { createFixture, type Fixture } from "../bench/lib/fixture.js";
import { composeEnvironment } from "./compose-file.js";
import type { NginxProcess } from "./nginx-process.js";
import { freePort, waitUntil } from "./wait.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const COUNTER = fileURLToPath(new URL("./count-connections.mjs", import.meta.url));

/**
 * How an api replica is started: the one place to change when production runs compiled JavaScript
 * (e.g. `[process.execPath, ["dist/api/main.js"]]`). `node --import tsx` keeps the PID we signal the api itself.
 */
export function apiCommand(): { command: string; args: string[] } {
  return { command: process.execPath, args: ["--import", "tsx", "api/src/main.ts"] };
}

export interface Replica {
  readonly name: string;
  readonly port: number;
  /** host:port, as nginx's upstream names it. */
  readonly address: string;
  readonly url: string;
  /** Starts (or restarts) the process on the same port and resolves once /ready answers 200. */
  start(): Promise<void>;
  /** Sends a signal by PID and resolves with the exit code once the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGSTOP / SIGCONT: a frozen replica still accepts connections but answers nothing. */
  signal(signal: NodeJS.Signals): void;
  running(): boolean;
  /** TCP connections accepted by the current process. */
  connections(): number;
  /** JSON log lines of the current process whose msg is `msg`. */
  logs(msg: string): Record<string, unknown>[];
  output(): string;
}

/** The settings every replica shares: compose's api values for what nginx and draining depend on. */
export function replicaEnv(fixture: Fixture, extra: Record<string, string> = {}): Record<string, string> {
  const compose = composeEnvironment("api");
  const fromCompose = ["KEEP_ALIVE_TIMEOUT_MS", "BODY_LIMIT_BYTES", "SHUTDOWN_GRACE_MS", "SHUTDOWN_DELAY_MS"];
  return {
    ...fixture.env,
    ...Object.fromEntries(fromCompose.flatMap((key) => (compose[key] ? [[key, compose[key]]] : []))),
    API_WORKERS: "1",
    LOG_LEVEL: "info",
    DEMO_COURSES: "0",
    // No sidecar: searches do not need it, and /ready does not require it.
    VECTOR_URL: "http://127.0.0.1:9",
    VECTOR_TIMEOUT_MS: "500",
    DB_POOL_SIZE: "8",
    ...extra,
  };
}

export function createReplica(name: string, port: number, env: Record<string, string>): Replica {
  let child: ChildProcess | undefined;
  let output = "";
  let exited: Promise<unknown> = Promise.resolve();
  const lines = () => parseLogLines(output);
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const url = `http://127.0.0.1:${port}`;
  return {
    name,
    port,
    address: `127.0.0.1:${port}`,
    url,
    running,
    connections: () => lines().filter((line) => line.msg === "test: connection accepted").length,
    logs: (msg) => lines().filter((line) => line.msg === msg),
    output: () => output,
    signal(signal) {
      if (running()) child?.kill(signal);
    },
    async start() {
      if (running()) throw new Error(`replica ${name} is already running`);
      output = "";
      const { command, args } = apiCommand();
      const current = spawn(command, args, {
        cwd: root,
        env: {
          ...process.env,
          ...env,
          HOST: "127.0.0.1",
          PORT: String(port),
          NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import=${COUNTER}`.trim(),
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      child = current;
      exited = once(current, "exit");
      const append = (chunk: string) => {
        if (child === current) output += chunk;
      };
      current.stdout?.setEncoding("utf8").on("data", append);
      current.stderr?.setEncoding("utf8").on("data", append);
      await waitUntil(
        async () => {
          if (current.exitCode !== null) throw new Error(`replica ${name} exited early:\n${output}`);
          const ready = await fetch(`${url}/ready`).catch(() => undefined);
          await ready?.arrayBuffer();
          return ready?.status === 200;
        },
        `replica ${name} to be ready`,
        60_000,
      );
    },
    async stop(signal = "SIGTERM") {
      const current = child;
      if (!current || !running()) return current?.exitCode ?? null;
      current.kill(signal);
      await exited;
      return current.exitCode;
    },
  };
}

export interface Cluster {
  fixture: Fixture;
  replicas: Replica[];
  /** Stops every replica still running (SIGKILL), drops the database and the Redis keys. */
  close(): Promise<void>;
}

/**
 * A database with a small synthetic catalog (migrated here, so the replicas never race to migrate)
 * and `count` replicas on spare ports, all ready.
 */
export async function startCluster(
  /** Names the database (`kogi_<tag>_<random>_<pid>`) and the Redis prefix. */
  tag: string,
  count: number,
  options: { courses?: number; env?: Record<string, string> } = {},
): Promise<Cluster> {
  const fixture = await createFixture(`kogi_${tag}_${Math.random().toString(36).slice(2, 7)}`);
  const replicas: Replica[] = [];
  const close = async () => {
    await Promise.all(replicas.map((replica) => replica.stop("SIGKILL")));
    await fixture.drop();
  };
  try {
    await migrate(fixture.pool);
    await importTerms(fixture.pool, generateCatalog({ courses: options.courses ?? 300, seed: 7 }).terms);
    const env = replicaEnv(fixture, options.env);
    for (const name of ["a", "b", "c", "d"].slice(0, count))
      replicas.push(createReplica(name, await freePort(), env));
    await Promise.all(replicas.map((replica) => replica.start()));
  } catch (error) {
    await close();
    throw error;
  }
  return { fixture, replicas, close };
}

/**
 * Starts a replica again and resolves once nginx really sends it requests: `readyMs` until its /ready
 * answered, `inRotationMs` until the first request nginx passed it.
 */
export async function startIntoRotation(
  replica: Replica,
  nginx: Pick<NginxProcess, "accessLog">,
): Promise<{ readyMs: number; inRotationMs: number }> {
  const logged = nginx.accessLog().length;
  const started = performance.now();
  await replica.start();
  const readyMs = performance.now() - started;
  await waitUntil(
    () =>
      nginx
        .accessLog()
        .slice(logged)
        .some((line) => line.upstream_addr === replica.address),
    `nginx to send requests to ${replica.name} again`,
    30_000,
  );
  return { readyMs, inRotationMs: performance.now() - started };
}
