// The budget kept in this process: the fallback while Redis is absent or failing, with the Lua script's
// semantics. Each process then enforces the limits alone, so N processes may use N x the budget.
import type { BudgetLimits, Decision } from "./budget.js";

export class MemoryBudget {
  /** Lease id -> expiry (epoch ms). */
  readonly #leases = new Map<string, number>();
  /** Requests in the rpm/tpm window, oldest first. */
  readonly #log: { at: number; tokens: number }[] = [];
  #tokensInWindow = 0;

  constructor(
    private readonly limits: BudgetLimits,
    private readonly now: () => number = Date.now,
  ) {}

  get active(): number {
    this.#pruneLeases(this.now());
    return this.#leases.size;
  }

  tryAcquire(id: string, tokens: number): Decision {
    const now = this.now();
    const { maxConcurrent, rpm, tpm, windowMs } = this.limits;
    this.#pruneLeases(now);
    const active = this.#leases.size;
    if (active >= maxConcurrent) {
      const earliest = Math.min(...this.#leases.values());
      return { ok: false, waitMs: Math.max(1, earliest - now), blockedBy: "concurrency", active };
    }
    if (rpm > 0 || tpm > 0) {
      this.#pruneLog(now);
      if (rpm > 0 && this.#log.length >= rpm) {
        // The entry whose expiry brings the count below rpm.
        const freeing = this.#log[this.#log.length - rpm] as { at: number };
        return { ok: false, waitMs: Math.max(1, freeing.at + windowMs - now), blockedBy: "rpm", active };
      }
      // A call estimated above the whole tpm only needs an otherwise empty window, or it would wait forever.
      const need = Math.min(tokens, tpm);
      if (tpm > 0 && this.#tokensInWindow + need > tpm) {
        let freed = 0;
        for (const entry of this.#log) {
          freed += entry.tokens;
          if (this.#tokensInWindow - freed + need <= tpm) {
            return { ok: false, waitMs: Math.max(1, entry.at + windowMs - now), blockedBy: "tpm", active };
          }
        }
      }
    }
    this.add(id, tokens);
    return { ok: true, active: active + 1 };
  }

  /**
   * Records a lease granted by the shared budget as well, so that a switch to memory starts from this
   * process's real load instead of an empty budget.
   */
  add(id: string, tokens: number): void {
    const now = this.now();
    this.#leases.set(id, now + this.limits.leaseMs);
    if (this.limits.rpm > 0 || this.limits.tpm > 0) {
      this.#log.push({ at: now, tokens });
      this.#tokensInWindow += tokens;
    }
  }

  /** Every live lease of this process, whichever budget granted it. */
  heldIds(): string[] {
    this.#pruneLeases(this.now());
    return [...this.#leases.keys()];
  }

  renew(id: string): boolean {
    if (!this.#leases.has(id)) return false;
    this.#leases.set(id, this.now() + this.limits.leaseMs);
    return true;
  }

  release(id: string): void {
    this.#leases.delete(id);
  }

  #pruneLeases(now: number): void {
    for (const [id, expiry] of this.#leases) if (expiry <= now) this.#leases.delete(id);
  }

  #pruneLog(now: number): void {
    const since = now - this.limits.windowMs;
    while (this.#log.length > 0 && (this.#log[0] as { at: number }).at <= since) {
      this.#tokensInWindow -= (this.#log.shift() as { tokens: number }).tokens;
    }
  }
}
