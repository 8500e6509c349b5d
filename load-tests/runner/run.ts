// Local runner: runs a k6 scenario's data with autocannon against a running Kogi and judges k6's thresholds.
// `npx tsx load-tests/runner/run.ts <scenario> [--base-url URL] [--duration S] [--connections N] [--rate R]`
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { allThresholdsPassed, renderReport, type ScenarioReport } from "../k6/lib/report.js";
import {
  describeLoad,
  ENDPOINTS,
  type Endpoint,
  type Env,
  isScenarioName,
  type LoadShape,
  resolveScenario,
  SCENARIO_NAMES,
  type Scenario,
  settingsFrom,
} from "../k6/scenarios.js";
import { evaluateThresholds, summarizeLatency } from "./thresholds.js";

const USAGE = `usage: npx tsx load-tests/runner/run.ts <scenario> [options]

scenarios: ${SCENARIO_NAMES.join(", ")}

options (each also read from the environment variable in brackets, as k6 reads __ENV):
  --base-url URL      api to load [BASE_URL], default http://127.0.0.1:8080
  --duration S        seconds of load [DURATION]; ramping stages are scaled to this total
  --connections N     autocannon connections (k6 VUs): for arrival-rate scenarios the connections
                      sharing the rate (default the scenario's max VUs), for ramping ones a cap per stage
  --rate R            requests per second for arrival-rate scenarios [RATE]
  --seed N            body generator seed [SEED]
  --terms CODE[,...]  term codes the bodies use [KOGI_TERMS], default 2026-fa (the demo catalog)
  --json FILE         also write the report as JSON
exit status: 0 every threshold met, 1 a threshold crossed, 2 bad usage or the api is not answering`;

/** Never more than this many requests in one run, whatever the flags say. */
const MAX_REQUESTS = 1_000_000;
/** Per request; k6's default is 60 s, but an answer past its own 15 s deadline is already a failure. */
const REQUEST_TIMEOUT_SECONDS = 30;

export interface Phase {
  seconds: number;
  connections: number;
  /** Requests per second over all connections; undefined = as fast as each connection can go (closed loop). */
  overallRate?: number;
  maxRequests: number;
}

/**
 * The load shape as autocannon phases. An arrival rate becomes one paced phase (autocannon paces per
 * connection, so a connection waiting on a slow response delays its next request, unlike k6's open
 * model). Ramping VUs become one phase per stage at the stage's average VU count: a staircase, not a ramp.
 */
export function plan(load: LoadShape, maxConnections?: number): Phase[] {
  const cap = (n: number) => Math.max(1, Math.min(n, maxConnections ?? Number.POSITIVE_INFINITY));
  if (load.executor === "constant-arrival-rate")
    return [
      {
        seconds: load.durationSeconds,
        // autocannon gives each connection rate/connections per second: fewer requests than connections would leave some unpaced.
        connections: Math.max(1, Math.min(maxConnections ?? load.maxVUs, load.ratePerSecond)),
        overallRate: load.ratePerSecond,
        maxRequests: Math.min(MAX_REQUESTS, Math.ceil(load.ratePerSecond * load.durationSeconds)),
      },
    ];
  let from = load.startVUs;
  return load.stages.map((stage) => {
    const connections = cap(Math.round((from + stage.target) / 2));
    from = stage.target;
    return {
      seconds: stage.durationSeconds,
      connections,
      maxRequests: Math.floor(MAX_REQUESTS / load.stages.length),
    };
  });
}

/** One autocannon instance of a phase, started `delayMs` after the phase begins. */
export interface Group {
  delayMs: number;
  connections: number;
  overallRate?: number;
  maxRequests: number;
}

/** Paced phases are split into this many instances started evenly across the first second. */
const STAGGER_GROUPS = 10;

const share = (total: number, parts: number, index: number) =>
  Math.floor(total / parts) + (index < total % parts ? 1 : 0);

/**
 * autocannon paces each connection per one-second window: every connection sends its quota back to
 * back at the start of the window, so 200/s arrives as one burst a second and the queueing that burst
 * causes shows up as latency k6 would not see. Instances started 100 ms apart spread it over the second.
 */
export function stagger(phase: Phase): Group[] {
  if (!phase.overallRate)
    return [{ delayMs: 0, connections: phase.connections, maxRequests: phase.maxRequests }];
  const groups = Math.min(STAGGER_GROUPS, phase.connections);
  return Array.from({ length: groups }, (_, g) => ({
    delayMs: Math.round((g * 1000) / groups),
    connections: share(phase.connections, groups, g),
    overallRate: share(phase.overallRate as number, groups, g),
    maxRequests: Math.max(1, share(phase.maxRequests, groups, g)),
  }));
}

