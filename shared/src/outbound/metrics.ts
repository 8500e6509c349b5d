// Prometheus view of the upstreams, read from stats() at scrape time (nothing to update on the hot path).
import { type Aggregator, Counter, Gauge, type Registry } from "prom-client";
import { PRIORITIES } from "./options.js";
import type { Upstream } from "./upstream.js";

const BREAKER_VALUE = { closed: 0, "half-open": 1, open: 2 } as const;

export function registerUpstreamMetrics(registry: Registry, upstreams: Upstream[]): void {
  const each = (read: (upstream: Upstream, stats: ReturnType<Upstream["stats"]>) => void) => {
    for (const upstream of upstreams) read(upstream, upstream.stats());
  };
  // `aggregator`: how an api cluster's /metrics combines its workers' values (prom-client; default sum).
  const gauge = (
    name: string,
    help: string,
    labelNames: string[],
    collect: (gauge: Gauge) => void,
    aggregator: Aggregator = "sum",
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ["upstream", ...labelNames],
      aggregator,
      registers: [registry],
      collect() {
        this.reset();
        collect(this);
      },
    });
  // Totals kept by the Upstream; a counter's collect replays them, so they only ever grow.
  const counter = (name: string, help: string, labelNames: string[], collect: (counter: Counter) => void) =>
    new Counter({
      name,
      help,
      labelNames: ["upstream", ...labelNames],
      registers: [registry],
      collect() {
        this.reset();
        collect(this);
      },
    });

  gauge("kogi_upstream_active", "Concurrency slots held by this process", [], (g) =>
    each((u, s) => g.set({ upstream: u.name }, s.active)),
  );
  gauge(
    "kogi_upstream_available",
    "Free concurrency slots (all processes while the budget is in Redis)",
    [],
    (g) => each((u, s) => g.set({ upstream: u.name }, s.available)),
    "min", // every worker reads the same shared budget
  );
  gauge("kogi_upstream_queued", "Callers waiting in this process by priority", ["priority"], (g) =>
    each((u, s) => {
      for (const priority of PRIORITIES) g.set({ upstream: u.name, priority }, s.queued[priority]);
    }),
  );
  gauge(
    "kogi_upstream_breaker_state",
    "Circuit breaker: 0 closed, 1 half-open, 2 open",
    [],
    (g) => each((u, s) => g.set({ upstream: u.name }, BREAKER_VALUE[s.breaker])),
    "max", // one breaker per process: the most open one
  );
  gauge(
    "kogi_upstream_shared_budget",
    "1 while the budget is shared through Redis, 0 on the per-process memory fallback (N processes, N x the budget)",
    [],
    (g) => each((u, s) => g.set({ upstream: u.name }, s.backend === "redis" ? 1 : 0)),
    "min", // 0 as soon as one process is on its fallback
  );
  counter("kogi_upstream_calls_total", "Calls admitted past the breaker, by outcome", ["outcome"], (c) =>
    each((u, s) => {
      c.inc({ upstream: u.name, outcome: "succeeded" }, s.succeeded);
      c.inc({ upstream: u.name, outcome: "failed" }, s.failed);
    }),
  );
  counter("kogi_upstream_retries_total", "Attempts retried", [], (c) =>
    each((u, s) => c.inc({ upstream: u.name }, s.retries)),
  );
  counter("kogi_upstream_rejected_total", "Calls refused without running, by reason", ["reason"], (c) =>
    each((u, s) => {
      c.inc({ upstream: u.name, reason: "queue_full" }, s.rejectedBy.queueFull);
      c.inc({ upstream: u.name, reason: "queue_wait" }, s.rejectedBy.queueWait);
      c.inc({ upstream: u.name, reason: "breaker_open" }, s.rejectedBy.breakerOpen);
    }),
  );
  counter("kogi_upstream_timeouts_total", "Attempt timeouts and expired deadlines", [], (c) =>
    each((u, s) => c.inc({ upstream: u.name }, s.timeouts)),
  );
  counter(
    "kogi_upstream_fallbacks_total",
    "Acquisitions decided in memory while Redis was configured",
    [],
    (c) => each((u, s) => c.inc({ upstream: u.name }, s.fallbacks)),
  );
}
