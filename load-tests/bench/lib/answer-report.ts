// Markdown tables and targets of the answer benchmark.

import type { AnswerRow, Budget, LagSummary, Measured } from "./answer-scenarios.js";
import type { LoadResult } from "./closed-loop.js";

export interface ProbeRow {
  variant: string;
  name: string;
  result: LoadResult;
  lag?: LagSummary;
  cpu?: Record<string, number | null>;
  loadAverage1m?: number;
}

export interface Target {
  name: string;
  actual: string;
  met: boolean;
  /** A figure shown against a target's bound without being held to it (stress rows). */
  reportedOnly?: boolean;
}

const n = (value: number | null | undefined) => (value == null ? "–" : value.toLocaleString("en-US"));
const pct = (value: number) => `${Math.round(value * 100)}%`;
const sum = (tally: Record<string, number>, keep: (key: string) => boolean = () => true) =>
  Object.entries(tally).reduce((total, [key, count]) => total + (keep(key) ? count : 0), 0);
const list = (tally: Record<string, number>) =>
  Object.entries(tally)
    .sort(([, a], [, b]) => b - a)
    .map(([key, count]) => `${key}: ${count}`)
    .join(", ") || "none";

function table(header: string[], rows: (string | number)[][]): string {
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
    ...rows.map((row) => `| ${row.join(" | ")} |`),
  ].join("\n");
}

const others = (r: LoadResult) => sum(r.statuses, (status) => status !== "200" && status !== "503");
const unavailable = (r: LoadResult) => r.statuses["503"] ?? 0;

export function answerTable(rows: AnswerRow[]): string {
  return table(
    [
      "variant",
      "scenario",
      "answers/s",
      "expected/s",
      "measured/expected",
      "p50 ms (200)",
      "p99 ms (200)",
      "max ms (200)",
      "503",
      "503 without Retry-After",
      "other statuses",
      "socket errors / timeouts",
      "fallbacks",
    ],
    rows.map((r) => [
      r.variant,
      r.name,
      n(r.load.okPerSecond),
      n(r.expectedPerSecond),
      pct(r.ratio),
      n(r.load.latency.ok?.p50),
      n(r.load.latency.ok?.p99),
      n(r.load.latency.ok?.max),
      n(unavailable(r.load)),
      n(r.load.retryAfter.missing),
      others(r.load) ? list(r.load.statuses) : 0,
      sum(r.load.errors) ? list(r.load.errors) : 0,
      n(r.load.answers?.fallback),
    ]),
  );
}

/** How the 503s looked: their codes, Retry-After values and latency; and the server-side rewrite wait. */
export function answerDetailTable(rows: AnswerRow[]): string {
  return table(
    [
      "variant",
      "scenario",
      "responses/s",
      "problem codes",
      "Retry-After values (s)",
      "p50 / p99 ms (503)",
      "X-Cache",
      "in flight at end",
      "drain ms",
    ],
    rows.map((r) => [
      r.variant,
      r.name,
      n(r.load.responsesPerSecond),
      list(r.load.problemCodes),
      list(r.load.retryAfter.values),
      r.load.latency.unavailable
        ? `${r.load.latency.unavailable.p50} / ${r.load.latency.unavailable.p99}`
        : "–",
      list(r.load.xCache),
      r.load.inFlightAtEnd,
      r.load.drainMs,
    ]),
  );
}

const pair = (p: { p50: number; p99: number } | null | undefined) => (p ? `${n(p.p50)} / ${n(p.p99)}` : "–");

/** Where the time of a 200 goes: client latency, the api's own X-Process-Time, and each uncached stage. */
export function stageTable(rows: AnswerRow[]): string {
  const stages = ["rewrite", "embed", "vector", "hydrate"];
  return table(
    [
      "variant",
      "scenario",
      "client p50 / p99 ms",
      "server (X-Process-Time) p50 / p99 ms",
      ...stages.map((s) => `${s} p50 / p99 ms`),
    ],
    rows.map((r) => [
      r.variant,
      r.name,
      pair(r.load.latency.ok),
      pair(r.load.serverMs),
      ...stages.map((s) => pair(r.load.answers?.stagesMs[s])),
    ]),
  );
}

export function probeTable(rows: ProbeRow[], idle: (row: ProbeRow) => ProbeRow | undefined): string {
  return table(
    [
      "variant",
      "measurement",
      "connections",
      "requests/s",
      "p50 ms",
      "p99 ms",
      "non-200",
      "errors",
      "X-Cache",
      "body bytes",
      "vs idle search",
    ],
    rows.map((row) => {
      const r = row.result;
      const base = idle(row);
      return [
        row.variant,
        row.name,
        r.connections,
        n(r.responsesPerSecond),
        n(r.latency.ok?.p50),
        n(r.latency.ok?.p99),
        sum(r.statuses, (s) => s !== "200"),
        sum(r.errors),
        list(r.xCache),
        n(r.okBodyBytes),
        base && base !== row ? pct(r.responsesPerSecond / base.result.responsesPerSecond) : "–",
      ];
    }),
  );
}

