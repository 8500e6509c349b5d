// The IPC messages between the cluster primary and its api workers (all tagged `kogi`, so Node's own
// cluster messages and anything else on the channel are ignored).
import type { ProcessMetrics } from "../observability/metrics.js";

export type PrimaryMessage =
  /** Send this worker's registry (for an aggregate). */
  | { kogi: "collect"; id: number }
  /** The answer to a worker's `scrape`: the whole api's Prometheus text, or why it failed. */
  | { kogi: "scraped"; id: number; text?: string; error?: string }
  /** How many workers serve right now (sent whenever it changes). */
  | { kogi: "workers"; serving: number };

export type WorkerMessage =
  | { kogi: "collected"; id: number; metrics: ProcessMetrics }
  /** /metrics was asked of this worker: the primary gathers every worker's registry. */
  | { kogi: "scrape"; id: number };

const tagged = (message: unknown) => typeof message === "object" && message !== null && "kogi" in message;

export function isPrimaryMessage(message: unknown): message is PrimaryMessage {
  return tagged(message);
}

export function isWorkerMessage(message: unknown): message is WorkerMessage {
  return tagged(message);
}
