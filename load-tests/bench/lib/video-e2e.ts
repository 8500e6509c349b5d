// Part B of bench:video: 500 jobs through a real api onto a fake D-ID with 10 render slots, searches beside them.

import { readFile } from "node:fs/promises";
import type { FakeDIdStats } from "@kogi/shared/fakes/d-id-server";
import type { UpstreamStats } from "@kogi/shared/outbound/upstream";
import { startApi } from "./answer-children.js";
import { LAG_SAMPLING_MS } from "./answer-scenarios.js";
import { cleanups, logger } from "./cleanup.js";
import { type Percentiles, percentiles } from "./closed-loop.js";
import type { Fixture } from "./fixture.js";
import { freePort } from "./processes.js";
import { type RunSettings, runScenario, type ScenarioResult } from "./scenario.js";
import { cpuMeter, DISTURBED_CORES, leastDisturbed, pidOf } from "./video-cpu.js";
import { type FakeDIdChild, startFakeDIdChild } from "./video-fake.js";

export interface PartBSettings {
  jobs: number;
  /** Submissions in flight at once. */
  submitConcurrency: number;
  /** Give up on jobs not terminal this long after the first submit. */
  deadlineMs: number;
  /** The search probe during the run starts this long after the first submit. */
  probeDelayMs: number;
  search: RunSettings;
  fake: { latencyMs: number; maxInProgress: number; renderMs: number };
  /** D_ID_MAX_CONCURRENCY, D_ID_RPM, D_ID_POLL_INITIAL_MS, D_ID_POLL_MAX_MS for the api. */
  apiEnv: Record<string, string>;
}

const TERMINAL = ["done", "failed", "rejected", "canceled"];
const VIDEO_KEY = "kogi-bench-video-key";
/** A catalog term of the synthetic demo catalog (DEMO_COURSES), so the search has results to cache. */
const HIT_BODY = JSON.stringify({ term: "2026-fa", subjects: ["CS"], limit: 20 });
const LONG_POLL_SECONDS = 20;
/** A search probe is run again (up to this many times in all) while other work disturbs it. */
const PROBE_TRIES = 3;

const log = logger("bench:video");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

interface JobTrace {
  id?: string;
  /** performance.now() when the POST went out, when its 202 came back, when a read first showed the end. */
  submitAt: number;
  acceptedAt?: number;
  endAt?: number;
  status?: string;
  error?: string;
  /** Server side: createdAt -> finishedAt of the job. */
  serverMs?: number;
  /** Server side: claimed by the runner (submittedAt, render slot just taken) -> finishedAt. */
  heldMs?: number;
  watchErrors: number;
}

interface Sample {
  atMs: number;
  probe: boolean;
  p99Ms: number;
  maxMs: number;
  inProgress: number;
  waiting: number;
  cores: Record<string, number>;
}

export interface LagFigures {
  windows: number;
  p99MedianMs: number | null;
  p99WorstMs: number | null;
  /** Seconds after the first submit at which the worst window ended. */
  p99WorstAtS: number | null;
  maxWorstMs: number | null;
}