export function lagTable(rows: { variant: string; name: string; lag?: LagSummary }[]): string {
  return table(
    [
      "variant",
      "scenario",
      "1-s windows",
      "delay p99 median ms",
      "delay p99 worst ms",
      "delay max worst ms",
      "chat slots held (max)",
      "chat queue (max)",
    ],
    rows
      .filter((r) => r.lag)
      .map((r) => {
        const lag = r.lag as LagSummary;
        return [
          r.variant,
          r.name,
          lag.windows,
          n(lag.p99MedianMs),
          n(lag.p99WorstMs),
          n(lag.maxWorstMs),
          lag.chatActiveMax,
          lag.chatQueuedMax,
        ];
      }),
  );
}

export function upstreamTable(rows: AnswerRow[]): string {
  return table(
    [
      "variant",
      "scenario",
      "upstream",
      "calls",
      "succeeded",
      "shed: queue full",
      "shed: queue wait",
      "timeouts",
      "retries",
      "memory fallbacks",
      "leases left in Redis",
      "fake requests",
      "fake max in flight",
      "fake client disconnects",
    ],
    rows.flatMap((r) =>
      Object.entries(r.upstreams).map(([name, u]) => {
        const fake = name.endsWith("chat") ? r.fake.chat : r.fake.embeddings;
        return [
          r.variant,
          r.name,
          name,
          n(u.calls),
          n(u.succeeded),
          n(u.queueFull),
          n(u.queueWait),
          n(u.timeouts),
          n(u.retries),
          n(u.fallbacks),
          n(r.leftoverLeases[name]),
          n(fake.total),
          fake.maxInFlight,
          fake.clientDisconnects,
        ];
      }),
    ),
  );
}

export function cpuTable(
  rows: {
    variant: string;
    name: string;
    cpu?: Measured["cpu"];
    runnerElu?: number;
    loadAverage1m?: number;
  }[],
): string {
  const names = [
    "api",
    "sidecar",
    "fake openai",
    "load runner",
    "probe runner",
    "mariadb",
    "redis",
    "others",
  ];
  return table(
    [
      "variant",
      "scenario",
      ...names.map((x) => `${x} (cores)`),
      "load runner event-loop use",
      "load avg 1m at start",
    ],
    rows
      .filter((r) => r.cpu)
      .map((r) => [
        r.variant,
        r.name,
        ...names.map((x) => n(r.cpu?.[x])),
        r.runnerElu === undefined ? "–" : pct(r.runnerElu),
        n(r.loadAverage1m),
      ]),
  );
}

/** Targets of one answer row: within the budget the latency bound, beyond it clean shedding. */
export function answerTargets(row: AnswerRow, budget: Budget): Target[] {
  const r = row.load;
  const p99 = r.latency.ok?.p99 ?? Number.POSITIVE_INFINITY;
  const clean = others(r) === 0 && sum(r.errors) === 0 && r.retryAfter.missing === 0;
  const label = `${row.variant} ${row.name}`;
  const cleanTarget: Target = {
    name: `${label}: only 200 and 503 + Retry-After, no socket errors or timeouts`,
    actual: `${n(r.statuses["200"])} x 200, ${n(unavailable(r))} x 503 (${r.retryAfter.missing} without Retry-After), other statuses ${others(r)}, errors ${sum(r.errors)}`,
    met: clean,
  };
  if (row.connections <= budget.maxConcurrency) {
    const bound = row.upstreamLatencyMs + 100;
    return [
      {
        name: `${label} (within budget): p99 <= upstream latency + 100 ms = ${bound} ms, no 503`,
        actual: `p99 ${n(p99)} ms, ${n(unavailable(r))} x 503`,
        met: p99 <= bound && unavailable(r) === 0,
      },
      cleanTarget,
    ];
  }
  // Derived: a call may wait maxQueueWaitMs for a slot, then takes the upstream latency.
  const bound = row.upstreamLatencyMs + budget.maxQueueWaitMs + 100;
  return [
    cleanTarget,
    {
      name: `${label} (beyond budget, derived): p99 of 200s <= upstream latency + max queue wait + 100 ms = ${bound} ms`,
      actual: `p99 ${n(p99)} ms`,
      met: p99 <= bound,
    },
  ];
}

export function targetLines(targets: Target[]): string {
  const verdict = (t: Target) =>
    t.reportedOnly ? `(reported only: ${t.met ? "within" : "outside"} the bound)` : t.met ? "MET" : "NOT MET";
  return targets.map((t) => `- ${t.name}: ${t.actual} -> ${verdict(t)}`).join("\n");
}
