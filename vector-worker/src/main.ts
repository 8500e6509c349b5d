// The sidecar's entry point: load the index once, start the thread pool, serve, reload on SIGHUP, drain on SIGTERM.
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { embeddingsProvider, loadConfigOrExit } from "@kogi/shared/config";
import { createLogger } from "@kogi/shared/logger";
import { expectedEmbedder, openAIEmbedder } from "./embedders.js";
import { IndexStore } from "./index-store.js";
import { createSearchPool } from "./pool.js";
import { createSidecarApp } from "./server.js";

// faiss runs one OpenMP (and OpenBLAS) pool per calling thread: N search threads x N OMP threads would
// oversubscribe the cores. Set before any thread loads the addon (libgomp reads it at load time).
process.env.OMP_NUM_THREADS ??= "1";
process.env.OPENBLAS_NUM_THREADS ??= "1";

const config = loadConfigOrExit();
const logger = createLogger(config.LOG_LEVEL, "kogi-vector");
const store = new IndexStore(config.VECTOR_INDEX_DIR, expectedEmbedder(config));
try {
  const { version } = await store.reload();
  logger.info({ version, manifest: store.current?.manifest }, "vector index loaded");
} catch (error) {
  logger.warn(
    { err: (error as Error).message },
    "no usable index yet: /ready stays 503 until a reload succeeds",
  );
}

const pool = createSearchPool({ threads: config.VECTOR_THREADS, maxQueue: config.VECTOR_MAX_QUEUE });
let accepting = true;
const app = createSidecarApp({
  store,
  pool,
  logger,
  remoteEmbedder: embeddingsProvider(config) === "openai" ? openAIEmbedder(config) : undefined,
  exactThreshold: config.VECTOR_EXACT_THRESHOLD,
  accepting: () => accepting,
});
const server = serve({ fetch: app.fetch, port: config.VECTOR_PORT, hostname: config.VECTOR_HOST }, (info) =>
  logger.info(
    { port: info.port, threads: pool.threads.length, embedder: expectedEmbedder(config) },
    "vector sidecar listening",
  ),
) as Server;
server.keepAliveTimeout = config.KEEP_ALIVE_TIMEOUT_MS;

process.on("SIGHUP", () => {
  store
    .reload()
    .then((result) => logger.info(result, "index reload (SIGHUP)"))
    .catch((error: Error) =>
      logger.error({ err: error.message }, "index reload refused; keeping the current index"),
    );
});
async function shutdown(signal: string) {
  if (!accepting) return;
  accepting = false;
  logger.info({ signal }, "shutting down");
  // As in the api: readiness is off; requests already in a keep-alive socket's buffer are read before close().
  await new Promise((resolve) => setTimeout(resolve, config.SHUTDOWN_DELAY_MS));
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await closed;
  // close() lets queued and running searches finish; destroy() killed threads inside faiss calls (SIGABRT).
  await pool.close();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
