// One answer-benchmark scenario: the load, an optional search probe beside it, /metrics lag scrapes, upstream and CPU deltas.
import { execFileSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { Redis } from "ioredis";
import {
  type ApiChild,
  cpuSeconds,
  type FakeChild,
  type FakeStats,
  machineTicks,
  type RunnerChild,
} from "./answer-children.js";
import type { BodySpec, LoadResult, LoadSpec } from "./closed-loop.js";
import type { SidecarChild } from "./vector-sidecar.js";

export interface Stack {
  variant: "local" | "openai";
  /** How its rows are named: the variant, plus the budget when it is not the main one. */
  label: string;
  api: ApiChild;
  sidecar: SidecarChild;
  fake: FakeChild;
  /** Two runners: the answer load and the probe beside it never share an event loop. */
  load: RunnerChild;
  probe: RunnerChild;
  /** Chat (+ embeddings for the openai variant) latency an answer waits for when nothing queues. */
  upstreamLatencyMs: number;
  /** Latency of each upstream an answer calls in turn (chat; chat + embeddings), each with its own budget. */
  upstreamStagesMs: number[];
  budget: Budget;
  /** Where the api keeps its shared upstream budget, to look for leases left behind. */
  redis: { url: string; prefix: string };
}

export interface Budget {
  maxConcurrency: number;
  maxQueue: number;
  maxQueueWaitMs: number;
  rpm: number;
  tpm: number;
}

export interface LagSample {
  p99Ms: number;
  maxMs: number;
  chatActive: number;
  chatQueued: number;
}

export interface LagSummary {
  windows: number;
  p99MedianMs: number | null;
  p99WorstMs: number | null;
  maxWorstMs: number | null;
  chatActiveMax: number;
  chatQueuedMax: number;
}

export interface UpstreamDelta {
  calls: number;
  succeeded: number;
  failed: number;
  retries: number;
  timeouts: number;
  queueFull: number;
  queueWait: number;
  breakerOpen: number;
  /** Acquisitions decided by the in-process budget because a Redis budget command failed. */
  fallbacks: number;
}

export interface Measured {
  load: LoadResult;
  probe?: LoadResult;
  lag: LagSummary;
  upstreams: Record<string, UpstreamDelta>;
  fake: FakeStats;
  /** Cores used per process over the measured window (null: process not found). */
  cpu: Record<string, number | null>;
  /** 1-min load average when the scenario started: a busy neighbour on the 2 cores shows up here. */
  loadAverage1m: number;
  /** Unexpired leases in the Redis budget after the api drained (it holds none then): leaked slots. */
  leftoverLeases: Record<string, number>;
}

export interface AnswerRow extends Measured {
  variant: string;
  name: string;
  connections: number;
  honorRetryAfter: boolean;
  upstreamLatencyMs: number;
  expectedPerSecond: number;
  ratio: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round2 = (value: number) => Math.round(value * 100) / 100;

function metric(text: string, pattern: string): number {
  const match = text.match(new RegExp(`^${pattern}\\s+(\\S+)`, "m"));
  return match ? Number(match[1]) : 0;
}

/**
 * The api samples its event loop with a 10 ms timer (eventLoopMonitoringPrecision) and the histogram
 * records the time between timer callbacks, so an idle loop reads 10 ms. Delay is that minus 10 ms.
 */
export const LAG_SAMPLING_MS = 10;

/** prom-client resets its lag histogram on every scrape, so each sample covers the time since the last. */
async function scrape(apiUrl: string): Promise<LagSample> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const chat = 'upstream="openai-chat"';
  return {
    p99Ms: round2(metric(text, "kogi_nodejs_eventloop_lag_p99_seconds") * 1000 - LAG_SAMPLING_MS),
    maxMs: round2(metric(text, "kogi_nodejs_eventloop_lag_max_seconds") * 1000 - LAG_SAMPLING_MS),
    chatActive: metric(text, `kogi_upstream_active\\{${chat}\\}`),
    chatQueued: ["high", "normal", "low"].reduce(
      (sum, p) => sum + metric(text, `kogi_upstream_queued\\{${chat},priority="${p}"\\}`),
      0,
    ),
  };
}

/** Scrapes every second until stopped; the first scrape only resets the histogram. */
function startLagSampler(apiUrl: string) {
  const samples: LagSample[] = [];
  let running = true;
  const loop = (async () => {
    await scrape(apiUrl).catch(() => undefined);
    while (running) {
      await sleep(1_000);
      if (!running) break;
      const sample = await scrape(apiUrl).catch(() => undefined);
      if (sample) samples.push(sample);
    }
  })();
  return {
    async stop(): Promise<LagSummary> {
      running = false;
      await loop;
      const p99s = samples.map((s) => s.p99Ms).sort((a, b) => a - b);
      return {
        windows: samples.length,
        p99MedianMs: p99s.length ? (p99s[Math.floor((p99s.length - 1) / 2)] ?? null) : null,
        p99WorstMs: p99s.at(-1) ?? null,
        maxWorstMs: samples.length ? Math.max(...samples.map((s) => s.maxMs)) : null,
        chatActiveMax: Math.max(0, ...samples.map((s) => s.chatActive)),
        chatQueuedMax: Math.max(0, ...samples.map((s) => s.chatQueued)),
      };
    },
  };
}

type UpstreamStats = {
  name: string;
  active: number;
  queued: Record<string, number>;
  calls: number;
  succeeded: number;
  failed: number;
  retries: number;
  timeouts: number;
  fallbacks: number;
  rejectedBy: { queueFull: number; queueWait: number; breakerOpen: number };
};

async function upstreamStats(apiUrl: string): Promise<UpstreamStats[]> {
  const stats = (await (await fetch(`${apiUrl}/v1/stats`)).json()) as { upstreams: UpstreamStats[] };
  return stats.upstreams;
}

function upstreamDeltas(before: UpstreamStats[], after: UpstreamStats[]): Record<string, UpstreamDelta> {
  return Object.fromEntries(
    after.map((a) => {
      const b = before.find((x) => x.name === a.name);
      const d = (pick: (s: UpstreamStats) => number) => pick(a) - (b ? pick(b) : 0);
      return [
        a.name,
        {
          calls: d((s) => s.calls),
          succeeded: d((s) => s.succeeded),
          failed: d((s) => s.failed),
          retries: d((s) => s.retries),
          timeouts: d((s) => s.timeouts),
          queueFull: d((s) => s.rejectedBy.queueFull),
          queueWait: d((s) => s.rejectedBy.queueWait),
          breakerOpen: d((s) => s.rejectedBy.breakerOpen),
          fallbacks: d((s) => s.fallbacks),
        },
      ];
    }),
  );
}

/** Between scenarios: no answer may still hold or wait for an upstream slot, or the next one starts loaded. */
export async function waitDrained(stack: Stack, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const upstreams = await upstreamStats(stack.api.url);
    const busy = upstreams.some((u) => u.active > 0 || Object.values(u.queued).some((n) => n > 0));
    const fake = await stack.fake.stats();
    if (!busy && fake.chat.inFlight === 0 && fake.embeddings.inFlight === 0) return;
    await sleep(250);
  }
  throw new Error(`the api did not drain within ${timeoutMs / 1000} s`);
}

