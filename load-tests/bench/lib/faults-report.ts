// bench:faults' one table: per fault and route, what the clients got, the p99 while it lasted, how long
// the service took to recover once the dependency was back, and the issue's four targets beside.
import { percentiles } from "./closed-loop.js";
import { ANSWER_PATH, type FaultRun, SEARCH_PATH } from "./faults-scenarios.js";
import { recoverySeconds } from "./faults-timeline.js";
import { ANSWER_TIMEOUT_MS } from "./faults-world.js";

/** Consecutive 200s that count as recovered. */
export const RECOVERY_RUN = 5;
export const TARGETS = {
  non503Failures: 0,
  missingRetryAfter: 0,
  recoverySeconds: 5,
  answersWithinDeadline: 0.99,
};

export interface Row {
  fault: string;
  route: "search" | "answer";
  requests: number;
  /** "503 database_unavailable" -> n, "socket UND_ERR_SOCKET" -> n. */
  failed: Record<string, number>;
  non503Failures: number;
  missingRetryAfter: number;
  faultSeconds: number;
  /** Over the requests in flight at some moment of the fault. */
  p99MsDuringFault: number | null;
  maxMsDuringFault: number | null;
  recoverySeconds: number | null;
  /** Of the answers started during the fault: 200 within ANSWER_TIMEOUT_MS (null for searches). */
  withinDeadline: number | null;
  readyDuringFault: Record<string, number>;
  /** Slowest /ready of the whole row (the issue: it answers within 1 s whatever hangs). */
  readyMaxMs: number;
  answerFallbacks: number | null;
  met: { non503: boolean; retryAfter: boolean; recovery: boolean; deadline: boolean | null };
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

function rowOf(run: FaultRun, route: Row["route"]): Row {
  const result = route === "search" ? run.search : run.answer;
  const path = route === "search" ? SEARCH_PATH : ANSWER_PATH;
  const outcomes = run.outcomes.filter((o) => o.path === path);
  // In flight at some moment of the fault: a request hung by it and answered after it counts too.
  const during = outcomes.filter((o) => o.endedAt >= run.faultAt && o.startedAt <= run.returnedAt);
  const started = outcomes.filter((o) => o.startedAt >= run.faultAt && o.startedAt <= run.returnedAt);
  const failed: Record<string, number> = {};
  for (const [key, n] of Object.entries(result.problemCodes)) failed[key] = n;
  for (const [code, n] of Object.entries(result.errors)) failed[`socket ${code}`] = n;
  const non503 =
    Object.entries(result.statuses)
      .filter(([status]) => status !== "200" && status !== "503")
      .reduce((sum, [, n]) => sum + n, 0) + Object.values(result.errors).reduce((a, b) => a + b, 0);
  const latency = percentiles(during.map((o) => o.endedAt - o.startedAt));
  const recovery = recoverySeconds(outcomes, run.returnedAt, RECOVERY_RUN);
  const inTime = started.filter((o) => o.status === 200 && o.endedAt - o.startedAt <= ANSWER_TIMEOUT_MS);
  const withinDeadline = route === "answer" && started.length > 0 ? inTime.length / started.length : null;
  const readyDuring: Record<string, number> = {};
  for (const sample of run.ready.filter((s) => s.at >= run.faultAt && s.at <= run.returnedAt)) {
    const key = `${sample.httpStatus} ${sample.status}`;
    readyDuring[key] = (readyDuring[key] ?? 0) + 1;
  }
  const upstreamRow = run.fault.name.includes("upstream");
  return {
    fault: run.fault.name,
    route,
    requests:
      Object.values(result.statuses).reduce((a, b) => a + b, 0) +
      Object.values(result.errors).reduce((a, b) => a + b, 0),
    failed,
    non503Failures: non503,
    missingRetryAfter: result.retryAfter.missing,
    faultSeconds: round((run.returnedAt - run.faultAt) / 1000),
    p99MsDuringFault: latency?.p99 ?? null,
    maxMsDuringFault: latency?.max ?? null,
    recoverySeconds: recovery === undefined ? null : round(recovery, 2),
    withinDeadline: withinDeadline === null ? null : round(withinDeadline, 4),
    readyDuringFault: readyDuring,
    readyMaxMs: Math.round(Math.max(0, ...run.ready.map((s) => s.ms))),
    answerFallbacks: result.answers?.fallback ?? null,
    met: {
      non503: non503 <= TARGETS.non503Failures,
      retryAfter: result.retryAfter.missing <= TARGETS.missingRetryAfter,
      recovery: recovery !== undefined && recovery <= TARGETS.recoverySeconds,
      deadline:
        upstreamRow && route === "answer"
          ? withinDeadline !== null && withinDeadline >= TARGETS.answersWithinDeadline
          : null,
    },
  };
}

export function rowsOf(runs: FaultRun[]): Row[] {
  return runs.flatMap((run) => [rowOf(run, "search"), rowOf(run, "answer")]);
}

const tally = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([, a], [, b]) => b - a)
    .map(([key, n]) => `${key} x${n}`)
    .join(", ") || "none";
