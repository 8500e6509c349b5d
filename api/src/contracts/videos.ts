// Video job contracts: the create request, the job as clients see it, uploads and lists.
import { z } from "@hono/zod-openapi";

// D-ID's own patterns (research §2.1), checked here so a bad URL is a 400 naming the field, not a failed job.
const SOURCE_URL = /^(https|s3):\/\/\S+\.(jpg|jpeg|png)([?#]\S*)?$/i;
const AUDIO_URL = /^(https|s3):\/\/\S+\.(m4a|flac|mp3|mp4|wav)([?#]\S*)?$/i;

export const prioritySchema = z.enum(["high", "normal", "low"]).openapi({
  description: "High jobs are submitted before normal before low; first come first served within one",
});

export const videoIdParams = z.object({
  id: z
    .string()
    .regex(/^vid_[a-z0-9]{26}$/, "must be a video id")
    .openapi({ example: "vid_01jf3m6q7x8c9v0b1n2m3k4j5h" }),
});

/** How many of `keys` the (possibly invalid) body has. */
function given(body: unknown, keys: string[]): number {
  if (!body || typeof body !== "object") return 1; // the body itself is reported as wrong
  return keys.filter((key) => (body as Record<string, unknown>)[key] !== undefined).length;
}

export const createVideoSchema = z
  .object({
    sourceUrl: z
      .string()
      .max(2048)
      .regex(SOURCE_URL, "must be an https:// or s3:// URL of a .jpg, .jpeg or .png image")
      .optional()
      .openapi({ example: "https://d-id-public-bucket.s3.us-west-2.amazonaws.com/alice.jpg" }),
    sourceImageId: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .openapi({ description: "From POST /v1/videos/uploads/images" }),
    script: z
      .object({
        text: z.string().trim().min(3).max(40_000),
        voice: z
          .string()
          .regex(
            /^[A-Za-z]{2,3}-[A-Za-z]{2,4}-[A-Za-z0-9]+$/,
            "must be a Microsoft voice id like en-US-JennyNeural",
          )
          .optional(),
      })
      .strict()
      .optional(),
    audioUrl: z
      .string()
      .max(2048)
      .regex(AUDIO_URL, "must be an https:// or s3:// URL of a .m4a, .flac, .mp3, .mp4 or .wav file")
      .optional(),
    audioId: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .openapi({ description: "From POST /v1/videos/uploads/audios" }),
    priority: prioritySchema.default("normal"),
    webhookUrl: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional()
      .openapi({ description: "Receives the finished job, signed (see Kogi-Signature in the README)" }),
    config: z
      .object({
        stitch: z.boolean().optional(),
        fluent: z.boolean().optional(),
        padAudio: z.number().min(0).max(60).optional(),
        resultFormat: z.enum(["mp4", "mov"]).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  // `when`: checked even when other fields are wrong, so one answer lists every bad field.
  .refine((body) => given(body, ["sourceUrl", "sourceImageId"]) === 1, {
    path: ["sourceUrl"],
    message: "give exactly one of sourceUrl or sourceImageId",
    when: () => true,
  })
  .refine((body) => given(body, ["script", "audioUrl", "audioId"]) === 1, {
    path: ["script"],
    message: "give exactly one of script, audioUrl or audioId",
    when: () => true,
  })
  .openapi("CreateVideo");

export type CreateVideo = z.infer<typeof createVideoSchema>;

export const videoStatusSchema = z.enum([
  "queued",
  "submitting",
  "processing",
  "done",
  "failed",
  "rejected",
  "canceled",
]);

export const videoSchema = z
  .object({
    id: z.string(),
    status: videoStatusSchema,
    priority: prioritySchema,
    talkId: z.string().nullable().openapi({ description: "D-ID's talk id once submitted" }),
    talkStatus: z
      .string()
      .nullable()
      .openapi({ description: "D-ID's own status: created, started, done, error, rejected" }),
    resultUrl: z
      .string()
      .nullable()
      .openapi({ description: "The MP4; presigned by D-ID, refreshed on read when near expiry" }),
    resultExpiresAt: z.string().nullable(),
    duration: z.number().nullable().openapi({ description: "Seconds of video" }),
    error: z.object({ code: z.string(), detail: z.string() }).nullable(),
    attempts: z
      .number()
      .int()
      .openapi({ description: "Submissions to D-ID (more than 1 only after a takeover)" }),
    webhook: z.object({ url: z.string(), state: z.string(), attempts: z.number().int() }).nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    submittedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
  })
  .openapi("Video");

export type VideoView = z.infer<typeof videoSchema>;

export const videoListQuery = z.object({
  status: videoStatusSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

export const videoListSchema = z
  .object({ results: z.array(videoSchema), nextCursor: z.string().nullable() })
  .openapi("VideoList");

export const uploadSchema = z
  .object({
    id: z.string().openapi({ description: "Use as sourceImageId or audioId" }),
    kind: z.enum(["image", "audio"]),
    url: z.string(),
    mimeType: z.string(),
    sizeBytes: z.number().int(),
  })
  .openapi("VideoUpload");

export const uploadBodySchema = z.object({
  file: z.any().openapi({ type: "string", format: "binary", description: "The file (field name `file`)" }),
});
