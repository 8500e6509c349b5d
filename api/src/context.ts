// The typed service context every handler receives through `c.get("services")`.
import type { Config } from "@kogi/shared/config";
import type { Logger } from "@kogi/shared/logger";
import type { Upstream } from "@kogi/shared/outbound/upstream";
import type { Pool } from "mysql2/promise";
import type { VideoProvider } from "./adapters/d-id/client.js";
import type { QueryEmbedder } from "./adapters/llm/query-embedder.js";
import type { Rewriter } from "./adapters/llm/rewriter.js";
import type { CalendarRepository } from "./adapters/mysql/calendar-repository.js";
import type { CatalogRepository } from "./adapters/mysql/catalog-repository.js";
import type { VideoRepository } from "./adapters/mysql/video-repository.js";
import type { VectorSearch } from "./adapters/vector-client.js";
import type { TieredCache } from "./cache/tiered.js";
import type { JobEvents } from "./jobs/job-events.js";
import type { VideoRunner } from "./jobs/video-runner.js";
import type { ApiKeys } from "./middleware/video-auth.js";
import type { Metrics } from "./observability/metrics.js";
import type { CatalogVersion } from "./services/catalog-version.js";

export interface ReadinessCheck {
  ok: boolean;
  detail?: string;
  latencyMs?: number;
}

/** Videos through D-ID; `provider` (and the runner) only when D_ID_API_KEY is set. */
export interface VideoServices {
  pool: Pool;
  jobs: VideoRepository;
  keys: ApiKeys;
  events: JobEvents;
  provider?: VideoProvider;
  runner?: VideoRunner;
  /** The "d-id" upstream (HTTP calls) and "d-id-renders" (talks in progress), when configured. */
  calls?: Upstream;
  renders?: Upstream;
  /** Path secret of D-ID's webhook; unset = polling only. */
  webhookSecret?: string;
}

/** The interactive docs page's static files (Swagger UI from an npm package), served by Kogi itself: no CDN. */
export interface DocsAssets {
  /** Version of the package the files come from (ETag and cache busting). */
  version: string;
  /** One file by name, or undefined when the name is not one of the page's files. */
  read(name: string): Promise<{ body: Uint8Array; contentType: string } | undefined>;
}

export interface ServiceContext {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  catalog: CatalogRepository;
  calendars: CalendarRepository;
  searchCache: TieredCache;
  catalogVersion: CatalogVersion;
  vector: VectorSearch;
  /** The answer pipeline's language models (OpenAI-compatible, or the offline defaults). */
  llm: { rewriter: Rewriter; embedder: QueryEmbedder };
  videos: VideoServices;
  docs: DocsAssets;
  /** Dependency probes for /ready (the metrics gauges read their own values at scrape time). */
  readiness: () => Promise<Record<string, ReadinessCheck>>;
  /** Extra figures for /v1/stats (pool, cache sizes). */
  stats: () => Record<string, unknown>;
  /** False once shutdown has begun, so /ready drains traffic first. */
  accepting: () => boolean;
}

export interface HonoEnv {
  Variables: {
    services: ServiceContext;
    requestId: string;
    timings: { name: string; ms: number; desc?: string }[];
    cacheStatus?: string;
    /** Set by a handler whose answer may be replayed for byte-identical requests. */
    replayableBody?: string;
    /** The video API key's owner id, set by requireVideoKey. */
    videoOwner: string;
  };
}
