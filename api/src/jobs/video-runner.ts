// The job runner in every api process: claims due video jobs under MySQL leases, submits each to D-ID
// once, holds one shared render slot per job until its talk ends, and follows the talk to its end.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "@kogi/shared/logger";
import type { Priority, Slot, Upstream } from "@kogi/shared/outbound/upstream";
import {
  type CreateTalkBody,
  type Talk,
  TERMINAL_TALK_STATUSES,
  type VideoProvider,
} from "../adapters/d-id/client.js";
import { DIdApiError } from "../adapters/d-id/errors.js";
import type { Finish, VideoJobRow, VideoRepository } from "../adapters/mysql/video-repository.js";
import type { JobEvents } from "./job-events.js";
import { outcomeOf, resultExpiry, talkEnd } from "./outcomes.js";

export const PRIORITY_NAMES: readonly Priority[] = ["high", "normal", "low"];

export interface VideoRunnerOptions {
  leaseMs: number;
  /** How often to look for due jobs when nothing woke the runner. */
  pollMs: number;
  /** Talk status polling: first delay and cap (x1.5 each time); the job fails after renderTimeoutMs. */
  pollInitialMs: number;
  pollMaxMs: number;
  renderTimeoutMs: number;
  /** D-ID's webhook for a job, when D-ID can reach us; polling stays the fallback. */
  webhookFor?: (jobId: string) => string;
}

interface ActiveJob {
  controller: AbortController;
  wake?: () => void;
  /** A hint that arrived while no nap was running: the next nap ends at once. */
  hinted?: boolean;
}

class LeaseLost extends Error {}

/** Sleeps `ms`, or less when `waker.wake()` is called or `signal` aborts. */
function nap(waker: { wake?: () => void }, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      waker.wake = undefined;
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    waker.wake = done;
    signal.addEventListener("abort", done, { once: true });
  });
}

