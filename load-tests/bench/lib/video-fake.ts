// Parent side of the fake D-ID child (load-tests/bench/video-fake.ts): start it, read its stats, reset it.
import type { FakeDIdOptions, FakeDIdStats } from "@kogi/shared/fakes/d-id-server";
import { cleanups } from "./cleanup.js";
import { type ServerChild, startServer } from "./processes.js";

export interface FakeDIdChild extends ServerChild {
  /** What D_ID_API_KEY must be (`user:secret`). */
  apiKey: string;
  stats(): Promise<FakeDIdStats>;
  /** No talks, uploads or counts any more; the behaviour stays as started. */
  reset(): Promise<void>;
}

const FAKE_API_KEY = "kogi-bench:fake-secret";

/** The fake in its own process, stopped by PID at cleanup (or earlier by the caller). */
export async function startFakeDIdChild(cwd: string, options: FakeDIdOptions): Promise<FakeDIdChild> {
  const child = await startServer("load-tests/bench/video-fake.ts", {
    cwd,
    env: { FAKE_D_ID_OPTIONS: JSON.stringify({ ...options, apiKey: FAKE_API_KEY }) },
  });
  cleanups.push(child.stop);
  const fake = (path: string, method = "GET") =>
    fetch(`${child.url}/__fake/${path}`, { method }).then(async (response) => {
      if (!response.ok) throw new Error(`fake D-ID ${method} /__fake/${path}: ${response.status}`);
      return response.status === 204 ? undefined : response.json();
    });
  return {
    ...child,
    apiKey: FAKE_API_KEY,
    stats: () => fake("stats") as Promise<FakeDIdStats>,
    reset: async () => void (await fake("reset", "POST")),
  };
}
