// ioredis client tuned for a cache: fail fast while disconnected instead of queueing commands.
import { Redis } from "ioredis";

export type { Redis };

/**
 * `subscriber`: a pub/sub connection whose commands wait for Redis to (re)appear instead of failing.
 * `budget`: the upstream limiter's connection; no command timeout of its own, because the limiter
 * bounds each acquisition itself and gives back leases whose reply arrives late (a shorter client
 * timeout leaked them under event-loop lag, measured in bench:answer).
 */
export function createRedis(url: string, options: { subscriber?: boolean; budget?: boolean } = {}): Redis {
  if (options.budget)
    return new Redis(url, {
      enableAutoPipelining: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 1_000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    });
  if (options.subscriber)
    return new Redis(url, {
      maxRetriesPerRequest: null,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
      // ioredis writes SUBSCRIBE at once on a connected socket, before its own connect-time commands
      // (CLIENT SETINFO, the INFO ready check): Redis refuses those in subscriber mode, ioredis drops
      // the connection, and the subscription was lost (seen: the catalog-version notification reached
      // no worker, or one of two). A pub/sub connection needs neither of them.
      enableReadyCheck: false,
      disableClientInfo: true,
    });
  return new Redis(url, {
    // Commands issued in the same tick go out in one write: under load that is one syscall for many.
    enableAutoPipelining: true,
    // Commands while disconnected fail at once; the caller falls back to the in-process tier.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 250,
    connectTimeout: 1_000,
    // Keep trying to come back, at most every 2 s.
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
}
