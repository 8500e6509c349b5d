// GET /health: liveness only (the process answers); dependencies are /ready's business.
import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../app.js";

const healthRoute = createRoute({
  method: "get",
  path: "/health",
  tags: ["operations"],
  summary: "Liveness",
  responses: {
    200: {
      description: "The process is alive",
      content: {
        "application/json": {
          schema: z.object({
            status: z.literal("ok"),
            uptimeSeconds: z.number(),
            catalogVersion: z.number(),
            videos: z.enum(["enabled", "unconfigured"]).openapi({
              description: "unconfigured: D_ID_API_KEY is unset and the video routes answer 503",
            }),
          }),
        },
      },
    },
  },
});

export function registerOpsHealth(app: App) {
  app.openapi(healthRoute, (c) =>
    c.json({
      status: "ok" as const,
      uptimeSeconds: Math.round(performance.now() / 1000),
      catalogVersion: c.get("services").catalogVersion.current,
      videos: c.get("services").videos.provider ? ("enabled" as const) : ("unconfigured" as const),
    }),
  );
}
