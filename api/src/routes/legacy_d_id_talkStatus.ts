// GET /api/d_id_optimized/talk-status/{talk_id}: the replaced router's status read, D-ID's talk as is,
// for talks of the caller's own jobs only.
import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../app.js";
import { errorResponses, notFound } from "../errors.js";
import { videoServices } from "../services/videos.js";

const talkStatusRoute = createRoute({
  method: "get",
  path: "/api/d_id_optimized/talk-status/{talk_id}",
  tags: ["compatibility"],
  summary: "Read a talk's status from D-ID (legacy alias)",
  security: [{ videoKey: [] }],
  request: { params: z.object({ talk_id: z.string().min(1).max(64) }) },
  responses: {
    200: {
      description: "D-ID's talk",
      content: {
        "application/json": { schema: z.object({ id: z.string(), status: z.string() }).passthrough() },
      },
    },
    ...errorResponses(401, 404, 502, 503),
  },
});

export function registerLegacyTalkStatus(app: App) {
  app.openapi(talkStatusRoute, async (c) => {
    const videos = videoServices(c.get("services"));
    const owner = c.get("videoOwner");
    const { talk_id } = c.req.valid("param");
    const job = (await videos.jobs.findByTalk(talk_id, owner)) ?? (await videos.jobs.get(talk_id, owner));
    if (!job) throw notFound("Talk");
    if (!job.talkId) return c.json({ id: job.id, status: job.status }, 200);
    return c.json(await videos.provider.getTalk(job.talkId, { signal: c.req.raw.signal }), 200);
  });
}