export interface PartBResult {
  jobs: number;
  submitted: number;
  submitErrors: Record<string, number>;
  /** First submit to last 202. */
  submitSeconds: number;
  submitLatency: Percentiles | null;
  statuses: Record<string, number>;
  unfinished: number;
  /** First submit to the last job seen done. */
  completionSeconds: number;
  donePerSecond: number;
  physicalPerSecond: number;
  completionRatio: number;
  submitToDone: Percentiles | null;
  serverSubmitToDone: Percentiles | null;
  /** Claim (render slot taken) -> finished, per job: the rest of a slot's cycle is the hand-over to the next job. */
  slotHeld: Percentiles | null;
  watchErrors: number;
  fake: {
    maxInProgress: number;
    maxWaitingSeen: number;
    talksCreated: number;
    creditsCharged: number;
    /** Jobs with more than one talk (user_data = job id). */
    duplicateJobs: number;
    extraTalks: number;
    /** Talks whose user_data is none of the submitted jobs. */
    strayTalks: number;
    calls: Record<string, number>;
  };
  lag: { outsideProbe: LagFigures; duringProbe: LagFigures };
  search: {
    idleBefore: ScenarioResult;
    idleAfter: ScenarioResult;
    /** Mean of the idle runs before and after the jobs not disturbed by other work (or the least disturbed). */
    idleRequestsPerSecond: number;
    /** Which idle runs make the baseline. */
    idleBaseline: string;
    during: ScenarioResult;
    ratio: number;
    probeStartedAfterSubmits: boolean;
  };
  /** Cores by process: over the idle probe, the probe during the jobs, and the median 1-s window of the jobs without a probe. */
  cpu: {
    idleBefore: Record<string, number>;
    duringProbe: Record<string, number>;
    idleAfter: Record<string, number>;
    jobsOnly: Record<string, number>;
  };
  /** How many tries each search probe took (see leastDisturbed). */
  probeTries: Record<string, number>;
  /** Probes still disturbed by other work after their last try. */
  warnings: string[];
  /** GET /talks/{id} the runner made per job: its polling schedule against the render time. */
  pollsPerJob: number;
  /** completionSeconds per wave of maxInProgress jobs: how long one render slot is held per job. */
  slotCycleSeconds: number;
  upstreams: Pick<
    UpstreamStats,
    "name" | "backend" | "calls" | "failed" | "retries" | "rejected" | "fallbacks"
  >[];
  apiLogFile: string;
  /** Lines of the api's log (LOG_LEVEL=warn) by message. */
  apiLog: Record<string, number>;
}

async function searchOnce(apiUrl: string) {
  const response = await fetch(`${apiUrl}/v1/courses/search`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: HIT_BODY,
  });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`search gave ${response.status}: ${body.slice(0, 300)}`);
  return {
    xCache: response.headers.get("x-cache") ?? "",
    results: (JSON.parse(body) as { results: [] }).results,
  };
}

/** Fills the cache and checks the repeated request is a hit with a non-empty page. */
async function warmSearch(apiUrl: string): Promise<void> {
  await searchOnce(apiUrl);
  const second = await searchOnce(apiUrl);
  if (!second.xCache.startsWith("HIT") || second.results.length === 0)
    throw new Error(`repeated search: X-Cache "${second.xCache}", ${second.results.length} results`);
}

const searchSpec = (apiUrl: string, name: string) => ({
  name,
  url: apiUrl,
  nextBody: () => HIT_BODY,
  maxRequests: () => 2_000_000,
});

/** One /metrics scrape: prom-client's lag histogram covers the time since the previous scrape. */
async function scrapeLag(apiUrl: string): Promise<{ p99Ms: number; maxMs: number }> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const ms = (name: string) => {
    const seconds = Number(new RegExp(`^${name} (\\S+)`, "m").exec(text)?.[1] ?? Number.NaN);
    return Math.round((seconds * 1000 - LAG_SAMPLING_MS) * 100) / 100;
  };
  return {
    p99Ms: ms("kogi_nodejs_eventloop_lag_p99_seconds"),
    maxMs: ms("kogi_nodejs_eventloop_lag_max_seconds"),
  };
}

/** Every second: the api's event-loop delay, the fake's talks in progress and waiting, CPU by process. */
function startSampler(
  apiUrl: string,
  fake: FakeDIdChild,
  since: number,
  meter: () => Record<string, number>,
) {
  const samples: Sample[] = [];
  const state = { running: true, probe: false };
  const loop = (async () => {
    await scrapeLag(apiUrl).catch(() => undefined);
    meter();
    while (state.running) {
      await sleep(1_000);
      const probe = state.probe;
      const cores = meter();
      const [lag, stats] = await Promise.all([scrapeLag(apiUrl), fake.stats()]).catch(() => [
        undefined,
        undefined,
      ]);
      if (lag && stats)
        samples.push({
          atMs: performance.now() - since,
          probe,
          ...lag,
          inProgress: stats.inProgress,
          waiting: stats.waiting,
          cores,
        });
    }
  })();
  return {
    state,
    async stop() {
      state.running = false;
      await loop;
      return samples;
    },
  };
}

/** Per process, the median of the samples' cores. */
function medianCores(samples: Sample[]): Record<string, number> {
  const names = [...new Set(samples.flatMap((s) => Object.keys(s.cores)))];
  return Object.fromEntries(
    names.map((name) => {
      const values = samples.flatMap((s) => s.cores[name] ?? []).sort((a, b) => a - b);
      return [name, values[Math.floor((values.length - 1) / 2)] ?? 0];
    }),
  );
}

