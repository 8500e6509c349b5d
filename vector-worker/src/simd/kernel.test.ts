import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { scanRange, scanRows, TopK } from "../search-kernel.js";
import { compileKernel, generatedPath } from "./build.js";
import { createIndexMemory, WasmScanner } from "./kernel.js";

function randomMatrix(memory: WebAssembly.Memory, count: number, dims: number, seed: number) {
  const matrix = new Float32Array(memory.buffer, 0, count * dims);
  let state = seed;
  for (let i = 0; i < matrix.length; i++) {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    matrix[i] = state / 2 ** 32 - 0.5;
  }
  return matrix;
}

const bestOf = (top: TopK) => ({
  rows: [...top.rows.slice(0, top.size)],
  scores: [...top.scores.slice(0, top.size)],
});

describe("SIMD scan kernel", () => {
  it("scan-wasm.ts is the compiled scan.wat", async () => {
    expect(await readFile(generatedPath, "utf8")).toBe(await compileKernel());
  });

  // 20 dims: one 64-byte step and one 16-byte step per row; 1536: the production width.
  for (const dims of [4, 20, 1536]) {
    it(`scores every row as the plain-JS kernel does (${dims} dims)`, () => {
      const count = 2_500; // more than one 1024-row block
      const memory = createIndexMemory(count, dims);
      if (!memory) throw new Error("expected a WebAssembly memory");
      const matrix = randomMatrix(memory, count, dims, dims);
      const query = Float32Array.from({ length: dims }, (_, i) => Math.sin(i + 1));
      const scanner = WasmScanner.claim(memory, count, dims);
      if (!scanner) throw new Error("expected a scratch slot");
      scanner.setQuery(query);

      const all = { wasm: new TopK(count), js: new TopK(count) };
      expect(scanner.scanRange(0, count, all.wasm)).toBe(count);
      scanRange(matrix, dims, query, 0, count, all.js);
      // Summation order differs, so compare each row's score, not the order of near-ties.
      const scoreOf = (top: TopK) => new Map([...top.rows].map((row, i) => [row, top.scores[i] as number]));
      const wasmScores = scoreOf(all.wasm);
      expect(wasmScores.size).toBe(count);
      for (const [row, score] of scoreOf(all.js)) expect(wasmScores.get(row)).toBeCloseTo(score, 4);
      expect(all.wasm.rows.slice(0, 10)).toEqual(all.js.rows.slice(0, 10));

      const allowed = new Uint8Array((count + 7) >> 3);
      for (let row = 3; row < count; row += 7)
        allowed[row >> 3] = (allowed[row >> 3] ?? 0) | (1 << (row & 7));
      const filtered = { wasm: new TopK(10), js: new TopK(10) };
      const scanned = scanner.scanRange(100, 2_400, filtered.wasm, allowed);
      expect(scanned).toBe(scanRange(matrix, dims, query, 100, 2_400, filtered.js, allowed));
      expect(bestOf(filtered.wasm).rows).toEqual(bestOf(filtered.js).rows);

      const rows = Int32Array.from({ length: 1_500 }, (_, i) => (i * 37) % count);
      const picked = { wasm: new TopK(9), js: new TopK(9) };
      scanner.scanRows(rows, picked.wasm);
      scanRows(matrix, dims, query, rows, picked.js);
      expect(bestOf(picked.wasm).rows).toEqual(bestOf(picked.js).rows);
    });
  }

  it("gives each thread its own scratch slot and none past the last", () => {
    const memory = createIndexMemory(10, 8);
    if (!memory) throw new Error("expected a WebAssembly memory");
    randomMatrix(memory, 10, 8, 1);
    const scanners = Array.from({ length: 64 }, () => WasmScanner.claim(memory, 10, 8));
    expect(scanners.every((s) => s !== null)).toBe(true);
    expect(WasmScanner.claim(memory, 10, 8)).toBeNull();
    // Two scanners with different queries do not overwrite each other's.
    const [a, b] = scanners as WasmScanner[];
    a?.setQuery(Float32Array.from({ length: 8 }, () => 1));
    b?.setQuery(Float32Array.from({ length: 8 }, () => -1));
    const topA = new TopK(1);
    const topB = new TopK(1);
    a?.scanRange(0, 10, topA);
    b?.scanRange(0, 10, topB);
    expect(topA.rows[0]).not.toBe(topB.rows[0]);
  });

  it("leaves shapes it cannot scan to the plain-JS kernel", () => {
    expect(createIndexMemory(10, 6)).toBeNull();
    expect(createIndexMemory(1_000_000, 1536)).toBeNull(); // 6 GB: past 32-bit addressing
  });
});