/** Leases still live in Redis (score = expiry on the server's clock), per upstream. */
async function leftoverLeases(stack: Stack, names: string[]): Promise<Record<string, number>> {
  const redis = new Redis(stack.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const [secondsNow] = await redis.time();
    const now = Number(secondsNow) * 1000;
    const counts = await Promise.all(
      names.map((name) => redis.zcount(`${stack.redis.prefix}upstream:{${name}}:leases`, now, "+inf")),
    );
    return Object.fromEntries(names.map((name, i) => [name, counts[i] ?? 0]));
  } finally {
    redis.disconnect();
  }
}

function pidOf(name: string): number | undefined {
  try {
    return Number(execFileSync("pgrep", ["-o", "-x", name], { encoding: "utf8" }).trim()) || undefined;
  } catch {
    return undefined;
  }
}

/** Who burns the two cores: the api, its helpers, the load generators, MariaDB and Redis. */
function processes(stack: Stack): Record<string, number | undefined> {
  return {
    api: stack.api.pid,
    sidecar: stack.sidecar.pid,
    "fake openai": stack.fake.pid,
    "load runner": stack.load.pid,
    "probe runner": stack.probe.pid,
    mariadb: pidOf("mariadbd") ?? pidOf("mysqld"),
    redis: pidOf("redis-server"),
  };
}

