// GET /metrics: Prometheus exposition.
import type { App } from "../app.js";

export function registerOpsMetrics(app: App) {
  app.get("/metrics", async (c) => {
    const { metrics, readiness } = c.get("services");
    await readiness(); // refreshes the pool and Redis gauges
    return c.body(await metrics.registry.metrics(), 200, { "Content-Type": metrics.registry.contentType });
  });
}
