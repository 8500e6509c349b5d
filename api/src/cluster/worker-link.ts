// A cluster worker's side of the IPC channel: who it is, how many workers serve, and /metrics for the
// whole api (the primary gathers every worker's registry; this worker's registry answers its `collect`).
import cluster from "node:cluster";
import type { Registry } from "prom-client";
import { isPrimaryMessage, type WorkerMessage } from "./messages.js";

/** Which api process answered, for /v1/stats. */
export interface ApiInstance {
  mode: "single" | "cluster";
  pid: number;
  /** The cluster worker id (1, 2, ...; a replacement gets a new one), null in single-process mode. */
  worker: number | null;
  /** Workers configured (API_WORKERS), and how many are serving right now. */
  workers: number;
  serving: number;
}

export const singleProcess = (): ApiInstance => ({
  mode: "single",
  pid: process.pid,
  worker: null,
  workers: 1,
  serving: 1,
});

const SCRAPE_TIMEOUT_MS = 5_000;

export class WorkerLink {
  readonly worker: number;
  #serving: number;
  #nextId = 0;
  #registry: Registry | undefined;
  readonly #scrapes = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();

  constructor(readonly workers: number) {
    if (!cluster.worker) throw new Error("WorkerLink is for cluster workers");
    this.worker = cluster.worker.id;
    this.#serving = workers;
    process.on("message", (message: unknown) => {
      if (!isPrimaryMessage(message)) return;
      if (message.kogi === "collect") void this.#collect(message.id);
      else if (message.kogi === "workers") this.#serving = message.serving;
      else if (message.kogi === "scraped") {
        const pending = this.#scrapes.get(message.id);
        this.#scrapes.delete(message.id);
        if (message.text !== undefined) pending?.resolve(message.text);
        else pending?.reject(new Error(message.error ?? "no answer"));
      }
    });
  }

  /** The registry this worker contributes to the cluster's /metrics. */
  collectFrom(registry: Registry): void {
    this.#registry = registry;
  }

  describe = (): ApiInstance => ({
    mode: "cluster",
    pid: process.pid,
    worker: this.worker,
    workers: this.workers,
    serving: this.#serving,
  });

  /** The whole api's metrics, aggregated by the primary. */
  scrape(): Promise<string> {
    const id = this.#nextId++;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#scrapes.delete(id);
        reject(new Error(`the cluster primary did not answer within ${SCRAPE_TIMEOUT_MS} ms`));
      }, SCRAPE_TIMEOUT_MS);
      this.#scrapes.set(id, {
        resolve: (text) => {
          clearTimeout(timer);
          resolve(text);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      if (!this.#send({ kogi: "scrape", id })) {
        this.#scrapes.get(id)?.reject(new Error("the IPC channel to the cluster primary is closed"));
        this.#scrapes.delete(id);
      }
    });
  }

  async #collect(id: number) {
    // A failing collect still answers (with nothing), so the primary's aggregate does not wait for it.
    const metrics = (await this.#registry?.getMetricsAsJSON().catch(() => undefined)) ?? [];
    this.#send({ kogi: "collected", id, metrics });
  }

  #send(message: WorkerMessage): boolean {
    if (!process.connected || !process.send) return false;
    process.send(message);
    return true;
  }
}
