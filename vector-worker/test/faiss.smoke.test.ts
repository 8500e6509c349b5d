// Smoke test of the faiss-node build: loads the addon, builds small indexes, searches them.
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";

const require = createRequire(import.meta.url);
const faiss = require("faiss-node") as typeof import("faiss-node");

function randomVectors(n: number, dims: number, seed: number): number[] {
  let state = seed;
  return Array.from({ length: n * dims }, () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31 - 0.5;
  });
}

describe("faiss-node (built from Debian's libfaiss)", () => {
  it("finds each vector as its own nearest neighbour in a flat index", () => {
    const dims = 16;
    const index = new faiss.IndexFlatL2(dims);
    const data = randomVectors(100, dims, 1);
    index.add(data);
    expect(index.ntotal()).toBe(100);
    const result = index.search(data.slice(37 * dims, 38 * dims), 3);
    expect(result.labels[0]).toBe(37);
    expect(result.distances[0]).toBeCloseTo(0, 5);
  });

  it("trains an IVF index from a factory string and survives a buffer round trip", () => {
    const dims = 8;
    const index = faiss.Index.fromFactory(dims, "IVF4,Flat", faiss.MetricType.METRIC_INNER_PRODUCT);
    const data = randomVectors(400, dims, 2);
    index.train(data);
    index.add(data);
    const copy = faiss.Index.fromBuffer(index.toBuffer());
    expect(copy.ntotal()).toBe(400);
    const query = data.slice(0, dims);
    expect(copy.search(query, 5).labels).toEqual(index.search(query, 5).labels);
  });

  it("turns faiss errors into exceptions instead of aborting the process", () => {
    const index = new faiss.IndexFlatL2(4);
    index.add([1, 2, 3, 4]);
    expect(() => index.search([1, 2, 3, 4], 5)).toThrow();
  });

  it("loads and searches inside worker threads (context-aware addon)", async () => {
    const code = `
      const { parentPort } = require("node:worker_threads");
      const { IndexFlatIP } = require(${JSON.stringify(require.resolve("faiss-node"))});
      const index = new IndexFlatIP(2);
      index.add([1, 0, 0, 1]);
      parentPort.postMessage(index.search([0, 1], 1).labels[0]);`;
    const labels = await Promise.all(
      [1, 2].map(
        () =>
          new Promise<number>((resolve, reject) => {
            const worker = new Worker(code, { eval: true });
            worker.once("message", resolve);
            worker.once("error", reject);
          }),
      ),
    );
    expect(labels).toEqual([1, 1]);
  });
});
