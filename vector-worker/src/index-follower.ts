// Keeps the sidecar's index in step with the catalog and the configured embedder, by itself: every
// interval it loads a newer CURRENT (built by another sidecar sharing the folder, or by hand), and when
// the live index does not fit the catalog version or the embedder, it starts a build (one builder at a
// time across sidecars: see build-lock.ts) and hot-swaps the result in. Searches go on meanwhile on
// the index it has.
import type { Logger } from "@kogi/shared/logger";
import { type BuildOutcome, currentManifest, type Freshness, indexFreshness } from "./index-freshness.js";
import type { ExpectedEmbedder, IndexStore } from "./index-store.js";

export interface FollowerStatus {
  /** current: fits the catalog and embedder; stale: does not, a build will start; building: one runs here. */
  state: "current" | "stale" | "building" | "unknown";
  reason?: string;
  catalogVersion?: number;
  lastBuild?: { finishedAt: string; ms: number; outcome: string; error?: string };
}

export interface FollowerOptions {
  store: IndexStore;
  expected: ExpectedEmbedder;
  /** The catalog's version and course count, from MySQL. */
  catalogState: () => Promise<{ version: number; courses: number }>;
  /** Builds a new version when the index is stale (under the build lock). */
  build: () => Promise<BuildOutcome>;
  intervalMs: number;
  logger: Logger;
}

/** After a failed build, wait this long before the next attempt, doubling up to the cap. */
const RETRY_MS = { first: 10_000, max: 300_000 };

export class IndexFollower {
  #status: FollowerStatus = { state: "unknown" };
  #timer: NodeJS.Timeout | undefined;
  #checking: Promise<void> | undefined;
  #building: Promise<void> | undefined;
  #retryAt = 0;
  #retryMs = RETRY_MS.first;
  #stopped = false;

  constructor(private readonly options: FollowerOptions) {}

  get status(): FollowerStatus {
    return this.#status;
  }

  start(): void {
    if (this.options.intervalMs <= 0 || this.#timer) return;
    void this.check();
    this.#timer = setInterval(() => void this.check(), this.options.intervalMs);
    this.#timer.unref();
  }

  /** Stops checking and waits for a build in progress (its result is still swapped in). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#checking;
    await this.#building;
  }

  /** One round: load a newer CURRENT, compare with the catalog, start a build if needed. */
  check(): Promise<void> {
    this.#checking ??= this.#check().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  /** Resolves once no build is running. */
  async settled(): Promise<void> {
    await this.#checking;
    await this.#building;
  }

  async #check() {
    const { store, logger } = this.options;
    // No CURRENT yet, one built for another embedder, or a corrupt one: the build below replaces it.
    const loadError = await store.reload().then(
      (result) => {
        if (result.changed) logger.info(result, "index reload (a newer version was published)");
        return undefined;
      },
      (error: Error) => error.message,
    );
    let catalog: { version: number; courses: number };
    try {
      catalog = await this.options.catalogState();
    } catch (error) {
      this.#status = { ...this.#status, reason: `catalog unreadable: ${(error as Error).message}` };
      return;
    }
    const manifest = store.current?.manifest ?? (await currentManifest(store.dir));
    let freshness: Freshness =
      catalog.courses === 0
        ? { current: true }
        : indexFreshness(manifest, this.options.expected, catalog.version);
    if (freshness.current && catalog.courses > 0 && !store.current)
      freshness = { current: false, reason: `the index could not be loaded: ${loadError}` };
    if (this.#building) {
      this.#status = { ...this.#status, catalogVersion: catalog.version };
      return;
    }
    this.#status = {
      state: freshness.current ? "current" : "stale",
      reason: freshness.reason,
      catalogVersion: catalog.version,
      lastBuild: this.#status.lastBuild,
    };
    if (!freshness.current && !this.#stopped && Date.now() >= this.#retryAt)
      this.#startBuild(freshness.reason ?? "");
  }

  #startBuild(reason: string) {
    const { store, logger } = this.options;
    const started = performance.now();
    this.#status = { ...this.#status, state: "building" };
    logger.info({ reason }, "index is stale: building a new version");
    const finish = (outcome: string, error?: string) => {
      // Whether the index now fits the catalog version last read; the next round reads it again.
      const fits =
        this.#status.catalogVersion !== undefined &&
        indexFreshness(store.current?.manifest, this.options.expected, this.#status.catalogVersion).current;
      this.#status = {
        ...this.#status,
        state: fits ? "current" : "stale",
        reason: fits ? undefined : this.#status.reason,
        lastBuild: {
          finishedAt: new Date().toISOString(),
          ms: Math.round(performance.now() - started),
          outcome,
          ...(error ? { error } : {}),
        },
      };
    };
    this.#building = this.options
      .build()
      .then(async (result) => {
        if (result.outcome === "built" || result.outcome === "current") await store.reload();
        finish(result.outcome);
        this.#retryMs = RETRY_MS.first;
        // Another sidecar is building: its version shows up in CURRENT; look again next round.
        this.#retryAt = result.outcome === "busy" ? Date.now() + this.options.intervalMs : 0;
        logger.info(
          {
            outcome: result.outcome,
            version: store.current?.manifest.version,
            ms: this.#status.lastBuild?.ms,
          },
          "index build finished",
        );
      })
      .catch((error: Error) => {
        finish("failed", error.message);
        this.#retryAt = Date.now() + this.#retryMs;
        logger.error(
          { err: error.message, retryInMs: this.#retryMs },
          "index build failed; serving the index we have",
        );
        this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MS.max);
      })
      .finally(() => {
        this.#building = undefined;
        // Say at once whether the new index fits (the catalog may have moved again meanwhile).
        if (!this.#stopped) void this.check();
      });
  }
}
