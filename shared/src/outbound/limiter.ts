// A per-process priority waiting list in front of the global budget (Redis; memory while Redis is away).
//
// Waiting for budget is polling: only the head of this process's list retries the budget, napping
// min(ms until a slot could free, pollMs) with jitter while concurrency is exhausted, or until the
// known end of a rate window. Polling is simple and has no lost wake-ups: a pub/sub "slot freed"
// message can be missed across a reconnect or a crashed holder (whose lease just expires, with nobody
// to announce it), and a waiter would then sleep forever. A release in this process wakes its head at once.
// Across processes there is no fairness beyond that: whichever head polls first after a release wins.
import { randomUUID } from "node:crypto";
import type { BlockedBy, Decision } from "./budget.js";
import {
  UpstreamAbortedError,
  UpstreamOverloadedError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
  withoutStack,
} from "./errors.js";
import { MemoryBudget } from "./memory-budget.js";
import type { Backend, Priority, ResolvedOptions } from "./options.js";
import { RedisBudget } from "./redis-budget.js";
import { timer } from "./timers.js";
import { WaitingList } from "./waiting-list.js";

export interface Lease {
  readonly id: string;
  readonly backend: Backend;
  readonly acquiredAt: number;
  released: boolean;
}

export interface AcquireRequest {
  priority: Priority;
  tokens: number;
  signal?: AbortSignal;
  deadline?: number;
}

interface Waiter {
  readonly priority: Priority;
  readonly tokens: number;
  grant(lease: Lease): void;
  /** False when the waiter had already left. */
  fail(error: Error): boolean;
}

type Refusal = { lease?: undefined; waitMs: number; blockedBy: BlockedBy };
type Outcome = { lease: Lease } | Refusal;

// Longest nap while a rate window is full, so a budget cleared by hand (or a shorter window) is noticed.
const MAX_RATE_NAP_MS = 1_000;

export class Limiter {
  readonly counters = { queueFull: 0, queueWait: 0, timeouts: 0, fallbacks: 0 };
  readonly #options: ResolvedOptions;
  readonly #list = new WaitingList<Waiter>();
  readonly #memory: MemoryBudget;
  readonly #redis: RedisBudget | undefined;
  #lastBackend: Backend = "memory";
  #activeGlobal: number | undefined;
  #active = 0;
  #pumping = false;
  #wake: (() => void) | undefined;
  /** A slot of ours was released while the head's try was on its way: that refusal may be stale. */
  #freedMeanwhile = false;
  #closed = false;
  /** Lease releases on their way to Redis, awaited by close(). */
  readonly #releasing = new Set<Promise<void>>();
  /** Moving average of how long a slot is held, for Retry-After estimates. */
  #holdMs = 1_000;
  /** The last rate-window wait seen, for Retry-After estimates. */
  #rateWaitMs = 0;

  constructor(options: ResolvedOptions) {
    this.#options = options;
    const limits = { ...options };
    this.#memory = new MemoryBudget(limits);
    // The hash tag keeps the three keys of one upstream in one Redis Cluster slot, as a script needs.
    this.#redis =
      options.redis && new RedisBudget(options.redis, `${options.prefix}{${options.name}}:`, limits);
  }

  get backend(): Backend {
    return this.#redis?.ready ? this.#lastBackend : "memory";
  }

  /** A normal-priority caller arriving now would be refused (queue full): lets callers shed before doing work. */
  get saturated(): boolean {
    return this.#list.size >= this.#options.maxQueue;
  }

