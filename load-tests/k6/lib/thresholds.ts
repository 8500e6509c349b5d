// Turns a scenario's threshold data into k6 threshold expressions; handleSummary reports the same list.
import { type Endpoint, mayShed, type Scenario } from "../scenarios.js";

export type Stat = "p(95)" | "p(99)" | "rate" | "count";

/** Custom k6 Rate metrics (lib/k6-runtime.ts adds them per response of an endpoint that may shed). */
export const SHED_METRIC = "shed";
export const SHED_WITHOUT_RETRY_AFTER_METRIC = "shed_without_retry_after";

/** One threshold: `metric` is k6's (sub)metric name, `condition` the k6 expression on it. */
export interface ThresholdCheck {
  metric: string;
  condition: string;
  stat: Stat;
  op: "<" | "<=" | ">" | "==";
  limit: number;
  /** Latency of this endpoint only (mixed scenarios); otherwise every request of the scenario. */
  endpoint?: Endpoint;
}

const check = (metric: string, stat: Stat, op: ThresholdCheck["op"], limit: number, endpoint?: Endpoint) => ({
  metric,
  condition: `${stat}${op}${limit}`,
  stat,
  op,
  limit,
  ...(endpoint ? { endpoint } : {}),
});

/**
 * Every metric is filtered on k6's automatic `scenario` tag so scenarios run in one script (search.ts
 * runs hit then miss) are judged separately. `http_reqs count>0` fails a run that sent nothing, and it
 * makes k6 keep the per-scenario request count in the summary. A scenario calling an endpoint that may
 * shed also gets its shed rate (at most maxShedRate) and no shed without Retry-After at all.
 */
export function thresholdChecks(
  scenario: Pick<Scenario, "name" | "thresholds" | "endpoints">,
): ThresholdCheck[] {
  const tag = `scenario:${scenario.name}`;
  const { p95Ms, p99Ms, maxErrorRate, maxShedRate = 0, byEndpoint = {} } = scenario.thresholds;
  return [
    check(`http_reqs{${tag}}`, "count", ">", 0),
    check(`http_req_duration{${tag}}`, "p(95)", "<", p95Ms),
    check(`http_req_duration{${tag}}`, "p(99)", "<", p99Ms),
    check(`http_req_failed{${tag}}`, "rate", "<", maxErrorRate),
    ...(mayShed(scenario)
      ? [
          check(`${SHED_METRIC}{${tag}}`, "rate", "<=", maxShedRate),
          check(`${SHED_WITHOUT_RETRY_AFTER_METRIC}{${tag}}`, "rate", "==", 0),
        ]
      : []),
    ...Object.entries(byEndpoint).flatMap(([endpoint, limits]) => {
      const metric = `http_req_duration{${tag},endpoint:${endpoint}}`;
      return [
        check(metric, "p(95)", "<", limits.p95Ms, endpoint as Endpoint),
        check(metric, "p(99)", "<", limits.p99Ms, endpoint as Endpoint),
      ];
    }),
  ];
}

/** The `thresholds` option of k6: metric name -> its expressions. */
export function k6Thresholds(scenarios: readonly Pick<Scenario, "name" | "thresholds" | "endpoints">[]) {
  const thresholds: Record<string, string[]> = {};
  for (const scenario of scenarios)
    for (const { metric, condition } of thresholdChecks(scenario))
      thresholds[metric] = [...(thresholds[metric] ?? []), condition];
  return thresholds;
}
