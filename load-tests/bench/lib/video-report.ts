// bench:video's tables (part A client comparison, part B end to end) and its targets, as markdown.
import type { Target } from "./answer-report.js";
import type { Percentiles } from "./closed-loop.js";
import type { PartBResult } from "./video-e2e.js";
import type { PartAResult, PartARow } from "./video-part-a.js";

const fmt = (value: number | null | undefined, digits = 0) =>
  value == null || !Number.isFinite(value)
    ? "–"
    : value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const percent = (value: number) => `${Math.round(value * 100)}%`;
const times = (value: number) => `${value.toFixed(2)}x`;
const spread = (p: Percentiles | null) =>
  p ? `p50 ${fmt(p.p50 / 1000, 1)} s, p99 ${fmt(p.p99 / 1000, 1)} s, max ${fmt(p.max / 1000, 1)} s` : "–";

/** The first `left` columns are text, the others numbers (right-aligned). */
function markdown(header: string[], rows: (string | number)[][], left = 3): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map((_, i) => (i < left ? "---" : "---:"))), ...rows.map(line)].join(
    "\n",
  );
}

/** Kogi's throughput over the naive client's, for the same operation and callers. */
export function speedup(rows: PartARow[], operation: string, callers: number): number | undefined {
  const find = (client: PartARow["client"]) =>
    rows.find((r) => r.operation === operation && r.callers === callers && r.client === client);
  const naive = find("naive");
  const kogi = find("kogi");
  return naive && kogi && naive.run.callsPerSecond > 0
    ? kogi.run.callsPerSecond / naive.run.callsPerSecond
    : undefined;
}

export function partATable(result: PartAResult): string {
  return markdown(
    [
      "operation",
      "callers",
      "client",
      "calls",
      "calls/s",
      "p50 ms",
      "p99 ms",
      "errors",
      "vs latency floor",
      "Kogi / naive",
      "cores: client / fake / redis / others",
    ],
    result.rows.map((r) => {
      const ratio = r.client === "kogi" ? speedup(result.rows, r.operation, r.callers) : undefined;
      return [
        r.operation,
        r.callers,
        r.client === "naive" ? "naive (baseline)" : "Kogi DIdClient",
        r.run.calls,
        fmt(r.run.callsPerSecond, 1),
        fmt(r.run.latency?.p50, 1),
        fmt(r.run.latency?.p99, 1),
        r.run.errors,
        percent(r.run.callsPerSecond / r.floorPerSecond),
        r.client === "naive" ? "1.00x" : ratio === undefined ? "–" : `**${times(ratio)}**`,
        [r.cores["bench (clients)"], r.cores["fake D-ID"], r.cores.redis, r.cores.others]
          .map((c) => fmt(c, 2))
          .join(" / "),
      ];
    }),
  );
}

export function partBTable(b: PartBResult): string {
  const lag = (l: PartBResult["lag"]["outsideProbe"]) =>
    `p99 median ${fmt(l.p99MedianMs, 1)} ms, worst ${fmt(l.p99WorstMs, 1)} ms (window ending ${fmt(l.p99WorstAtS, 1)} s after the first submit); max ${fmt(l.maxWorstMs, 1)} ms (${l.windows} 1-s windows)`;
  const rows: (string | number)[][] = [
    [
      "jobs done per second (first submit -> last done)",
      `${fmt(b.donePerSecond, 2)} (${b.statuses.done ?? 0} in ${fmt(b.completionSeconds, 1)} s)`,
      `${fmt(b.physicalPerSecond, 1)}/s physical limit`,
      percent(b.completionRatio),
    ],
    [
      "render slot held per job (completion time / waves of 10)",
      `${fmt(b.slotCycleSeconds, 2)} s`,
      `2.00 s render; claim -> finished per job p50 ${fmt(b.slotHeld && b.slotHeld.p50 / 1000, 3)} s (the rest is the hand-over to the next job); ${fmt(b.pollsPerJob, 1)} status polls per job`,
      percent(2 / b.slotCycleSeconds),
    ],
    [
      "submit -> done, client (long-poll saw done)",
      spread(b.submitToDone),
      `server createdAt -> finishedAt: ${spread(b.serverSubmitToDone)}`,
      "",
    ],
    [
      "jobs submitted (202)",
      `${b.submitted} of ${b.jobs} in ${fmt(b.submitSeconds, 1)} s`,
      `POST p50 ${fmt(b.submitLatency?.p50, 1)} ms, p99 ${fmt(b.submitLatency?.p99, 1)} ms`,
      percent(b.submitted / b.jobs),
    ],
    [
      "jobs by end status",
      Object.entries(b.statuses)
        .map(([status, n]) => `${status} ${n}`)
        .join(", ") || "none",
      `${b.unfinished} not terminal at the end`,
      "",
    ],
    [
      "fake D-ID highest talks in progress",
      b.fake.maxInProgress,
      `maxInProgress 10; most waiting for a slot seen: ${b.fake.maxWaitingSeen}`,
      "",
    ],
    [
      "jobs with more than one talk (duplicates)",
      b.fake.duplicateJobs,
      `${b.fake.talksCreated} talks created, ${b.fake.creditsCharged} credits charged, ${b.fake.strayTalks} stray`,
      "",
    ],
    ["api event-loop delay, outside the search probe", lag(b.lag.outsideProbe), "", ""],
    ["api event-loop delay, during the search probe", lag(b.lag.duringProbe), "", ""],
    [
      "search cache hit req/s during the jobs",
      fmt(b.search.during.requestsPerSecond),
      `${fmt(b.search.idleRequestsPerSecond)} idle (baseline: ${b.search.idleBaseline}; same api: ${fmt(b.search.idleBefore.requestsPerSecond)} before, ${fmt(b.search.idleAfter.requestsPerSecond)} after the jobs)`,
      percent(b.search.ratio),
    ],
    [
      "search cache hit p50 / p99 ms during (idle)",
      `${b.search.during.p50Ms} / ${b.search.during.p99Ms}`,
      `${b.search.idleBefore.p50Ms} / ${b.search.idleBefore.p99Ms} before, ${b.search.idleAfter.p50Ms} / ${b.search.idleAfter.p99Ms} after`,
      "",
    ],
  ];
  return markdown(["figure", "measured", "baseline / limit", "ratio"], rows);
}

