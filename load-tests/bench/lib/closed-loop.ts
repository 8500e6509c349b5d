// Closed-loop HTTP load: N workers, one keep-alive connection each, a new request as soon as the last one ends.
import { Client } from "undici";

export type BodySpec =
  /** Distinct questions: "a course about <random title> <n>", n counting up from firstNumber. */
  | { kind: "questions"; titles: string[]; firstNumber: number }
  | { kind: "fixed"; body: string }
  /** Re-asks these bodies in order, round and round (the repeated-questions scenario). */
  | { kind: "cycle"; bodies: string[] };

export interface LoadSpec {
  name: string;
  origin: string;
  path: string;
  connections: number;
  durationMs: number;
  maxRequests: number;
  /** Client-side give-up per request; above the api's own deadline so its 504 would show first. */
  timeoutMs: number;
  bodies: BodySpec;
  /** Untimed first request per connection: GET /health (answers, no budget used) or the body itself (cache warm). */
  warmup: "health" | "body";
  /** Sleep Retry-After before the next request after a 503 (a polite client) instead of asking again at once. */
  honorRetryAfter: boolean;
  /** Parse 200 bodies as answers: fallbacks, rewrite stage time, whole-answer cache hits. */
  inspectAnswers: boolean;
  /** How many answered bodies to hand back for a later re-ask. */
  keepAnswered: number;
  /**
   * Worker i starts i/N of this after the first: a fixed upstream latency would otherwise keep all
   * clients in lock-step waves, which no real population does and which makes window counts jumpy.
   * The measured window opens once every worker runs.
   */
  staggerMs?: number;
}

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LoadResult {
  name: string;
  connections: number;
  warmupMs: number;
  /** Length of the measured window; only responses that ended inside it count towards the rates. */
  windowSeconds: number;
  responses: number;
  responsesPerSecond: number;
  okPerSecond: number;
  statuses: Record<string, number>;
  /** Latency in ms of every response (those still in flight at the end included, they finish after it). */
  latency: { ok: Percentiles | null; unavailable: Percentiles | null };
  retryAfter: { present: number; missing: number; values: Record<string, number> };
  /** `code` of problem bodies (503 upstream_overloaded, vector_unavailable, ...). */
  problemCodes: Record<string, number>;
  /** Socket errors and client timeouts by code. */
  errors: Record<string, number>;
  xCache: Record<string, number>;
  answers: {
    fallback: number;
    wholeAnswerHits: number;
    /** Server-side stage times of 200s (from the body's `stages`; cached stages left out). */
    stagesMs: Record<string, Percentiles | null>;
  } | null;
  /** The api's X-Process-Time of 200s: client latency minus this is time spent before the handler ran. */
  serverMs: Percentiles | null;
  /** Size of the last 200 body, to compare what the answer and search hit paths send. */
  okBodyBytes: number;
  answeredBodies: string[];
  inFlightAtEnd: number;
  drainMs: number;
  runner: { cpuCores: number; eventLoopUtilization: number };
}

const round1 = (value: number) => Math.round(value * 10) / 10;

export function percentiles(values: number[]): Percentiles | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
  return {
    count: sorted.length,
    p50: round1(at(50)),
    p90: round1(at(90)),
    p99: round1(at(99)),
    max: round1(sorted[sorted.length - 1] ?? 0),
  };
}

function bodySource(spec: BodySpec): () => string {
  if (spec.kind === "fixed") return () => spec.body;
  if (spec.kind === "cycle") {
    let i = 0;
    return () => spec.bodies[i++ % spec.bodies.length] as string;
  }
  let n = spec.firstNumber;
  return () => {
    const title = spec.titles[Math.floor(Math.random() * spec.titles.length)] ?? "anything";
    return JSON.stringify({ question: `a course about ${title} ${n++}` });
  };
}