const mark = (met: boolean | null) => (met === null ? "" : met ? "yes" : "NO");

export function faultTable(rows: Row[]): string {
  const lines = rows.map((r) =>
    [
      r.fault,
      r.route,
      r.requests,
      tally(r.failed),
      r.missingRetryAfter,
      r.p99MsDuringFault === null ? "-" : `${r.p99MsDuringFault} / ${r.maxMsDuringFault}`,
      r.recoverySeconds ?? "not within the run",
      r.withinDeadline === null ? "" : `${round(r.withinDeadline * 100, 2)}%`,
      `${tally(r.readyDuringFault)} (slowest ${r.readyMaxMs} ms)`,
      [mark(r.met.non503), mark(r.met.retryAfter), mark(r.met.recovery), mark(r.met.deadline)]
        .filter(Boolean)
        .join(" / "),
    ].join(" | "),
  );
  return [
    "| fault | route | requests | failed (status code x n) | 503s w/o Retry-After | p99 / max ms during fault | recovery s | answers 200 within deadline | /ready during fault | targets: 0 non-503 / Retry-After / recovery <= 5 s / >= 99% in deadline |",
    "|---|---|---:|---|---:|---:|---:|---:|---|---|",
    ...lines.map((line) => `| ${line} |`),
  ].join("\n");
}

export function targetSummary(rows: Row[]): string[] {
  const missing = (pick: (row: Row) => boolean | null) =>
    rows.filter((row) => pick(row) === false).map((row) => `${row.fault} (${row.route})`);
  const line = (what: string, failing: string[]) =>
    `- ${what}: ${failing.length === 0 ? "MET" : `NOT MET in ${failing.join("; ")}`}`;
  return [
    line(
      "0 non-503 failures in every row",
      missing((r) => r.met.non503),
    ),
    line(
      "every 503 with Retry-After",
      missing((r) => r.met.retryAfter),
    ),
    line(
      `recovery <= ${TARGETS.recoverySeconds} s after the dependency returns (${RECOVERY_RUN} consecutive 200s)`,
      missing((r) => r.met.recovery),
    ),
    line(
      `>= 99% of answers 200 within their ${ANSWER_TIMEOUT_MS} ms deadline at 30% upstream 5xx`,
      missing((r) => r.met.deadline),
    ),
  ];
}

/** Per second from the fault's start (negative: before it), each route's outcomes by status: for the JSON. */
export function timelineOf(run: FaultRun): Record<string, Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, Record<string, number>>> = {};
  for (const outcome of run.outcomes) {
    const route = outcome.path === ANSWER_PATH ? "answer" : "search";
    const second = String(Math.floor((outcome.endedAt - run.faultAt) / 1000));
    const byRoute = out[route] ?? {};
    const bucket = byRoute[second] ?? {};
    bucket[outcome.status] = (bucket[outcome.status] ?? 0) + 1;
    byRoute[second] = bucket;
    out[route] = byRoute;
  }
  return out;
}
