// POST /v1/videos: queues a talking-head video (a durable job) and answers 202 with it.
import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../app.js";
import { createVideoSchema, videoSchema } from "../contracts/videos.js";
import { errorResponses } from "../errors.js";
import { createVideo } from "../services/videos.js";

const createVideoRoute = createRoute({
  method: "post",
  path: "/v1/videos",
  tags: ["videos"],
  summary: "Create a video",
  description:
    "Queues a D-ID talk from a source image (URL or upload) and a script or audio. The job is stored before the 202 " +
    "goes out; follow it with GET /v1/videos/{id} (optionally `Prefer: wait=N`) or a webhookUrl. With an " +
    "`Idempotency-Key`, a retried request replays the first answer (`Idempotent-Replayed: true`) and never pays twice.",
  security: [{ videoKey: [] }],
  request: {
    headers: z.object({
      "idempotency-key": z
        .string()
        .optional()
        .openapi({ description: "Up to 255 characters; kept at least 24 h" }),
    }),
    body: { required: true, content: { "application/json": { schema: createVideoSchema } } },
  },
  responses: {
    202: {
      description: "Queued",
      headers: z.object({ Location: z.string(), "Idempotent-Replayed": z.string().optional() }),
      content: { "application/json": { schema: videoSchema } },
    },
    ...errorResponses(400, 401, 409, 413, 422, 503),
  },
});

export function registerV1VideosCreate(app: App) {
  app.openapi(createVideoRoute, async (c) => {
    const body = c.req.valid("json");
    const { response, replayed } = await createVideo(
      c.get("services"),
      c.get("videoOwner"),
      body,
      await c.req.json(),
      c.req.header("idempotency-key"),
    );
    return c.body(response.body, response.status as 202, {
      "Content-Type": "application/json",
      "Cache-Control": "no-store",
      ...(response.location ? { Location: response.location } : {}),
      ...(replayed ? { "Idempotent-Replayed": "true" } : {}),
    }) as never;
  });
}
