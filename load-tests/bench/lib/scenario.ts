// One load scenario: an uncounted autocannon warm-up, then a measured run that tallies X-Cache, statuses
// and the CPU each process on the machine spent meanwhile.
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import autocannon from "autocannon";
import { cpuSeconds, machineTicks } from "./answer-children.js";
import { DISTURBED_CORES } from "./video-cpu.js";

export interface ScenarioSpec {
  name: string;
  url: string;
  /** The next request body; called once per request sent. */
  nextBody: () => string;
  /** Hard cap on requests for the next run (asked before warm-up and before measuring), besides the duration. */
  maxRequests: () => number;
  /** Processes whose CPU the measured run reports, by name (e.g. api: the primary and its workers). */
  processes?: () => Record<string, number[]>;
}

export interface RunSettings {
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
}

export interface ScenarioResult {
  name: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  requests: number;
  non2xx: number;
  errors: number;
  durationSeconds: number;
  /** X-Cache header values seen in the measured run ("none" when absent, as on the bare route). */
  xCache: Record<string, number>;
  /** 200 responses whose page was empty: cheap queries that would flatter the miss numbers. */
  emptyPages: number;
  /**
   * Cores each named process group used during the measured run; "generator" is this process (autocannon
   * runs in it), "others" is the machine's busy time that none of the named processes account for.
   */
  cpu?: Record<string, number>;
  /** Measured runs made to find one that other work on the machine did not disturb (runLeastDisturbed). */
  tries?: number;
}

const PATH = "/v1/courses/search";

async function fire(spec: ScenarioSpec, settings: RunSettings, seconds: number) {
  const tally = { xCache: {} as Record<string, number>, emptyPages: 0 };
  const result = await autocannon({
    url: spec.url,
    connections: settings.connections,
    duration: seconds,
    maxOverallRequests: spec.maxRequests(),
    method: "POST",
    headers: { "content-type": "application/json" },
    requests: [
      {
        path: PATH,
        // A fresh body per request: the miss scenario never sends the same one twice.
        setupRequest: (request) => ({ ...request, body: spec.nextBody() }),
        // Same callback on every scenario so the client does the same work whatever the target.
        onResponse: (status, body, _context, headers) => {
          const raw = headers?.["x-cache"] ?? headers?.["X-Cache"];
          const cache = (Array.isArray(raw) ? raw[0] : raw) ?? "none";
          tally.xCache[cache] = (tally.xCache[cache] ?? 0) + 1;
          if (status === 200 && body.startsWith('{"results":[]')) tally.emptyPages++;
        },
      },
    ],
  });
  return { result, tally };
}

export async function runScenario(spec: ScenarioSpec, settings: RunSettings): Promise<ScenarioResult> {
  // JIT, connection setup and pool growth happen here, out of the numbers.
  await fire(spec, settings, settings.warmupSeconds);
  const meter = cpuMeter({ generator: [process.pid], ...spec.processes?.() });
  const { result, tally } = await fire(spec, settings, settings.durationSeconds);
  return { name: spec.name, ...throughputOf(result), ...tally, cpu: meter() };
}

/**
 * Runs scenarios that will be compared with each other (2 workers against 1, nginx against direct) one
 * after the other, and the whole group again (at most `tries` times) while other work on the machine
 * took more than DISTURBED_CORES during any of them; keeps the group whose worst row was least
 * disturbed. On 2 shared cores one neighbour's test run would otherwise decide a ratio between rows.
 */
export async function runComparable(
  specs: ScenarioSpec[],
  settings: RunSettings,
  tries: number,
): Promise<ScenarioResult[]> {
  const worst = (group: ScenarioResult[]) => Math.max(...group.map((r) => r.cpu?.others ?? 0));
  let best: ScenarioResult[] | undefined;
  for (let attempt = 1; attempt <= tries; attempt++) {
    const group: ScenarioResult[] = [];
    for (const spec of specs) group.push(await runScenario(spec, settings));
    if (!best || worst(group) < worst(best)) best = group;
    for (const result of best) result.tries = attempt;
    if (worst(best) <= DISTURBED_CORES) break;
  }
  return best ?? [];
}

/** A process and all its descendants (a cluster primary's workers, nginx's workers), from /proc. */
export function processTree(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/);
    return [pid, ...children.filter(Boolean).flatMap((child) => processTree(Number(child)))];
  } catch {
    return [pid];
  }
}

/** Starts counting now; the returned function gives each group's cores since then (utime + stime). */
function cpuMeter(groups: Record<string, number[]>): () => Record<string, number> {
  const read = () =>
    Object.values(groups).map((pids) => pids.reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0));
  const [started, before, machineBefore] = [performance.now(), read(), machineTicks()];
  return () => {
    const [seconds, after, machineAfter] = [(performance.now() - started) / 1000, read(), machineTicks()];
    const cores = Object.keys(groups).map((name, i) => [
      name,
      ((after[i] ?? 0) - (before[i] ?? 0)) / seconds,
    ]);
    if (machineBefore && machineAfter) {
      const busy =
        ((machineAfter.busy - machineBefore.busy) / Math.max(1, machineAfter.total - machineBefore.total)) *
        cpus().length;
      const named = cores.reduce((sum, [, c]) => sum + Number(c), 0);
      cores.push(["others", Math.max(0, busy - named)]);
    }
    return Object.fromEntries(cores.map(([name, c]) => [name, Math.round(Number(c) * 100) / 100]));
  };
}

/** Rate and latency of one autocannon run, the figures every benchmark table reports. */
export function throughputOf(result: autocannon.Result) {
  const requests = result["2xx"] + result.non2xx;
  return {
    requestsPerSecond: Math.round(requests / result.duration),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    requests,
    non2xx: result.non2xx,
    errors: result.errors,
    durationSeconds: Math.round(result.duration * 10) / 10,
  };
}
