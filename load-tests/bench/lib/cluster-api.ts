// The api as production runs it (node on the compiled build, API_WORKERS workers), for bench:search's
// worker rows: its own Redis prefix, so every miss body is a miss again for each cluster.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { freePort, readMemory, stopChild } from "./processes.js";

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
    memory: () => readMemory(pid),
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

/** The target: 2 workers serve >= 1.6x the cache-miss throughput of 1. */
export function workerTargets(miss1: { requestsPerSecond: number }, miss2: { requestsPerSecond: number }) {
  const ratio = miss2.requestsPerSecond / miss1.requestsPerSecond;
  return { workersMissScaling: { target: 1.6, actual: Math.round(ratio * 100) / 100, met: ratio >= 1.6 } };
}

export function workerTargetLines(targets: ReturnType<typeof workerTargets>): string {
  const { actual, met } = targets.workersMissScaling;
  return `- API_WORKERS=2 serves >= 1.6x the cache-miss throughput of API_WORKERS=1: ${actual}x -> ${met ? "MET" : "NOT MET"}`;
}
