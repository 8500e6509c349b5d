// GET /v1/videos/{id}: one job; `Prefer: wait=N` holds the answer until it changes or N seconds pass.
import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../app.js";
import { videoIdParams, videoSchema } from "../contracts/videos.js";
import { errorResponses } from "../errors.js";
import { getVideo, videoView } from "../services/videos.js";

const getVideoRoute = createRoute({
  method: "get",
  path: "/v1/videos/{id}",
  tags: ["videos"],
  summary: "Read a video job",
  description:
    "With `Prefer: wait=N` (N up to VIDEO_WAIT_MAX_SECONDS, default 30) the answer waits until the job changes, so a " +
    "simple client needs no polling loop. Another key's job is a 404.",
  security: [{ videoKey: [] }],
  request: {
    params: videoIdParams,
    headers: z.object({ prefer: z.string().optional().openapi({ example: "wait=20" }) }),
  },
  responses: {
    200: { description: "The job", content: { "application/json": { schema: videoSchema } } },
    ...errorResponses(400, 401, 404, 503),
  },
});

/** RFC 7240 `wait=N`; a longer wait than allowed is shortened, not refused. */
export function preferredWait(prefer: string | undefined, maxSeconds: number): number {
  const match = /(?:^|[,;\s])wait\s*=\s*(\d+)/i.exec(prefer ?? "");
  return match ? Math.min(Number(match[1]), maxSeconds) : 0;
}

export function registerV1VideosGet(app: App) {
  app.openapi(getVideoRoute, async (c) => {
    const services = c.get("services");
    const wait = preferredWait(c.req.header("prefer"), services.config.VIDEO_WAIT_MAX_SECONDS);
    const job = await getVideo(services, c.get("videoOwner"), c.req.valid("param").id, wait);
    return c.json(videoView(job), 200, {
      "Cache-Control": "no-store",
      ...(wait > 0 ? { "Preference-Applied": `wait=${wait}` } : {}),
    });
  });
}
