// CPU by process for bench:video, and runs repeated while the shared machine is busy with other people's work.
import { execFileSync } from "node:child_process";
import { cpus } from "node:os";
import { cpuSeconds, machineTicks } from "./answer-children.js";

export function pidOf(name: string): number | undefined {
  try {
    return Number(execFileSync("pgrep", ["-o", "-x", name], { encoding: "utf8" }).trim()) || undefined;
  } catch {
    return undefined; // pgrep exits 1 when nothing matches
  }
}

/**
 * Cores each process used since the meter's last reading (or its creation), and "others": the machine's
 * busy cores that none of them used (other people's work on the shared machine shows up there).
 */
export function cpuMeter(pids: Record<string, number | undefined>) {
  const read = () => ({
    at: performance.now(),
    machine: machineTicks(),
    used: Object.entries(pids).map(([name, pid]) => [name, pid ? cpuSeconds(pid) : undefined] as const),
  });
  let last = read();
  return (): Record<string, number> => {
    const now = read();
    const seconds = (now.at - last.at) / 1000;
    const cores = now.used.flatMap(([name, used], i) => {
      const before = last.used[i]?.[1];
      return used === undefined || before === undefined
        ? []
        : [[name, Math.round(((used - before) / seconds) * 100) / 100] as const];
    });
    const [before, after] = [last.machine, now.machine];
    if (before && after) {
      const busy = ((after.busy - before.busy) / Math.max(1, after.total - before.total)) * cpus().length;
      const ours = cores.reduce((sum, [, c]) => sum + c, 0);
      cores.push(["others", Math.round(Math.max(0, busy - ours) * 100) / 100]);
    }
    last = now;
    return Object.fromEntries(cores);
  };
}

/** Above this many "others" cores (work on the machine that is none of ours) a measurement is disturbed. */
export const DISTURBED_CORES = 0.3;

/**
 * Runs `measure` up to `tries` times until no more than DISTURBED_CORES of other work ran beside it, and
 * keeps the least disturbed run: on a 2-core machine shared with other people's builds and tests, one busy
 * neighbour would otherwise decide a ratio. `cores` says what ran during the kept run.
 */
export async function leastDisturbed<T>(
  pids: Record<string, number | undefined>,
  tries: number,
  measure: () => Promise<T>,
): Promise<{ result: T; cores: Record<string, number>; tries: number }> {
  let best: { result: T; cores: Record<string, number>; tries: number } | undefined;
  for (let attempt = 1; attempt <= tries; attempt++) {
    const meter = cpuMeter(pids);
    const result = await measure();
    const cores = meter();
    if (!best || (cores.others ?? 0) < (best.cores.others ?? 0)) best = { result, cores, tries: attempt };
    best.tries = attempt;
    if ((cores.others ?? 0) <= DISTURBED_CORES) break;
  }
  return best as { result: T; cores: Record<string, number>; tries: number };
}

/**
 * Waits (up to `maxMs`) until the machine's busy cores over a 3 s window, all processes included, drop to
 * DISTURBED_CORES: call it while nothing of ours runs. Returns what the last window measured.
 */
export async function waitForQuiet(maxMs: number, log: (message: string) => void) {
  const started = performance.now();
  for (;;) {
    const meter = cpuMeter({});
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const busy = meter().others ?? 0;
    const waitedSeconds = Math.round((performance.now() - started) / 1000);
    if (busy <= DISTURBED_CORES || performance.now() - started >= maxMs)
      return { busyCores: busy, waitedSeconds, quiet: busy <= DISTURBED_CORES };
    log(`waiting for a quiet machine: ${busy} cores busy with other work`);
  }
}
