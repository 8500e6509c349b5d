// Creates the video side (D-ID client, shared budgets, job runner, callbacks) behind VideoServices.
import type { Config } from "@kogi/shared/config";
import type { Logger } from "@kogi/shared/logger";
import { Upstream } from "@kogi/shared/outbound/upstream";
import type { Pool } from "mysql2/promise";
import { DIdClient } from "./adapters/d-id/client.js";
import { VideoRepository } from "./adapters/mysql/video-repository.js";
import { createRedis, type Redis } from "./adapters/redis.js";
import type { VideoServices } from "./context.js";
import { CallbackSender } from "./jobs/callbacks.js";
import { JobEvents } from "./jobs/job-events.js";
import { VideoRunner } from "./jobs/video-runner.js";
import { ApiKeys } from "./middleware/video-auth.js";
import type { Metrics } from "./observability/metrics.js";
import { registerVideoMetrics } from "./observability/video-metrics.js";
import { pruneIdempotencyKeys } from "./services/idempotency.js";
import { videoView } from "./services/videos.js";

export function createVideoServices(
  config: Config,
  deps: { pool: Pool; redis: Redis; budgetRedis: Redis; metrics: Metrics; logger: Logger },
) {
  const { pool, redis, budgetRedis, metrics, logger } = deps;
  const jobs = new VideoRepository(pool);
  const keys = new ApiKeys(config.VIDEO_API_KEYS);
  const subscriber = createRedis(config.REDIS_URL, { subscriber: true });
  subscriber.on("error", () => {}); // Redis trouble is reported by the main client
  const events = new JobEvents(redis, subscriber, config.REDIS_PREFIX);
  const videos: VideoServices = { pool, jobs, keys, events };
  registerVideoMetrics(metrics.registry, jobs, (error) =>
    logger.warn({ err: error.message }, "video metrics: could not read job counts"),
  );
  const upstreams: Upstream[] = [];
  let callbacks: CallbackSender | undefined;
  let housekeeping: NodeJS.Timeout | undefined;

  if (config.D_ID_API_KEY) {
    const onRedisError = (error: Error) =>
      logger.warn({ err: error.message }, "d-id budget: redis error, using memory");
    const shared = { redis: budgetRedis, prefix: `${config.REDIS_PREFIX}upstream:`, onRedisError };
    // HTTP calls: creates, status reads, uploads. Each holds a call slot only while it runs.
    const calls = new Upstream({
      name: "d-id",
      ...shared,
      maxConcurrent: config.D_ID_POOL_CONNECTIONS,
      rpm: config.D_ID_RPM,
      maxQueue: config.D_ID_MAX_QUEUE,
      maxQueueWaitMs: config.D_ID_MAX_QUEUE_WAIT_MS,
      leaseMs: config.D_ID_ATTEMPT_TIMEOUT_MS + 5_000,
      attemptTimeoutMs: config.D_ID_ATTEMPT_TIMEOUT_MS,
      retry: {
        maxAttempts: config.D_ID_MAX_ATTEMPTS,
        initialDelayMs: config.D_ID_RETRY_INITIAL_MS,
        maxDelayMs: config.D_ID_RETRY_MAX_MS,
      },
      breaker: {
        failureThreshold: config.D_ID_BREAKER_FAILURES,
        halfOpenAfterMs: config.D_ID_BREAKER_COOLDOWN_MS,
      },
    });
    // Talks being rendered, D-ID's scarce resource: a job holds one from POST /talks to the talk's end.
    const renders = new Upstream({
      name: "d-id-renders",
      ...shared,
      maxConcurrent: config.D_ID_MAX_CONCURRENCY,
      maxQueue: 1_000,
      maxQueueWaitMs: config.D_ID_RENDER_TIMEOUT_MS,
      leaseMs: config.VIDEO_JOB_LEASE_MS,
      attemptTimeoutMs: config.D_ID_RENDER_TIMEOUT_MS,
      retry: { maxAttempts: 1, initialDelayMs: 0, maxDelayMs: 0 },
      breaker: { failureThreshold: 1_000_000, halfOpenAfterMs: 1_000 },
    });
    upstreams.push(calls, renders);
    const provider = new DIdClient(
      {
        baseUrl: config.D_ID_BASE_URL,
        apiKey: config.D_ID_API_KEY,
        connections: config.D_ID_POOL_CONNECTIONS,
        keepAliveMs: config.D_ID_KEEP_ALIVE_MS,
      },
      calls,
    );
    const base = config.D_ID_WEBHOOK_BASE_URL?.replace(/\/$/, "");
    const secret = config.D_ID_WEBHOOK_SECRET;
    if (base && !secret) logger.warn("D_ID_WEBHOOK_BASE_URL without D_ID_WEBHOOK_SECRET: polling only");
    const runner = new VideoRunner(jobs, provider, renders, events, logger, {
      leaseMs: config.VIDEO_JOB_LEASE_MS,
      pollMs: config.VIDEO_RUNNER_POLL_MS,
      pollInitialMs: config.D_ID_POLL_INITIAL_MS,
      pollMaxMs: config.D_ID_POLL_MAX_MS,
      renderTimeoutMs: config.D_ID_RENDER_TIMEOUT_MS,
      webhookFor: base && secret ? () => `${base}/v1/webhooks/d-id/${secret}` : undefined,
    });
    if (config.VIDEO_WEBHOOK_SIGNING_SECRET)
      callbacks = new CallbackSender(jobs, videoView, metrics.videoCallbacks, logger, {
        secret: config.VIDEO_WEBHOOK_SIGNING_SECRET,
        maxAttempts: config.VIDEO_WEBHOOK_MAX_ATTEMPTS,
        pollMs: config.VIDEO_RUNNER_POLL_MS,
      });
    Object.assign(videos, { provider, runner, calls, renders, webhookSecret: base ? secret : undefined });
    if (keys.count === 0)
      logger.warn("D_ID_API_KEY is set but VIDEO_API_KEYS is empty: every video request gets 401");
  }
  logger.info(
    { configured: !!videos.provider, apiKeys: keys.count, webhook: !!videos.webhookSecret },
    "videos (D-ID)",
  );

  return {
    videos,
    upstreams,
    start() {
      videos.runner?.start();
      if (callbacks) {
        callbacks.start();
        // Only an end makes a callback due; every other change would just cost it a query.
        events.on("finished", () => callbacks?.wake());
      }
      const prune = () =>
        pruneIdempotencyKeys(pool, config.VIDEO_IDEMPOTENCY_TTL_HOURS).catch((error: Error) =>
          logger.warn({ err: error.message }, "idempotency key pruning failed"),
        );
      housekeeping = setInterval(prune, 3_600_000);
      housekeeping.unref();
    },
    /** Before the pool closes: the runner gives its jobs back so another process resumes them at once. */
    async stop() {
      clearInterval(housekeeping);
      await videos.runner?.stop();
      await callbacks?.stop();
      events.close();
      await videos.provider?.close();
    },
  };
}
