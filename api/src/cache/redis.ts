// Shared tier in Redis. While Redis is disconnected it is skipped (no waiting), and it is used again
// as soon as ioredis reconnects; Redis is never the only copy of anything.
import type { Redis } from "../adapters/redis.js";
import type { CacheTier } from "./interface.js";

export class RedisTier implements CacheTier {
  readonly name = "redis";

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly onError: (error: Error) => void,
  ) {}

  get available(): boolean {
    return this.redis.status === "ready";
  }

  async get(key: string): Promise<string | undefined> {
    if (!this.available) return undefined;
    try {
      return (await this.redis.get(this.prefix + key)) ?? undefined;
    } catch (error) {
      this.onError(error as Error);
      return undefined;
    }
  }

  async delete(key: string): Promise<void> {
    if (!this.available) return;
    try {
      await this.redis.del(this.prefix + key);
    } catch (error) {
      this.onError(error as Error);
    }
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    if (!this.available) return;
    try {
      await this.redis.set(this.prefix + key, value, "EX", ttlSeconds);
    } catch (error) {
      this.onError(error as Error);
    }
  }
}
