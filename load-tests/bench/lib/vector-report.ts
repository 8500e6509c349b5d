// Markdown tables and target checks of the vector benchmark (the JSON record is the same data, unformatted).
import type { FlatBaseline } from "./vector-baseline.js";
import type { BuildTimings } from "./vector-catalogs.js";
import type { LoadResult } from "./vector-load.js";
import type { SidecarWindow } from "./vector-sidecar.js";
import type { ThresholdResult } from "./vector-threshold.js";

export interface SingleLatency {
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** 1 / mean: what one connection gets. */
  requestsPerSecond: number;
  requests: number;
}

export interface ScenarioQuality {
  scenario: string;
  allowed: number | null;
  /** Mean tie-tolerant recall@k against the brute-force oracle, sequential requests. */
  recall: number;
  /** Queries whose k scores equal the oracle's position by position. */
  exactAnswers: number;
  queries: number;
  strategies: Record<string, number>;
  fellBack: number;
  meanNprobe: number;
  meanScanned: number;
  /** The sidecar's own plan.ms (body parse to answer, queue wait included). */
  serverP50Ms: number;
  /** Client-side, one request at a time (no queueing behind other requests), sub-ms resolution. */
  single: SingleLatency;
  /** Mean recall@k per query phrasing ("a course on <title>", bare title, ...). */
  recallByPhrasing: Record<string, number>;
}

export interface LoadRow {
  threads: number;
  scenario: string;
  result: LoadResult;
  sidecar: SidecarWindow;
}

export interface MemoryRow {
  threads: number;
  /** /stats memory.rss after the same short touch load at every thread count. */
  rssTouchMb: number;
  /** After the full scenario runs (1 and 2 threads only). */
  rssAfterLoadMb: number | null;
  peakMb: number | null;
}

export interface CatalogReport {
  name: string;
  courses: number;
  queries: number;
  build: BuildTimings & {
    nlist: number;
    nprobe: number;
    calibratedRecall: number;
    matrixMb: number;
    version: string;
  };
  baseline: Omit<FlatBaseline, "results"> & { recall: number };
  quality: ScenarioQuality[];
  load: LoadRow[];
  memory: MemoryRow[];
  threshold: ThresholdResult;
}

export interface Target {
  name: string;
  actual: string;
  met: boolean;
}

const s = (ms: number) => (ms / 1000).toFixed(1);
const n = (value: number) => value.toLocaleString("en-US");
const ratio = (value: number) => `${value.toFixed(2)}x`;
const pct = (value: number) => `${Math.round(value * 100)}%`;
const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;

export function strategyMix(strategies: Record<string, number>, fellBack = 0): string {
  const total = Object.values(strategies).reduce((a, b) => a + b, 0) || 1;
  const mix = Object.entries(strategies)
    .sort(([, a], [, b]) => b - a)
    .map(([name, count]) => `${name} ${pct(count / total)}`)
    .join(", ");
  return fellBack ? `${mix} (fell back ${fellBack})` : mix;
}

export function buildTable(reports: CatalogReport[]): string {
  return [
    "| catalog | courses | matrix MiB | learn IDF s | embed s | writeIndexVersion s (train / assign+layout / calibrate+write) | nlist | nprobe | calibrated recall@9 |",
    "|---|---:|---:|---:|---:|---|---:|---:|---:|",
    ...reports.map((r) =>
      row([
        r.name,
        n(r.courses),
        r.build.matrixMb,
        s(r.build.learnIdfMs),
        s(r.build.embedMs),
        `${s(r.build.indexMs)} (${s(r.build.trainMs)} / ${s(r.build.assignMs)} / ${s(r.build.calibrateMs)})`,
        r.build.nlist,
        `${r.build.nprobe} (${pct(r.build.nprobe / Math.max(1, r.build.nlist))} of lists)`,
        r.build.calibratedRecall.toFixed(3),
      ]),
    ),
  ].join("\n");
}

export function baselineTable(reports: CatalogReport[]): string {
  return [
    "| catalog | OMP threads | add s | p50 ms | p99 ms | mean ms | q/s (1 thread, 1/mean) | recall@9 vs oracle | RSS MiB |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...reports.map((r) =>
      row([
        r.name,
        r.baseline.ompThreads,
        s(r.baseline.addMs),
        r.baseline.p50Ms,
        r.baseline.p99Ms,
        r.baseline.meanMs,
        n(r.baseline.queriesPerSecond),
        r.baseline.recall.toFixed(3),
        r.baseline.rssMb,
      ]),
    ),
  ].join("\n");
}