interface Collected {
  latenciesMs: number[];
  latenciesByEndpoint: Record<Endpoint, number[]>;
  statuses: Map<number, number>;
  xCache: Map<string, number>;
  unexpected: number;
  noResponse: number;
}

interface RequestContext {
  endpoint?: Endpoint;
}

/** Shared by every instance of a run: the iteration counter, what was measured, and Ctrl-C. */
interface RunState {
  scenario: Scenario;
  baseUrl: URL;
  iteration: number;
  collected: Collected;
  running: Set<autocannon.Instance>;
  stopped: boolean;
}

function headerValue(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers ?? {}))
    if (key.toLowerCase() === name) return String(Array.isArray(value) ? value[0] : value);
  return undefined;
}

/** Runs one autocannon instance and resolves with its measured duration in seconds. */
function runGroup(state: RunState, seconds: number, group: Group): Promise<number> {
  const { scenario, collected } = state;
  const prefix = state.baseUrl.pathname.replace(/\/+$/, "");
  // onResponse runs just before autocannon emits "response" for the same reply (same call stack, one
  // request in flight per connection): it leaves the endpoint here for the latency listener.
  let last: Endpoint | undefined;
  return new Promise<number>((done, fail) => {
    const instance = autocannon(
      {
        url: state.baseUrl.origin,
        connections: group.connections,
        duration: seconds,
        ...(group.overallRate ? { overallRate: group.overallRate } : {}),
        maxOverallRequests: group.maxRequests,
        timeout: REQUEST_TIMEOUT_SECONDS,
        requests: [
          {
            method: "POST",
            path: `${prefix}/`,
            headers: { "content-type": "application/json" },
            setupRequest: (request, context) => {
              const { endpoint, body } = scenario.request(state.iteration++);
              (context as RequestContext).endpoint = endpoint;
              const spec = ENDPOINTS[endpoint];
              return { ...request, method: spec.method, path: `${prefix}${spec.path}`, body };
            },
            onResponse: (status, _body, context, headers) => {
              const endpoint = (context as RequestContext).endpoint ?? (scenario.endpoints[0] as Endpoint);
              last = endpoint;
              if (!ENDPOINTS[endpoint].expectedStatuses.includes(status)) collected.unexpected++;
              collected.statuses.set(status, (collected.statuses.get(status) ?? 0) + 1);
              const cache = headerValue(headers, "x-cache")?.split(";")[0] ?? "none";
              collected.xCache.set(cache, (collected.xCache.get(cache) ?? 0) + 1);
            },
          },
        ],
      },
      (error, result) => {
        state.running.delete(instance);
        if (error) return fail(error);
        // Connection errors and timeouts: requests that never got a response (k6 counts them as failed).
        collected.noResponse += result.errors;
        done(result.duration);
      },
    );
    instance.on("response", (_client, _status, _bytes, responseTime) => {
      collected.latenciesMs.push(responseTime);
      if (last) collected.latenciesByEndpoint[last].push(responseTime);
      last = undefined;
    });
    state.running.add(instance);
  });
}

/** All groups of a phase; resolves with the phase's duration (mean of its instances) in seconds. */
async function runPhase(state: RunState, phase: Phase): Promise<number> {
  const durations = await Promise.all(
    stagger(phase).map(async (group) => {
      if (group.delayMs) await new Promise((wake) => setTimeout(wake, group.delayMs));
      return state.stopped ? 0 : runGroup(state, phase.seconds, group);
    }),
  );
  const ran = durations.filter((d) => d > 0);
  return ran.length ? ran.reduce((a, b) => a + b, 0) / ran.length : 0;
}

function tally(map: Map<string | number, number>): string {
  return [...map.entries()]
    .sort(([, a], [, b]) => b - a)
    .map(([key, n]) => `${key}: ${n}`)
    .join(", ");
}

export interface RunControl {
  /** Stops every running instance; phases not started yet are skipped. */
  stop(): void;
}

