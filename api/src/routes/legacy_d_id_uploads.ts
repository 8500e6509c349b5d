// POST /api/d_id_optimized/upload-source-image and /upload-audio: the replaced router's uploads
// (multipart `file` + `priority`), answering with D-ID's own upload JSON as it did.
import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../app.js";
import { errorResponses } from "../errors.js";
import { type UploadKind, uploadFile } from "../services/uploads.js";

export const LEGACY_UPLOAD_PATHS: Record<UploadKind, string> = {
  image: "/api/d_id_optimized/upload-source-image",
  audio: "/api/d_id_optimized/upload-audio",
};

export function registerLegacyUploads(app: App) {
  for (const kind of ["image", "audio"] as const) {
    const route = createRoute({
      method: "post",
      path: LEGACY_UPLOAD_PATHS[kind],
      tags: ["compatibility"],
      summary: `Upload ${kind === "image" ? "a source image" : "audio"} (legacy alias)`,
      security: [{ videoKey: [] }],
      request: {
        body: {
          required: true,
          content: {
            "multipart/form-data": {
              schema: z.object({
                file: z.any().openapi({ type: "string", format: "binary" }),
                priority: z.string().optional(),
              }),
            },
          },
        },
      },
      responses: {
        200: {
          description: "D-ID's answer ({id, url, ...})",
          content: {
            "application/json": { schema: z.object({ id: z.string(), url: z.string() }).passthrough() },
          },
        },
        ...errorResponses(400, 401, 413, 415, 502, 503),
      },
    });
    // Documented only: the multipart body is streamed by uploadFile, not pre-read by a validator.
    app.openAPIRegistry.registerPath(route);
    app.post(route.path, async (c) => c.json((await uploadFile(c, kind)).raw, 200));
  }
}
