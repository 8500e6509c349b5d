// Turns a scenario's threshold data into k6 threshold expressions, one list used by k6 and by the local runner.
import type { Endpoint, Scenario } from "../scenarios.js";

export type Stat = "p(95)" | "p(99)" | "rate" | "count";

/** One threshold: `metric` is k6's (sub)metric name, `condition` the k6 expression on it. */
export interface ThresholdCheck {
  metric: string;
  condition: string;
  stat: Stat;
  op: "<" | ">";
  limit: number;
  /** Latency of this endpoint only (mixed scenarios); otherwise every request of the scenario. */
  endpoint?: Endpoint;
}

const check = (metric: string, stat: Stat, op: "<" | ">", limit: number, endpoint?: Endpoint) => ({
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
 * makes k6 keep the per-scenario request count in the summary.
 */
export function thresholdChecks(scenario: Pick<Scenario, "name" | "thresholds">): ThresholdCheck[] {
  const tag = `scenario:${scenario.name}`;
  const { p95Ms, p99Ms, maxErrorRate, byEndpoint = {} } = scenario.thresholds;
  return [
    check(`http_reqs{${tag}}`, "count", ">", 0),
    check(`http_req_duration{${tag}}`, "p(95)", "<", p95Ms),
    check(`http_req_duration{${tag}}`, "p(99)", "<", p99Ms),
    check(`http_req_failed{${tag}}`, "rate", "<", maxErrorRate),
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
export function k6Thresholds(scenarios: readonly Pick<Scenario, "name" | "thresholds">[]) {
  const thresholds: Record<string, string[]> = {};
  for (const scenario of scenarios)
    for (const { metric, condition } of thresholdChecks(scenario))
      thresholds[metric] = [...(thresholds[metric] ?? []), condition];
  return thresholds;
}
