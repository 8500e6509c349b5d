// Threads share the one loaded copy of the vectors: resident memory with 4 threads is not 4 copies.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { waitFor } from "@kogi/api/testutil/redis-server";
import { LocalEmbedder } from "@kogi/shared/embedding/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeIndexVersion } from "../src/build-index.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const DIMS = 1536;
const ROWS = 30_000;

function randomUnitMatrix(rows: number): Float32Array {
  const matrix = new Float32Array(rows * DIMS);
  let state = 7;
  for (let r = 0; r < rows; r++) {
    let norm = 0;
    for (let j = 0; j < DIMS; j++) {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      const value = state / 2 ** 31 - 0.5;
      matrix[r * DIMS + j] = value;
      norm += value * value;
    }
    norm = Math.sqrt(norm);
    for (let j = 0; j < DIMS; j++) matrix[r * DIMS + j] = (matrix[r * DIMS + j] as number) / norm;
  }
  return matrix;
}

async function residentMemory(dir: string, threads: number, port: number): Promise<number> {
  const child: ChildProcess = spawn(`${root}node_modules/.bin/tsx`, ["vector-worker/src/main.ts"], {
    cwd: root,
    env: {
      ...process.env,
      VECTOR_INDEX_DIR: dir,
      VECTOR_THREADS: String(threads),
      VECTOR_PORT: String(port),
      LOG_LEVEL: "warn",
    },
    stdio: "ignore",
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => (await fetch(`${base}/ready`).catch(() => undefined))?.status === 200,
      "sidecar",
      60_000,
    );
    const query = Array.from({ length: DIMS }, (_, i) => Math.sin(i));
    // Enough concurrent searches that every thread has mapped the index.
    for (let round = 0; round < 5; round++)
      await Promise.all(
        Array.from({ length: threads * 4 }, () =>
          fetch(`${base}/v1/search`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ vector: query, k: 9 }),
          }).then((r) => r.status),
        ),
      );
    const stats = (await (await fetch(`${base}/stats`)).json()) as {
      threads: number;
      memory: { rss: number };
    };
    expect(stats.threads).toBe(threads);
    return stats.memory.rss;
  } finally {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
}

describe("sidecar memory", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "kogi-vectors-mem-"));
    await writeIndexVersion({
      dir,
      matrix: randomUnitMatrix(ROWS),
      ids: Int32Array.from({ length: ROWS }, (_, i) => i + 1),
      embedder: new LocalEmbedder({ dims: DIMS }),
      catalogVersion: 1,
    });
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it("grows by far less than the vector matrix from 1 to 4 threads", async () => {
    const matrixBytes = ROWS * DIMS * 4;
    const port = 21000 + (process.pid % 10000);
    const one = await residentMemory(dir, 1, port);
    const four = await residentMemory(dir, 4, port + 1);
    console.log(
      `rss 1 thread ${(one / 2 ** 20).toFixed(0)} MiB, 4 threads ${(four / 2 ** 20).toFixed(0)} MiB, matrix ${(matrixBytes / 2 ** 20).toFixed(0)} MiB`,
    );
    expect(one).toBeGreaterThan(matrixBytes);
    expect(four - one).toBeLessThan(matrixBytes * 0.5);
  });
});
