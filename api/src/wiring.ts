// Creates the real adapters (mysql2 pool, ioredis, caches) behind a ServiceContext; used by main.ts and tests.
import { type Config, embeddingsProvider } from "@kogi/shared/config";
import type { Logger } from "@kogi/shared/logger";
import { registerUpstreamMetrics, Upstream } from "@kogi/shared/outbound/upstream";
import { swaggerUiAssets } from "./adapters/docs-assets.js";
import { OpenAIQueryEmbedder, SidecarQueryEmbedder } from "./adapters/llm/query-embedder.js";
import { OpenAIRewriter, PassThroughRewriter } from "./adapters/llm/rewriter.js";
import { CalendarRepository } from "./adapters/mysql/calendar-repository.js";
import { CatalogRepository } from "./adapters/mysql/catalog-repository.js";
import { createPool, poolStats } from "./adapters/mysql/pool.js";
import { createRedis, type Redis } from "./adapters/redis.js";
import { HttpVectorClient } from "./adapters/vector-client.js";
import { MemoryTier } from "./cache/memory.js";
import { RedisTier } from "./cache/redis.js";
import { TieredCache } from "./cache/tiered.js";
import { readCatalogVersion } from "./catalog/importer.js";
import { type ApiInstance, singleProcess } from "./cluster/worker-link.js";
import type { ReadinessCheck, ServiceContext } from "./context.js";
import { Metrics } from "./observability/metrics.js";
import { CatalogVersion } from "./services/catalog-version.js";
import { createVideoServices } from "./video-wiring.js";

