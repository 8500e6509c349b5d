// How many IVF lists a catalog gets: none for small ones, about 2 sqrt(n), never fewer than faiss's
// 39 training points per centroid.
import { describe, expect, it } from "vitest";
import { chooseNlist, MIN_VECTORS_FOR_IVF } from "./ivf.js";

describe("chooseNlist", () => {
  it("scans small catalogs exactly", () => {
    expect(chooseNlist(MIN_VECTORS_FOR_IVF - 1)).toBe(0);
  });

  it("gives each centroid at least 39 training points near the IVF threshold", () => {
    expect(chooseNlist(2_000)).toBe(51);
    expect(2_000 / chooseNlist(2_000)).toBeGreaterThanOrEqual(39);
  });

  it("grows with the square root of larger catalogs, up to 4096 lists", () => {
    expect(chooseNlist(10_805)).toBe(208);
    expect(chooseNlist(100_000)).toBe(632);
    expect(chooseNlist(10_000_000)).toBe(4096);
  });
});
