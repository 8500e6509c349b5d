// The text summary handleSummary prints (and the JSON it writes), per scenario, from k6's end-of-test data.

export interface LatencySummary {
  avg: number;
  min: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

export interface ThresholdResult {
  metric: string;
  condition: string;
  /** The measured value the condition was applied to (null when the tool did not report it). */
  actual: number | null;
  ok: boolean;
}

export interface ScenarioReport {
  scenario: string;
  /** e.g. "constant-arrival-rate 200/s for 20s (up to 50 VUs) (k6)". */
  load: string;
  durationSeconds: number;
  requests: number;
  requestsPerSecond: number;
  latencyMs: LatencySummary;
  errorRate: number;
  failed: number;
  /**
   * Requests the api shed honestly (a shed status with Retry-After) among the `of` requests to endpoints
   * that may shed; only for scenarios calling such an endpoint. Not counted in `failed`.
   */
  shed?: { count: number; of: number; rate: number; withoutRetryAfter: number };
  thresholds: ThresholdResult[];
  /** Extra lines: status codes, X-Cache tally, checks. */
  notes: string[];
}

const ms = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(2)}s` : `${value.toFixed(2)}ms`);
const dots = (label: string) => `${label}${".".repeat(Math.max(2, 32 - label.length))}:`;

export function renderLatency(latency: LatencySummary): string {
  const { avg, min, p50, p90, p95, p99, max } = latency;
  return [
    `avg=${ms(avg)}`,
    `min=${ms(min)}`,
    `med=${ms(p50)}`,
    `p(90)=${ms(p90)}`,
    `p(95)=${ms(p95)}`,
    `p(99)=${ms(p99)}`,
    `max=${ms(max)}`,
  ].join(" ");
}

export function allThresholdsPassed(reports: readonly ScenarioReport[]): boolean {
  return reports.every((r) => r.thresholds.every((t) => t.ok));
}

export function renderReport(reports: readonly ScenarioReport[], tool: string): string {
  const lines: string[] = [];
  for (const r of reports) {
    lines.push(`\n  scenario: ${r.scenario}  [${tool}]`, `    load: ${r.load}`, "");
    lines.push(
      `    ${dots("http_reqs")} ${r.requests}  ${r.requestsPerSecond.toFixed(1)}/s over ${r.durationSeconds.toFixed(1)}s`,
      `    ${dots("http_req_duration")} ${renderLatency(r.latencyMs)}`,
      `    ${dots("http_req_failed")} ${(r.errorRate * 100).toFixed(2)}%  ${r.failed} of ${r.requests}`,
    );
    if (r.shed)
      lines.push(
        `    ${dots("shed")} ${(r.shed.rate * 100).toFixed(2)}%  ${r.shed.count} of ${r.shed.of}` +
          `  (503 + Retry-After: load shed, not failed; ${r.shed.withoutRetryAfter} without Retry-After)`,
      );
    for (const note of r.notes) lines.push(`    ${note}`);
    lines.push("", "    thresholds");
    for (const t of r.thresholds) {
      const actual = t.actual === null ? "" : `  (actual ${Number(t.actual.toFixed(4))})`;
      lines.push(`      ${t.ok ? "✓" : "✗"} ${t.metric} ${t.condition}${actual}`);
    }
  }
  const failed = reports.flatMap((r) => r.thresholds.filter((t) => !t.ok));
  lines.push(
    "",
    failed.length === 0
      ? "  result: PASS (every threshold met)"
      : `  result: FAIL (${failed.length} threshold${failed.length === 1 ? "" : "s"} crossed)`,
    "",
  );
  return lines.join("\n");
}
