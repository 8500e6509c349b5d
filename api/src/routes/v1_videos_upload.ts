// POST /v1/videos/uploads/images and /audios: a source image or audio for later jobs, forwarded to D-ID.
import { createRoute } from "@hono/zod-openapi";
import type { App } from "../app.js";
import { uploadBodySchema, uploadSchema } from "../contracts/videos.js";
import { errorResponses } from "../errors.js";
import { type UploadKind, uploadFile } from "../services/uploads.js";

/** Both upload routes stream their own bodies (see app.ts): nginx's location has the same limits. */
export const UPLOAD_PATH_PREFIX = "/v1/videos/uploads/";

function uploadRoute(kind: UploadKind) {
  const what =
    kind === "image"
      ? "a JPEG or PNG source image (default limit 10 MB)"
      : "an audio file (default limit 6 MB)";
  return createRoute({
    method: "post",
    path: `${UPLOAD_PATH_PREFIX}${kind}s`,
    tags: ["videos"],
    summary: `Upload ${kind === "image" ? "a source image" : "audio"}`,
    description: `Multipart field \`file\`: ${what}. The type is checked by the file's content, not its label; an oversized file is refused with 413 while it streams.`,
    security: [{ videoKey: [] }],
    request: { body: { required: true, content: { "multipart/form-data": { schema: uploadBodySchema } } } },
    responses: {
      201: { description: "Uploaded to D-ID", content: { "application/json": { schema: uploadSchema } } },
      ...errorResponses(400, 401, 413, 415, 422, 502, 503),
    },
  });
}

export function registerV1VideosUpload(app: App) {
  for (const kind of ["image", "audio"] as const) {
    const route = uploadRoute(kind);
    // Documented only: zod-openapi's form validator would read the whole body before our size check.
    app.openAPIRegistry.registerPath(route);
    app.post(route.path, async (c) => {
      const { upload } = await uploadFile(c, kind);
      return c.json(upload, 201);
    });
  }
}
