// GET /v1/videos: the caller's jobs, newest first, optionally by status, with cursor pagination.
import { createRoute } from "@hono/zod-openapi";
import type { App } from "../app.js";
import { videoListQuery, videoListSchema } from "../contracts/videos.js";
import { errorResponses } from "../errors.js";
import { listVideos } from "../services/videos.js";

const listVideosRoute = createRoute({
  method: "get",
  path: "/v1/videos",
  tags: ["videos"],
  summary: "List video jobs",
  security: [{ videoKey: [] }],
  request: { query: videoListQuery },
  responses: {
    200: { description: "One page of jobs", content: { "application/json": { schema: videoListSchema } } },
    ...errorResponses(400, 401, 503),
  },
});

export function registerV1VideosList(app: App) {
  app.openapi(listVideosRoute, async (c) =>
    c.json(await listVideos(c.get("services"), c.get("videoOwner"), c.req.valid("query")), 200, {
      "Cache-Control": "no-store",
    }),
  );
}