export class VideoRunner {
  // Fits lease_owner VARCHAR(64) whatever the host name (pod names run to 63 characters).
  readonly id = `${hostname().slice(0, 40)}:${process.pid}:${randomBytes(4).toString("hex")}`;
  readonly #active = new Map<string, ActiveJob>();
  readonly #stop = new AbortController();
  readonly #claimWaker: { wake?: () => void } = {};
  #loop: Promise<void> | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(
    private readonly jobs: VideoRepository,
    private readonly provider: VideoProvider,
    /** The shared render slots (D_ID_MAX_CONCURRENCY across processes). */
    private readonly renders: Upstream,
    private readonly events: JobEvents,
    private readonly logger: Logger,
    private readonly options: VideoRunnerOptions,
  ) {}

  get activeJobs(): number {
    return this.#active.size;
  }

  start(): void {
    this.#unsubscribe.push(
      this.events.on("queued", () => this.#claimWaker.wake?.()),
      this.events.on("hint", (jobId) => {
        const job = this.#active.get(jobId);
        if (!job) return;
        if (job.wake) job.wake();
        else job.hinted = true;
      }),
    );
    this.#heartbeat = setInterval(() => void this.#renew(), Math.max(100, this.options.leaseMs / 3));
    this.#loop = this.#claimLoop();
  }

  /** Stops claiming and following; the leases are given up so another process takes over at once. */
  async stop(): Promise<void> {
    this.#stop.abort();
    for (const off of this.#unsubscribe.splice(0)) off();
    clearInterval(this.#heartbeat);
    this.#claimWaker.wake?.();
    for (const job of this.#active.values()) job.controller.abort();
    await this.#loop;
    // Runs end promptly once aborted; a frozen database must not hold shutdown for ever.
    const giveUpAt = Date.now() + 5_000;
    while (this.#active.size > 0 && Date.now() < giveUpAt)
      await new Promise((resolve) => setTimeout(resolve, 10));
    await this.jobs
      .releaseLeases(this.id)
      .catch((error: Error) =>
        this.logger.warn({ err: error.message }, "could not release video job leases; they will expire"),
      );
  }

  async #claimLoop(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        const priority = await this.jobs.peekDue();
        if (priority === undefined) {
          await this.#idle(this.options.pollMs);
          continue;
        }
        // The slot first: a runner never holds a job it cannot start, so replicas share the work.
        const slot = await this.renders.slot({ priority: PRIORITY_NAMES[priority] ?? "normal", signal });
        const job = await this.jobs.claim(this.id, this.options.leaseMs).catch((error: unknown) => {
          slot.release();
          throw error;
        });
        if (!job) {
          slot.release();
          await this.#idle(20); // another replica took it
          continue;
        }
        void this.#run(job, slot);
      } catch (error) {
        if (signal.aborted) return;
        this.logger.warn({ err: (error as Error).message }, "video runner: claim failed; retrying");
        await this.#idle(this.options.pollMs);
      }
    }
  }

  #idle(ms: number): Promise<void> {
    return nap(this.#claimWaker, ms, this.#stop.signal);
  }

  async #run(job: VideoJobRow, slot: Slot): Promise<void> {
    const active: ActiveJob = { controller: new AbortController() };
    this.#active.set(job.id, active);
    try {
      const talkId = job.status === "submitting" ? await this.#submit(job, active) : job.talkId;
      if (talkId) await this.#follow(job, talkId, active);
    } catch (error) {
      if (!(error instanceof LeaseLost) && !active.controller.signal.aborted)
        this.logger.error({ err: error, jobId: job.id }, "video job failed unexpectedly; it will be retried");
    } finally {
      slot.release();
      this.#active.delete(job.id);
      this.#claimWaker.wake?.();
    }
  }

  /** POST /talks at most once per job: a job taken over from another process reconciles first. */
  async #submit(job: VideoJobRow, active: ActiveJob): Promise<string | undefined> {
    const context = { priority: PRIORITY_NAMES[job.priority], signal: active.controller.signal };
    const since = job.submittedAt ?? job.createdAt;
    try {
      const found =
        job.attempts > 1 ? await this.provider.findTalkByUserData(job.id, since, context) : undefined;
      const { id } = found ?? (await this.provider.createTalk(this.#talkBody(job), { ...context, since }));
      if (!(await this.jobs.markProcessing(job.id, this.id, id))) throw new LeaseLost();
      this.events.changed(job.id);
      return id;
    } catch (error) {
      if (error instanceof LeaseLost || active.controller.signal.aborted) throw error;
      const outcome = outcomeOf(error);
      if ("end" in outcome && !(error instanceof DIdApiError && error.status >= 500)) {
        await this.#finish(job, outcome.end);
        return undefined;
      }
      // 5xx to the end, a timeout or a dropped connection: D-ID may hold a talk for this job after all.
      const found = await this.provider.findTalkByUserData(job.id, since, context).catch(() => undefined);
      if (found) {
        if (!(await this.jobs.markProcessing(job.id, this.id, found.id))) throw new LeaseLost();
        return found.id;
      }
      if ("end" in outcome || Date.now() - job.createdAt.getTime() > this.options.renderTimeoutMs) {
        await this.#finish(
          job,
          "end" in outcome
            ? outcome.end
            : { status: "failed", errorCode: "upstream_unavailable", errorDetail: (error as Error).message },
        );
        return undefined;
      }
      this.logger.warn(
        { err: (error as Error).message, jobId: job.id },
        "D-ID unavailable; video job deferred",
      );
      await this.jobs.defer(job.id, this.id, this.options.pollMaxMs);
      return undefined;
    }
  }

  /** Polls the talk (1 s -> 10 s), woken early by D-ID's webhook, until it ends or times out. */
  async #follow(job: VideoJobRow, talkId: string, active: ActiveJob): Promise<void> {
    const { signal } = active.controller;
    const started = (job.submittedAt ?? job.createdAt).getTime();
    let delay = this.options.pollInitialMs;
    let lastStatus = job.talkStatus;
    while (!signal.aborted) {
      await this.#nap(active, delay);
      if (signal.aborted) return;
      let talk: Talk;
      try {
        talk = await this.provider.getTalk(talkId, { priority: PRIORITY_NAMES[job.priority], signal });
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof DIdApiError && ["not_found", "auth", "permission"].includes(error.type)) {
          const end = outcomeOf(error);
          if ("end" in end) await this.#finish(job, end.end);
          return;
        }
        this.logger.warn(
          { err: (error as Error).message, jobId: job.id },
          "talk status read failed; polling on",
        );
        talk = { id: talkId, status: (lastStatus ?? "created") as Talk["status"] };
      }
      if (TERMINAL_TALK_STATUSES.includes(talk.status)) {
        await this.#finish(job, this.#endOf(talk));
        return;
      }
      if (Date.now() - started > this.options.renderTimeoutMs) {
        await this.#finish(job, {
          status: "failed",
          errorCode: "render_timeout",
          errorDetail: `D-ID did not finish the talk within ${this.options.renderTimeoutMs} ms`,
        });
        return;
      }
      delay = Math.min(this.options.pollMaxMs, delay * 1.5);
      if (talk.status !== lastStatus) {
        lastStatus = talk.status;
        await this.jobs.recordTalkStatus(job.id, this.id, talk.status, delay);
        this.events.changed(job.id);
      }
    }
  }

  #endOf(talk: Talk): Finish {
    const failed = talkEnd(talk);
    if (failed) return failed;
    if (!talk.result_url)
      return {
        status: "failed",
        talkStatus: talk.status,
        errorCode: "upstream_error",
        errorDetail: "done without result_url",
      };
    return {
      status: "done",
      talkStatus: "done",
      resultUrl: talk.result_url,
      resultExpiresAt: resultExpiry(talk.result_url),
      durationSeconds: typeof talk.duration === "number" ? talk.duration : undefined,
    };
  }

  #nap(active: ActiveJob, ms: number): Promise<void> {
    if (active.hinted) {
      active.hinted = false;
      return Promise.resolve();
    }
    return nap(active, ms, active.controller.signal);
  }

  async #finish(job: VideoJobRow, finish: Finish): Promise<void> {
    if (!(await this.jobs.finish(job.id, this.id, finish))) throw new LeaseLost();
    this.logger.info({ jobId: job.id, status: finish.status, code: finish.errorCode }, "video job finished");
    this.events.finished(job.id);
  }

  #talkBody(job: VideoJobRow): CreateTalkBody {
    const { source, script, config } = job.request;
    return {
      source_url: source.url,
      script:
        script.type === "text"
          ? {
              type: "text",
              input: script.text,
              ...(script.voice ? { provider: { type: "microsoft", voice_id: script.voice } } : {}),
            }
          : { type: "audio", audio_url: script.url },
      ...(config ? { config } : {}),
      user_data: job.id,
      ...(this.options.webhookFor ? { webhook: this.options.webhookFor(job.id) } : {}),
    };
  }

  /** Renews this runner's leases; a job whose lease another process took is let go here. */
  async #renew(): Promise<void> {
    const ids = [...this.#active.keys()];
    if (ids.length === 0) return;
    try {
      const held = await this.jobs.renewLeases(this.id, ids, this.options.leaseMs);
      for (const id of ids) if (!held.has(id)) this.#active.get(id)?.controller.abort();
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, "video job lease renewal failed");
    }
  }
}