function lagFigures(samples: Sample[]): LagFigures {
  const p99s = samples.map((s) => s.p99Ms).sort((a, b) => a - b);
  const worst = samples.find((s) => s.p99Ms === p99s.at(-1));
  return {
    windows: p99s.length,
    p99MedianMs: p99s[Math.floor((p99s.length - 1) / 2)] ?? null,
    p99WorstMs: worst?.p99Ms ?? null,
    p99WorstAtS: worst ? Math.round(worst.atMs / 100) / 10 : null,
    maxWorstMs: samples.length ? Math.max(...samples.map((s) => s.maxMs)) : null,
  };
}

/**
 * The video API as one client sees it: JSON in and out, every request with its own AbortController, all
 * aborted when the run is given up. fetch leaves an abort listener on the signal of every request it made,
 * so one signal shared by thousands of requests would pile listeners up.
 */
class VideoClient {
  readonly #inFlight = new Set<AbortController>();

  constructor(
    private readonly apiUrl: string,
    readonly giveUp: AbortSignal,
  ) {
    giveUp.addEventListener("abort", () => {
      for (const controller of this.#inFlight) controller.abort();
    });
  }

  async request<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
    const controller = new AbortController();
    if (this.giveUp.aborted) controller.abort();
    this.#inFlight.add(controller);
    try {
      const response = await fetch(`${this.apiUrl}${path}`, {
        ...init,
        headers: {
          authorization: `Bearer ${VIDEO_KEY}`,
          "content-type": "application/json",
          ...init.headers,
        },
        signal: controller.signal,
      });
      return { status: response.status, body: (await response.json()) as T };
    } finally {
      this.#inFlight.delete(controller);
    }
  }
}

interface JobView {
  id?: string;
  code?: string;
  status: string;
  createdAt: string;
  submittedAt: string | null;
  finishedAt: string | null;
}

/** Long-polls one job (`Prefer: wait=20`) until it is terminal or the run is given up. */
async function watch(client: VideoClient, trace: JobTrace): Promise<void> {
  while (!client.giveUp.aborted) {
    try {
      const { status, body: job } = await client.request<JobView>(`/v1/videos/${trace.id}`, {
        headers: { prefer: `wait=${LONG_POLL_SECONDS}` },
      });
      if (status !== 200) throw new Error(`GET gave ${status}`);
      if (TERMINAL.includes(job.status)) {
        trace.endAt = performance.now();
        trace.status = job.status;
        const finished = job.finishedAt ? Date.parse(job.finishedAt) : Number.NaN;
        trace.serverMs = finished - Date.parse(job.createdAt);
        trace.heldMs = job.submittedAt ? finished - Date.parse(job.submittedAt) : Number.NaN;
        return;
      }
    } catch {
      if (client.giveUp.aborted) return;
      trace.watchErrors++;
      await sleep(500);
    }
  }
}

/** `concurrency` submitters POST the jobs; each accepted job gets its own long-polling watcher. */
async function submitAll(client: VideoClient, settings: PartBSettings) {
  const traces: JobTrace[] = [];
  const watchers: Promise<void>[] = [];
  const submitter = async () => {
    while (traces.length < settings.jobs && !client.giveUp.aborted) {
      const trace: JobTrace = { submitAt: performance.now(), watchErrors: 0 };
      const n = traces.push(trace);
      try {
        const { status, body } = await client.request<Partial<JobView>>("/v1/videos", {
          method: "POST",
          body: JSON.stringify({
            sourceUrl: "https://example.edu/p.jpg",
            script: { text: `Welcome to lecture ${n} of the benchmark course.` },
          }),
        });
        if (status !== 202 || !body.id) throw new Error(`${status} ${body.code ?? ""}`);
        trace.id = body.id;
        trace.acceptedAt = performance.now();
        watchers.push(watch(client, trace));
      } catch (error) {
        trace.error = (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: settings.submitConcurrency }, submitter));
  return { traces, watched: () => Promise.all(watchers) };
}

function countBy<T>(items: T[], key: (item: T) => string | undefined): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) {
    const k = key(item);
    if (k !== undefined) counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}

