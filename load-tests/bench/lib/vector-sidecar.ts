// Parent side of the vector sidecar child: spawn on a free loopback port, wait for /ready, read /stats, /metrics and per-thread CPU, stop by PID.
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { freePort, readMemory, stopChild } from "./processes.js";

export interface SidecarStats {
  threads: number;
  completed: number;
  vectorBytes: number;
  memory: { rss: number; heapUsed: number; external: number; arrayBuffers: number };
}

/** One look at the sidecar: its search-latency histogram, event-loop lag and CPU time so far. */
export interface Snapshot {
  at: number;
  /** Cumulative search count per histogram bucket upper bound (seconds; Infinity last), all strategies. */
  buckets: [number, number][];
  /** Lag percentiles since the previous scrape, in ms, as prom-client reports them. */
  lagP99Ms: number;
  lagMaxMs: number;
  /** CPU seconds of the main thread (tid = pid) and of all other threads (search threads, GC, libuv). */
  cpu: { main: number; other: number } | undefined;
  /** Whole-machine busy and stolen CPU seconds (/proc/stat): the box is shared, this shows by whom. */
  machine: { busy: number; steal: number } | undefined;
}

export interface SidecarChild {
  pid: number;
  url: string;
  threads: number;
  stats(): Promise<SidecarStats>;
  /** Scrapes /metrics (which resets prom-client's lag histogram) and reads /proc. */
  snapshot(): Promise<Snapshot>;
  /** Peak resident memory in MiB from /proc (VmHWM), undefined off Linux. */
  peakMb(): number | undefined;
  stop(): Promise<void>;
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`sidecar exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    const status = await fetch(`${url}/ready`)
      .then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      })
      .catch(() => 0);
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`sidecar not ready within ${timeoutMs / 1000} s`);
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

function threadCpu(pid: number): { main: number; other: number } | undefined {
  try {
    let main = 0;
    let other = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      // Fields after "(comm) ": state is [0], utime [11], stime [12] (proc(5) numbers 14 and 15).
      const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      const seconds = (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / CLOCK_TICKS;
      if (tid === String(pid)) main += seconds;
      else other += seconds;
    }
    return { main, other };
  } catch {
    return undefined;
  }
}

function machineCpu(): { busy: number; steal: number } | undefined {
  try {
    // cpu user nice system idle iowait irq softirq steal ...
    const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1);
    const ticks = fields.map(Number);
    const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    return { busy: (total - idle) / CLOCK_TICKS, steal: (ticks[7] ?? 0) / CLOCK_TICKS };
  } catch {
    return undefined;
  }
}

function parseMetrics(text: string): Omit<Snapshot, "at" | "cpu" | "machine"> {
  const gauge = (name: string) => {
    const match = text.match(new RegExp(`^kogi_vector_nodejs_eventloop_lag_${name}_seconds\\s+(\\S+)`, "m"));
    if (!match) throw new Error(`no kogi_vector_nodejs_eventloop_lag_${name}_seconds in /metrics`);
    return Math.round(Number(match[1]) * 1e5) / 100;
  };
  const buckets = new Map<number, number>();
  for (const match of text.matchAll(/^kogi_vector_search_duration_seconds_bucket\{([^}]*)\}\s+(\S+)/gm)) {
    const le = /le="([^"]+)"/.exec(match[1] ?? "")?.[1];
    if (!le) continue;
    const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(match[2]));
  }
  return {
    buckets: [...buckets.entries()].sort(([a], [b]) => a - b),
    lagP99Ms: gauge("p99"),
    lagMaxMs: gauge("max"),
  };
}

export interface SidecarWindow {
  /** Bucket upper bounds (ms) holding the server-side p50 and p99 of the window: coarse, but says where a tail is. */
  serverP50Ms: number;
  serverP99Ms: number;
  /** prom-client's lag minus its 10 ms sampling interval (the histogram holds whole timer periods). */
  lagP99ExcessMs: number;
  lagMaxExcessMs: number;
  mainThreadCores: number | null;
  otherThreadsCores: number | null;
  /** All processes on the machine (sidecar and load generator included), and the hypervisor's steal. */
  machineBusyCores: number | null;
  stealCores: number | null;
}

// server.ts sets eventLoopMonitoringPrecision: 10 -> an idle loop reads ~10.1 ms.
const LAG_SAMPLING_MS = 10;

export function windowBetween(before: Snapshot, after: Snapshot): SidecarWindow {
  const counts = after.buckets.map(([le, n]) => [le, n - (before.buckets.find(([b]) => b === le)?.[1] ?? 0)]);
  const total = counts.at(-1)?.[1] ?? 0;
  const quantile = (q: number) => {
    const hit = counts.find(([, n]) => (n as number) >= q * total);
    const bound = (hit?.[0] ?? Number.POSITIVE_INFINITY) as number;
    return Number.isFinite(bound) ? bound * 1000 : Number.POSITIVE_INFINITY;
  };
  const seconds = (after.at - before.at) / 1000;
  const cores = (pick: (cpu: { main: number; other: number }) => number) =>
    before.cpu && after.cpu ? Math.round(((pick(after.cpu) - pick(before.cpu)) / seconds) * 100) / 100 : null;
  const machine = (pick: (m: { busy: number; steal: number }) => number) =>
    before.machine && after.machine
      ? Math.round(((pick(after.machine) - pick(before.machine)) / seconds) * 100) / 100
      : null;
  const excess = (ms: number) => Math.max(0, Math.round((ms - LAG_SAMPLING_MS) * 100) / 100);
  return {
    serverP50Ms: quantile(0.5),
    serverP99Ms: quantile(0.99),
    lagP99ExcessMs: excess(after.lagP99Ms),
    lagMaxExcessMs: excess(after.lagMaxMs),
    mainThreadCores: cores((c) => c.main),
    otherThreadsCores: cores((c) => c.other),
    machineBusyCores: machine((m) => m.busy),
    stealCores: machine((m) => m.steal),
  };
}

export async function startSidecar(options: {
  cwd: string;
  indexDir: string;
  threads: number;
  env?: Record<string, string>;
  /** Extra node flags for diagnosis, e.g. --trace-gc or --cpu-prof. */
  nodeArgs?: string[];
}): Promise<SidecarChild> {
  const port = await freePort();
  // `node --import tsx` (not the tsx CLI) so the PID we hold is the sidecar itself, not a wrapper.
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), "--import", "tsx", "load-tests/bench/serve-vector.ts"],
    {
      cwd: options.cwd,
      env: {
        ...process.env,
        VECTOR_INDEX_DIR: options.indexDir,
        VECTOR_PORT: String(port),
        // Loopback only: the default 0.0.0.0 would expose the bench sidecar on every interface.
        VECTOR_HOST: "127.0.0.1",
        VECTOR_THREADS: String(options.threads),
        // The index is built with the local embedder; a stray OPENAI_API_KEY would make the sidecar refuse it.
        EMBEDDINGS_PROVIDER: "local",
        LOG_LEVEL: "warn",
        ...options.env,
      },
      // The sidecar logs JSON to stdout: send it to our stderr so stdout stays the report. IPC = lifeline.
      stdio: ["ignore", 2, "inherit", "ipc"],
    },
  );
  if (child.pid === undefined) throw new Error("could not spawn the sidecar");
  const pid = child.pid;
  const url = `http://127.0.0.1:${port}`;
  const sidecar: SidecarChild = {
    pid,
    url,
    threads: options.threads,
    async stats() {
      const response = await fetch(`${url}/stats`);
      return (await response.json()) as SidecarStats;
    },
    async snapshot() {
      const text = await (await fetch(`${url}/metrics`)).text();
      return { at: performance.now(), cpu: threadCpu(pid), machine: machineCpu(), ...parseMetrics(text) };
    },
    peakMb: () => readMemory(pid)?.peakMb,
    stop: () => stopChild(child),
  };
  try {
    await waitReady(url, child, 120_000);
    return sidecar;
  } catch (error) {
    await sidecar.stop();
    throw error;
  }
}