/** A readiness probe with its own deadline: /ready answers in bounded time whatever hangs. */
async function timed(probe: () => Promise<unknown>, timeoutMs: number): Promise<ReadinessCheck> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  } catch (error) {
    return { ok: false, detail: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `instance` says which api process this is (for /v1/stats): a cluster worker passes its id and the
 * worker count; tests and the single-process mode get the default.
 */
export async function createServices(
  config: Config,
  logger: Logger,
  instance: () => ApiInstance = singleProcess,
) {
  const pool = createPool({
    databaseUrl: config.DATABASE_URL,
    size: config.DB_POOL_SIZE,
    queueLimit: config.DB_QUEUE_LIMIT,
    deadlines: { statementMs: config.DB_STATEMENT_TIMEOUT_MS, acquireMs: config.DB_ACQUIRE_TIMEOUT_MS },
  });
  const redis = createRedis(config.REDIS_URL);
  const subscriber = createRedis(config.REDIS_URL, { subscriber: true });
  let redisWasUp = true;
  const onRedisError = (error: Error) =>
    logger.warn({ err: error.message }, "redis command failed; serving from memory");
  redis.on("error", (error) => {
    if (redisWasUp)
      logger.warn({ err: error.message }, "redis unavailable; falling back to the in-process cache");
    redisWasUp = false;
  });
  redis.on("ready", () => {
    if (!redisWasUp) logger.info("redis is back; shared caching resumed");
    redisWasUp = true;
  });
  subscriber.on("error", () => {}); // reported once through the main client above

  const metrics = new Metrics();
  const memory = new MemoryTier(config.CACHE_MEMORY_ENTRIES);
  const redisTier = new RedisTier(redis, config.REDIS_PREFIX, onRedisError);
  const searchCache = new TieredCache(memory, redisTier, config.CACHE_TTL_SECONDS, (result) =>
    metrics.cacheLookups.inc({ cache: "search", result }),
  );
  const catalogVersion = new CatalogVersion(
    () => readCatalogVersion(pool),
    (error) => logger.warn({ err: error.message }, "catalog version refresh failed"),
  );
  let accepting = true;
  const vector = new HttpVectorClient(config.VECTOR_URL, config.VECTOR_TIMEOUT_MS);
  const budgetRedis = createRedis(config.REDIS_URL, { budget: true });
  budgetRedis.on("error", () => {}); // the toolkit reports budget errors through onRedisError
  const { llm, upstreams } = createLanguageModels(config, budgetRedis, vector, logger);
  const video = createVideoServices(config, { pool, redis, budgetRedis, metrics, logger });
  upstreams.push(...video.upstreams);
  registerUpstreamMetrics(metrics.registry, upstreams);

  metrics.observe({
    dbPool: () => poolStats(pool),
    redisUp: () => redisTier.available,
    catalogVersion: () => catalogVersion.current,
  });

  const services: ServiceContext = {
    config,
    logger,
    metrics,
    catalog: new CatalogRepository(pool),
    calendars: new CalendarRepository(pool),
    searchCache,
    catalogVersion,
    vector,
    llm,
    videos: video.videos,
    docs: swaggerUiAssets(),
    readiness: async () => {
      const breakers = Object.fromEntries(
        upstreams.map((u) => {
          const state = u.stats().breaker;
          return [`upstream:${u.stats().name}`, { ok: state !== "open", detail: `breaker ${state}` }];
        }),
      );
      const [mysql, redisCheck, vectorCheck] = await Promise.all([
        timed(() => pool.query("SELECT 1"), config.READY_PROBE_TIMEOUT_MS),
        redisTier.available
          ? timed(() => redis.ping(), config.READY_PROBE_TIMEOUT_MS)
          : Promise.resolve({
              ok: false,
              detail: `redis ${redis.status}; serving from the in-process cache`,
            }),
        vector.ready(config.READY_PROBE_TIMEOUT_MS, catalogVersion.current),
      ]);
      return { mysql, redis: redisCheck, vector: vectorCheck, ...breakers };
    },
    stats: () => ({
      catalogVersion: catalogVersion.current,
      dbPool: { ...poolStats(pool), queueLimit: config.DB_QUEUE_LIMIT },
      cache: {
        memoryEntries: memory.size,
        memoryMaxEntries: config.CACHE_MEMORY_ENTRIES,
        inFlight: searchCache.inFlight,
        redis: redisTier.available ? "connected" : redis.status,
        ttlSeconds: config.CACHE_TTL_SECONDS,
      },
      upstreams: upstreams.map((u) => u.stats()),
      llm: { rewriter: `${llm.rewriter.provider}/${llm.rewriter.model}`, embedder: llm.embedder.provider },
      api: instance(),
    }),
    accepting: () => accepting,
  };

  return {
    services,
    pool,
    redis,
    async start() {
      await catalogVersion.start({ subscriber, prefix: config.REDIS_PREFIX, pollMs: 2_000 });
      video.start();
    },
    stopAccepting() {
      accepting = false;
    },
    async close() {
      await video.stop();
      catalogVersion.stop();
      redis.disconnect();
      await vector.close();
      await Promise.all(upstreams.map((u) => u.close()));
      budgetRedis.disconnect();
      await pool.end();
    },
  };
}

/**
 * The rewriter and query embedder: OpenAI-compatible through the outbound toolkit when a key is set,
 * otherwise the offline defaults (pass-through rewrite, the sidecar's local embedder).
 */
function createLanguageModels(config: Config, redis: Redis, vector: HttpVectorClient, logger: Logger) {
  const upstream = (name: string) =>
    new Upstream({
      name,
      redis,
      prefix: `${config.REDIS_PREFIX}upstream:`,
      maxConcurrent: config.OPENAI_MAX_CONCURRENCY,
      rpm: config.OPENAI_RPM,
      tpm: config.OPENAI_TPM,
      maxQueue: config.OPENAI_MAX_QUEUE,
      maxQueueWaitMs: config.OPENAI_MAX_QUEUE_WAIT_MS,
      leaseMs: config.OPENAI_ATTEMPT_TIMEOUT_MS + 5_000,
      attemptTimeoutMs: config.OPENAI_ATTEMPT_TIMEOUT_MS,
      retry: { maxAttempts: config.OPENAI_MAX_ATTEMPTS, initialDelayMs: 250, maxDelayMs: 4_000 },
      breaker: {
        failureThreshold: config.OPENAI_BREAKER_FAILURES,
        halfOpenAfterMs: config.OPENAI_BREAKER_COOLDOWN_MS,
      },
      onRedisError: (error: Error) =>
        logger.warn({ err: error.message, upstream: name }, "upstream budget: redis error, using memory"),
    });
  const upstreams: Upstream[] = [];
  const key = config.OPENAI_API_KEY;
  let rewriter: OpenAIRewriter | PassThroughRewriter = new PassThroughRewriter();
  if (key) {
    const chat = upstream("openai-chat");
    upstreams.push(chat);
    rewriter = new OpenAIRewriter(
      { apiKey: key, baseURL: config.OPENAI_BASE_URL, model: config.OPENAI_CHAT_MODEL },
      chat,
    );
  }
  let embedder: OpenAIQueryEmbedder | SidecarQueryEmbedder = new SidecarQueryEmbedder(vector);
  if (key && embeddingsProvider(config) === "openai") {
    const embeddings = upstream("openai-embeddings");
    upstreams.push(embeddings);
    embedder = new OpenAIQueryEmbedder(
      {
        apiKey: key,
        baseURL: config.OPENAI_BASE_URL,
        model: config.OPENAI_EMBEDDING_MODEL,
        dims: config.EMBEDDING_DIMS,
      },
      embeddings,
    );
  }
  logger.info(
    { rewriter: `${rewriter.provider}/${rewriter.model}`, embedder: embedder.provider },
    "answer providers",
  );
  return { llm: { rewriter, embedder }, upstreams };
}
