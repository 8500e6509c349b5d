// Timer helpers: Node fires a setTimeout above 2^31-1 ms at once, so long waits are capped, not scheduled raw.

const MAX_TIMER_MS = 2 ** 31 - 1;

export function timer(ms: number, callback: () => void): NodeJS.Timeout | undefined {
  if (ms === Number.POSITIVE_INFINITY) return undefined;
  return setTimeout(callback, Math.min(Math.max(0, ms), MAX_TIMER_MS));
}

/** Resolves after `ms`; rejects with `aborted()` as soon as the signal aborts. */
export function sleep(ms: number, signal: AbortSignal | undefined, aborted: () => Error): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted());
    const onAbort = () => {
      clearTimeout(handle);
      reject(aborted());
    };
    const handle = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.min(Math.max(0, ms), MAX_TIMER_MS),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
