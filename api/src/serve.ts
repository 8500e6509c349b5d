// One serving api process (the single process, or a cluster worker): adapters, the HTTP server, and the
// graceful stop: readiness off, `Connection: close` on every response, in-flight requests finish, idle
// connections close, and the pools close only after the last request.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import type { Config } from "@kogi/shared/config";
import { HttpDrain } from "@kogi/shared/http-drain";
import type { Logger } from "@kogi/shared/logger";
import { createApp } from "./app.js";
import type { WorkerLink } from "./cluster/worker-link.js";
import { rankingSnapshot } from "./services/answer-ranking.js";
import { createServices } from "./wiring.js";

export async function runServer(config: Config, logger: Logger, link?: WorkerLink): Promise<void> {
  const wiring = await createServices(config, logger, link?.describe);
  if (link) {
    link.collectFrom(wiring.services.metrics.registry);
    wiring.services.metrics.useExposition(() => link.scrape());
  }
  await wiring.start();
  // The ranking's in-process index is built before the first request rather than by it (a few hundred
  // ms of CPU on UIUC): a new replica then answers its first questions at full speed.
  const warmStarted = performance.now();
  await Promise.resolve(rankingSnapshot(wiring.services, wiring.services.catalogVersion.current)).then(
    () => logger.debug({ ms: Math.round(performance.now() - warmStarted) }, "ranking index built"),
    (error: Error) =>
      logger.warn({ err: error.message }, "ranking index not built yet; the first answer builds it"),
  );

  const app = createApp(wiring.services);
  const drain = new HttpDrain();
  const server = drain.track(
    createServer(drain.listener(getRequestListener(app.fetch, { hostname: config.HOST }))),
  );
  server.keepAliveTimeout = config.KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = config.KEEP_ALIVE_TIMEOUT_MS + 1_000;
  server.once("error", (error) => {
    logger.fatal({ err: error.message, port: config.PORT }, "cannot listen");
    process.exit(1);
  });
  server.listen(config.PORT, config.HOST, () =>
    logger.info(
      {
        port: (server.address() as AddressInfo).port,
        catalogVersion: wiring.services.catalogVersion.current,
      },
      "kogi api listening",
    ),
  );

  let stopping = false;
  async function shutdown(signal: string) {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: readiness off, finishing in-flight requests");
    wiring.stopAccepting();
    const result = await drain.drain(server, {
      delayMs: config.SHUTDOWN_DELAY_MS,
      graceMs: config.SHUTDOWN_GRACE_MS,
    });
    if (result.cutConnections || result.unfinishedRequests)
      logger.warn(result, "grace period over: busy connections were cut");
    await wiring.close();
    logger.info(result, "stopped");
    process.exit(0);
  }
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}
