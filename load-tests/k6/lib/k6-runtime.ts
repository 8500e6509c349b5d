// k6-side glue shared by search.ts, answer.ts and mixed.ts: options from the scenario data, one request
// per iteration, and the handleSummary output. Runs inside k6 (not Node): only k6 modules and plain JS.
import { check, sleep } from "k6";
import exec from "k6/execution";
import http from "k6/http";
import { Rate } from "k6/metrics";
import type { Scenario as K6Scenario, Options } from "k6/options";
import {
  describeLoad,
  ENDPOINTS,
  type Endpoint,
  gracefulStopSeconds,
  type LoadShape,
  loadSeconds,
  MAX_RETRY_AFTER_SECONDS,
  mayShed,
  resolveScenario,
  type Scenario,
  type ScenarioName,
  settingsFrom,
} from "../scenarios.js";
import { renderReport, type ScenarioReport, type ThresholdResult } from "./report.js";
import { k6Thresholds, SHED_METRIC, SHED_WITHOUT_RETRY_AFTER_METRIC, thresholdChecks } from "./thresholds.js";

/** Lets an iteration finish (or fail) after its scenario's time is up, but never keeps k6 running long. */
const GRACEFUL_STOP_SECONDS = gracefulStopSeconds(__ENV);

/** The scenarios a script runs: all of `names`, or only `__ENV.SCENARIO` when it names one of them. */
export function selectScenarios(names: readonly ScenarioName[]): Scenario[] {
  const only = __ENV.SCENARIO;
  if (only && !names.some((name) => name === only))
    throw new Error(`SCENARIO=${only} is not one of this script's scenarios: ${names.join(", ")}`);
  return names.filter((name) => !only || name === only).map((name) => resolveScenario(name, __ENV));
}

function executor(load: LoadShape, startSeconds: number): K6Scenario {
  const common = { startTime: `${startSeconds}s`, gracefulStop: `${GRACEFUL_STOP_SECONDS}s` };
  if (load.executor === "constant-arrival-rate")
    return {
      ...common,
      executor: "constant-arrival-rate",
      rate: load.ratePerSecond,
      timeUnit: "1s",
      duration: `${load.durationSeconds}s`,
      preAllocatedVUs: load.preAllocatedVUs,
      maxVUs: load.maxVUs,
    };
  return {
    ...common,
    executor: "ramping-vus",
    startVUs: load.startVUs,
    stages: load.stages.map((s) => ({ duration: `${s.durationSeconds}s`, target: s.target })),
    gracefulRampDown: `${GRACEFUL_STOP_SECONDS}s`,
  };
}

/** Scenarios run one after the other (startTime offsets), so a miss run never shares the api with a hit run. */
export function buildOptions(scenarios: readonly Scenario[]): Options {
  const k6Scenarios: Record<string, K6Scenario> = {};
  let start = 0;
  for (const scenario of scenarios) {
    k6Scenarios[scenario.name] = executor(scenario.load, start);
    start += loadSeconds(scenario.load) + GRACEFUL_STOP_SECONDS;
  }
  return {
    scenarios: k6Scenarios,
    thresholds: k6Thresholds(scenarios),
    // p(99) is not in k6's default trend stats, and the thresholds use it.
    summaryTrendStats: ["avg", "min", "med", "max", "p(90)", "p(95)", "p(99)", "count"],
    // Checks read status and headers only; keeping bodies would cost k6 memory for nothing.
    discardResponseBodies: true,
  };
}

const settings = settingsFrom(__ENV);
// Built once in the init context: http_req_failed then counts exactly the statuses the scenario data
// rejects. A shed status is not one of them; whether it came with Retry-After is judged below.
const responseCallback = (endpoint: Endpoint) =>
  http.expectedStatuses(...ENDPOINTS[endpoint].expectedStatuses, ...ENDPOINTS[endpoint].shedStatuses);
const responseCallbacks = {
  search: responseCallback("search"),
  answer: responseCallback("answer"),
} satisfies Record<Endpoint, unknown>;

// Per response of an endpoint that may shed: shed honestly (503 + Retry-After), or a shed status
// without Retry-After (a failure: the client is not told when to come back). Tagged with the scenario
// by k6 itself, so each scenario's thresholds read their own share.
const shed = new Rate(SHED_METRIC);
const shedWithoutRetryAfter = new Rate(SHED_WITHOUT_RETRY_AFTER_METRIC);

