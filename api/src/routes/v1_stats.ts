// GET /v1/stats: live figures for operators (pools, caches, catalog version).
import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../app.js";

const statsRoute = createRoute({
  method: "get",
  path: "/v1/stats",
  tags: ["operations"],
  summary: "Pools, caches and catalog version",
  responses: {
    200: {
      description: "Current figures",
      content: { "application/json": { schema: z.record(z.string(), z.unknown()) } },
    },
  },
});

export function registerV1Stats(app: App) {
  app.openapi(statsRoute, (c) => c.json(c.get("services").stats(), 200, { "Cache-Control": "no-store" }));
}
