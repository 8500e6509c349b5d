// Circuit breaker per Upstream: consecutive failed calls open it; after halfOpenAfterMs one probe runs.
//
// Not cockatiel's circuitBreaker: in half-open it makes every other caller wait for the probe (we
// refuse them at once so the caller can fall back), a probe ending in an error its filter ignores
// (say, the caller aborting) closes the circuit, and it has no "no evidence" outcome for calls that
// never reached the upstream. The state machine is small enough to own.
import type { HealthOutcome } from "./classify.js";
import type { BreakerState } from "./options.js";

/** Admission to one call; hand it back to `record` with the call's outcome. */
export interface Ticket {
  probe: boolean;
  generation: number;
}

export class Breaker {
  #open = false;
  #openedAt = 0;
  #failures = 0;
  #probing = false;
  /** Bumped on every open and close: outcomes of calls admitted in an earlier period are ignored. */
  #generation = 0;

  constructor(
    private readonly failureThreshold: number,
    private readonly halfOpenAfterMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): BreakerState {
    if (!this.#open) return "closed";
    return this.#probing || this.now() - this.#openedAt >= this.halfOpenAfterMs ? "half-open" : "open";
  }

  /** A ticket, or how long the caller should wait before trying again (at least 1 ms). */
  admit(): Ticket | { refusedForMs: number } {
    if (!this.#open) return { probe: false, generation: this.#generation };
    const remaining = this.#openedAt + this.halfOpenAfterMs - this.now();
    if (remaining > 0) return { refusedForMs: remaining };
    // One probe at a time; the others are refused until it has spoken.
    if (this.#probing) return { refusedForMs: Math.max(1, this.halfOpenAfterMs) };
    this.#probing = true;
    return { probe: true, generation: this.#generation };
  }

  record(ticket: Ticket, outcome: HealthOutcome): void {
    if (ticket.probe) {
      this.#probing = false;
      if (outcome === "success") this.#close();
      else if (outcome === "failure") this.#trip();
      // "none" (the probe never reached the upstream): still half-open, the next caller probes.
      return;
    }
    if (this.#open || ticket.generation !== this.#generation) return;
    if (outcome === "success") this.#failures = 0;
    else if (outcome === "failure" && ++this.#failures >= this.failureThreshold) this.#trip();
  }

  #trip(): void {
    this.#open = true;
    this.#openedAt = this.now();
    this.#generation++;
  }

  #close(): void {
    this.#open = false;
    this.#failures = 0;
    this.#generation++;
  }
}
