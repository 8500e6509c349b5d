// The runner's threshold evaluation on synthetic latencies: k6's percentile rule, strict limits, error rate.
import { describe, expect, it } from "vitest";
import { resolveScenario, type Thresholds } from "../k6/scenarios.js";
import { plan, stagger } from "./run.js";
import { evaluateThresholds, percentile, summarizeLatency } from "./thresholds.js";

const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);
const scenario = (thresholds: Thresholds) => ({ name: "search-cache-hit" as const, thresholds });
const byCondition = (results: ReturnType<typeof evaluateThresholds>) =>
  Object.fromEntries(results.map((r) => [`${r.metric} ${r.condition}`, r]));

describe("percentile", () => {
  it("interpolates between the closest ranks like k6", () => {
    expect(percentile(oneToHundred, 0.95)).toBeCloseTo(95.05, 10);
    expect(percentile(oneToHundred, 0.99)).toBeCloseTo(99.01, 10);
    expect(percentile(oneToHundred, 0.5)).toBeCloseTo(50.5, 10);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.95)).toBe(0);
  });

  it("summarizes unsorted latencies", () => {
    const summary = summarizeLatency([...oneToHundred].reverse());
    expect(summary).toMatchObject({ min: 1, max: 100, avg: 50.5, p50: 50.5 });
    expect(summary.p95).toBeCloseTo(95.05, 10);
  });
});

describe("evaluateThresholds", () => {
  const sample = {
    latenciesMs: oneToHundred,
    latenciesByEndpoint: { search: oneToHundred },
    requests: 100,
    failed: 0,
  };

  it("passes when every percentile is under its limit", () => {
    const results = evaluateThresholds(scenario({ p95Ms: 96, p99Ms: 100, maxErrorRate: 0.01 }), sample);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.map((r) => `${r.metric} ${r.condition}`)).toEqual([
      "http_reqs{scenario:search-cache-hit} count>0",
      "http_req_duration{scenario:search-cache-hit} p(95)<96",
      "http_req_duration{scenario:search-cache-hit} p(99)<100",
      "http_req_failed{scenario:search-cache-hit} rate<0.01",
    ]);
  });

  it("fails a latency threshold the percentile crosses, strictly like k6", () => {
    const results = byCondition(
      evaluateThresholds(scenario({ p95Ms: 95, p99Ms: 99.01, maxErrorRate: 1 }), sample),
    );
    expect(results["http_req_duration{scenario:search-cache-hit} p(95)<95"]).toMatchObject({ ok: false });
    expect(results["http_req_duration{scenario:search-cache-hit} p(95)<95"]?.actual).toBeCloseTo(95.05, 10);
    // Exactly at the limit is a failure: k6's condition is "<".
    const atLimit = evaluateThresholds(scenario({ p95Ms: 1000, p99Ms: 99, maxErrorRate: 1 }), {
      ...sample,
      latenciesMs: Array(100).fill(99),
    });
    expect(atLimit.find((r) => r.condition === "p(99)<99")?.ok).toBe(false);
  });

  it("counts unexpected statuses and lost requests in the error rate", () => {
    const limits = { p95Ms: 1000, p99Ms: 1000, maxErrorRate: 0.05 };
    const fine = byCondition(evaluateThresholds(scenario(limits), { ...sample, failed: 4 }));
    expect(fine["http_req_failed{scenario:search-cache-hit} rate<0.05"]).toMatchObject({
      ok: true,
      actual: 0.04,
    });
    const bad = byCondition(evaluateThresholds(scenario(limits), { ...sample, failed: 5 }));
    expect(bad["http_req_failed{scenario:search-cache-hit} rate<0.05"]).toMatchObject({
      ok: false,
      actual: 0.05,
    });
  });

  it("fails a run that sent nothing", () => {
    const results = evaluateThresholds(scenario({ p95Ms: 10, p99Ms: 10, maxErrorRate: 0.01 }), {
      latenciesMs: [],
      latenciesByEndpoint: {},
      requests: 0,
      failed: 0,
    });
    expect(results.filter((r) => !r.ok).map((r) => r.condition)).toEqual(["count>0"]);
  });

  it("judges each endpoint of a mixed scenario on its own latencies", () => {
    const mixed = resolveScenario("mixed", { P95_MS: "10000", P99_MS: "10000" });
    const searches = Array(900).fill(5);
    const answers = [...Array(90).fill(100), ...Array(10).fill(9_000)];
    const results = byCondition(
      evaluateThresholds(mixed, {
        latenciesMs: [...searches, ...answers],
        latenciesByEndpoint: { search: searches, answer: answers },
        requests: 1000,
        failed: 0,
      }),
    );
    expect(results["http_req_duration{scenario:mixed,endpoint:search} p(99)<250"]).toMatchObject({
      ok: true,
      actual: 5,
    });
    expect(results["http_req_duration{scenario:mixed,endpoint:answer} p(95)<2000"]?.ok).toBe(false);
    expect(results["http_req_duration{scenario:mixed} p(95)<10000"]?.ok).toBe(true);
  });
});

describe("plan", () => {
  it("paces an arrival rate over the connections, never more connections than requests per second", () => {
    const load = resolveScenario("search-cache-hit", { DURATION: "5", RATE: "20" }).load;
    expect(plan(load)).toEqual([{ seconds: 5, connections: 20, overallRate: 20, maxRequests: 100 }]);
    expect(plan(load, 4)).toEqual([{ seconds: 5, connections: 4, overallRate: 20, maxRequests: 100 }]);
  });

  it("staggers a paced phase over the second without changing its totals", () => {
    const groups = stagger({ seconds: 5, connections: 50, overallRate: 205, maxRequests: 1025 });
    expect(groups).toHaveLength(10);
    expect(groups.map((g) => g.delayMs)).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    expect(groups.reduce((n, g) => n + g.connections, 0)).toBe(50);
    expect(groups.reduce((n, g) => n + (g.overallRate ?? 0), 0)).toBe(205);
    expect(groups.reduce((n, g) => n + g.maxRequests, 0)).toBe(1025);
    expect(groups.every((g) => (g.overallRate ?? 0) >= g.connections)).toBe(true);
    expect(stagger({ seconds: 5, connections: 3, maxRequests: 10 })).toEqual([
      { delayMs: 0, connections: 3, maxRequests: 10 },
    ]);
  });

  it("turns ramping VUs into a staircase of closed-loop phases", () => {
    const phases = plan(resolveScenario("answer").load);
    expect(phases.map((p) => [p.seconds, p.connections, p.overallRate])).toEqual([
      [5, 3, undefined],
      [10, 8, undefined],
      [5, 5, undefined],
    ]);
  });
});
