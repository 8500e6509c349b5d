// The cluster primary (API_WORKERS > 1): it serves nothing itself. It forks the workers (which share
// the port through node:cluster), keeps them alive, answers their /metrics with the aggregate of every
// worker's registry, and on SIGTERM/SIGINT exits only after every worker has drained.
import cluster, { type Worker } from "node:cluster";
import type { Config } from "@kogi/shared/config";
import type { Logger } from "@kogi/shared/logger";
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { aggregateMetrics, type ProcessMetrics } from "../observability/metrics.js";
import { isWorkerMessage, type PrimaryMessage } from "./messages.js";
import { WorkerSupervisor } from "./supervisor.js";

/** A worker that has not sent its registry by then is left out of that scrape (and counted as missing). */
const COLLECT_TIMEOUT_MS = 3_000;

export function runPrimary(config: Config, logger: Logger, workerScript: string): void {
  cluster.setupPrimary({ exec: workerScript });
  const supervisor = new WorkerSupervisor({
    size: config.API_WORKERS,
    fork: () => cluster.fork(),
    logger,
    onChange: () => broadcast({ kogi: "workers", serving: supervisor.serving.length }),
  });
  const metrics = primaryMetrics(config, supervisor);
  const collecting = new Map<number, { missing: Set<number>; got: ProcessMetrics[]; done: () => void }>();
  let nextId = 0;

  function broadcast(message: PrimaryMessage) {
    for (const worker of supervisor.serving) worker.send(message);
  }

  /** Every serving worker's registry plus the primary's own, aggregated by prom-client. */
  async function scrape(): Promise<string> {
    const id = nextId++;
    const workers = supervisor.serving;
    const request = {
      missing: new Set(workers.map((w) => w.id)),
      got: [] as ProcessMetrics[],
      done: () => {},
    };
    const finished = new Promise<void>((resolve) => {
      request.done = resolve;
      setTimeout(resolve, COLLECT_TIMEOUT_MS).unref();
    });
    collecting.set(id, request);
    for (const worker of workers) worker.send({ kogi: "collect", id });
    if (workers.length === 0) request.done();
    await finished;
    collecting.delete(id);
    metrics.missing.set(request.missing.size);
    if (request.missing.size)
      logger.warn({ workers: [...request.missing] }, "metrics: workers did not answer");
    return aggregateMetrics([await metrics.registry.getMetricsAsJSON(), ...request.got]);
  }

  cluster.on("message", (worker: Worker, message: unknown) => {
    if (!isWorkerMessage(message)) return;
    if (message.kogi === "collected") {
      const request = collecting.get(message.id);
      if (!request?.missing.delete(worker.id)) return;
      request.got.push(message.metrics);
      if (request.missing.size === 0) request.done();
    } else if (message.kogi === "scrape") {
      scrape().then(
        (text) => worker.isConnected() && worker.send({ kogi: "scraped", id: message.id, text }),
        (error: Error) =>
          worker.isConnected() && worker.send({ kogi: "scraped", id: message.id, error: error.message }),
      );
    }
  });

  logger.info({ workers: config.API_WORKERS, pid: process.pid }, "api cluster primary: forking workers");
  supervisor.start();

  let stopping = false;
  async function shutdown(signal: NodeJS.Signals) {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: supervisor.alive }, "api cluster primary: draining every worker");
    // Each worker drains within SHUTDOWN_GRACE_MS; the margin covers closing its pools.
    const clean = await supervisor.stop("SIGTERM", config.SHUTDOWN_GRACE_MS + 5_000);
    logger.info({ clean }, "api cluster primary: all workers stopped");
    process.exit(clean ? 0 : 1);
  }
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

function primaryMetrics(config: Config, supervisor: WorkerSupervisor) {
  const registry = new Registry();
  // Its own process figures under their own names: summed into the workers' they would blur them.
  collectDefaultMetrics({ register: registry, prefix: "kogi_primary_" });
  new Gauge({
    name: "kogi_api_workers",
    help: "api worker processes: configured (API_WORKERS), alive, serving (listening)",
    labelNames: ["state"] as const,
    registers: [registry],
    collect() {
      this.set({ state: "configured" }, config.API_WORKERS);
      this.set({ state: "alive" }, supervisor.alive);
      this.set({ state: "serving" }, supervisor.serving.length);
    },
  });
  new Counter({
    name: "kogi_api_worker_restarts_total",
    help: "api workers replaced after they died",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(supervisor.restarts);
    },
  });
  const missing = new Gauge({
    name: "kogi_api_metrics_missing_workers",
    help: "Workers whose figures are missing from this scrape (they did not answer in time)",
    registers: [registry],
  });
  return { registry, missing };
}
