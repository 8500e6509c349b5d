// One load scenario: an uncounted autocannon warm-up, then a measured run that tallies X-Cache and statuses.
import autocannon from "autocannon";

export interface ScenarioSpec {
  name: string;
  url: string;
  /** The next request body; called once per request sent. */
  nextBody: () => string;
  /** Hard cap on requests for the next run (asked before warm-up and before measuring), besides the duration. */
  maxRequests: () => number;
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
  const { result, tally } = await fire(spec, settings, settings.durationSeconds);
  return { name: spec.name, ...throughputOf(result), ...tally };
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