export async function runScenario(
  scenario: Scenario,
  baseUrl: string,
  maxConnections: number | undefined,
  onStart: (control: RunControl) => void = () => undefined,
): Promise<ScenarioReport> {
  const phases = plan(scenario.load, maxConnections);
  const collected: Collected = {
    latenciesMs: [],
    latenciesByEndpoint: { search: [], answer: [] },
    statuses: new Map(),
    xCache: new Map(),
    unexpected: 0,
    noResponse: 0,
  };
  const state: RunState = {
    scenario,
    baseUrl: new URL(baseUrl),
    iteration: 0,
    collected,
    running: new Set(),
    stopped: false,
  };
  onStart({
    stop() {
      state.stopped = true;
      for (const instance of state.running) instance.stop();
    },
  });
  let seconds = 0;
  for (const phase of phases) if (!state.stopped) seconds += await runPhase(state, phase);

  const responses = collected.latenciesMs.length;
  const requests = responses + collected.noResponse;
  const failed = collected.unexpected + collected.noResponse;
  const sample = {
    latenciesMs: collected.latenciesMs,
    latenciesByEndpoint: collected.latenciesByEndpoint,
    requests,
    failed,
  };
  const connections = phases.map((p) => p.connections).join("/");
  const notes = [
    scenario.description,
    `statuses: ${tally(collected.statuses) || "none"}; no response: ${collected.noResponse}`,
    `X-Cache: ${tally(collected.xCache) || "none"}${scenario.expectCacheHit ? " (expected HIT after the first)" : ""}`,
  ];
  if (scenario.endpoints.length > 1)
    for (const endpoint of scenario.endpoints) {
      const latency = summarizeLatency(collected.latenciesByEndpoint[endpoint]);
      notes.push(
        `${endpoint}: ${collected.latenciesByEndpoint[endpoint].length} responses, ` +
          `p(95)=${latency.p95.toFixed(2)}ms p(99)=${latency.p99.toFixed(2)}ms`,
      );
    }
  return {
    scenario: scenario.name,
    load: `${describeLoad(scenario.load)} (autocannon, ${connections} connections)`,
    durationSeconds: seconds,
    requests,
    requestsPerSecond: seconds > 0 ? responses / seconds : 0,
    latencyMs: summarizeLatency(collected.latenciesMs),
    errorRate: requests === 0 ? 0 : failed / requests,
    failed,
    thresholds: evaluateThresholds(scenario, sample),
    notes,
  };
}

/** Fails fast with one clear line instead of a storm of connection errors. */
async function assertAnswering(baseUrl: string): Promise<void> {
  const url = `${baseUrl}/health`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`status ${response.status}`);
  } catch (error) {
    throw new UsageError(`the api is not answering at ${url}: ${(error as Error).message}`);
  }
}

class UsageError extends Error {}

function positive(flag: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw.replace(/s$/, ""));
  if (!Number.isFinite(value) || value <= 0)
    throw new UsageError(`--${flag} must be a positive number, got "${raw}"`);
  return String(value);
}

async function main(argv: string[]): Promise<number> {
  const parsed = (() => {
    try {
      return parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          "base-url": { type: "string" },
          duration: { type: "string" },
          connections: { type: "string" },
          rate: { type: "string" },
          seed: { type: "string" },
          terms: { type: "string" },
          json: { type: "string" },
          help: { type: "boolean", short: "h" },
        },
      });
    } catch (error) {
      throw new UsageError(`${(error as Error).message}\n\n${USAGE}`);
    }
  })();
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const name = positionals[0];
  if (!name || positionals.length > 1 || !isScenarioName(name))
    throw new UsageError(`${name ? `unknown scenario "${name}"` : "no scenario given"}\n\n${USAGE}`);

  // Flags win over the environment, which k6 users already set (BASE_URL, DURATION, RATE, ...).
  const flags: Record<string, string | undefined> = {
    BASE_URL: values["base-url"],
    DURATION: positive("duration", values.duration),
    RATE: positive("rate", values.rate),
    SEED: values.seed,
    KOGI_TERMS: values.terms,
  };
  const env: Env = {
    ...process.env,
    ...Object.fromEntries(Object.entries(flags).filter(([, value]) => value !== undefined)),
  };
  const connections = positive("connections", values.connections);
  let scenario: Scenario;
  try {
    scenario = resolveScenario(name, env);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { baseUrl } = settingsFrom(env);
  await assertAnswering(baseUrl);

  let interrupted = false;
  console.error(`[runner] ${scenario.name} against ${baseUrl}: ${describeLoad(scenario.load)}`);
  const report = await runScenario(
    scenario,
    baseUrl,
    connections ? Math.floor(Number(connections)) : undefined,
    // Ctrl-C ends the run early and still prints what was measured (and fails it).
    (control) =>
      process.once("SIGINT", () => {
        interrupted = true;
        control.stop();
      }),
  );
  console.log(renderReport([report], "local runner"));
  if (values.json) {
    const file = resolve(values.json);
    await writeFile(file, `${JSON.stringify({ baseUrl, scenarios: [report] }, null, 2)}\n`);
    console.error(`[runner] report written to ${file}`);
  }
  return allThresholdsPassed([report]) && !interrupted ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof UsageError ? error.message : error);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  }
}
