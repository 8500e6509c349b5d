// The real vector sidecar as its own process, always on one loopback port (so the api's VECTOR_URL
// survives a restart), for fault tests and bench:faults: start (resolves once its /ready says an index
// is loaded), SIGKILL, graceful stop.
import { type ChildProcess, type StdioOptions, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { waitFor } from "./redis-server.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));

export interface SidecarProcessOptions {
  indexDir: string;
  port: number;
  /** The catalog it follows: the one its index was built from (else it rebuilds for another). */
  databaseUrl: string;
  /** Entry point, relative to the repository: vector-worker's main.ts, or a wrapper around it. */
  script?: string;
  stdio?: StdioOptions;
}

export function sidecarProcess(options: SidecarProcessOptions) {
  let child: ChildProcess | undefined;
  const url = `http://127.0.0.1:${options.port}`;
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const { OPENAI_API_KEY: _key, ...env } = process.env;
  return {
    url,
    async start() {
      if (running()) throw new Error("the sidecar is already running");
      const current = spawn(
        process.execPath,
        ["--import", "tsx", options.script ?? "vector-worker/src/main.ts"],
        {
          cwd: root,
          env: {
            ...env,
            // The index is built with the local embedder; a stray OpenAI setting would refuse it.
            EMBEDDINGS_PROVIDER: "local",
            DATABASE_URL: options.databaseUrl,
            VECTOR_INDEX_DIR: options.indexDir,
            VECTOR_PORT: String(options.port),
            VECTOR_HOST: "127.0.0.1",
            VECTOR_THREADS: "1",
            LOG_LEVEL: "warn",
            SHUTDOWN_DELAY_MS: "0",
          },
          stdio: options.stdio ?? "ignore",
        },
      );
      child = current;
      await waitFor(
        async () => {
          if (current.exitCode !== null) throw new Error(`sidecar exited with ${current.exitCode}`);
          const ready = await fetch(`${url}/ready`).catch(() => undefined);
          await ready?.arrayBuffer();
          return ready?.status === 200;
        },
        `the sidecar on ${options.port} to be ready`,
        60_000,
      );
    },
    async kill() {
      const current = child;
      if (!current || !running()) return;
      const exited = once(current, "exit");
      current.kill("SIGKILL");
      await exited;
    },
    /** SIGTERM (it drains), SIGKILL if it hangs. */
    async stop() {
      const current = child;
      if (!current || !running()) return;
      const exited = once(current, "exit");
      current.kill("SIGTERM");
      const timer = setTimeout(() => current.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export type SidecarProcess = ReturnType<typeof sidecarProcess>;
