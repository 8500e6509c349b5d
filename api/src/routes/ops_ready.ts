// GET /ready: 200 only when MySQL answers and the process is not shutting down. Redis being down
// degrades (the in-process cache serves) but does not take the replica out of rotation.
import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../app.js";

const checkSchema = z.object({
  ok: z.boolean(),
  detail: z.string().optional(),
  latencyMs: z.number().optional(),
});
const readySchema = z
  .object({
    status: z.enum(["ready", "degraded", "unavailable"]),
    checks: z.record(z.string(), checkSchema),
  })
  .openapi("Readiness");

const readyRoute = createRoute({
  method: "get",
  path: "/ready",
  tags: ["operations"],
  summary: "Readiness of the replica and its dependencies",
  responses: {
    200: {
      description: "Serving (possibly degraded)",
      content: { "application/json": { schema: readySchema } },
    },
    503: { description: "Not serving", content: { "application/json": { schema: readySchema } } },
  },
});

export function registerOpsReady(app: App) {
  app.openapi(readyRoute, async (c) => {
    const services = c.get("services");
    const checks = await services.readiness();
    const accepting = services.accepting();
    checks.shutdown = { ok: accepting, ...(accepting ? {} : { detail: "shutting down" }) };
    const essential = (checks.mysql?.ok ?? false) && accepting;
    const status = !essential
      ? "unavailable"
      : Object.values(checks).every((check) => check.ok)
        ? "ready"
        : "degraded";
    return c.json({ status, checks }, essential ? 200 : 503, { "Cache-Control": "no-store" });
  });
}
