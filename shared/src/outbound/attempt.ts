// One attempt: fn runs under a signal that aborts on the attempt timeout, the deadline or the caller's abort.
import { UpstreamAbortedError, UpstreamTimeoutError } from "./errors.js";
import { timer } from "./timers.js";

export type AttemptFn<T> = (attempt: { signal: AbortSignal; attempt: number }) => Promise<T>;

export interface AttemptContext {
  upstream: string;
  attempt: number;
  timeoutMs: number;
  deadline?: number;
  signal?: AbortSignal;
  /** Starts holding the slot for a running fn (given fn's signal); returns what frees it. */
  hold(signal: AbortSignal): () => void;
}

/**
 * Settles as soon as fn does or its signal aborts (with UpstreamTimeoutError / UpstreamAbortedError),
 * so the caller is never kept past its deadline by an fn that is slow to notice. The slot, though, is
 * freed only when fn has really ended, so the upstream never sees more than maxConcurrent calls from
 * well-behaved adapters (they pass the signal to fetch/the SDK and end promptly).
 */
export async function runAttempt<T>(fn: AttemptFn<T>, context: AttemptContext): Promise<T> {
  const { upstream, timeoutMs, deadline, signal } = context;
  const untilDeadline = deadline === undefined ? Number.POSITIVE_INFINITY : deadline - Date.now();
  const controller = new AbortController();
  const abort = (reason: Error) => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  const byDeadline = untilDeadline <= timeoutMs;
  const timeout = timer(Math.min(timeoutMs, untilDeadline), () =>
    abort(new UpstreamTimeoutError(upstream, byDeadline ? "deadline" : "attempt", timeoutMs)),
  );
  const onCallerAbort = () => abort(new UpstreamAbortedError(upstream, signal?.reason));
  signal?.addEventListener("abort", onCallerAbort, { once: true });
  if (signal?.aborted) onCallerAbort();
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => reject(controller.signal.reason);
    if (controller.signal.aborted) onAbort();
    else controller.signal.addEventListener("abort", onAbort, { once: true });
  });

  const release = context.hold(controller.signal);
  const running = (async () => fn({ signal: controller.signal, attempt: context.attempt }))();
  running.then(release, release);
  try {
    return await Promise.race([running, aborted]);
  } catch (error) {
    // Whatever fn threw once its signal had aborted (an AbortError, mostly), the reason is ours.
    throw controller.signal.aborted ? controller.signal.reason : error;
  } finally {
    clearTimeout(timeout);
    signal?.removeEventListener("abort", onCallerAbort);
  }
}