export function loadTable(reports: CatalogReport[], connections: number): string {
  const lines = [
    `| catalog | threads | scenario | req/s (${connections} conns) | p50 ms | p99 ms | non-2xx | recall@9 | strategy (under load) | event-loop lag p99 ms | req/s ÷ flat q/s | flat p50 ÷ p50 @1 in flight |`,
    "|---|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---:|",
  ];
  for (const r of reports)
    for (const l of r.load) {
      const quality = r.quality.find((q) => q.scenario === l.scenario);
      lines.push(
        row([
          r.name,
          l.threads,
          l.scenario,
          n(l.result.requestsPerSecond),
          l.result.p50Ms,
          l.result.p99Ms,
          l.result.non2xx + l.result.errors,
          quality ? quality.recall.toFixed(3) : "",
          strategyMix(l.result.strategies, l.result.fellBack),
          l.sidecar.lagP99ExcessMs,
          ratio(l.result.requestsPerSecond / r.baseline.queriesPerSecond),
          quality ? ratio(r.baseline.p50Ms / quality.single.p50Ms) : "",
        ]),
      );
    }
  return lines.join("\n");
}

const ms = (value: number) => (Number.isFinite(value) ? `<= ${value}` : "> 250");

/** CPU the rest of the machine used during the run: other engineers' tests and servers share these cores. */
function others(l: LoadRow): string | number {
  const { machineBusyCores, mainThreadCores, otherThreadsCores } = l.sidecar;
  if (machineBusyCores === null || mainThreadCores === null || otherThreadsCores === null) return "-";
  return Math.max(
    0,
    Math.round((machineBusyCores - mainThreadCores - otherThreadsCores - l.result.client.cores) * 100) / 100,
  );
}

