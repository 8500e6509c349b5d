// GET /api/d_id_optimized/stats and /health: the replaced router's operations routes, in its shapes.
import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../app.js";
import type { ServiceContext } from "../context.js";
import { errorResponses } from "../errors.js";
import { videoServices } from "../services/videos.js";

const legacyStatsSchema = z
  .object({
    client: z.object({
      api_key_configured: z.boolean(),
      client_initialized: z.boolean(),
      pool_limits: z.object({ max_connections: z.number(), max_keepalive: z.number() }),
    }),
    rate_limiter: z.object({
      backend: z.enum(["redis", "memory"]),
      max_concurrent: z.number(),
      active_requests: z.number(),
      available_slots: z.number(),
      queue_size: z.number(),
    }),
  })
  .openapi("LegacyDIdStats");

export function legacyStats(services: ServiceContext) {
  const videos = videoServices(services);
  const renders = videos.renders?.stats();
  const queued = renders ? renders.queued.high + renders.queued.normal + renders.queued.low : 0;
  return {
    client: {
      api_key_configured: true,
      client_initialized: true,
      // undici keeps every pooled connection alive, so both limits are the pool size.
      pool_limits: {
        max_connections: services.config.D_ID_POOL_CONNECTIONS,
        max_keepalive: services.config.D_ID_POOL_CONNECTIONS,
      },
    },
    rate_limiter: {
      backend: renders?.backend ?? "memory",
      max_concurrent: services.config.D_ID_MAX_CONCURRENCY,
      active_requests: renders?.activeGlobal ?? renders?.active ?? 0,
      available_slots: renders?.available ?? services.config.D_ID_MAX_CONCURRENCY,
      queue_size: queued,
    },
  };
}

const statsRoute = createRoute({
  method: "get",
  path: "/api/d_id_optimized/stats",
  tags: ["compatibility"],
  summary: "D-ID client and limiter figures (legacy shape)",
  security: [{ videoKey: [] }],
  responses: {
    200: { description: "Figures", content: { "application/json": { schema: legacyStatsSchema } } },
    ...errorResponses(401, 503),
  },
});

const healthRoute = createRoute({
  method: "get",
  path: "/api/d_id_optimized/health",
  tags: ["compatibility"],
  summary: "D-ID client health (legacy shape)",
  security: [{ videoKey: [] }],
  responses: {
    200: {
      description: "Healthy",
      content: {
        "application/json": {
          schema: z.object({
            status: z.string(),
            api_key_configured: z.boolean(),
            breaker: z.string(),
            backend: z.string(),
          }),
        },
      },
    },
    ...errorResponses(401, 503),
  },
});

export function registerLegacyDIdStats(app: App) {
  app.openapi(statsRoute, (c) =>
    c.json(legacyStats(c.get("services")), 200, { "Cache-Control": "no-store" }),
  );
  app.openapi(healthRoute, (c) => {
    const videos = videoServices(c.get("services"));
    const breaker = videos.calls?.stats().breaker ?? "closed";
    return c.json(
      {
        status: breaker === "open" ? "degraded" : "healthy",
        api_key_configured: true,
        breaker,
        backend: videos.renders?.stats().backend ?? "memory",
      },
      200,
    );
  });
}
