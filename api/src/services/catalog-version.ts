// Tracks the catalog version that every cache key includes, so no result survives an import.
// Imports publish the new version on Redis; a poll of MySQL covers Redis outages and missed messages.
import type { Redis } from "../adapters/redis.js";

export const catalogVersionChannel = (prefix: string) => `${prefix}catalog-version`;

/** Publishes on a queueing (pub/sub) client; gives up after `timeoutMs` if Redis is not there. */
export async function publishCatalogVersion(
  redis: Redis,
  prefix: string,
  version: number,
  timeoutMs = 2_000,
) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis not reachable within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([redis.publish(catalogVersionChannel(prefix), String(version)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export class CatalogVersion {
  #current = 0;
  #timer: NodeJS.Timeout | undefined;
  #subscriber: Redis | undefined;

  constructor(
    private readonly read: () => Promise<number>,
    private readonly onError: (error: Error) => void,
  ) {}

  get current(): number {
    return this.#current;
  }

  /** Raise to a version seen elsewhere (never lowers it). */
  observe(version: number): void {
    if (version > this.#current) this.#current = version;
  }

  async refresh(): Promise<number> {
    this.observe(await this.read());
    return this.#current;
  }

  async start(options: { subscriber?: Redis; prefix: string; pollMs: number }): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => this.refresh().catch(this.onError), options.pollMs);
    this.#timer.unref();
    const subscriber = options.subscriber;
    if (!subscriber) return;
    this.#subscriber = subscriber;
    subscriber.on("message", (_channel: string, message: string) => this.observe(Number(message)));
    // ioredis re-subscribes by itself after a reconnect.
    // Not awaited: with Redis down the subscription waits for it while the poll keeps us current.
    subscriber.subscribe(catalogVersionChannel(options.prefix)).catch(this.onError);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#subscriber?.disconnect();
  }
}
