// GET /v1/stats: live figures for operators (pools, caches, catalog version).
import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../app.js";
import { videoStats } from "../services/videos.js";

const statsRoute = createRoute({
  method: "get",
  path: "/v1/stats",
  tags: ["operations"],
  summary: "Pools, caches, catalog version, upstream limiters and video jobs",
  responses: {
    200: {
      description: "Current figures",
      content: { "application/json": { schema: z.record(z.string(), z.unknown()) } },
    },
  },
});

export function registerV1Stats(app: App) {
  app.openapi(statsRoute, async (c) => {
    const services = c.get("services");
    // A database that cannot answer leaves the video figures out, not the whole page.
    const videos = await videoStats(services).catch((error: Error) => ({ error: error.message }));
    return c.json({ ...services.stats(), videos }, 200, { "Cache-Control": "no-store" });
  });
}
