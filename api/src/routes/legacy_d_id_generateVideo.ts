// POST /api/d_id_optimized/generate-video: the replaced router's route, a thin alias of POST /v1/videos
// that waits for the video (up to VIDEO_LEGACY_WAIT_MS) and answers in the old shape.
import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../app.js";
import { createVideoSchema } from "../contracts/videos.js";
import { errorResponses, validationProblem } from "../errors.js";
import { parsePriority } from "../services/uploads.js";
import { createVideo, getVideo, isTerminal } from "../services/videos.js";

const legacyVideoSchema = z
  .object({
    id: z.string().openapi({ description: "D-ID's talk id (Kogi's job id while not yet submitted)" }),
    status: z.string(),
    result_url: z.string().nullable(),
    created_at: z.string(),
    message: z.string(),
  })
  .openapi("LegacyVideo");

const generateVideoRoute = createRoute({
  method: "post",
  path: "/api/d_id_optimized/generate-video",
  tags: ["compatibility"],
  summary: "Generate a video and wait for it (legacy alias)",
  security: [{ videoKey: [] }],
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.object({
            audio_url: z.string(),
            source_url: z.string(),
            priority: z.string().optional().openapi({ example: "NORMAL" }),
          }),
        },
      },
    },
  },
  responses: {
    200: {
      description: "Finished (done, error or rejected)",
      content: { "application/json": { schema: legacyVideoSchema } },
    },
    202: {
      description: "Still rendering when the wait ended",
      content: { "application/json": { schema: legacyVideoSchema } },
    },
    ...errorResponses(400, 401, 503),
  },
});

export function registerLegacyGenerateVideo(app: App) {
  app.openapi(generateVideoRoute, async (c) => {
    const services = c.get("services");
    const owner = c.get("videoOwner");
    const old = c.req.valid("json");
    const parsed = createVideoSchema.safeParse({
      sourceUrl: old.source_url,
      audioUrl: old.audio_url,
      priority: parsePriority(old.priority),
    });
    if (!parsed.success) throw validationProblem(parsed.error, "body");
    const { response } = await createVideo(
      services,
      owner,
      parsed.data,
      old,
      c.req.header("idempotency-key"),
    );
    let job = await getVideo(services, owner, JSON.parse(response.body).id);
    const deadline = Date.now() + services.config.VIDEO_LEGACY_WAIT_MS;
    while (!isTerminal(job.status) && Date.now() < deadline && !c.req.raw.signal.aborted)
      job = await getVideo(services, owner, job.id, Math.min(30, Math.ceil((deadline - Date.now()) / 1000)));
    const finished = isTerminal(job.status);
    const message =
      job.status === "done"
        ? "Video generated successfully"
        : finished
          ? `Video ${job.status}: ${job.errorDetail ?? job.errorCode ?? ""}`.trim()
          : "Video is still rendering; poll talk-status/{id}";
    return c.json(
      {
        id: job.talkId ?? job.id,
        status: job.talkStatus ?? job.status,
        result_url: job.resultUrl,
        created_at: job.createdAt.toISOString(),
        message,
      },
      finished ? 200 : 202,
    );
  });
}
