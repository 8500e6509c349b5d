// Memory, then Redis, then compute: hits back-fill the faster tier; concurrent misses of one key
// share a single computation (a Map of in-flight promises: too small a job for a library).
import type { CacheResult } from "./interface.js";
import type { MemoryTier } from "./memory.js";
import type { RedisTier } from "./redis.js";

export interface Cached {
  value: string;
  result: CacheResult;
}

export class TieredCache {
  readonly #inFlight = new Map<string, Promise<Cached>>();

  constructor(
    private readonly memory: MemoryTier,
    private readonly redis: RedisTier | undefined,
    private readonly ttlSeconds: number,
    private readonly onLookup: (result: CacheResult) => void = () => {},
  ) {}

  /** The in-process tier alone, synchronously: for fast paths that must not await anything. */
  peek(key: string): string | undefined {
    return this.memory.get(key);
  }

  /** Stores in the in-process tier only (values derivable from a shared entry, e.g. byte-exact aliases). */
  remember(key: string, value: string): void {
    this.memory.set(key, value, this.ttlSeconds);
  }

  async getOrCompute(key: string, compute: () => Promise<string>): Promise<Cached> {
    const hot = this.memory.get(key);
    if (hot !== undefined) {
      this.onLookup("memory");
      return { value: hot, result: "memory" };
    }
    const pending = this.#inFlight.get(key);
    if (pending) return pending;
    const flight = this.#load(key, compute).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, flight);
    return flight;
  }

  async #load(key: string, compute: () => Promise<string>): Promise<Cached> {
    const shared = await this.redis?.get(key);
    if (shared !== undefined) {
      this.memory.set(key, shared, this.ttlSeconds);
      this.onLookup("redis");
      return { value: shared, result: "redis" };
    }
    this.onLookup("miss");
    const value = await compute();
    this.memory.set(key, value, this.ttlSeconds);
    // Not awaited: the caller has its answer; RedisTier.set reports its own failures.
    void this.redis?.set(key, value, this.ttlSeconds);
    return { value, result: "miss" };
  }

  /** Drops a key from both tiers (e.g. an answer built by a fallback, not worth keeping). */
  forget(key: string): void {
    this.memory.delete(key);
    void this.redis?.delete(key);
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }
}
