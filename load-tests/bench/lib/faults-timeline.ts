// Every request of the closed-loop load with its start, end and status, read from undici's diagnostics
// channels (closed-loop.ts keeps only totals and percentiles; recovery needs the order of outcomes), and
// /ready polled beside it.
import { subscribe, unsubscribe } from "node:diagnostics_channel";

export interface Outcome {
  path: string;
  startedAt: number;
  endedAt: number;
  /** 0 when the request ended without an HTTP answer (socket error, client timeout). */
  status: number;
}

interface UndiciRequest {
  origin?: unknown;
  method?: string;
  path?: string;
}

/**
 * Records POSTs to `origin` until stop(). Status and end come from the response headers: the bodies
 * here are small, so the headers' arrival is within a millisecond of the answer's.
 */
export function recordOutcomes(origin: string) {
  const started = new WeakMap<object, number>();
  const outcomes: Outcome[] = [];
  const wanted = (request: UndiciRequest) =>
    request.method === "POST" && String(request.origin).replace(/\/$/, "") === origin;
  const finish = (request: UndiciRequest, status: number) => {
    const at = started.get(request);
    if (at === undefined) return;
    started.delete(request);
    outcomes.push({ path: request.path ?? "", startedAt: at, endedAt: performance.now(), status });
  };
  const onCreate = (message: unknown) => {
    const { request } = message as { request: UndiciRequest };
    if (wanted(request)) started.set(request, performance.now());
  };
  const onHeaders = (message: unknown) => {
    const { request, response } = message as { request: UndiciRequest; response: { statusCode: number } };
    finish(request, response.statusCode);
  };
  const onError = (message: unknown) => finish((message as { request: UndiciRequest }).request, 0);
  subscribe("undici:request:create", onCreate);
  subscribe("undici:request:headers", onHeaders);
  subscribe("undici:request:error", onError);
  return {
    outcomes,
    stop() {
      unsubscribe("undici:request:create", onCreate);
      unsubscribe("undici:request:headers", onHeaders);
      unsubscribe("undici:request:error", onError);
      return outcomes;
    },
  };
}

export interface ReadySample {
  at: number;
  /** HTTP status, 0 when /ready did not answer within its timeout. */
  httpStatus: number;
  status: string;
  ms: number;
}

/** GET /ready every `everyMs` until stop(); each probe gives up after 3 s (a hang shows as 0). */
export function pollReady(origin: string, everyMs = 250) {
  const samples: ReadySample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const at = performance.now();
      const sample = await fetch(`${origin}/ready`, { signal: AbortSignal.timeout(3_000) })
        .then(async (response) => {
          const body = (await response.json().catch(() => ({}))) as { status?: string };
          return { httpStatus: response.status, status: body.status ?? "?" };
        })
        .catch(() => ({ httpStatus: 0, status: "no answer" }));
      samples.push({ at, ...sample, ms: performance.now() - at });
      const rest = everyMs - (performance.now() - at);
      if (rest > 0 && !stopped) await new Promise((resolve) => setTimeout(resolve, rest));
    }
  })();
  return {
    samples,
    async stop() {
      stopped = true;
      await loop;
      return samples;
    },
  };
}

/**
 * Seconds from `returnedAt` to the first of `run` consecutive 200s among the outcomes that ended after
 * it, in the order they ended; undefined when no such run came before the load ended.
 */
export function recoverySeconds(outcomes: Outcome[], returnedAt: number, run: number): number | undefined {
  const after = outcomes.filter((o) => o.endedAt >= returnedAt).sort((a, b) => a.endedAt - b.endedAt);
  let streak = 0;
  for (let i = 0; i < after.length; i++) {
    streak = after[i]?.status === 200 ? streak + 1 : 0;
    if (streak === run) {
      const first = after[i - run + 1] as Outcome;
      return Math.max(0, (first.endedAt - returnedAt) / 1000);
    }
  }
  return undefined;
}
