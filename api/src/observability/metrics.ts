// Prometheus metrics (prom-client): one registry per app instance so tests never share counters.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export class Metrics {
  readonly registry = new Registry();
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
    registers: [this.registry],
  });
  readonly dbPool = new Gauge({
    name: "kogi_db_pool_connections",
    help: "MySQL pool connections by state (in_use, idle, queued requests)",
    labelNames: ["state"] as const,
    registers: [this.registry],
  });
  readonly catalogVersion = new Gauge({
    name: "kogi_catalog_version",
    help: "Catalog version currently served",
    registers: [this.registry],
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
}
