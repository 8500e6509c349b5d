// Parent side of the server children: spawn under tsx, wait for the port line, stop by PID, read RSS.

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { createInterface } from "node:readline";

export interface ServerChild {
  pid: number;
  url: string;
  /** Resident and peak resident memory in MiB, from /proc (undefined off Linux or after exit). */
  memory(): { rssMb: number; peakMb: number } | undefined;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  cwd: string;
  env?: Record<string, string>;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Sent over IPC once the child is up (the bare server's response bytes). */
  message?: unknown;
}

export async function startServer(script: string, options: SpawnOptions): Promise<ServerChild> {
  // `node --import tsx` (not the tsx CLI) so the PID we hold is the server itself, not a wrapper.
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), "--import", "tsx", script], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    // The IPC channel doubles as a lifeline: children exit when it closes, even if we die hard.
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  });
  if (child.pid === undefined) throw new Error(`could not spawn ${script}`);
  const pid = child.pid;
  const server: ServerChild = {
    pid,
    url: "",
    memory: () => readMemory(pid),
    stop: () => stopChild(child),
  };
  try {
    if (options.message !== undefined) child.send(options.message as object);
    server.url = `http://127.0.0.1:${await readPort(child, script)}`;
    return server;
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** The child prints {"port": n} as its first stdout line once it listens. */
async function readPort(child: ChildProcess, script: string): Promise<number> {
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const exited = once(child, "exit").then(([code]) => {
    throw new Error(`${script} exited with code ${code} before listening`);
  });
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`${script} did not listen within 60 s`)), 60_000).unref(),
  );
  const first = (async () => {
    for await (const line of lines) return (JSON.parse(line) as { port: number }).port;
    throw new Error(`${script} closed stdout before listening`);
  })();
  return Promise.race([first, exited, timeout]);
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  // SIGTERM lets the child close cleanly (and write a --cpu-prof profile); SIGKILL if it hangs.
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

export function readMemory(pid: number): { rssMb: number; peakMb: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+)`, "m"))?.[1] ?? 0);
    return { rssMb: Math.round(kb("VmRSS") / 1024), peakMb: Math.round(kb("VmHWM") / 1024) };
  } catch {
    return undefined;
  }
}

/** A port the kernel just handed out and released: a tiny race, acceptable on a quiet bench machine. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (!address || typeof address === "string") throw new Error("could not get a free port");
  return address.port;
}
