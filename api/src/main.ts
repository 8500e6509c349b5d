// The Node entry point: config, schema, demo data on an empty catalog, adapters, HTTP server, graceful shutdown.

import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { loadConfigOrExit } from "@kogi/shared/config";
import { createLogger } from "@kogi/shared/logger";
import { ensureDatabase, migrate } from "./adapters/mysql/migrate.js";
import { createApp } from "./app.js";
import { generateCatalog } from "./catalog/generator.js";
import { importTerms } from "./catalog/importer.js";
import { createServices } from "./wiring.js";

const config = loadConfigOrExit();
const logger = createLogger(config.LOG_LEVEL, "kogi-api");

await ensureDatabase(config.DATABASE_URL);
const wiring = await createServices(config, logger);
const applied = await migrate(wiring.pool);
if (applied.length) logger.info({ applied }, "migrations applied");

const [[{ n: termCount }]] = (await wiring.pool.query("SELECT COUNT(*) AS n FROM terms")) as unknown as [
  [{ n: number }],
];
if (Number(termCount) === 0 && config.DEMO_COURSES > 0) {
  logger.info({ courses: config.DEMO_COURSES }, "empty catalog: loading the synthetic demo catalog");
  await importTerms(wiring.pool, generateCatalog({ courses: config.DEMO_COURSES, seed: 42 }).terms);
}
await wiring.start();

const app = createApp(wiring.services);
const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) =>
  logger.info(
    { port: info.port, catalogVersion: wiring.services.catalogVersion.current },
    "kogi api listening",
  ),
) as Server;
server.keepAliveTimeout = config.KEEP_ALIVE_TIMEOUT_MS;
server.headersTimeout = config.KEEP_ALIVE_TIMEOUT_MS + 1_000;

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "shutting down: readiness off, finishing in-flight requests");
  wiring.stopAccepting();
  const force = setTimeout(() => {
    logger.warn("grace period over; closing remaining connections");
    server.closeAllConnections();
  }, config.SHUTDOWN_GRACE_MS);
  force.unref();
  // close() drops every connection with no request in progress, including one whose next request is
  // still in the socket buffer: serve on for a moment (readiness is off) so such requests are read first.
  await new Promise((resolve) => setTimeout(resolve, config.SHUTDOWN_DELAY_MS));
  // close() stops accepting and waits for in-flight requests; idle keep-alive sockets would hold it open.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await closed;
  await wiring.close();
  logger.info("stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
