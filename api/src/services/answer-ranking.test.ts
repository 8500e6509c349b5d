// Fusing an answer's candidates: the served blend, and one ranking alone keeping its own scores.
import { describe, expect, it } from "vitest";
import { type Candidates, fuseCandidates } from "./answer-ranking.js";
import type { Scope } from "./ranking/ranking-snapshot.js";

const GROUPS = 40;
const scope: Scope = {
  mask: new Uint8Array(GROUPS).fill(1),
  // Offering id = 100 + group.
  representative: Int32Array.from({ length: GROUPS }, (_, g) => 100 + g),
  vectorIds: [],
};
// Thirty near-equal inner products (nothing stands out), then the same with course 3 far ahead.
const flat = Array.from({ length: 30 }, (_, i) => Math.round((0.16 - i * 0.001) * 1000) / 1000);
const vector = (first: number): Candidates => ({
  keys: [first, ...flat.map((_, i) => 5 + i)],
  scores: [first === 3 ? 0.6 : 0.161, ...flat],
  scale: 1,
});
const lexical: Candidates = { keys: [1, 2, 3], scores: [6, 5.5, 5], scale: 10 };

describe("fuseCandidates", () => {
  it("lets only a vector candidate that stands out of its list move the lexical order", () => {
    expect(fuseCandidates(scope, lexical, vector(4), 3).map((r) => r.group)).toEqual([1, 2, 3]);
    const lifted = fuseCandidates(scope, lexical, vector(3), 3);
    expect(lifted.map((r) => [r.group, r.lexicalRank, r.vectorRank])).toEqual([
      [3, 3, 1],
      [1, 1, null],
      [2, 2, null],
    ]);
    expect(lifted[0]?.id).toBe(103);
  });

  it("keeps the vector ranking's inner products when it ranks alone", () => {
    const alone = fuseCandidates(scope, undefined, vector(3), 3);
    expect(alone.map((r) => [r.group, r.score])).toEqual([
      [3, 0.6],
      [5, 0.16],
      [6, 0.159],
    ]);
    const noWords = fuseCandidates(scope, { keys: [], scores: [], scale: 1 }, vector(3), 1);
    expect(noWords[0]?.score).toBe(0.6);
  });
});
