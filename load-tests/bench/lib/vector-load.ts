// Load and probe runs against POST /v1/search: autocannon cycling over prepared bodies, and sequential answers for recall.
import { Agent, request } from "node:http";
import { PerformanceObserver } from "node:perf_hooks";
import autocannon from "autocannon";
import { throughputOf } from "./scenario.js";

export interface LoadSettings {
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
  /** Only there so no run can be unbounded; far above what 8 s can reach on this machine. */
  maxRequests: number;
}

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  requests: number;
  non2xx: number;
  errors: number;
  durationSeconds: number;
  /** Plan strategy of every 2xx response ("exact" / "ivf"), and how many IVF plans fell back to exact. */
  strategies: Record<string, number>;
  fellBack: number;
  /** The load generator's own cost in the measured run: it shares the two cores with the sidecar. */
  client: { cores: number; gcPauses: number; gcMaxMs: number; gcTotalMs: number };
}

const PATH = "/v1/search";

async function fire(url: string, bodies: string[], settings: LoadSettings, seconds: number) {
  const tally = { strategies: {} as Record<string, number>, fellBack: 0 };
  let next = 0;
  const result = await autocannon({
    url,
    connections: settings.connections,
    duration: seconds,
    maxOverallRequests: settings.maxRequests,
    method: "POST",
    headers: { "content-type": "application/json" },
    requests: [
      {
        path: PATH,
        // Every request takes the next query of the set, so the run cycles over all of them.
        setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length] as string }),
        // A regex, not JSON.parse: the client shares the two cores with the sidecar and must stay cheap.
        onResponse: (status, body) => {
          if (status !== 200) return;
          const strategy = /"strategy":"(\w+)"/.exec(body)?.[1] ?? "unknown";
          tally.strategies[strategy] = (tally.strategies[strategy] ?? 0) + 1;
          if (body.includes('"fellBack":true')) tally.fellBack++;
        },
      },
    ],
  });
  return { result, tally };
}

/**
 * An uncounted warm-up (JIT, sockets), then the measured run. `during` runs right before the measured
 * run starts and its returned function right after it ends (used to snapshot the sidecar).
 */
export async function loadRun(
  url: string,
  bodies: string[],
  settings: LoadSettings,
  during?: () => Promise<() => Promise<void>>,
): Promise<LoadResult> {
  if (settings.warmupSeconds > 0) await fire(url, bodies, settings, settings.warmupSeconds);
  const after = await during?.();
  // A client GC pause shows up as server latency in autocannon's numbers: record them to tell apart.
  const pauses: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) pauses.push(entry.duration);
  });
  observer.observe({ entryTypes: ["gc"] });
  const cpuBefore = process.cpuUsage();
  const { result, tally } = await fire(url, bodies, settings, settings.durationSeconds);
  const cpu = process.cpuUsage(cpuBefore);
  observer.disconnect();
  await after?.();
  return {
    ...throughputOf(result),
    ...tally,
    client: {
      cores: Math.round(((cpu.user + cpu.system) / 1e6 / result.duration) * 100) / 100,
      gcPauses: pauses.length,
      gcMaxMs: Math.round(Math.max(0, ...pauses) * 10) / 10,
      gcTotalMs: Math.round(pauses.reduce((a, b) => a + b, 0)),
    },
  };
}

export interface SearchAnswer {
  results: { id: number; score: number }[];
  plan: { strategy: string; nprobe: number; scanned: number; fellBack: boolean; ms: number };
}

/** One request at a time (not under load): the answers for recall, with client-side latency. */
export async function sequentialAnswers(
  url: string,
  bodies: string[],
): Promise<{ answers: SearchAnswer[]; latenciesMs: number[] }> {
  const answers: SearchAnswer[] = [];
  const latenciesMs: number[] = [];
  for (const body of bodies) {
    const started = performance.now();
    const response = await fetch(`${url}${PATH}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    const text = await response.text();
    latenciesMs.push(performance.now() - started);
    if (response.status !== 200) throw new Error(`search answered ${response.status}: ${text.slice(0, 300)}`);
    answers.push(JSON.parse(text) as SearchAnswer);
  }
  return { answers, latenciesMs };
}

/**
 * Client-side latency of one request at a time with sub-millisecond resolution (autocannon's histogram
 * keeps whole milliseconds, too coarse for a 1 ms target). Plain node:http on one keep-alive socket:
 * the lightest client Node has, so the number is the sidecar's plus loopback, not fetch's overhead.
 */
export async function timedSequential(url: string, bodies: string[], rounds: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const { hostname, port } = new URL(url);
  const post = (body: string) =>
    new Promise<number>((resolve, reject) => {
      const started = performance.now();
      const req = request(
        {
          agent,
          hostname,
          port,
          path: PATH,
          method: "POST",
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          res.on("data", () => undefined);
          res.on("end", () =>
            res.statusCode === 200
              ? resolve(performance.now() - started)
              : reject(new Error(`search answered ${res.statusCode}`)),
          );
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  const latencies: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) for (const body of bodies) latencies.push(await post(body));
  } finally {
    agent.destroy();
  }
  return latencies;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}