const bump = (tally: Record<string, number>, key: string) => {
  tally[key] = (tally[key] ?? 0) + 1;
};
const header = (headers: Record<string, string | string[] | undefined>, name: string) => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Everything the workers record; summarised once at the end so the hot loop only pushes numbers. */
class Tally {
  readonly statuses: Record<string, number> = {};
  readonly okMs: number[] = [];
  readonly unavailableMs: number[] = [];
  readonly retryAfter = { present: 0, missing: 0, values: {} as Record<string, number> };
  readonly problemCodes: Record<string, number> = {};
  readonly errors: Record<string, number> = {};
  readonly xCache: Record<string, number> = {};
  readonly stageMs: Record<string, number[]> = {};
  readonly serverMs: number[] = [];
  okBodyBytes = 0;
  readonly answered: string[] = [];
  fallback = 0;
  wholeAnswerHits = 0;
  inWindow = 0;
  okInWindow = 0;

  constructor(private readonly spec: LoadSpec) {}

  response(
    status: number,
    ms: number,
    inWindow: boolean,
    headers: Record<string, string | string[] | undefined>,
  ) {
    bump(this.statuses, String(status));
    bump(this.xCache, header(headers, "x-cache")?.split(";")[0] ?? "none");
    if (inWindow) this.inWindow++;
    if (status === 200) {
      this.okMs.push(ms);
      const server = Number(header(headers, "x-process-time"));
      if (Number.isFinite(server)) this.serverMs.push(server);
      if (inWindow) this.okInWindow++;
    }
    if (status !== 503) return;
    this.unavailableMs.push(ms);
    const retry = header(headers, "retry-after");
    if (retry === undefined) this.retryAfter.missing++;
    else {
      this.retryAfter.present++;
      bump(this.retryAfter.values, retry);
    }
  }

  /** Only answers and error bodies are parsed: search hits at thousands per second are just drained. */
  body(status: number, text: string, requestBody: string) {
    if (status !== 200) {
      const code = (() => {
        try {
          return (JSON.parse(text) as { code?: string }).code ?? "no code";
        } catch {
          return "not json";
        }
      })();
      bump(this.problemCodes, `${status} ${code}`);
      return;
    }
    if (!this.spec.inspectAnswers) return;
    const answer = JSON.parse(text) as {
      query: { fallback: string[] };
      stages: { name: string; ms: number; cached: boolean }[];
    };
    if (answer.query.fallback.length > 0) this.fallback++;
    if (answer.stages[0]?.name === "answer") this.wholeAnswerHits++;
    for (const stage of answer.stages.filter((s) => !s.cached)) {
      this.stageMs[stage.name] ??= [];
      this.stageMs[stage.name]?.push(stage.ms);
    }
    if (this.answered.length < this.spec.keepAnswered) this.answered.push(requestBody);
  }

  error(error: unknown) {
    const e = error as { code?: string; name?: string };
    bump(this.errors, e.code ?? e.name ?? "unknown");
  }
}

interface Window {
  start: number;
  end: number;
  sent: number;
  inFlight: number;
}

async function warm(client: Client, spec: LoadSpec, body: string): Promise<void> {
  const response =
    spec.warmup === "health"
      ? await client.request({ method: "GET", path: "/health" })
      : await client.request({
          method: "POST",
          path: spec.path,
          headers: { "content-type": "application/json" },
          body,
        });
  await response.body.arrayBuffer();
}

async function worker(client: Client, spec: LoadSpec, next: () => string, window: Window, tally: Tally) {
  while (performance.now() < window.end && window.sent < spec.maxRequests) {
    window.sent++;
    window.inFlight++;
    const body = next();
    const started = performance.now();
    try {
      const response = await client.request({
        method: "POST",
        path: spec.path,
        headers: { "content-type": "application/json" },
        body,
      });
      const status = response.statusCode;
      const wantText = status !== 200 || spec.inspectAnswers;
      const text = wantText ? await response.body.text() : "";
      const bytes = wantText ? Buffer.byteLength(text) : (await response.body.arrayBuffer()).byteLength;
      const ended = performance.now();
      if (status === 200) tally.okBodyBytes = bytes;
      tally.response(status, ended - started, ended >= window.start && ended <= window.end, response.headers);
      if (wantText) tally.body(status, text, body);
      const retry = Number(header(response.headers, "retry-after"));
      if (status === 503 && spec.honorRetryAfter && retry > 0)
        await sleep(Math.min(retry * 1000, window.end - performance.now()));
    } catch (error) {
      tally.error(error);
      // A refused or reset socket fails at once: pause so a dead server does not become a hot loop.
      await sleep(20);
    } finally {
      window.inFlight--;
    }
  }
}

