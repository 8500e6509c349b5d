// Webhook delivery for the fake D-ID: the finished talk POSTed as JSON, with knobs for duplicate and stale copies.

export interface WebhookKnobs {
  /** Extra copies of the final body, sent right after it. */
  duplicates: number;
  /** After the final body (and its copies), post one more with status "started": an out-of-order delivery. */
  staleAfterFinal: boolean;
  /** Wait before the first post. */
  delayMs: number;
}

// D-ID documents no timeout or retry policy; a receiver that does not answer within this is counted as failed.
const POST_TIMEOUT_MS = 10_000;

/** Posts webhooks one after another per talk, so a stale copy really arrives after the final one. */
export class WebhookSender {
  sent = 0;
  failures = 0;
  private readonly pending = new Set<AbortController>();

  /** Never throws and never rejects: a refused or failing receiver only counts in `failures`. */
  deliver(url: string, final: object, stale: object, knobs: WebhookKnobs): void {
    const controller = new AbortController();
    this.pending.add(controller);
    const bodies: object[] = Array.from({ length: 1 + knobs.duplicates }, () => final);
    if (knobs.staleAfterFinal) bodies.push(stale);
    this.postAll(url, bodies, knobs.delayMs, controller.signal).finally(() =>
      this.pending.delete(controller),
    );
  }

  /** Stops waiting deliveries and cuts posts in flight (on reset and close). */
  cancel(): void {
    for (const controller of this.pending) controller.abort();
    this.pending.clear();
  }

  private async postAll(url: string, bodies: object[], delayMs: number, signal: AbortSignal): Promise<void> {
    if (delayMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    for (const body of bodies) {
      if (signal.aborted) return;
      this.sent += 1;
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
          signal: AbortSignal.any([signal, AbortSignal.timeout(POST_TIMEOUT_MS)]),
        });
        await response.arrayBuffer();
        if (!response.ok) this.failures += 1;
      } catch {
        // Counted, not thrown: the fake stands in for a remote service that shrugs at a dead receiver.
        if (!signal.aborted) this.failures += 1;
      }
    }
  }
}
