// Prometheus metrics (prom-client): one registry per app instance so tests never share counters; in a
// cluster, /metrics on any worker answers the whole api (every worker's registry, aggregated by the primary).
import {
  AggregatorRegistry,
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
} from "prom-client";

/** What one process's registry reports (`registry.getMetricsAsJSON()`), as sent over the cluster's IPC. */
export type ProcessMetrics = MetricObjectWithValues<MetricValue<string>>[];

/** Live values the gauges read when scraped (so every worker's are current in an aggregate). */
export interface GaugeSources {
  dbPool: () => { inUse: number; idle: number; queued: number };
  redisUp: () => boolean;
  catalogVersion: () => number;
}

export class Metrics {
  readonly registry = new Registry();
  #sources: GaugeSources | undefined;
  #exposition: (() => Promise<string>) | undefined;
  readonly httpDuration = new Histogram({
    name: "kogi_http_request_duration_seconds",
    help: "HTTP request duration by route template and status",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly cacheLookups = new Counter({
    name: "kogi_cache_lookups_total",
    help: "Cache lookups by cache and result (hit tier or miss)",
    labelNames: ["cache", "result"] as const,
    registers: [this.registry],
  });
  readonly redisUp = new Gauge({
    name: "kogi_redis_up",
    help: "1 when Redis is connected, 0 while the service runs on its in-process fallback",
    // Across workers: 0 as soon as one of them has lost Redis.
    aggregator: "min",
    registers: [this.registry],
    collect: () => {
      if (this.#sources) this.redisUp.set(this.#sources.redisUp() ? 1 : 0);
    },
  });
  readonly dbPool = new Gauge({
    name: "kogi_db_pool_connections",
    help: "MySQL pool connections by state (in_use, idle, queued requests), summed over the api's processes",
    labelNames: ["state"] as const,
    registers: [this.registry],
    collect: () => {
      if (!this.#sources) return;
      const stats = this.#sources.dbPool();
      this.dbPool.set({ state: "in_use" }, stats.inUse);
      this.dbPool.set({ state: "idle" }, stats.idle);
      this.dbPool.set({ state: "queued" }, stats.queued);
    },
  });
  readonly catalogVersion = new Gauge({
    name: "kogi_catalog_version",
    help: "Catalog version currently served (the newest any worker serves)",
    aggregator: "max",
    registers: [this.registry],
    collect: () => {
      if (this.#sources) this.catalogVersion.set(this.#sources.catalogVersion());
    },
  });

  readonly dIdWebhooks = new Counter({
    name: "kogi_d_id_webhooks_total",
    help: "D-ID webhooks received: hint (a job's talk, re-read from D-ID) or stray (no such job)",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  readonly videoCallbacks = new Counter({
    name: "kogi_video_webhook_deliveries_total",
    help: "Deliveries to callers' webhookUrl: sent, retry (failed, will retry) or failed (gave up)",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });

  constructor() {
    // Includes nodejs_eventloop_lag_* (p50/p90/p99 from monitorEventLoopDelay), heap and GC.
    collectDefaultMetrics({ register: this.registry, prefix: "kogi_", eventLoopMonitoringPrecision: 10 });
  }

  /** Lets the pool, Redis and catalog-version gauges read their values at scrape time. */
  observe(sources: GaugeSources): void {
    this.#sources = sources;
  }

  /** In a cluster worker: /metrics answers with what `source` returns (the whole api's, from the primary). */
  useExposition(source: () => Promise<string>): void {
    this.#exposition = source;
  }

  /** The Prometheus text for /metrics: this process's registry, or the cluster's aggregate. */
  exposition(): Promise<string> {
    return this.#exposition ? this.#exposition() : this.registry.metrics();
  }
}

/**
 * prom-client's cluster aggregation over every process's registry: counters and histograms are summed,
 * gauges by their `aggregator` (sum unless a metric says otherwise), process start time omitted.
 */
export function aggregateMetrics(processes: ProcessMetrics[]): Promise<string> {
  return AggregatorRegistry.aggregate(processes).metrics();
}