function summary(spec: LoadSpec, tally: Tally, window: Window, extra: Partial<LoadResult>): LoadResult {
  const seconds = (window.end - window.start) / 1000;
  return {
    name: spec.name,
    connections: spec.connections,
    warmupMs: 0,
    windowSeconds: round1(seconds),
    responses: tally.inWindow,
    responsesPerSecond: round1(tally.inWindow / seconds),
    okPerSecond: round1(tally.okInWindow / seconds),
    statuses: tally.statuses,
    latency: { ok: percentiles(tally.okMs), unavailable: percentiles(tally.unavailableMs) },
    serverMs: percentiles(tally.serverMs),
    okBodyBytes: tally.okBodyBytes,
    retryAfter: tally.retryAfter,
    problemCodes: tally.problemCodes,
    errors: tally.errors,
    xCache: tally.xCache,
    answers: spec.inspectAnswers
      ? {
          fallback: tally.fallback,
          wholeAnswerHits: tally.wholeAnswerHits,
          stagesMs: Object.fromEntries(
            Object.entries(tally.stageMs).map(([name, values]) => [name, percentiles(values)]),
          ),
        }
      : null,
    answeredBodies: tally.answered,
    inFlightAtEnd: 0,
    drainMs: 0,
    runner: { cpuCores: 0, eventLoopUtilization: 0 },
    ...extra,
  };
}

/**
 * Connects and warms every worker's connection first (untimed, so 1,000 handshakes do not land in the
 * numbers), then runs all workers for durationMs. Requests still in flight at the end are awaited, not
 * cut: their latency counts, their completion does not count towards the rates.
 */
export async function runClosedLoop(spec: LoadSpec, onMeasuring: () => void): Promise<LoadResult> {
  const clients = Array.from(
    { length: spec.connections },
    () =>
      new Client(spec.origin, {
        pipelining: 1,
        headersTimeout: spec.timeoutMs,
        bodyTimeout: spec.timeoutMs,
        connect: { timeout: 10_000 },
      }),
  );
  const next = bodySource(spec.bodies);
  const tally = new Tally(spec);
  try {
    const warmStarted = performance.now();
    await Promise.all(clients.map((client) => warm(client, spec, next())));
    const warmupMs = Math.round(performance.now() - warmStarted);
    const stagger = spec.staggerMs ?? 0;
    const start = performance.now() + stagger;
    const window: Window = { start, end: start + spec.durationMs, sent: 0, inFlight: 0 };
    const workers = clients.map((client, i) =>
      sleep((i / clients.length) * stagger).then(() => worker(client, spec, next, window, tally)),
    );
    await sleep(stagger);
    onMeasuring();
    const cpu = process.cpuUsage();
    const elu = performance.eventLoopUtilization();
    // Read at the window's end, not after the drain, so the figures describe the measured period.
    const runner = new Promise<LoadResult["runner"]>((resolve) =>
      setTimeout(() => {
        const used = process.cpuUsage(cpu);
        resolve({
          cpuCores: round1(((used.user + used.system) / 1000 / spec.durationMs) * 100) / 100,
          eventLoopUtilization: Math.round(performance.eventLoopUtilization(elu).utilization * 100) / 100,
        });
      }, spec.durationMs),
    );
    let inFlightAtEnd = 0;
    setTimeout(() => {
      inFlightAtEnd = window.inFlight;
    }, spec.durationMs);
    await Promise.all(workers);
    const drainMs = Math.max(0, Math.round(performance.now() - window.end));
    return summary(spec, tally, window, { warmupMs, inFlightAtEnd, drainMs, runner: await runner });
  } finally {
    await Promise.all(clients.map((client) => client.destroy().catch(() => undefined)));
  }
}
