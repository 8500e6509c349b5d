// Video use-cases over the job store and D-ID: create (idempotent), read (long-poll), list, cancel.
import { randomBytes } from "node:crypto";
import type { VideoJobRow, VideoRequest, VideoStatus } from "../adapters/mysql/video-repository.js";
import type { ServiceContext, VideoServices } from "../context.js";
import type { CreateVideo, VideoView } from "../contracts/videos.js";
import { notFound, ProblemError } from "../errors.js";
import { resultExpiry } from "../jobs/outcomes.js";
import { PRIORITY_NAMES } from "../jobs/video-runner.js";
import { checkIdempotencyKey, idempotent, requestHash } from "./idempotency.js";

const ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const TERMINAL: readonly VideoStatus[] = ["done", "failed", "rejected", "canceled"];
// A stored result_url this close to D-ID's expiry is refreshed on read.
const RESULT_REFRESH_MARGIN_MS = 60 * 60_000;
const WAIT_RECHECK_MS = 5_000;

export function newVideoId(): string {
  return `vid_${Array.from(randomBytes(26), (byte) => ID_ALPHABET[byte & 31]).join("")}`;
}

export function isTerminal(status: VideoStatus): boolean {
  return TERMINAL.includes(status);
}

/** The video routes need D-ID configured; this says so in one place. */
export function videoServices(
  services: ServiceContext,
): VideoServices & { provider: NonNullable<VideoServices["provider"]> } {
  const videos = services.videos;
  if (!videos.provider)
    throw new ProblemError(
      503,
      "video_unconfigured",
      "Videos are not enabled on this server: set D_ID_API_KEY (and VIDEO_API_KEYS) to turn them on",
    );
  return videos as VideoServices & { provider: NonNullable<VideoServices["provider"]> };
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export function videoView(job: VideoJobRow): VideoView {
  return {
    id: job.id,
    status: job.status,
    priority: PRIORITY_NAMES[job.priority] ?? "normal",
    talkId: job.talkId,
    talkStatus: job.talkStatus,
    resultUrl: job.resultUrl,
    resultExpiresAt: iso(job.resultExpiresAt),
    duration: job.durationSeconds,
    error: job.errorCode ? { code: job.errorCode, detail: job.errorDetail ?? "" } : null,
    attempts: job.attempts,
    webhook: job.webhookUrl
      ? { url: job.webhookUrl, state: job.notifyState, attempts: job.notifyAttempts }
      : null,
    createdAt: job.createdAt.toISOString(),
    updatedAt: job.updatedAt.toISOString(),
    submittedAt: iso(job.submittedAt),
    finishedAt: iso(job.finishedAt),
  };
}

/** Upload ids become D-ID URLs; an id this key did not upload is a 400 naming the field. */
async function resolveRequest(
  videos: VideoServices,
  owner: string,
  body: CreateVideo,
): Promise<VideoRequest> {
  const upload = async (kind: "image" | "audio", id: string, field: string) => {
    const found = await videos.jobs.getUpload(kind, id, owner);
    if (!found)
      throw new ProblemError(400, "validation_failed", `Invalid body: ${field}`, [
        { field, message: `no ${kind} upload with this id` },
      ]);
    return found.url;
  };
  const source = body.sourceImageId
    ? { url: await upload("image", body.sourceImageId, "sourceImageId"), uploadId: body.sourceImageId }
    : { url: body.sourceUrl as string };
  const script: VideoRequest["script"] = body.script
    ? { type: "text", text: body.script.text, ...(body.script.voice ? { voice: body.script.voice } : {}) }
    : body.audioId
      ? { type: "audio", url: await upload("audio", body.audioId, "audioId"), uploadId: body.audioId }
      : { type: "audio", url: body.audioUrl as string };
  const config = body.config && {
    ...(body.config.stitch !== undefined ? { stitch: body.config.stitch } : {}),
    ...(body.config.fluent !== undefined ? { fluent: body.config.fluent } : {}),
    ...(body.config.padAudio !== undefined ? { pad_audio: body.config.padAudio } : {}),
    ...(body.config.resultFormat ? { result_format: body.config.resultFormat } : {}),
  };
  return { source, script, ...(config ? { config } : {}) };
}

/** Queues a job durably (the 202 goes out after the commit); with an Idempotency-Key, at most once. */
export async function createVideo(
  services: ServiceContext,
  owner: string,
  body: CreateVideo,
  rawBody: unknown,
  idempotencyKey?: string,
) {
  const videos = videoServices(services);
  const key = checkIdempotencyKey(idempotencyKey);
  if (body.webhookUrl && !services.config.VIDEO_WEBHOOK_SIGNING_SECRET)
    throw new ProblemError(400, "validation_failed", "Invalid body: webhookUrl", [
      {
        field: "webhookUrl",
        message: "callbacks are not enabled here (VIDEO_WEBHOOK_SIGNING_SECRET is unset)",
      },
    ]);
  const request = await resolveRequest(videos, owner, body);
  const id = newVideoId();
  const insert = async (conn?: Parameters<typeof videos.jobs.insert>[1]) => {
    await videos.jobs.insert(
      { id, owner, priority: PRIORITY_NAMES.indexOf(body.priority), request, webhookUrl: body.webhookUrl },
      conn,
    );
    const job = (await videos.jobs.get(id, owner, conn)) as VideoJobRow;
    return { status: 202, body: JSON.stringify(videoView(job)), location: `/v1/videos/${id}` };
  };
  const outcome = key
    ? await idempotent(
        videos.pool,
        {
          owner,
          key,
          hash: requestHash("POST /v1/videos", rawBody),
          ttlHours: services.config.VIDEO_IDEMPOTENCY_TTL_HOURS,
        },
        insert,
      )
    : { response: await insert(), replayed: false };
  if (!outcome.replayed) videos.events.queued();
  return outcome;
}

/** Reads a job; `waitSeconds` holds the answer until the job changes (or the wait ends). */
export async function getVideo(services: ServiceContext, owner: string, id: string, waitSeconds = 0) {
  const videos = videoServices(services);
  let job = await videos.jobs.get(id, owner);
  if (!job) throw notFound("Video");
  if (waitSeconds > 0 && !isTerminal(job.status)) job = await waitForChange(videos, job, waitSeconds * 1000);
  if (
    job.status === "done" &&
    job.talkId &&
    job.resultExpiresAt &&
    job.resultExpiresAt.getTime() - Date.now() < RESULT_REFRESH_MARGIN_MS
  )
    job = await refreshResult(videos, job, services);
  return job;
}

async function waitForChange(videos: VideoServices, job: VideoJobRow, waitMs: number): Promise<VideoJobRow> {
  const deadline = Date.now() + waitMs;
  const changed = (next: VideoJobRow) =>
    next.status !== job.status ||
    next.talkStatus !== job.talkStatus ||
    next.updatedAt.getTime() !== job.updatedAt.getTime();
  while (Date.now() < deadline) {
    // Woken by the runner (any process, through Redis); re-read every few seconds in case a wake-up
    // was lost (Redis away). Every 1 s, 500 waiting clients cost the database 500 reads/s (bench:video).
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.min(WAIT_RECHECK_MS, deadline - Date.now()));
      const off = videos.events.on("changed", (changedId) => changedId === job.id && done());
      function done() {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
    const next = await videos.jobs.get(job.id, job.owner);
    if (!next) return job;
    if (changed(next)) return next;
  }
  return job;
}

/** D-ID's result_url expires after about 24 h; the talk's GET signs a fresh one. */
async function refreshResult(
  videos: VideoServices & { provider: NonNullable<VideoServices["provider"]> },
  job: VideoJobRow,
  services: ServiceContext,
) {
  try {
    const talk = await videos.provider.getTalk(job.talkId as string, { priority: "high" });
    if (!talk.result_url) return job;
    const expires = resultExpiry(talk.result_url);
    await videos.jobs.refreshResult(job.id, talk.result_url, expires);
    return { ...job, resultUrl: talk.result_url, resultExpiresAt: expires };
  } catch (error) {
    services.logger.warn(
      { err: (error as Error).message, jobId: job.id },
      "could not refresh result_url; serving the stored one",
    );
    return job;
  }
}

export async function listVideos(
  services: ServiceContext,
  owner: string,
  query: { status?: VideoStatus; limit: number; cursor?: string },
) {
  const videos = videoServices(services);
  let before: { createdAt: Date; id: string } | undefined;
  if (query.cursor) {
    const [at, id] = Buffer.from(query.cursor, "base64url").toString("utf8").split("|");
    const createdAt = new Date(Number(at));
    if (!id || Number.isNaN(createdAt.getTime()))
      throw new ProblemError(400, "validation_failed", "Invalid query: cursor", [
        { field: "cursor", message: "is not a cursor from this list" },
      ]);
    before = { createdAt, id };
  }
  const rows = await videos.jobs.list(owner, { status: query.status, before, limit: query.limit + 1 });
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const nextCursor =
    rows.length > query.limit && last
      ? Buffer.from(`${last.createdAt.getTime()}|${last.id}`).toString("base64url")
      : null;
  return { results: page.map(videoView), nextCursor };
}

export async function cancelVideo(services: ServiceContext, owner: string, id: string) {
  const videos = videoServices(services);
  if (await videos.jobs.cancelQueued(id, owner)) {
    videos.events.finished(id);
    return (await videos.jobs.get(id, owner)) as VideoJobRow;
  }
  const job = await videos.jobs.get(id, owner);
  if (!job) throw notFound("Video");
  throw new ProblemError(
    409,
    "video_not_cancelable",
    `Only a queued video can be canceled; this one is ${job.status} (D-ID is already rendering and billing it)`,
  );
}

/** Video figures for /v1/stats: jobs by status and the oldest queued job (all processes), callbacks. */
export async function videoStats(services: ServiceContext) {
  const { videos, metrics } = services;
  if (!videos.provider) return { configured: false };
  const [jobs, oldestQueuedSeconds, callbacks] = await Promise.all([
    videos.jobs.countsByStatus(),
    videos.jobs.oldestQueuedAgeSeconds(),
    metrics.videoCallbacks.get(),
  ]);
  return {
    configured: true,
    jobs,
    oldestQueuedSeconds,
    webhookDeliveries: Object.fromEntries(callbacks.values.map((v) => [String(v.labels.result), v.value])),
    runner: videos.runner ? { id: videos.runner.id, activeJobs: videos.runner.activeJobs } : null,
  };
}
