// The Node entry point. API_WORKERS=1: one process prepares the database (migrations, demo catalog) and
// serves. More: this process becomes the cluster primary, prepares the database once and forks that many
// workers sharing the port; each worker starts here too and goes straight to serving.
import cluster from "node:cluster";
import { fileURLToPath } from "node:url";
import { loadConfigOrExit } from "@kogi/shared/config";
import { createLogger } from "@kogi/shared/logger";

const config = loadConfigOrExit();
const logger = createLogger(config.LOG_LEVEL, "kogi-api");
// Imported on demand: the primary never loads the app (Hono, the adapters, the routes), which keeps its
// start-up short and its memory small.
const serving = () => import("./serve.js");

if (cluster.isWorker) {
  const [{ runServer }, { WorkerLink }] = await Promise.all([serving(), import("./cluster/worker-link.js")]);
  const link = new WorkerLink(config.API_WORKERS);
  await runServer(config, logger.child({ worker: link.worker }), link);
} else {
  const { prepareDatabase } = await import("./prepare-database.js");
  await prepareDatabase(config, logger);
  if (config.API_WORKERS > 1) {
    const { runPrimary } = await import("./cluster/primary.js");
    // This file, built or not: workers run it with the primary's node flags (a TypeScript loader under tsx).
    runPrimary(config, logger, fileURLToPath(import.meta.url));
  } else await (await serving()).runServer(config, logger);
}
