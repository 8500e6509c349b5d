// Turns scenario results into the markdown table, the issue's two targets, and the JSON record.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { ScenarioResult } from "./scenario.js";
import { DISTURBED_CORES } from "./video-cpu.js";

export interface Targets {
  hitThroughputRatio: { target: number; actual: number; met: boolean };
  missP99Ms: { target: number; actual: number; met: boolean };
}

export function evaluateTargets(
  baseline: ScenarioResult,
  hit: ScenarioResult,
  miss: ScenarioResult,
): Targets {
  const ratio = hit.requestsPerSecond / baseline.requestsPerSecond;
  return {
    hitThroughputRatio: { target: 0.7, actual: round(ratio, 4), met: ratio >= 0.7 },
    missP99Ms: { target: 25, actual: miss.p99Ms, met: miss.p99Ms <= 25 },
  };
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
const percent = (value: number) => `${Math.round(value * 100)}%`;

function xCacheSummary(result: ScenarioResult): string {
  const total = Object.values(result.xCache).reduce((a, b) => a + b, 0) || 1;
  return Object.entries(result.xCache)
    .sort(([, a], [, b]) => b - a)
    .map(([value, n]) => `${value} ${percent(n / total)}`)
    .join(", ");
}

/** CPU columns, in cores during the measured run: the load generator first, since it shares the machine. */
const CPU_COLUMNS = ["generator", "server", "nginx", "mariadbd", "redis", "others"] as const;

export function markdownTable(results: ScenarioResult[], baseline: ScenarioResult): string {
  const rows = results.map((r) =>
    [
      r.name,
      r.requestsPerSecond.toLocaleString("en-US"),
      r.p50Ms,
      r.p99Ms,
      r.non2xx,
      percent(r.requestsPerSecond / baseline.requestsPerSecond),
      ...CPU_COLUMNS.map((name) => (r.cpu?.[name] ?? 0).toFixed(2)),
      xCacheSummary(r),
    ].join(" | "),
  );
  return [
    `| scenario | requests/s | p50 ms | p99 ms | non-2xx | vs baseline | ${CPU_COLUMNS.map((c) => `${c} CPU`).join(" | ")} | X-Cache |`,
    `|---|---:|---:|---:|---:|---:|${CPU_COLUMNS.map(() => "---:").join("|")}|---|`,
    ...rows.map((row) => `| ${row} |`),
  ].join("\n");
}

export function targetLines(targets: Targets): string {
  const mark = (met: boolean) => (met ? "MET" : "NOT MET");
  const { hitThroughputRatio: hit, missP99Ms: miss } = targets;
  return [
    `- cache-hit throughput >= 70% of the bare route: ${percent(hit.actual)} -> ${mark(hit.met)}`,
    `- cache-miss p99 <= 25 ms: ${miss.actual} ms -> ${mark(miss.met)}`,
  ].join("\n");
}

/** Anything that makes a row mean less than it says: dropped connections, a capped run, misses that hit. */
export function warnings(results: ScenarioResult[], durationSeconds: number): string[] {
  return results.flatMap((r) => [
    ...(r.errors ? [`${r.name}: ${r.errors} connection errors or timeouts`] : []),
    ...(r.durationSeconds < durationSeconds - 0.5
      ? [`${r.name}: stopped at its request cap after ${r.durationSeconds} s`]
      : []),
    ...((r.cpu?.others ?? 0) > DISTURBED_CORES
      ? [`${r.name}: other work on the machine took ${r.cpu?.others} cores (best of ${r.tries ?? 1} runs)`]
      : []),
    ...(r.name.includes("miss") && Object.keys(r.xCache).some((value) => value !== "MISS")
      ? [`${r.name}: some responses were not MISS (${xCacheSummary(r)})`]
      : []),
  ]);
}

export async function writeJson(path: string, data: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(data, null, 2)}\n`);
}
