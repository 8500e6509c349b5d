// Parent side of the answer benchmark's children: fake OpenAI, api (main.ts), load runners; IPC, ports, CPU.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { openSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { LoadResult, LoadSpec } from "./closed-loop.js";
import { freePort, readMemory, stopChild } from "./processes.js";

export interface Child {
  pid: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** `node --import tsx` (not the tsx CLI) so the PID we hold is the process itself, not a wrapper. */
function spawnTsx(
  cwd: string,
  script: string,
  options: {
    env?: Record<string, string>;
    nodeArgs?: string[];
    args?: string[];
    stdout: "pipe" | number;
    stderr?: number;
  },
): Child {
  const argv = [...(options.nodeArgs ?? []), "--import", "tsx", script, ...(options.args ?? [])];
  const child = spawn(process.execPath, argv, {
    cwd,
    env: { ...process.env, ...options.env },
    // IPC doubles as a lifeline: every child exits when the channel closes, even if we die hard.
    stdio: ["ignore", options.stdout, options.stderr ?? "inherit", "ipc"],
  });
  if (child.pid === undefined) throw new Error(`could not spawn ${script}`);
  return { pid: child.pid, process: child, stop: () => stopChild(child) };
}

function exitedEarly(child: ChildProcess, what: string): Promise<never> {
  return once(child, "exit").then(([code, signal]) => {
    throw new Error(`${what} exited (${code ?? signal}) before it was ready`);
  });
}

function timeout(ms: number, what: string): Promise<never> {
  return new Promise((_, reject) =>
    setTimeout(() => reject(new Error(`${what} took over ${ms / 1000} s`)), ms).unref(),
  );
}

/** The next IPC message of `type` from the child; rejects if the child exits first. */
function nextMessage<T>(child: ChildProcess, type: string, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onMessage = (message: { type?: string; message?: string }) => {
      if (message.type === "error") finish(() => reject(new Error(`${what}: ${message.message}`)));
      else if (message.type === type) finish(() => resolve(message as T));
    };
    const onExit = (code: number | null) => finish(() => reject(new Error(`${what} exited (${code})`)));
    const finish = (settle: () => void) => {
      child.off("message", onMessage);
      child.off("exit", onExit);
      settle();
    };
    child.on("message", onMessage);
    child.on("exit", onExit);
  });
}

export interface FakeStats {
  chat: {
    total: number;
    inFlight: number;
    maxInFlight: number;
    outcomes: Record<string, number>;
    clientDisconnects: number;
  };
  embeddings: FakeStats["chat"];
  unmatched: number;
}

export interface FakeChild extends Child {
  url: string;
  stats(): Promise<FakeStats>;
  /** Zeroes the counters (behaviour stays as started). */
  reset(): Promise<FakeStats>;
}

export async function startFake(
  cwd: string,
  chatLatencyMs: number,
  embedLatencyMs: number,
): Promise<FakeChild> {
  const child = spawnTsx(cwd, "load-tests/bench/serve-fake-openai.ts", {
    env: { FAKE_CHAT_LATENCY_MS: String(chatLatencyMs), FAKE_EMBED_LATENCY_MS: String(embedLatencyMs) },
    stdout: "pipe",
  });
  const lines = createInterface({ input: child.process.stdout as NodeJS.ReadableStream });
  const first = (async () => {
    for await (const line of lines) return JSON.parse(line) as { url: string };
    throw new Error("fake OpenAI closed stdout before listening");
  })();
  try {
    const { url } = await Promise.race([
      first,
      exitedEarly(child.process, "fake OpenAI"),
      timeout(60_000, "fake OpenAI"),
    ]);
    let id = 0;
    const ask = (type: "stats" | "reset") =>
      new Promise<FakeStats>((resolve) => {
        const mine = ++id;
        const onMessage = (message: { id: number; stats: FakeStats }) => {
          if (message.id !== mine) return;
          child.process.off("message", onMessage);
          resolve(message.stats);
        };
        child.process.on("message", onMessage);
        child.process.send({ id: mine, type });
      });
    return { ...child, url, stats: () => ask("stats"), reset: () => ask("reset") };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

async function waitForStatus(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${url} exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    const status = await fetch(url)
      .then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      })
      .catch(() => 0);
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} not ready within ${timeoutMs / 1000} s`);
}

export interface ApiChild extends Child {
  url: string;
  logFile: string;
}

/** api/src/main.ts as production runs it; its JSON log goes to logFile (our stdout stays the report). */
export async function startApi(
  cwd: string,
  env: Record<string, string>,
  logFile: string,
  nodeArgs: string[] = [],
  /** "build": the compiled api, as production runs it (run `scripts/build.mjs` first). */
  entry: "source" | "build" = "source",
): Promise<ApiChild> {
  // A caller that must know the port beforehand (a webhook URL pointing back at the api) passes PORT.
  const port = Number(env.PORT) > 0 ? Number(env.PORT) : await freePort();
  const log = openSync(logFile, "a");
  const child = spawnTsx(cwd, "load-tests/bench/serve-api-main.ts", {
    env: { ...env, HOST: "127.0.0.1", PORT: String(port) },
    nodeArgs,
    args: [entry],
    stdout: log,
    stderr: log,
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForStatus(`${url}/ready`, child.process, 60_000);
    return { ...child, url, logFile };
  } catch (error) {
    await child.stop();
    const tail = readFileSync(logFile, "utf8").split("\n").slice(-20).join("\n");
    throw new Error(`${(error as Error).message}\napi log tail:\n${tail}`);
  }
}

export interface RunnerChild extends Child {
  /** Runs one load; `onMeasuring` fires when the warm-up is over and the measured window starts. */
  run(spec: LoadSpec, onMeasuring?: () => void): Promise<LoadResult>;
}

export async function startRunner(cwd: string): Promise<RunnerChild> {
  const child = spawnTsx(cwd, "load-tests/bench/answer-load.ts", { stdout: "pipe" });
  child.process.stdout?.resume();
  try {
    await Promise.race([
      nextMessage(child.process, "ready", "load runner"),
      timeout(60_000, "load runner start"),
    ]);
  } catch (error) {
    await child.stop();
    throw error;
  }
  return {
    ...child,
    async run(spec, onMeasuring) {
      const measuring = nextMessage(child.process, "measuring", spec.name).then(() => onMeasuring?.());
      const result = nextMessage<{ result: LoadResult }>(child.process, "result", spec.name);
      child.process.send({ type: "run", spec });
      // A warm-up failure rejects `measuring` too; the result promise carries the error.
      measuring.catch(() => undefined);
      return (await result).result;
    },
  };
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system, all threads) of a process so far, from /proc; undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Busy and total CPU ticks of the whole machine, from the first line of /proc/stat. */
export function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const fields =
      readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    // idle + iowait are the only non-busy columns.
    return { busy: total - (fields[3] ?? 0) - (fields[4] ?? 0), total };
  } catch {
    return undefined;
  }
}

export { readMemory };
