// Delivers each finished job to its caller's webhookUrl, signed, retried with backoff until accepted.
// Signature (Stripe's scheme): `Kogi-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
import { createHmac } from "node:crypto";
import type { Logger } from "@kogi/shared/logger";
import type { Counter } from "prom-client";
import { request } from "undici";
import type { VideoJobRow, VideoRepository } from "../adapters/mysql/video-repository.js";

export function signCallback(secret: string, body: string, timestamp: number): string {
  const digest = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
  return `t=${timestamp},v1=${digest}`;
}

export interface CallbackOptions {
  secret: string;
  maxAttempts: number;
  pollMs: number;
  timeoutMs?: number;
}

export class CallbackSender {
  readonly #stop = new AbortController();
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  constructor(
    private readonly jobs: VideoRepository,
    private readonly view: (job: VideoJobRow) => unknown,
    private readonly deliveries: Counter<"result">,
    private readonly logger: Logger,
    private readonly options: CallbackOptions,
  ) {}

  start(): void {
    this.#loop = this.#run();
  }

  /** A job just finished here: deliver now instead of at the next poll. */
  wake(): void {
    this.#wake?.();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      try {
        const due = await this.jobs.claimNotifications(60_000, 20);
        await Promise.all(due.map((job) => this.#deliver(job)));
        if (due.length > 0) continue;
      } catch (error) {
        this.logger.warn({ err: (error as Error).message }, "webhook delivery: claim failed");
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.pollMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  async #deliver(job: VideoJobRow): Promise<void> {
    if (!job.webhookUrl) return;
    const body = JSON.stringify({ type: `video.${job.status}`, data: this.view(job) });
    const attempt = job.notifyAttempts + 1;
    let error: string | undefined;
    try {
      const response = await request(job.webhookUrl, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "Kogi-Webhooks/1",
          "kogi-signature": signCallback(this.options.secret, body, Math.floor(Date.now() / 1000)),
          "kogi-delivery": `${job.id}.${attempt}`,
        },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
      await response.body.dump();
      if (response.statusCode < 300) {
        this.deliveries.inc({ result: "sent" });
        await this.jobs.recordNotification(job.id, "sent");
        return;
      }
      error = `answered ${response.statusCode}`;
    } catch (failure) {
      error = (failure as Error).message;
    }
    const giveUp = attempt >= this.options.maxAttempts;
    this.deliveries.inc({ result: giveUp ? "failed" : "retry" });
    this.logger.warn({ jobId: job.id, attempt, err: error, giveUp }, "webhook delivery failed");
    // 1 s, 2 s, 4 s ... capped at 10 min.
    await this.jobs.recordNotification(
      job.id,
      giveUp ? "failed" : "pending",
      Math.min(600_000, 1000 * 2 ** (attempt - 1)),
    );
  }
}
