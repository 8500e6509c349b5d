// The supervisor's policy with fake workers and fake time: replacement, backoff of a crash loop, and a
// stop that waits for every worker (the real processes are in cluster.e2e.test.ts).
import { EventEmitter } from "node:events";
import { createLogger } from "@kogi/shared/logger";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { restartDelayMs, type SupervisedWorker, WorkerSupervisor } from "./supervisor.js";

class FakeWorker extends EventEmitter implements SupervisedWorker {
  readonly signals: string[] = [];
  readonly process: SupervisedWorker["process"];
  constructor(readonly id: number) {
    super();
    this.process = {
      pid: 1000 + id,
      kill: (signal) => {
        this.signals.push(signal ?? "SIGTERM");
        return true;
      },
    };
  }
  isConnected() {
    return true;
  }
  send() {
    return true;
  }
  exit(code: number | null, signal: string | null = null) {
    this.emit("exit", code, signal);
  }
}

function supervisor(size: number) {
  const forked: FakeWorker[] = [];
  const changes = vi.fn();
  const sup = new WorkerSupervisor({
    size,
    fork: () => {
      const worker = new FakeWorker(forked.length + 1);
      forked.push(worker);
      return worker;
    },
    logger: createLogger("silent", "test"),
    onChange: changes,
  });
  return { sup, forked, changes };
}

describe("WorkerSupervisor", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("backs off 0, 0.5 s, 1 s, 2 s ... up to 30 s", () => {
    expect([0, 1, 2, 3, 4, 7, 20].map(restartDelayMs)).toEqual([0, 500, 1000, 2000, 4000, 30_000, 30_000]);
  });

  it("forks the workers and counts only listening ones as serving", () => {
    const { sup, forked, changes } = supervisor(2);
    sup.start();
    expect(forked).toHaveLength(2);
    expect(sup.alive).toBe(2);
    expect(sup.serving).toHaveLength(0);
    forked[0]?.emit("listening");
    expect(sup.serving.map((w) => w.id)).toEqual([1]);
    expect(changes).toHaveBeenCalledTimes(1);
  });

  it("replaces a worker that ran fine at once, and one that keeps dying young ever more slowly", () => {
    const { sup, forked } = supervisor(2);
    sup.start();
    vi.advanceTimersByTime(60_000);
    forked[0]?.exit(null, "SIGKILL");
    expect(sup.alive).toBe(1);
    vi.advanceTimersByTime(0);
    expect(forked).toHaveLength(3); // a long-running worker died: replaced immediately

    const gaps: number[] = [];
    for (let crash = 0; crash < 5; crash++) {
      const before = forked.length;
      forked.at(-1)?.exit(1); // dies during start-up
      let waited = 0;
      while (forked.length === before) {
        vi.advanceTimersByTime(100);
        waited += 100;
      }
      gaps.push(waited);
    }
    expect(gaps).toEqual([500, 1000, 2000, 4000, 8000]);
    expect(sup.restarts).toBe(6);
    // The other slot was never affected.
    expect(forked[1]?.signals).toEqual([]);
  });

  it("stops by signalling every worker and resolves once the last has exited", async () => {
    const { sup, forked } = supervisor(2);
    sup.start();
    let result: boolean | undefined;
    const stopped = sup.stop("SIGTERM", 10_000).then((clean) => {
      result = clean;
    });
    expect(forked.map((w) => w.signals)).toEqual([["SIGTERM"], ["SIGTERM"]]);
    forked[0]?.exit(0);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(result).toBeUndefined(); // worker 2 is still draining
    expect(forked).toHaveLength(2); // and nothing is replaced while stopping
    forked[1]?.exit(0);
    await stopped;
    expect(result).toBe(true);
    expect(await sup.stop("SIGTERM", 10_000)).toBe(true); // a second signal: same outcome
  });

  it("kills workers still running after the grace period and reports an unclean stop", async () => {
    const { sup, forked } = supervisor(1);
    sup.start();
    const stopped = sup.stop("SIGTERM", 1_000);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(forked[0]?.signals).toEqual(["SIGTERM", "SIGKILL"]);
    forked[0]?.exit(null, "SIGKILL");
    expect(await stopped).toBe(false);
  });
});