/** Where the time goes under load: server-side latency, the sidecar's threads, and the load generator. */
export function diagnosticsTable(reports: CatalogReport[]): string {
  const lines = [
    "| catalog | threads | scenario | server p50 ms (bucket) | server p99 ms (bucket) | lag p99 / max ms | sidecar main-thread cores | sidecar other-thread cores | client cores | client GC max / total ms | other processes cores | steal |",
    "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of reports)
    for (const l of r.load)
      lines.push(
        row([
          r.name,
          l.threads,
          l.scenario,
          ms(l.sidecar.serverP50Ms),
          ms(l.sidecar.serverP99Ms),
          `${l.sidecar.lagP99ExcessMs} / ${l.sidecar.lagMaxExcessMs}`,
          l.sidecar.mainThreadCores ?? "-",
          l.sidecar.otherThreadsCores ?? "-",
          l.result.client.cores,
          `${l.result.client.gcMaxMs} / ${l.result.client.gcTotalMs}`,
          others(l),
          l.sidecar.stealCores ?? "-",
        ]),
      );
  return lines.join("\n");
}

export function phrasingLines(reports: CatalogReport[]): string {
  return reports
    .flatMap((r) =>
      r.quality
        .filter((q) => q.scenario === "unfiltered")
        .map(
          (q) =>
            `- ${r.name} unfiltered recall@9 by phrasing: ${Object.entries(q.recallByPhrasing)
              .map(([phrase, recall]) => `${phrase} ${recall.toFixed(3)}`)
              .join(", ")}`,
        ),
    )
    .join("\n");
}

export function qualityTable(reports: CatalogReport[]): string {
  const lines = [
    "| catalog | scenario | allowed | recall@9 | exact answers | strategy | mean nprobe | mean rows scored | server plan.ms p50 | p50 ms @1 in flight | p99 ms @1 in flight | req/s @1 in flight |",
    "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of reports)
    for (const q of r.quality)
      lines.push(
        row([
          r.name,
          q.scenario,
          q.allowed === null ? "all" : n(q.allowed),
          q.recall.toFixed(3),
          `${q.exactAnswers}/${q.queries}`,
          strategyMix(q.strategies, q.fellBack),
          q.meanNprobe,
          n(q.meanScanned),
          q.serverP50Ms,
          q.single.p50Ms,
          q.single.p99Ms,
          n(q.single.requestsPerSecond),
        ]),
      );
  return lines.join("\n");
}

export function scalingTable(reports: CatalogReport[]): string {
  const lines = [
    "| catalog | scenario | 1 thread req/s | 2 threads req/s | 2t ÷ 1t |",
    "|---|---|---:|---:|---:|",
  ];
  for (const r of reports)
    for (const q of r.quality) {
      const one = r.load.find((l) => l.threads === 1 && l.scenario === q.scenario)?.result;
      const two = r.load.find((l) => l.threads === 2 && l.scenario === q.scenario)?.result;
      if (one && two)
        lines.push(
          row([
            r.name,
            q.scenario,
            n(one.requestsPerSecond),
            n(two.requestsPerSecond),
            ratio(two.requestsPerSecond / one.requestsPerSecond),
          ]),
        );
    }
  return lines.join("\n");
}

export function memoryTable(reports: CatalogReport[]): string {
  const lines = [
    "| catalog | threads | RSS MiB (same touch load) | RSS MiB after full load | peak MiB | growth vs 1 thread | growth ÷ matrix |",
    "|---|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of reports) {
    const one = r.memory.find((m) => m.threads === 1);
    for (const m of r.memory) {
      const growth = one ? m.rssTouchMb - one.rssTouchMb : 0;
      lines.push(
        row([
          r.name,
          m.threads,
          m.rssTouchMb,
          m.rssAfterLoadMb ?? "-",
          m.peakMb ?? "-",
          `${growth >= 0 ? "+" : ""}${growth} MiB`,
          pct(growth / r.build.matrixMb),
        ]),
      );
    }
  }
  return lines.join("\n");
}

export function thresholdTable(report: CatalogReport): string {
  const t = report.threshold;
  return [
    `${report.name}: ${n(t.count)} rows, nlist ${t.nlist}, nprobe ${t.nprobe}; unfiltered IVF p50 ${t.unfilteredIvfP50Ms} ms (in-process, 1 thread)`,
    "",
    "| allowed ids | exact p50 ms | exact p90 ms | IVF p50 ms | IVF p90 ms | IVF nprobe | IVF rows scored | IVF fell back | IVF recall@9 | faster |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ...t.rows.map((r) =>
      row([
        n(r.allowed),
        r.exactP50Ms,
        r.exactP90Ms,
        r.ivfP50Ms,
        r.ivfP90Ms,
        r.ivfNprobe,
        n(r.ivfScanned),
        r.ivfFellBack,
        r.ivfRecall.toFixed(3),
        r.faster,
      ]),
    ),
    "",
    t.crossover === undefined
      ? "- crossover: IVF was not faster at any measured size (up to the largest), so exact wins throughout this range"
      : `- crossover: IVF is faster from ${n(t.crossover)} allowed ids upwards (the planner switches to IVF above VECTOR_EXACT_THRESHOLD, default 4,000)`,
  ].join("\n");
}

export function evaluateTargets(report: CatalogReport): Target[] {
  const q = (name: string) => report.quality.find((x) => x.scenario === name);
  const l = (threads: number, name: string) =>
    report.load.find((x) => x.threads === threads && x.scenario === name)?.result;
  const onePercent = q("1% filter");
  const unfiltered = q("unfiltered");
  const one = l(1, "unfiltered");
  const two = l(2, "unfiltered");
  const mem1 = report.memory.find((m) => m.threads === 1);
  const mem4 = report.memory.find((m) => m.threads === 4);
  const targets: Target[] = [];
  if (onePercent) {
    const exact = onePercent.exactAnswers === onePercent.queries;
    targets.push({
      name: "1% filter p50 <= 1 ms (1 request in flight) with exact results",
      actual: `p50 ${onePercent.single.p50Ms} ms client-side (server plan.ms p50 ${onePercent.serverP50Ms} ms), ${onePercent.exactAnswers}/${onePercent.queries} answers exact, ${strategyMix(onePercent.strategies)}`,
      met: onePercent.single.p50Ms <= 1 && exact,
    });
  }
  if (unfiltered)
    targets.push({
      name: "unfiltered p50 <= 5 ms (1 request in flight) with recall@9 >= 0.95",
      actual: `p50 ${unfiltered.single.p50Ms} ms client-side, recall@9 ${unfiltered.recall.toFixed(3)}`,
      met: unfiltered.single.p50Ms <= 5 && unfiltered.recall >= 0.95,
    });
  if (one && two) {
    const r = two.requestsPerSecond / one.requestsPerSecond;
    targets.push({
      name: "2 threads >= 1.7x the throughput of 1 (unfiltered)",
      actual: `${n(two.requestsPerSecond)} vs ${n(one.requestsPerSecond)} req/s = ${ratio(r)}`,
      met: r >= 1.7,
    });
  }
  if (mem1 && mem4) {
    const growth = mem4.rssTouchMb - mem1.rssTouchMb;
    targets.push({
      name: "RSS growth from 1 to 4 threads <= 10% of the matrix",
      actual: `+${growth} MiB (${mem1.rssTouchMb} -> ${mem4.rssTouchMb}) vs matrix ${report.build.matrixMb} MiB = ${pct(growth / report.build.matrixMb)}`,
      met: growth <= 0.1 * report.build.matrixMb,
    });
  }
  return targets;
}

export function targetLines(targets: Target[]): string {
  return targets.map((t) => `- ${t.name}: ${t.actual} -> ${t.met ? "MET" : "NOT MET"}`).join("\n");
}