/** One iteration = one request; the body depends only on the scenario's iteration number across all VUs. */
export function runIteration(scenarios: readonly Scenario[]): void {
  const scenario = scenarios.find((s) => s.name === exec.scenario.name);
  if (!scenario) throw new Error(`no scenario data for ${exec.scenario.name}`);
  const { endpoint, body } = scenario.request(exec.scenario.iterationInTest);
  const spec = ENDPOINTS[endpoint];
  const response = http.request(spec.method, `${settings.baseUrl}${spec.path}`, body, {
    headers: { "Content-Type": "application/json" },
    tags: { endpoint },
    responseCallback: responseCallbacks[endpoint],
    timeout: "30s",
  });
  const retryAfter = response.headers["Retry-After"];
  const shedStatus = spec.shedStatuses.includes(response.status);
  const honestShed = shedStatus && retryAfter !== undefined;
  if (spec.shedStatuses.length > 0) {
    shed.add(honestShed, { endpoint });
    shedWithoutRetryAfter.add(shedStatus && !honestShed, { endpoint });
  }
  const statuses = [
    ...spec.expectedStatuses,
    ...spec.shedStatuses.map((status) => `${status} with Retry-After`),
  ].join(" or ");
  check(response, {
    [`${endpoint} status is ${statuses}`]: (r) => spec.expectedStatuses.includes(r.status) || honestShed,
  });
  // A closed-loop client told to come back later waits before its next request (an arrival-rate
  // scenario's next iteration arrives on schedule regardless: an open model has no client to slow down).
  if (honestShed && scenario.load.executor === "ramping-vus")
    sleep(Math.min(Number(retryAfter) || 1, MAX_RETRY_AFTER_SECONDS));
  if (scenario.expectCacheHit)
    check(response, { "X-Cache is HIT": (r) => String(r.headers["X-Cache"] ?? "").startsWith("HIT") });
}

// --- handleSummary ---

interface MetricSummary {
  type: string;
  values: Record<string, number>;
  thresholds?: Record<string, { ok: boolean }>;
}

/** The part of k6's end-of-test data this file reads (k6 passes more; @types/k6 does not describe it). */
export interface SummaryData {
  metrics: Record<string, MetricSummary | undefined>;
  state?: { testRunDurationMs?: number };
}

function scenarioReport(scenario: Scenario, data: SummaryData): ScenarioReport {
  const metric = (name: string) => data.metrics[`${name}{scenario:${scenario.name}}`]?.values ?? {};
  const duration = metric("http_req_duration");
  const failed = metric("http_req_failed");
  const shedValues = metric(SHED_METRIC);
  const shedCount = shedValues.passes ?? 0;
  const shedOf = shedCount + (shedValues.fails ?? 0);
  const requests = metric("http_reqs").count ?? 0;
  const seconds = loadSeconds(scenario.load);
  const thresholds: ThresholdResult[] = thresholdChecks(scenario).map(({ metric: name, condition, stat }) => {
    const summary = data.metrics[name];
    return {
      metric: name,
      condition,
      actual: summary?.values[stat] ?? null,
      ok: summary?.thresholds?.[condition]?.ok ?? false,
    };
  });
  return {
    scenario: scenario.name,
    load: `${describeLoad(scenario.load)} (k6)`,
    durationSeconds: seconds,
    requests,
    // The submetric's own rate divides by the whole test run; this divides by the scenario's share.
    requestsPerSecond: seconds > 0 ? requests / seconds : 0,
    latencyMs: {
      avg: duration.avg ?? 0,
      min: duration.min ?? 0,
      p50: duration.med ?? 0,
      p90: duration["p(90)"] ?? 0,
      p95: duration["p(95)"] ?? 0,
      p99: duration["p(99)"] ?? 0,
      max: duration.max ?? 0,
    },
    errorRate: failed.rate ?? 0,
    // k6's rate metrics count true samples as "passes": here, a failed request.
    failed: failed.passes ?? 0,
    ...(mayShed(scenario)
      ? {
          shed: {
            count: shedCount,
            of: shedOf,
            rate: shedValues.rate ?? 0,
            withoutRetryAfter: metric(SHED_WITHOUT_RETRY_AFTER_METRIC).passes ?? 0,
          },
        }
      : {}),
    thresholds,
    notes: [scenario.description],
  };
}

/** handleSummary's result: the text on stdout and a JSON file (SUMMARY_JSON, default `<script>-summary.json`). */
export function summaryOutputs(script: string, scenarios: readonly Scenario[], data: SummaryData) {
  const reports = scenarios.map((s) => scenarioReport(s, data));
  const checks = data.metrics.checks?.values;
  const checksLine = checks
    ? `\n  checks: ${((checks.rate ?? 0) * 100).toFixed(2)}% passed (${checks.passes ?? 0} of ${(checks.passes ?? 0) + (checks.fails ?? 0)})\n`
    : "";
  const json = { script, baseUrl: settings.baseUrl, scenarios: reports, k6: data };
  return {
    stdout: `${renderReport(reports, "k6")}${checksLine}`,
    [__ENV.SUMMARY_JSON || `${script}-summary.json`]: `${JSON.stringify(json, null, 2)}\n`,
  };
}
