// DELETE /v1/videos/{id}: cancels a job that is still queued (nothing was sent to D-ID, nothing is billed).
import { createRoute } from "@hono/zod-openapi";
import type { App } from "../app.js";
import { videoIdParams, videoSchema } from "../contracts/videos.js";
import { errorResponses } from "../errors.js";
import { cancelVideo, videoView } from "../services/videos.js";

const cancelVideoRoute = createRoute({
  method: "delete",
  path: "/v1/videos/{id}",
  tags: ["videos"],
  summary: "Cancel a queued video",
  security: [{ videoKey: [] }],
  request: { params: videoIdParams },
  responses: {
    200: { description: "Canceled", content: { "application/json": { schema: videoSchema } } },
    ...errorResponses(401, 404, 409, 503),
  },
});

export function registerV1VideosCancel(app: App) {
  app.openapi(cancelVideoRoute, async (c) => {
    const job = await cancelVideo(c.get("services"), c.get("videoOwner"), c.req.valid("param").id);
    return c.json(videoView(job), 200);
  });
}