/** Cores by process over the three windows of part B: where the search throughput went. */
export function cpuTable(b: PartBResult): string {
  const windows: [string, Record<string, number>][] = [
    ["search probe, idle before the jobs", b.cpu.idleBefore],
    ["search probe, during the jobs", b.cpu.duringProbe],
    ["search probe, idle after the jobs", b.cpu.idleAfter],
    ["jobs alone (median 1-s window)", b.cpu.jobsOnly],
  ];
  const names = [...new Set(windows.flatMap(([, cores]) => Object.keys(cores)))];
  return markdown(
    ["window", ...names, "sum"],
    windows.map(([name, cores]) => [
      name,
      ...names.map((n) => fmt(cores[n], 2)),
      fmt(
        Object.values(cores).reduce((a, c) => a + c, 0),
        2,
      ),
    ]),
    1,
  );
}

export function evaluateTargets(a: PartAResult, b: PartBResult, operations: string[]): Target[] {
  const targets: Target[] = operations.map((operation) => {
    const ratio = speedup(a.rows, operation, 10) ?? 0;
    return {
      name: `A ${operation} at 10 callers: Kogi >= 5x the naive client's calls/s`,
      actual: times(ratio),
      met: ratio >= 5,
    };
  });
  const failed = b.jobs - (b.statuses.done ?? 0);
  targets.push(
    {
      name: "B completion rate >= 95% of the physical limit (10 talks / 2 s = 5 jobs/s)",
      actual: `${fmt(b.donePerSecond, 2)} jobs/s = ${percent(b.completionRatio)}`,
      met: b.completionRatio >= 0.95,
    },
    {
      name: "B fake D-ID highest in-progress count <= 10",
      actual: String(b.fake.maxInProgress),
      met: b.fake.maxInProgress <= 10,
    },
    {
      name: "B duplicate talks (jobs with more than one talk) = 0",
      actual: `${b.fake.duplicateJobs} jobs, ${b.fake.extraTalks} extra talks`,
      met: b.fake.duplicateJobs === 0,
    },
    {
      name: "B every job done: failed, rejected, canceled, unfinished or not accepted = 0",
      actual: `${failed} (${b.unfinished} unfinished, ${b.jobs - b.submitted} not accepted)`,
      met: failed === 0,
    },
    {
      name: "B search cache-hit throughput during the jobs >= 80% of idle",
      actual: `${fmt(b.search.during.requestsPerSecond)} vs ${fmt(b.search.idleRequestsPerSecond)} req/s (${b.search.idleBaseline}) = ${percent(b.search.ratio)}`,
      met: b.search.ratio >= 0.8,
    },
    {
      name: "B api event-loop delay p99 outside the search probe (worst 1-s window; bench:answer's bound 20 ms)",
      actual: `${fmt(b.lag.outsideProbe.p99WorstMs, 1)} ms (window ending ${fmt(b.lag.outsideProbe.p99WorstAtS, 1)} s after the first submit), median ${fmt(b.lag.outsideProbe.p99MedianMs, 1)} ms`,
      met: (b.lag.outsideProbe.p99WorstMs ?? Number.POSITIVE_INFINITY) < 20,
      reportedOnly: true,
    },
  );
  return targets;
}
