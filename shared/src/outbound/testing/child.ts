// Runs a testing/ script in its own Node process (through tsx) and reads its stdout line by line.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const TSX = fileURLToPath(new URL("../../../../node_modules/.bin/tsx", import.meta.url));

export interface Child {
  process: ChildProcess;
  /** SIGKILLs the script's process group: tsx runs the script in a child process of its own. */
  kill(): void;
  /** Resolves with the first stdout line matching `test` (lines already printed count too). */
  line(test: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
}

export function runScript(script: string, env: Record<string, string>): Child {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const child = spawn(TSX, [path], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
    detached: true,
  });
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  let buffered = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    lines.push(...parts);
    for (const listener of listeners) listener();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    process: child,
    exited,
    kill() {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    },
    line(test, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find(test);
          if (found === undefined) return;
          done();
          resolve(found);
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(`${script}: no matching line within ${timeoutMs}ms (got ${JSON.stringify(lines)})`),
          );
        }, timeoutMs);
        const onExit = () =>
          setImmediate(() => {
            if (!lines.some(test)) {
              done();
              reject(new Error(`${script} exited without a matching line (got ${JSON.stringify(lines)})`));
            }
          });
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off("exit", onExit);
        };
        listeners.add(check);
        child.once("exit", onExit);
        check();
      });
    },
  };
}
