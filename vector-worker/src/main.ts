// The sidecar's entry point: load the index once, start the thread pool, serve, follow the catalog
// (rebuild and hot-swap), reload on SIGHUP, drain on SIGTERM.
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { getRequestListener } from "@hono/node-server";
import { embeddingsProvider, loadConfigOrExit } from "@kogi/shared/config";
import { HttpDrain } from "@kogi/shared/http-drain";
import { createLogger } from "@kogi/shared/logger";
import mysql from "mysql2/promise";
import { expectedEmbedder, openAIEmbedder } from "./embedders.js";
import { IndexFollower } from "./index-follower.js";
import { type BuildOutcome, currentManifest, readCatalogState } from "./index-freshness.js";
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

/**
 * A build runs as `index:build --if-stale --no-wait` in a child process: embedding a catalog is seconds
 * of CPU that must not stall this event loop, and the child's memory goes back when it ends. Its lock
 * connection dies with it, so a killed build frees the lock.
 */
let buildChild: ReturnType<typeof spawn> | undefined;
function buildInChild(): Promise<BuildOutcome> {
  const built = !import.meta.url.endsWith(".ts");
  const script = fileURLToPath(new URL(built ? "./index-build.js" : "./cli/index-build.ts", import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, script, "--if-stale", "--no-wait"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    buildChild = child;
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-4_000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.once("error", reject);
    child.once("exit", async (code, signal) => {
      buildChild = undefined;
      if (code === 75) return resolve({ outcome: "busy" });
      if (code !== 0) return reject(new Error(`index:build ended with ${signal ?? code}: ${output.trim()}`));
      const manifest = await currentManifest(config.VECTOR_INDEX_DIR);
      resolve(manifest ? { outcome: "built", manifest, reason: output.trim() } : { outcome: "empty" });
    });
  });
}

// One connection for the follower's check every INDEX_FOLLOW_INTERVAL_MS, kept open between checks.
const catalogDb = mysql.createPool({ uri: config.DATABASE_URL, connectionLimit: 1, connectTimeout: 5_000 });
const follower = new IndexFollower({
  store,
  expected: expectedEmbedder(config),
  catalogState: () => readCatalogState(catalogDb),
  build: buildInChild,
  intervalMs: config.INDEX_FOLLOW_INTERVAL_MS,
  logger,
});
follower.start();

const pool = createSearchPool({ threads: config.VECTOR_THREADS, maxQueue: config.VECTOR_MAX_QUEUE });
let accepting = true;
const app = createSidecarApp({
  store,
  pool,
  logger,
  remoteEmbedder: embeddingsProvider(config) === "openai" ? openAIEmbedder(config) : undefined,
  exactThreshold: config.VECTOR_EXACT_THRESHOLD,
  accepting: () => accepting,
  follower,
});
const drain = new HttpDrain();
const server = drain.track(
  createServer(drain.listener(getRequestListener(app.fetch, { hostname: config.VECTOR_HOST }))),
);
server.keepAliveTimeout = config.KEEP_ALIVE_TIMEOUT_MS;
server.listen(config.VECTOR_PORT, config.VECTOR_HOST, () =>
  logger.info(
    {
      port: (server.address() as AddressInfo).port,
      threads: pool.threads.length,
      threadScript: pool.options.filename,
      embedder: expectedEmbedder(config),
    },
    "vector sidecar listening",
  ),
);

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
  // As in the api: readiness is off, responses say `Connection: close`, searches in flight finish.
  const result = await drain.drain(server, {
    delayMs: config.SHUTDOWN_DELAY_MS,
    graceMs: config.SHUTDOWN_GRACE_MS,
  });
  if (result.cutConnections) logger.warn(result, "grace period over: busy connections were cut");
  // close() lets queued and running searches finish; destroy() killed threads inside faiss calls (SIGABRT).
  await pool.close();
  // A build in progress resumes from its embedded batches next time (see build-index.ts).
  buildChild?.kill("SIGTERM");
  await follower.stop();
  await catalogDb.end();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