async function logMessages(file: string): Promise<Record<string, number>> {
  const lines = (await readFile(file, "utf8").catch(() => "")).split("\n").filter(Boolean);
  return countBy(lines, (line) => {
    try {
      return String((JSON.parse(line) as { msg?: unknown }).msg).slice(0, 100);
    } catch {
      return line.slice(0, 100);
    }
  });
}

function fakeFigures(stats: FakeDIdStats, jobIds: Set<string>, samples: Sample[]): PartBResult["fake"] {
  const perJob = Object.entries(stats.talksByUserData);
  return {
    maxInProgress: stats.maxInProgress,
    maxWaitingSeen: Math.max(0, ...samples.map((s) => s.waiting)),
    talksCreated: stats.talksCreated,
    creditsCharged: stats.creditsCharged,
    duplicateJobs: perJob.filter(([, talks]) => talks > 1).length,
    extraTalks: perJob.reduce((sum, [, talks]) => sum + Math.max(0, talks - 1), 0),
    strayTalks: perJob
      .filter(([userData]) => !jobIds.has(userData))
      .reduce((sum, [, talks]) => sum + talks, 0),
    calls: Object.fromEntries(Object.entries(stats.calls).filter(([, n]) => n > 0)),
  };
}

export async function runPartB(root: string, fixture: Fixture, settings: PartBSettings, logFile: string) {
  // D-ID's webhook back to the api, with polling as the fallback: how production is configured.
  const apiPort = await freePort();
  const fake = await startFakeDIdChild(root, {
    ...settings.fake,
    overCapacity: "queue",
    queueMs: 0,
    credits: settings.jobs * 10,
    allowHttpWebhooks: true,
  });
  const api = await startApi(
    root,
    {
      ...fixture.env,
      LOG_LEVEL: "warn",
      DEMO_COURSES: "2000",
      D_ID_API_KEY: fake.apiKey,
      D_ID_BASE_URL: fake.url,
      VIDEO_API_KEYS: VIDEO_KEY,
      PORT: String(apiPort),
      D_ID_WEBHOOK_BASE_URL: `http://127.0.0.1:${apiPort}`,
      D_ID_WEBHOOK_SECRET: "bench-webhook-secret-0123456789",
      ...settings.apiEnv,
    },
    logFile,
  );
  cleanups.push(api.stop);
  log(`B: fake D-ID pid ${fake.pid} at ${fake.url}, api pid ${api.pid} at ${api.url}`);
  await warmSearch(api.url);
  const pids = {
    api: api.pid,
    mariadb: pidOf("mariadbd") ?? pidOf("mysqld"),
    redis: pidOf("redis-server"),
    "fake D-ID": fake.pid,
    "bench (clients)": process.pid,
  };
  const probe = async (name: string) => {
    const run = await leastDisturbed(pids, PROBE_TRIES, () =>
      runScenario(searchSpec(api.url, name), settings.search),
    );
    log(
      `B: ${name}: ${run.result.requestsPerSecond} req/s (${run.tries} tries, others ${run.cores.others} cores)`,
    );
    return { ...run, name };
  };
  const idleBefore = await probe("search cache hit, idle before the jobs");

  const start = performance.now();
  const giveUp = new AbortController();
  const deadline = setTimeout(() => giveUp.abort(), settings.deadlineMs);
  const sampler = startSampler(api.url, fake, start, cpuMeter(pids));
  let submitsDone = false;
  const submitting = submitAll(new VideoClient(api.url, giveUp.signal), settings).then((submitted) => {
    submitsDone = true;
    log(
      `B: ${submitted.traces.filter((t) => t.id).length} jobs accepted in ${((performance.now() - start) / 1000).toFixed(1)} s`,
    );
    return submitted;
  });
  await sleep(settings.probeDelayMs);
  const probeStartedAfterSubmits = submitsDone;
  sampler.state.probe = true;
  const during = await probe(`search cache hit, during the ${settings.jobs} jobs`);
  sampler.state.probe = false;
  const { traces, watched } = await submitting;
  await watched();
  clearTimeout(deadline);
  const samples = await sampler.stop();
  const idleAfter = await probe("search cache hit, idle after the jobs");
  const fakeStats = await fake.stats();
  const apiStats = (await (await fetch(`${api.url}/v1/stats`)).json()) as { upstreams: UpstreamStats[] };
  await api.stop();
  await fake.stop();

  const accepted = traces.filter((t) => t.id);
  const ended = accepted.filter((t) => t.endAt !== undefined);
  const done = ended.filter((t) => t.status === "done");
  const firstSubmit = Math.min(...traces.map((t) => t.submitAt));
  const lastDone = Math.max(firstSubmit, ...done.map((t) => t.endAt ?? 0));
  const completionSeconds = (lastDone - firstSubmit) / 1000;
  const physicalPerSecond = settings.fake.maxInProgress / (settings.fake.renderMs / 1000);
  const donePerSecond = completionSeconds > 0 ? done.length / completionSeconds : 0;
  const round2 = (value: number) => Math.round(value * 100) / 100;
  const probes = [idleBefore, during, idleAfter];
  // Both idle runs undisturbed: their mean (drift cancels out); otherwise the least disturbed one alone.
  const calm = [idleBefore, idleAfter].filter((p) => (p.cores.others ?? 0) <= DISTURBED_CORES);
  const baselines = calm.length
    ? calm
    : [idleBefore, idleAfter].sort((x, y) => (x.cores.others ?? 0) - (y.cores.others ?? 0)).slice(0, 1);
  const idleRequestsPerSecond = Math.round(
    baselines.reduce((sum, p) => sum + p.result.requestsPerSecond, 0) / baselines.length,
  );
  const idleBaseline = baselines.map((p) => p.name.replace("search cache hit, ", "")).join(" and ");
  return {
    jobs: settings.jobs,
    submitted: accepted.length,
    submitErrors: countBy(traces, (t) => t.error),
    submitSeconds: round2((Math.max(...accepted.map((t) => t.acceptedAt ?? 0)) - firstSubmit) / 1000),
    submitLatency: percentiles(accepted.map((t) => (t.acceptedAt ?? 0) - t.submitAt)),
    statuses: countBy(ended, (t) => t.status),
    unfinished: accepted.length - ended.length,
    completionSeconds: round2(completionSeconds),
    donePerSecond: round2(donePerSecond),
    physicalPerSecond,
    completionRatio: round2(donePerSecond / physicalPerSecond),
    submitToDone: percentiles(done.map((t) => (t.endAt ?? 0) - t.submitAt)),
    serverSubmitToDone: percentiles(done.map((t) => t.serverMs ?? Number.NaN).filter(Number.isFinite)),
    slotHeld: percentiles(done.map((t) => t.heldMs ?? Number.NaN).filter(Number.isFinite)),
    watchErrors: accepted.reduce((sum, t) => sum + t.watchErrors, 0),
    fake: fakeFigures(fakeStats, new Set(accepted.map((t) => t.id as string)), samples),
    lag: {
      outsideProbe: lagFigures(samples.filter((s) => !s.probe)),
      duringProbe: lagFigures(samples.filter((s) => s.probe)),
    },
    search: {
      idleBefore: idleBefore.result,
      idleAfter: idleAfter.result,
      idleRequestsPerSecond,
      idleBaseline,
      during: during.result,
      ratio: round2(during.result.requestsPerSecond / idleRequestsPerSecond),
      probeStartedAfterSubmits,
    },
    cpu: {
      idleBefore: idleBefore.cores,
      duringProbe: during.cores,
      idleAfter: idleAfter.cores,
      jobsOnly: medianCores(samples.filter((s) => !s.probe)),
    },
    probeTries: Object.fromEntries(probes.map((p) => [p.name, p.tries])),
    warnings: probes
      .filter((p) => (p.cores.others ?? 0) > DISTURBED_CORES)
      .map((p) => `${p.name}: ${p.cores.others} cores of other work beside it even after ${p.tries} tries`),
    pollsPerJob: round2((fakeStats.calls["GET /talks/{id}"] ?? 0) / Math.max(1, accepted.length)),
    slotCycleSeconds: round2(completionSeconds / Math.ceil(done.length / settings.fake.maxInProgress)),
    upstreams: apiStats.upstreams.map(({ name, backend, calls, failed, retries, rejected, fallbacks }) => ({
      name,
      backend,
      calls,
      failed,
      retries,
      rejected,
      fallbacks,
    })),
    apiLogFile: logFile,
    apiLog: await logMessages(logFile),
  } satisfies PartBResult;
}
