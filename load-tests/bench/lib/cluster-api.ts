// The api as production runs it (node on the compiled build, API_WORKERS workers), for bench:search's
// worker rows: its own Redis prefix, so every miss body is a miss again for each cluster.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { freePort, readMemory, stopChild } from "./processes.js";
import { processTree } from "./scenario.js";
import { DISTURBED_CORES } from "./video-cpu.js";

export interface ClusterApi {
  pid: number;
  url: string;
  memory(): ReturnType<typeof readMemory>;
  stop(): Promise<void>;
}

export async function startClusterApi(root: string, env: Record<string, string>, workers: number) {
  execFileSync(process.execPath, ["scripts/build.mjs", "--if-stale"], { cwd: root, stdio: "inherit" });
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ["api/dist/main.js"], {
    cwd: root,
    env: {
      ...process.env,
      ...env,
      PORT: String(port),
      HOST: "127.0.0.1",
      API_WORKERS: String(workers),
      DEMO_COURSES: "0",
      LOG_LEVEL: "warn",
      REDIS_PREFIX: `${env.REDIS_PREFIX ?? "kogi-bench:"}workers${workers}:`,
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const pid = child.pid as number;
  const api: ClusterApi = {
    pid,
    url: `http://127.0.0.1:${port}`,
    // The primary and its workers together: each worker has its own heap and in-process cache.
    memory: () => {
      const each = processTree(pid).flatMap((one) => readMemory(one) ?? []);
      if (each.length === 0) return undefined;
      return {
        rssMb: each.reduce((sum, m) => sum + m.rssMb, 0),
        peakMb: each.reduce((sum, m) => sum + m.peakMb, 0),
      };
    },
    stop: () => stopChild(child),
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    // Every worker must be serving: /v1/stats says how many are.
    const stats = (await fetch(`${api.url}/v1/stats`)
      .then((r) => (r.ok ? r.json() : undefined))
      .catch(() => undefined)) as { api?: { serving?: number } } | undefined;
    if (stats && (stats.api?.serving ?? 1) >= workers) return api;
    if (child.exitCode !== null || Date.now() > deadline) {
      await api.stop();
      throw new Error(`the api with API_WORKERS=${workers} did not come up`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface MissRow {
  requestsPerSecond: number;
  /** Cores per process group during the run (scenario.ts): server, mariadbd, generator, redis, others. */
  cpu?: Record<string, number>;
}

const round2 = (value: number) => Math.round(value * 100) / 100;
const msPerRequest = (row: MissRow, group: string) =>
  ((row.cpu?.[group] ?? 0) * 1000) / row.requestsPerSecond;

/**
 * The target: 2 workers serve >= 1.6x the cache-miss throughput of 1. Beside it, what this
 * machine allows: every miss costs CPU in the api, in mariadbd, in the load generator and in Redis, all
 * on the same cores. One worker can use one core; the machine has `cores`. So the best ratio here is
 * (cores / all CPU per miss) / min(1 / api CPU per miss, cores / all CPU per miss), at most 2. The
 * per-core-normalized ratio is 2 x (misses per api-core-second at 2 workers) / (the same at 1): what two
 * workers would give with a core each to themselves. A ratio between rows that other work disturbed
 * decides nothing: the target is then "not decided", and the CPU per miss comes from the calmer row.
 */
export function workerTargets(miss1: MissRow, miss2: MissRow, cores: number) {
  const ratio = miss2.requestsPerSecond / miss1.requestsPerSecond;
  const others = (row: MissRow) => row.cpu?.others ?? 0;
  const disturbed = Math.max(others(miss1), others(miss2)) > DISTURBED_CORES;
  const calmer = others(miss2) < others(miss1) ? miss2 : miss1;
  const groups = ["server", "mariadbd", "generator", "redis", "nginx"];
  const costMs = Object.fromEntries(groups.map((group) => [group, round2(msPerRequest(calmer, group))]));
  const totalMs = Object.values(costMs).reduce((a, b) => a + b, 0);
  const machineCeiling = (cores * 1000) / totalMs;
  const oneWorkerCeiling = Math.min(1000 / (costMs.server ?? 1), machineCeiling);
  const perApiCore = (row: MissRow) => row.requestsPerSecond / Math.max(0.01, row.cpu?.server ?? 0);
  return {
    workersMissScaling: { target: 1.6, actual: round2(ratio), met: ratio >= 1.6, disturbed },
    workersMissBudget: {
      /** CPU ms per miss, by process, in the less disturbed of the two rows. */
      measuredAt: calmer === miss1 ? "API_WORKERS=1" : "API_WORKERS=2",
      cpuMsPerMiss: costMs,
      /** Misses/s this machine could serve if nothing else ran: its cores over all CPU per miss. */
      machineCeiling: Math.round(machineCeiling),
      /** Misses/s one worker could serve: one core over the api's CPU per miss, or the machine's ceiling. */
      oneWorkerCeiling: Math.round(oneWorkerCeiling),
      bestRatioHere: round2(Math.min(2, machineCeiling / oneWorkerCeiling)),
      perCoreNormalizedRatio: round2((2 * perApiCore(miss2)) / perApiCore(miss1)),
      othersCores: { workers1: miss1.cpu?.others ?? 0, workers2: miss2.cpu?.others ?? 0 },
    },
  };
}

export function workerTargetLines(targets: ReturnType<typeof workerTargets>): string {
  const { actual, met, disturbed } = targets.workersMissScaling;
  const budget = targets.workersMissBudget;
  const verdict = disturbed
    ? `NOT DECIDED (other work took more than ${DISTURBED_CORES} cores during a row)`
    : met
      ? "MET"
      : "NOT MET";
  const costs = Object.entries(budget.cpuMsPerMiss)
    .filter(([, ms]) => ms > 0)
    .map(([group, ms]) => `${group} ${ms}`)
    .join(" + ");
  return [
    `- API_WORKERS=2 serves >= 1.6x the cache-miss throughput of API_WORKERS=1: ${actual}x -> ${verdict}`,
    `  - CPU per miss at ${budget.measuredAt} (ms): ${costs}; this machine can serve at most ~${budget.machineCeiling} misses/s, ` +
      `one worker ~${budget.oneWorkerCeiling}/s, so the best ratio here is ${budget.bestRatioHere}x`,
    `  - per-core-normalized (each worker with a core to itself): ${budget.perCoreNormalizedRatio}x; ` +
      `other work on the machine: ${budget.othersCores.workers1} cores (1 worker), ${budget.othersCores.workers2} cores (2 workers)`,
  ].join("\n");
}