/** Cores per process over the window, plus "others": the machine's busy cores that none of ours used. */
async function cpuWindow(stack: Stack, durationMs: number): Promise<Record<string, number | null>> {
  const pids = processes(stack);
  const before = Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, pid && cpuSeconds(pid)]));
  const machineBefore = machineTicks();
  await sleep(durationMs);
  const machineAfter = machineTicks();
  const cores: Record<string, number | null> = Object.fromEntries(
    Object.entries(pids).map(([name, pid]) => {
      const a = pid ? cpuSeconds(pid) : undefined;
      const b = before[name];
      return [name, a !== undefined && b !== undefined ? round2((a - b) / (durationMs / 1000)) : null];
    }),
  );
  if (machineBefore && machineAfter) {
    const busy =
      ((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * cpus().length;
    const ours = Object.values(cores).reduce<number>((sum, value) => sum + (value ?? 0), 0);
    cores.others = round2(Math.max(0, busy - ours));
  }
  return cores;
}

export function loadSpec(
  stack: Stack,
  name: string,
  options: Pick<LoadSpec, "path" | "connections" | "durationMs" | "bodies"> & Partial<LoadSpec>,
): LoadSpec {
  const isAnswer = options.path === "/v1/answer";
  return {
    name,
    origin: stack.api.url,
    maxRequests: 2_000_000,
    // Above ANSWER_TIMEOUT_MS (15 s): the api's own 504 would come first; a client timeout means it hung.
    timeoutMs: 20_000,
    warmup: isAnswer ? "health" : "body",
    honorRetryAfter: false,
    inspectAnswers: isAnswer,
    keepAnswered: 0,
    ...options,
  };
}

/**
 * Runs `spec` on the load runner and, when `probe` is given, the probe `probeDelayMs` into the measured
 * window; scrapes lag and reads CPU over the load's window.
 */
export async function measure(
  stack: Stack,
  spec: LoadSpec,
  probe?: { spec: LoadSpec; delayMs: number },
): Promise<Measured> {
  await waitDrained(stack);
  await stack.fake.reset();
  const loadAverage1m = Math.round((loadavg()[0] ?? 0) * 100) / 100;
  const before = await upstreamStats(stack.api.url);
  let sampler: ReturnType<typeof startLagSampler> | undefined;
  let cpu: Promise<Record<string, number | null>> | undefined;
  let probeRun: Promise<LoadResult> | undefined;
  const load = await stack.load.run(spec, () => {
    sampler = startLagSampler(stack.api.url);
    cpu = cpuWindow(stack, spec.durationMs);
    if (probe) probeRun = sleep(probe.delayMs).then(() => stack.probe.run(probe.spec));
  });
  const probeResult = await probeRun;
  const lag = (await sampler?.stop()) as LagSummary;
  await waitDrained(stack);
  // Releases go to Redis without being awaited: give them a moment before counting what is left.
  await sleep(500);
  const after = await upstreamStats(stack.api.url);
  return {
    load,
    probe: probeResult,
    lag,
    leftoverLeases: await leftoverLeases(
      stack,
      after.map((u) => u.name),
    ),
    upstreams: upstreamDeltas(before, after),
    fake: await stack.fake.stats(),
    cpu: (await cpu) ?? {},
    loadAverage1m,
  };
}

export interface AnswerScenario {
  name: string;
  connections: number;
  durationMs: number;
  honorRetryAfter: boolean;
  /** Search cache-hit probe beside the load (the 1000-client scenarios). */
  probe?: LoadSpec;
  probeDelayMs?: number;
  keepAnswered?: number;
}

/**
 * Little's law for a closed loop: clients / cycle time, capped by the slowest upstream stage, where each
 * upstream (own budget of maxConcurrency slots) serves at most maxConcurrency / its latency per second.
 */
export function expectedPerSecond(clients: number, stack: Stack): number {
  const byClients = clients / (stack.upstreamLatencyMs / 1000);
  const byBudget = Math.min(...stack.upstreamStagesMs.map((ms) => stack.budget.maxConcurrency / (ms / 1000)));
  return Math.min(byClients, byBudget);
}

export async function runAnswerScenario(
  stack: Stack,
  scenario: AnswerScenario,
  bodies: BodySpec,
): Promise<AnswerRow> {
  const spec = loadSpec(stack, scenario.name, {
    path: "/v1/answer",
    connections: scenario.connections,
    durationMs: scenario.durationMs,
    bodies,
    honorRetryAfter: scenario.honorRetryAfter,
    keepAnswered: scenario.keepAnswered ?? 0,
    staggerMs: stack.upstreamLatencyMs,
  });
  const probe = scenario.probe && { spec: scenario.probe, delayMs: scenario.probeDelayMs ?? 2_000 };
  const measured = await measure(stack, spec, probe);
  const expected = expectedPerSecond(scenario.connections, stack);
  return {
    variant: stack.label,
    name: scenario.name,
    connections: scenario.connections,
    honorRetryAfter: scenario.honorRetryAfter,
    upstreamLatencyMs: stack.upstreamLatencyMs,
    expectedPerSecond: round2(expected),
    ratio: round2(measured.load.okPerSecond / expected),
    ...measured,
  };
}
