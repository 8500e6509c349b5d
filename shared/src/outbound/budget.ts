// The global budget's contract, kept by Redis (shared) and by memory (per process): one decision per try.

export interface BudgetLimits {
  maxConcurrent: number;
  /** 0 = unlimited. */
  rpm: number;
  /** 0 = unlimited. */
  tpm: number;
  windowMs: number;
  leaseMs: number;
}

export type BlockedBy = "concurrency" | "rpm" | "tpm";

/**
 * ok: a lease was taken (and the request and its tokens recorded). Otherwise `waitMs` until the
 * blocking limit could let one through: exact for rpm/tpm, the earliest lease expiry for concurrency
 * (an upper bound: holders usually release much sooner). `active`: leases held, as seen by this decision.
 */
export type Decision =
  | { ok: true; active: number }
  | { ok: false; waitMs: number; blockedBy: BlockedBy; active: number };
