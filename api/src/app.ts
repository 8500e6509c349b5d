// Builds the Hono app from a ServiceContext. No Node imports: adapters are wired in main.ts.

import { OpenAPIHono } from "@hono/zod-openapi";
import type { HonoEnv, ServiceContext } from "./context.js";
import { ProblemError, problemResponse, toProblem, upstreamProblem, validationProblem } from "./errors.js";
import { readBody } from "./middleware/read-body.js";
import { CLIENT_CLOSED, clientDisconnected, requestContext } from "./middleware/request-context.js";
import { requireVideoKey } from "./middleware/video-auth.js";
import { registerLegacyAnswer } from "./routes/legacy_answer.js";
import { registerLegacyGenerateVideo } from "./routes/legacy_d_id_generateVideo.js";
import { registerLegacyDIdStats } from "./routes/legacy_d_id_stats.js";
import { registerLegacyTalkStatus } from "./routes/legacy_d_id_talkStatus.js";
import { LEGACY_UPLOAD_PATHS, registerLegacyUploads } from "./routes/legacy_d_id_uploads.js";
import { registerLegacySearch } from "./routes/legacy_search.js";
import { registerOpsDocs } from "./routes/ops_docs.js";
import { registerOpsHealth } from "./routes/ops_health.js";
import { registerOpsMetrics } from "./routes/ops_metrics.js";
import { registerOpsReady } from "./routes/ops_ready.js";
import { registerV1Answer } from "./routes/v1_answer.js";
import { registerV1CalendarsAddSection } from "./routes/v1_calendars_addSection.js";
import { registerV1CalendarsCreate } from "./routes/v1_calendars_create.js";
import { registerV1CalendarsGet } from "./routes/v1_calendars_get.js";
import { registerV1CalendarsRemoveSection } from "./routes/v1_calendars_removeSection.js";
import { registerV1CoursesGet } from "./routes/v1_courses_get.js";
import { registerV1CoursesSearch } from "./routes/v1_courses_search.js";
import { registerV1Stats } from "./routes/v1_stats.js";
import { registerV1TermsList } from "./routes/v1_terms_list.js";
import { registerV1VideosCancel } from "./routes/v1_videos_cancel.js";
import { registerV1VideosCreate } from "./routes/v1_videos_create.js";
import { registerV1VideosGet } from "./routes/v1_videos_get.js";
import { registerV1VideosList } from "./routes/v1_videos_list.js";
import { registerV1VideosUpload, UPLOAD_PATH_PREFIX } from "./routes/v1_videos_upload.js";
import { registerV1WebhooksDId } from "./routes/v1_webhooks_dId.js";

export type App = OpenAPIHono<HonoEnv>;

export function createApp(services: ServiceContext): App {
  const app: App = new OpenAPIHono<HonoEnv>({
    // Validation failures throw, so onError renders every one the same way.
    defaultHook: (result) => {
      if (!result.success)
        throw validationProblem(result.error, result.target === "json" ? "body" : result.target);
    },
  });

  app.use("*", async (c, next) => {
    c.set("services", services);
    await next();
  });
  app.use("*", requestContext());
  // Uploads stream their multipart bodies themselves, under their own (larger) limits.
  app.use(
    "*",
    readBody(services.config.BODY_LIMIT_BYTES, [UPLOAD_PATH_PREFIX, ...Object.values(LEGACY_UPLOAD_PATHS)]),
  );
  // Every video costs money: these routes need an API key (and D-ID configured).
  app.use("/v1/videos", requireVideoKey());
  app.use("/v1/videos/*", requireVideoKey());
  app.use("/api/d_id_optimized/*", requireVideoKey());

  registerOpsHealth(app);
  registerOpsReady(app);
  registerOpsMetrics(app);
  registerV1Stats(app);
  registerV1TermsList(app);
  registerV1CoursesSearch(app);
  registerV1CoursesGet(app);
  registerV1CalendarsCreate(app);
  registerV1CalendarsGet(app);
  registerV1CalendarsAddSection(app);
  registerV1CalendarsRemoveSection(app);
  registerV1Answer(app);
  registerLegacySearch(app);
  registerLegacyAnswer(app);
  registerV1VideosCreate(app);
  registerV1VideosList(app);
  registerV1VideosGet(app);
  registerV1VideosCancel(app);
  registerV1VideosUpload(app);
  registerV1WebhooksDId(app);
  registerLegacyGenerateVideo(app);
  registerLegacyUploads(app);
  registerLegacyTalkStatus(app);
  registerLegacyDIdStats(app);

  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Kogi course search",
      version: "1.0.0",
      description:
        "Course search over a university catalog, with private timetables, and talking-head videos through D-ID.",
    },
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "calendarToken", {
    type: "http",
    scheme: "bearer",
    description: "The token returned when the calendar was created",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "videoKey", {
    type: "http",
    scheme: "bearer",
    description: "A key from VIDEO_API_KEYS; a video job is visible only to the key that created it",
  });
  // Swagger UI over /openapi.json; its files come from an npm package through Kogi itself (no CDN).
  registerOpsDocs(app);

  app.notFound((c) =>
    problemResponse(
      c,
      new ProblemError(404, "route_not_found", `No route for ${c.req.method} ${c.req.path}`),
    ),
  );
  app.onError((error, c) => {
    // Whatever failed once the client left (aborted upstream work, mostly) has nobody to answer.
    if (clientDisconnected(c)) {
      services.logger.debug(
        { err: (error as Error).message, requestId: c.get("requestId") },
        "client went away",
      );
      return c.body(null, CLIENT_CLOSED as never);
    }
    const problem = toProblem(error) ?? upstreamProblem(error);
    if (problem) return problemResponse(c, problem);
    services.logger.error({ err: error, requestId: c.get("requestId"), path: c.req.path }, "unhandled error");
    return problemResponse(c, new ProblemError(500, "internal_error", "Something went wrong on our side"));
  });
  return app;
}
