// Pure threshold evaluation for the local runner: the same checks k6 applies, on latencies the runner measured.
import type { LatencySummary, ThresholdResult } from "../k6/lib/report.js";
import { thresholdChecks } from "../k6/lib/thresholds.js";
import type { Endpoint, Scenario } from "../k6/scenarios.js";

export interface Sample {
  /** Latency of every response (any status), in ms: k6's http_req_duration counts failed responses too. */
  latenciesMs: readonly number[];
  latenciesByEndpoint: Partial<Record<Endpoint, readonly number[]>>;
  /** Responses plus requests that got none (connection errors, timeouts). */
  requests: number;
  /** Unexpected statuses plus requests that got no response. */
  failed: number;
}

/**
 * k6's percentile: linear interpolation between the closest ranks of the sorted values
 * (rank = p * (n - 1)), 0 for no values. `sorted` must be ascending.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = p * (sorted.length - 1);
  const low = sorted[Math.floor(rank)] as number;
  const high = sorted[Math.ceil(rank)] as number;
  return low + (high - low) * (rank - Math.floor(rank));
}

const ascending = (values: readonly number[]) => Float64Array.from(values).sort();

export function summarizeLatency(values: readonly number[]): LatencySummary {
  const sorted = Array.from(ascending(values));
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    avg: sorted.length ? sum / sorted.length : 0,
    min: sorted[0] ?? 0,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? 0,
  };
}

/** Every threshold of the scenario (as k6 would name and judge it), against the runner's sample. */
export function evaluateThresholds(
  scenario: Pick<Scenario, "name" | "thresholds">,
  sample: Sample,
): ThresholdResult[] {
  const sortedCache = new Map<string, number[]>();
  const sorted = (endpoint?: Endpoint) => {
    const key = endpoint ?? "*";
    let values = sortedCache.get(key);
    if (!values) {
      values = Array.from(
        ascending(endpoint ? (sample.latenciesByEndpoint[endpoint] ?? []) : sample.latenciesMs),
      );
      sortedCache.set(key, values);
    }
    return values;
  };
  return thresholdChecks(scenario).map(({ metric, condition, stat, op, limit, endpoint }) => {
    const actual =
      stat === "count"
        ? sample.requests
        : stat === "rate"
          ? sample.requests === 0
            ? 0
            : sample.failed / sample.requests
          : percentile(sorted(endpoint), stat === "p(95)" ? 0.95 : 0.99);
    // k6's comparisons are strict: p(95)<50 fails at exactly 50 ms.
    return { metric, condition, actual, ok: op === "<" ? actual < limit : actual > limit };
  });
}
