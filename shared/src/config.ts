// The one place that reads the environment: a zod schema with defaults, parsed once at start-up.
import { availableParallelism } from "node:os";
import { z } from "zod";

const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL starting with ${protocols.join(" or ")}//`,
  );

const positiveInt = z.coerce.number().int().positive();

export const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default("0.0.0.0"),
  /** api processes behind the one port (node:cluster); 1 = a single process, as each compose replica runs. */
  API_WORKERS: z.coerce
    .number()
    .int()
    .min(1)
    .max(256)
    .default(() => availableParallelism()),
  DATABASE_URL: url(["mysql:", "mariadb:"]).default("mysql://root@127.0.0.1:3306/kogi"),
  DB_POOL_SIZE: positiveInt.default(10),
  DB_QUEUE_LIMIT: z.coerce.number().int().min(0).default(500),
  /** Client-side deadline of every statement on the request path (a frozen database never answers). */
  DB_STATEMENT_TIMEOUT_MS: positiveInt.default(3_000),
  /** Longest wait for a pooled connection before 503 database_unavailable. */
  DB_ACQUIRE_TIMEOUT_MS: positiveInt.default(1_000),
  /** Deadline of each /ready probe (MySQL, Redis, sidecar), so readiness answers within a second. */
  READY_PROBE_TIMEOUT_MS: positiveInt.default(800),
  REDIS_URL: url(["redis:", "rediss:"]).default("redis://127.0.0.1:6379"),
  REDIS_PREFIX: z.string().default("kogi:"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  CACHE_MEMORY_ENTRIES: positiveInt.default(5000),
  CACHE_TTL_SECONDS: positiveInt.default(300),
  BODY_LIMIT_BYTES: positiveInt.default(64 * 1024),
  // Above nginx's upstream keepalive_timeout (60 s) so the proxy never reuses a socket Node just closed.
  KEEP_ALIVE_TIMEOUT_MS: positiveInt.default(65_000),
  SHUTDOWN_GRACE_MS: positiveInt.default(10_000),
  /**
   * After SIGTERM, how long readiness is off while connections keep being served before the server
   * closes idle keep-alive connections: requests already on their way are read and answered, not cut off.
   */
  SHUTDOWN_DELAY_MS: z.coerce.number().int().min(0).default(500),
  DEMO_COURSES: z.coerce.number().int().min(0).default(2000),

  // Vector sidecar and embeddings.
  /** Unset: the sidecar this host runs, http://127.0.0.1:VECTOR_PORT (so the two cannot disagree). */
  VECTOR_URL: url(["http:", "https:"]).optional(),
  VECTOR_TIMEOUT_MS: positiveInt.default(2_000),
  VECTOR_PORT: z.coerce.number().int().min(0).max(65535).default(8090),
  VECTOR_HOST: z.string().default("0.0.0.0"),
  /** 0 = one per core. */
  VECTOR_THREADS: z.coerce.number().int().min(0).max(64).default(0),
  VECTOR_MAX_QUEUE: positiveInt.default(256),
  VECTOR_INDEX_DIR: z.string().default("data/vector-index"),
  /**
   * How often the sidecar compares its index with the catalog version and the configured embedder,
   * and rebuilds (one builder at a time) when they differ; 0 = never (manual index:build only).
   */
  INDEX_FOLLOW_INTERVAL_MS: z.coerce.number().int().min(0).default(5_000),
  /** Allowed-set size up to which the planner scans exactly instead of using the IVF index. */
  VECTOR_EXACT_THRESHOLD: positiveInt.default(4_000),
  EMBEDDINGS_PROVIDER: z.enum(["local", "openai"]).optional(),
  EMBEDDING_DIMS: positiveInt.default(1536),
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_BASE_URL: url(["http:", "https:"]).optional(),
  OPENAI_EMBEDDING_MODEL: z.string().default("text-embedding-3-small"),
  OPENAI_CHAT_MODEL: z.string().default("gpt-4o-mini"),
  /** Concurrent OpenAI calls across all api processes and replicas (shared through Redis). */
  OPENAI_MAX_CONCURRENCY: positiveInt.default(50),
  OPENAI_RPM: positiveInt.default(3_000),
  OPENAI_TPM: positiveInt.default(1_000_000),
  /** Callers allowed to wait for an OpenAI slot per process; more get 503 + Retry-After at once. */
  OPENAI_MAX_QUEUE: positiveInt.default(500),
  OPENAI_MAX_QUEUE_WAIT_MS: positiveInt.default(3_000),
  OPENAI_ATTEMPT_TIMEOUT_MS: positiveInt.default(10_000),
  OPENAI_MAX_ATTEMPTS: positiveInt.default(3),
  /** Consecutive failed calls that open an OpenAI circuit breaker, and how long it stays open. */
  OPENAI_BREAKER_FAILURES: positiveInt.default(5),
  OPENAI_BREAKER_COOLDOWN_MS: positiveInt.default(10_000),
  /** Overall deadline of an answer (a client may ask for less with X-Request-Timeout-Ms). */
  ANSWER_TIMEOUT_MS: positiveInt.default(15_000),
  /** hybrid = lexical + vector rankings fused; vector or lexical alone for comparisons (bench:answer). */
  ANSWER_RANKING: z.enum(["hybrid", "vector", "lexical"]).default("hybrid"),

  // Videos through D-ID.
  /** `API_USERNAME:API_PASSWORD` from D-ID Studio; without it every video route answers 503. */
  D_ID_API_KEY: z.string().optional(),
  D_ID_BASE_URL: url(["http:", "https:"]).default("https://api.d-id.com"),
  /** Talks being rendered at once, across every api process and replica (shared through Redis). */
  D_ID_MAX_CONCURRENCY: positiveInt.default(10),
  /** D-ID HTTP calls per minute (creates, status reads, uploads), shared. */
  D_ID_RPM: positiveInt.default(300),
  D_ID_POOL_CONNECTIONS: positiveInt.default(10),
  D_ID_KEEP_ALIVE_MS: positiveInt.default(30_000),
  D_ID_ATTEMPT_TIMEOUT_MS: positiveInt.default(30_000),
  D_ID_MAX_ATTEMPTS: positiveInt.default(3),
  D_ID_RETRY_INITIAL_MS: z.coerce.number().int().min(0).default(2_000),
  D_ID_RETRY_MAX_MS: z.coerce.number().int().min(0).default(10_000),
  /** Callers allowed to wait for a D-ID call slot per process; more get 503 + Retry-After at once. */
  D_ID_MAX_QUEUE: positiveInt.default(200),
  D_ID_MAX_QUEUE_WAIT_MS: positiveInt.default(10_000),
  D_ID_BREAKER_FAILURES: positiveInt.default(5),
  D_ID_BREAKER_COOLDOWN_MS: positiveInt.default(30_000),
  /** Status polling of a talk: first delay, growing to the cap; the talk fails after the render timeout. */
  D_ID_POLL_INITIAL_MS: positiveInt.default(1_000),
  D_ID_POLL_MAX_MS: positiveInt.default(10_000),
  D_ID_RENDER_TIMEOUT_MS: positiveInt.default(600_000),
  /** Public https base URL D-ID can reach (e.g. https://kogi.example.edu); unset = polling only. */
  D_ID_WEBHOOK_BASE_URL: url(["http:", "https:"]).optional(),
  /** Unguessable path segment of D-ID's webhook, /v1/webhooks/d-id/{secret}; needed with the base URL. */
  D_ID_WEBHOOK_SECRET: z.string().min(16).optional(),
  /** Comma-separated API keys accepted on the video routes (kept only as hashes). */
  VIDEO_API_KEYS: z.string().optional(),
  /** HMAC-SHA256 key that signs the callbacks sent to a job's webhookUrl; unset = webhookUrl refused. */
  VIDEO_WEBHOOK_SIGNING_SECRET: z.string().min(16).optional(),
  VIDEO_WEBHOOK_MAX_ATTEMPTS: positiveInt.default(8),
  /** Longest `Prefer: wait=N` a status read may hold. */
  VIDEO_WAIT_MAX_SECONDS: positiveInt.max(300).default(30),
  /** How long the legacy generate-video route waits for the video before answering with its status. */
  VIDEO_LEGACY_WAIT_MS: positiveInt.default(120_000),
  /** A job's lease: a crashed process's jobs are taken over by another this long after its last renewal. */
  VIDEO_JOB_LEASE_MS: z.coerce.number().int().min(1_000).default(30_000),
  /** How often each runner looks for due jobs (new jobs in the same process are picked up at once). */
  VIDEO_RUNNER_POLL_MS: positiveInt.default(1_000),
  /** Idempotency-Key records are kept at least this long. */
  VIDEO_IDEMPOTENCY_TTL_HOURS: positiveInt.default(24),
  VIDEO_UPLOAD_IMAGE_MAX_BYTES: positiveInt.default(10 * 1024 * 1024),
  VIDEO_UPLOAD_AUDIO_MAX_BYTES: positiveInt.default(6 * 1024 * 1024),
});

export type Config = Omit<z.infer<typeof configSchema>, "VECTOR_URL"> & { VECTOR_URL: string };

/** OpenAI when a key is set (unless told otherwise), else the offline local embedder. */
export function embeddingsProvider(config: Config): "local" | "openai" {
  return config.EMBEDDINGS_PROVIDER ?? (config.OPENAI_API_KEY ? "openai" : "local");
}

export class ConfigError extends Error {}

/** Parses the environment; every wrong variable is named in one message. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ""),
  );
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const config = parsed.data;
  return { ...config, VECTOR_URL: config.VECTOR_URL ?? `http://127.0.0.1:${config.VECTOR_PORT}` };
}

/** For entry points: a wrong setting stops the process with the message, and no stack trace. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}
