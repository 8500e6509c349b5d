// Keeps API_WORKERS workers alive: forks them, replaces one that dies (backing off while they die young,
// so a crash loop does not spin), and on stop signals them all and waits until the last has drained.
import type { Logger } from "@kogi/shared/logger";
import type { PrimaryMessage } from "./messages.js";

/** The part of a node:cluster Worker the supervisor uses (tests pass fakes). */
export interface SupervisedWorker {
  readonly id: number;
  readonly process: { readonly pid?: number; kill(signal?: NodeJS.Signals): boolean };
  on(event: "exit", listener: (code: number, signal: string) => void): unknown;
  on(event: "listening", listener: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  isConnected(): boolean;
  send(message: PrimaryMessage): boolean;
}

export interface SupervisorOptions {
  size: number;
  fork: () => SupervisedWorker;
  logger: Logger;
  /** A worker that ran at least this long before dying was not crash-looping: replaced at once. */
  stableAfterMs?: number;
  restartDelayMs?: (quickDeaths: number) => number;
  /** Called whenever the set of serving workers changes. */
  onChange?: () => void;
}

/** 0 after a worker that had been running fine, then 0.5 s, 1 s, 2 s ... up to 30 s while they keep dying young. */
export function restartDelayMs(quickDeaths: number): number {
  if (quickDeaths <= 0) return 0;
  return Math.min(30_000, 500 * 2 ** (quickDeaths - 1));
}

interface Slot {
  worker?: SupervisedWorker;
  startedAt: number;
  serving: boolean;
  quickDeaths: number;
  restart?: NodeJS.Timeout;
}

export class WorkerSupervisor {
  readonly #slots: Slot[];
  #stopping = false;
  #stopped: Promise<boolean> | undefined;
  #restarts = 0;
  #cleanStop = true;
  #onAllExited: (() => void) | undefined;

  constructor(private readonly options: SupervisorOptions) {
    this.#slots = Array.from({ length: options.size }, () => ({
      startedAt: 0,
      serving: false,
      quickDeaths: 0,
    }));
  }

  start(): void {
    for (const slot of this.#slots) this.#spawn(slot);
  }

  /** Workers that listen (and so answer IPC requests such as metrics collection). */
  get serving(): SupervisedWorker[] {
    return this.#slots.flatMap((slot) => (slot.serving && slot.worker?.isConnected() ? [slot.worker] : []));
  }

  get alive(): number {
    return this.#slots.filter((slot) => slot.worker).length;
  }

  get restarts(): number {
    return this.#restarts;
  }

  /**
   * Sends `signal` to every worker (each drains on its own) and resolves once all have exited: true when
   * every one exited with code 0 before `graceMs`, after which the rest are killed. Calling it again
   * returns the same promise.
   */
  stop(signal: NodeJS.Signals, graceMs: number): Promise<boolean> {
    this.#stopped ??= this.#stop(signal, graceMs);
    return this.#stopped;
  }

  #stop(signal: NodeJS.Signals, graceMs: number): Promise<boolean> {
    this.#stopping = true;
    for (const slot of this.#slots) clearTimeout(slot.restart);
    if (this.alive === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const force = setTimeout(() => {
        this.#cleanStop = false;
        this.options.logger.warn(
          { alive: this.alive },
          "api workers still running after the grace period; killing",
        );
        for (const slot of this.#slots) slot.worker?.process.kill("SIGKILL");
      }, graceMs);
      this.#onAllExited = () => {
        clearTimeout(force);
        resolve(this.#cleanStop);
      };
      // Straight to the process: Worker#kill() would first disconnect the worker, which closes its
      // server at once (and its idle connections with it) instead of draining.
      for (const slot of this.#slots) slot.worker?.process.kill(signal);
    });
  }

  #spawn(slot: Slot): void {
    const worker = this.options.fork();
    slot.worker = worker;
    slot.startedAt = Date.now();
    slot.serving = false;
    worker.on("listening", () => {
      slot.serving = true;
      this.options.onChange?.();
    });
    worker.on("exit", (code, signal) => this.#exited(slot, worker, code, signal));
    // E.g. a message sent as its IPC channel closed; without a listener it would crash the primary.
    worker.on("error", (error) =>
      this.options.logger.warn({ worker: worker.id, err: error.message }, "api worker channel error"),
    );
  }

  #exited(slot: Slot, worker: SupervisedWorker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    slot.serving = false;
    this.options.onChange?.();
    const { logger } = this.options;
    const uptimeMs = Date.now() - slot.startedAt;
    if (this.#stopping) {
      if (code !== 0) this.#cleanStop = false;
      logger.info({ worker: worker.id, pid: worker.process.pid, code, signal }, "api worker stopped");
      if (this.alive === 0) this.#onAllExited?.();
      return;
    }
    slot.quickDeaths = uptimeMs < (this.options.stableAfterMs ?? 10_000) ? slot.quickDeaths + 1 : 0;
    const delay = (this.options.restartDelayMs ?? restartDelayMs)(slot.quickDeaths);
    this.#restarts++;
    logger.warn(
      { worker: worker.id, pid: worker.process.pid, code, signal, uptimeMs, restartInMs: delay },
      "api worker exited; starting a replacement",
    );
    slot.restart = setTimeout(() => {
      slot.restart = undefined;
      if (!this.#stopping) this.#spawn(slot);
    }, delay);
  }
}