  stats() {
    const backend = this.backend;
    const activeGlobal = backend === "redis" ? this.#activeGlobal : undefined;
    const used = activeGlobal ?? this.#memory.active;
    return {
      backend,
      active: this.#active,
      activeGlobal,
      available: Math.max(0, this.#options.maxConcurrent - used),
      queued: this.#list.counts(),
    };
  }

  /** Resolves with a lease (release it with `hold(...)`'s function or `release`), or rejects with why not. */
  async acquire(request: AcquireRequest): Promise<Lease> {
    const { name } = this.#options;
    if (this.#closed) throw new UpstreamUnavailableError(name, 1, "closed");
    if (request.signal?.aborted) throw new UpstreamAbortedError(name, request.signal.reason);
    if (request.deadline !== undefined && request.deadline <= Date.now()) {
      this.counters.timeouts++;
      throw new UpstreamTimeoutError(name, "deadline");
    }
    // Nobody waiting: try at once. Otherwise join the line, so a newcomer never overtakes a waiter.
    if (this.#list.size === 0) {
      const decision = await this.#decide(request.tokens);
      if (decision.lease) {
        if (!request.signal?.aborted) return decision.lease;
        this.release(decision.lease);
        throw new UpstreamAbortedError(name, request.signal.reason);
      }
    }
    return this.#wait(request);
  }

  /**
   * Keeps the lease alive (renewed every leaseMs/3) while its attempt runs, and stops renewing once
   * `signal` aborts: an fn that ignores its signal then loses the slot after leaseMs at most.
   * Returns the function that releases the lease.
   */
  hold(lease: Lease, signal: AbortSignal): () => void {
    const interval = setInterval(() => void this.#renew(lease), this.#options.leaseMs / 3);
    const stop = () => clearInterval(interval);
    signal.addEventListener("abort", stop, { once: true });
    return () => {
      stop();
      signal.removeEventListener("abort", stop);
      this.release(lease);
    };
  }

  release(lease: Lease): void {
    if (lease.released) return;
    lease.released = true;
    this.#active--;
    this.#holdMs = this.#holdMs * 0.8 + (Date.now() - lease.acquiredAt) * 0.2;
    this.#memory.release(lease.id);
    // A memory lease may have been adopted into Redis since: releasing an unknown id there is harmless.
    if (this.#redis?.ready || (lease.backend === "redis" && this.#redis)) {
      // Best effort between acquisitions: our own release is the one change to the global count we know of.
      if (this.#activeGlobal !== undefined) this.#activeGlobal = Math.max(0, this.#activeGlobal - 1);
      // Unreachable Redis: the lease simply expires there after leaseMs.
      const releasing = this.#redis
        .release(lease.id)
        .catch(this.#options.onRedisError)
        .finally(() => this.#releasing.delete(releasing));
      this.#releasing.add(releasing);
    }
    this.#freedMeanwhile = true;
    this.#wake?.();
  }

  /** Estimated seconds until a caller would be served: the line ahead over the slots, or a rate window. */
  retryAfterSeconds(): number {
    const queueMs = ((this.#list.size + 1) / this.#options.maxConcurrent) * this.#holdMs;
    return Math.min(300, Math.max(1, Math.ceil(Math.max(queueMs, this.#rateWaitMs) / 1000)));
  }

  /** Rejects the waiters and waits for releases already sent to Redis. */
  async close(): Promise<void> {
    this.#closed = true;
    for (let waiter = this.#list.peek(); waiter; waiter = this.#list.peek()) {
      waiter.fail(new UpstreamUnavailableError(this.#options.name, 1, "closed"));
    }
    this.#wake?.();
    await Promise.all(this.#releasing);
  }

  #wait(request: AcquireRequest): Promise<Lease> {
    const { name, maxQueue, maxQueueWaitMs } = this.#options;
    const { priority, tokens, signal, deadline } = request;
    if (signal?.aborted) return Promise.reject(new UpstreamAbortedError(name, signal.reason));
    if (this.#list.size >= maxQueue) {
      this.counters.queueFull++;
      const overloaded = withoutStack(
        () => new UpstreamOverloadedError(name, this.retryAfterSeconds(), "queue-full"),
      );
      // A full line still admits a higher priority: the newest waiter of the lowest priority below it goes.
      const shed = this.#list.newestBelow(priority);
      if (!shed) return Promise.reject(overloaded);
      shed.fail(overloaded);
    }
    return new Promise<Lease>((resolve, reject) => {
      const leave = (): boolean => {
        if (!this.#list.remove(waiter)) return false;
        clearTimeout(giveUp);
        signal?.removeEventListener("abort", onAbort);
        return true;
      };
      const waiter: Waiter = {
        priority,
        tokens,
        grant: (lease) => (leave() ? resolve(lease) : this.release(lease)),
        fail: (error) => {
          if (!leave()) return false;
          reject(error);
          return true;
        },
      };
      const onAbort = () => waiter.fail(new UpstreamAbortedError(name, signal?.reason));
      const untilDeadline = deadline === undefined ? Number.POSITIVE_INFINITY : deadline - Date.now();
      const giveUp = timer(Math.min(maxQueueWaitMs, untilDeadline), () => {
        if (untilDeadline <= maxQueueWaitMs) {
          if (waiter.fail(new UpstreamTimeoutError(name, "deadline"))) this.counters.timeouts++;
        } else if (
          waiter.fail(
            withoutStack(() => new UpstreamOverloadedError(name, this.retryAfterSeconds(), "queue-wait")),
          )
        ) {
          this.counters.queueWait++;
        }
      });
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#list.push(waiter);
      this.#pump(waiter);
    });
  }

  /** Starts the head's polling loop, or wakes it when `newcomer` has become the head. */
  #pump(newcomer?: Waiter): void {
    if (this.#pumping) {
      if (newcomer && this.#list.peek() === newcomer) this.#wake?.();
      return;
    }
    this.#pumping = true;
    void this.#serve().finally(() => {
      this.#pumping = false;
      // A waiter that arrived while the loop was finishing would otherwise never be served.
      if (this.#list.size > 0 && !this.#closed) this.#pump();
    });
  }

  async #serve(): Promise<void> {
    for (let head = this.#list.peek(); head && !this.#closed; head = this.#list.peek()) {
      let decision: Outcome | undefined;
      this.#freedMeanwhile = false;
      try {
        decision = await this.#decide(head.tokens);
      } catch {
        decision = undefined;
      }
      if (decision?.lease) {
        head.grant(decision.lease);
        continue;
      }
      if (this.#freedMeanwhile) continue;
      await this.#nap(decision ? this.#napMs(decision) : this.#options.pollMs);
    }
  }

  #napMs(refusal: Refusal): number {
    const { pollMs } = this.#options;
    // Concurrency frees whenever any holder releases, possibly in another process, which cannot wake us.
    if (refusal.blockedBy === "concurrency") return Math.min(refusal.waitMs, pollMs) * (0.5 + Math.random());
    // A rate window frees at a known time; jitter so that the processes' heads do not all ask in the same ms.
    return Math.min(refusal.waitMs, MAX_RATE_NAP_MS) + Math.random() * pollMs;
  }

  #nap(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(handle);
        this.#wake = undefined;
        resolve();
      };
      const handle = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  /** One try at the budget: Redis when connected, memory when it is absent, disconnected or failing. */
  async #decide(tokens: number): Promise<Outcome> {
    const id = randomUUID();
    const redis = this.#redis;
    if (redis?.ready) {
      try {
        // Back from memory, or reconnected (maybe to an emptied Redis): our leases count first.
        if (redis.needsAdoption || this.#lastBackend === "memory") await this.#adopt(redis);
        const decision = await this.#bounded(redis, redis.tryAcquire(id, tokens), id);
        this.#lastBackend = "redis";
        this.#activeGlobal = decision.active;
        return this.#outcome(decision, id, "redis", tokens);
      } catch (error) {
        this.#options.onRedisError(error as Error);
      }
    }
    // During an outage every process enforces the limits alone: N processes may use N x the budget.
    this.#lastBackend = "memory";
    const decision = this.#memory.tryAcquire(id, tokens);
    if (decision.ok && redis) this.counters.fallbacks++;
    return this.#outcome(decision, id, "memory", tokens);
  }

  #outcome(decision: Decision, id: string, backend: Backend, tokens: number): Outcome {
    if (!decision.ok) {
      if (decision.blockedBy !== "concurrency") this.#rateWaitMs = decision.waitMs;
      return decision;
    }
    this.#rateWaitMs = 0;
    if (backend === "redis") this.#memory.add(id, tokens);
    this.#active++;
    return { lease: { id, backend, acquiredAt: Date.now(), released: false } };
  }

  /** Bounded like every budget command: a hanging Redis means memory, not a stuck queue. */
  #adopt(redis: RedisBudget): Promise<void> {
    const ms = this.#options.redisTimeoutMs;
    let handle: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      handle = setTimeout(
        () => reject(new Error(`${this.#options.name}: Redis did not adopt within ${ms}ms`)),
        ms,
      );
    });
    return Promise.race([redis.adopt(this.#memory.heldIds()), late]).finally(() => clearTimeout(handle));
  }

  /** A budget command that hangs counts as failed; if it lands later after all, its lease is given back. */
  #bounded(redis: RedisBudget, pending: Promise<Decision>, id: string): Promise<Decision> {
    const ms = this.#options.redisTimeoutMs;
    return new Promise((resolve, reject) => {
      const handle = setTimeout(() => {
        reject(new Error(`${this.#options.name}: Redis budget did not answer within ${ms}ms`));
        pending.then((late) => (late.ok ? redis.release(id) : undefined)).catch(() => {});
      }, ms);
      pending.then(
        (decision) => {
          clearTimeout(handle);
          resolve(decision);
        },
        (error: unknown) => {
          clearTimeout(handle);
          reject(error);
        },
      );
    });
  }

  async #renew(lease: Lease): Promise<void> {
    this.#memory.renew(lease.id);
    // Every held lease is renewed into Redis, memory ones too: they then count in the shared budget.
    if (!this.#redis?.ready) return;
    try {
      if (!(await this.#redis.renew(lease.id)) && lease.backend === "redis") {
        this.#options.onRedisError(
          new Error(`${this.#options.name}: lease ${lease.id} was lost by Redis; recorded again`),
        );
      }
    } catch (error) {
      this.#options.onRedisError(error as Error);
    }
  }
}
