// In-process tier: a bounded LRU with TTL, the fastest level and the fallback while Redis is away.
import { LRUCache } from "lru-cache";
import type { CacheTier } from "./interface.js";

export class MemoryTier implements CacheTier {
  readonly name = "memory";
  readonly #lru: LRUCache<string, string>;

  constructor(maxEntries: number, maxBytes = 64 * 1024 * 1024) {
    this.#lru = new LRUCache({
      max: maxEntries,
      maxSize: maxBytes,
      sizeCalculation: (value) => value.length || 1,
    });
  }

  get(key: string): string | undefined {
    return this.#lru.get(key);
  }

  set(key: string, value: string, ttlSeconds: number): void {
    this.#lru.set(key, value, { ttl: ttlSeconds * 1000 });
  }

  delete(key: string): void {
    this.#lru.delete(key);
  }

  get size(): number {
    return this.#lru.size;
  }
}
