// A cache tier stores serialized values by key; tiers are combined by TieredCache.
export interface CacheTier {
  readonly name: string;
  get(key: string): Promise<string | undefined> | string | undefined;
  set(key: string, value: string, ttlSeconds: number): Promise<void> | void;
}

export type CacheResult = "memory" | "redis" | "miss";
