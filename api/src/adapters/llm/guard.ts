// What the llm adapters need from the outbound toolkit: run a call under its limits, retries and breaker.
import type { CallOptions } from "@kogi/shared/outbound/options";

export interface CallGuard {
  call<T>(
    fn: (attempt: { signal: AbortSignal; attempt: number }) => Promise<T>,
    options?: CallOptions,
  ): Promise<T>;
  /** Throws the overload error a call would get now, before the caller spends work on it. */
  refuseEarly(): void;
}

export type { CallOptions };
