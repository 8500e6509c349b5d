// GET /metrics: Prometheus exposition of the whole api (in a cluster, every worker's, aggregated).
import type { App } from "../app.js";
import { ProblemError } from "../errors.js";

export function registerOpsMetrics(app: App) {
  app.get("/metrics", async (c) => {
    const { metrics } = c.get("services");
    const text = await metrics.exposition().catch((error: Error) => {
      throw new ProblemError(503, "metrics_unavailable", `Metrics could not be gathered: ${error.message}`);
    });
    return c.body(text, 200, { "Content-Type": metrics.registry.contentType, "Cache-Control": "no-store" });
  });
}
