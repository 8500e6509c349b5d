// Fusion of ranked lists: reciprocal rank fusion and the score blend, with deterministic ties.
import { describe, expect, it } from "vitest";
import { type FusionMethod, fuse, reciprocalRankFusion, scoreBlend, standardScores } from "./fusion.js";

describe("reciprocalRankFusion", () => {
  it("sums weight / (k + rank) and reports each list's rank", () => {
    const fused = reciprocalRankFusion([{ keys: [1, 2, 3] }, { keys: [3, 1, 4] }], 60);
    expect(fused.map((f) => f.key)).toEqual([1, 3, 2, 4]);
    expect(fused[0]).toEqual({ key: 1, score: 1 / 61 + 1 / 62, ranks: [1, 2] });
    expect(fused.find((f) => f.key === 4)?.ranks).toEqual([null, 3]);
  });

  it("breaks ties by the better best rank, then by the smaller key", () => {
    // 7 and 9 tie on score (each first in one list); 5 and 6 tie with equal best ranks.
    const fused = reciprocalRankFusion([{ keys: [9, 5] }, { keys: [7, 6] }], 60);
    expect(fused.map((f) => f.key)).toEqual([7, 9, 5, 6]);
  });

  it("weights lists", () => {
    const fused = fuse([{ keys: [1, 2] }, { keys: [2, 1] }], { kind: "rrf", k: 60, weights: [1, 0.5] });
    expect(fused.map((f) => f.key)).toEqual([1, 2]);
  });
});

describe("scoreBlend", () => {
  it("divides each list by its scale, or by its best score where told to", () => {
    const lists = [
      { keys: [1, 2], scores: [20, 10], scale: 40 },
      { keys: [2, 3], scores: [0.5, 0.4], scale: 1 },
    ];
    const own = scoreBlend(lists);
    expect(own.map((f) => [f.key, f.score])).toEqual([
      [2, 0.25 + 0.5],
      [1, 0.5],
      [3, 0.4],
    ]);
    const relativeLexical = scoreBlend(lists, [true, false]);
    expect(relativeLexical.map((f) => [f.key, f.score])).toEqual([
      [1, 1],
      [2, 0.5 + 0.5],
      [3, 0.4],
    ]);
  });

  it("lets a strong lexical match stand against a vector ranking of near-equal weak scores", () => {
    // A typo the embedder cannot read: its candidates all score about 0.15, none of them the course.
    const fused = fuse(
      [
        { keys: [10, 11, 12], scores: [14, 6, 5], scale: 1 },
        { keys: [20, 21, 10], scores: [0.16, 0.15, 0.14], scale: 1 },
      ],
      { kind: "blend", relative: [true, false] },
    );
    expect(fused[0]?.key).toBe(10);
    expect(fused[0]?.ranks).toEqual([1, 3]);
  });
});

describe("standard-score blend", () => {
  // Ten near-equal weak vector scores (the offline embedder on a typo) and one that stands out.
  const noise = [0.16, 0.155, 0.15, 0.15, 0.148, 0.147, 0.145, 0.144, 0.143, 0.142, 0.14, 0.139];
  const method: FusionMethod = { kind: "blend", standard: [undefined, { above: 2.5, per: 5 }] };

  it("adds nothing for vector candidates that do not stand out of their own list", () => {
    expect(standardScores(noise, { above: 2.5, per: 5 }).every((s) => s === 0)).toBe(true);
    const fused = fuse(
      [
        { keys: [10, 11], scores: [4, 2], scale: 8 },
        { keys: noise.map((_, i) => 20 + i), scores: noise },
      ],
      method,
    );
    expect(fused.slice(0, 2).map((f) => [f.key, f.score])).toEqual([
      [10, 0.5],
      [11, 0.25],
    ]);
    // Vector-only candidates score 0 and keep their vector order behind the lexical matches.
    expect(fused.slice(2, 4).map((f) => f.key)).toEqual([20, 21]);
  });

  it("lifts the course that stands far above the vector ranking's other candidates", () => {
    const scores = [0.45, ...noise];
    const z = standardScores(scores, { above: 2.5, per: 5 });
    expect(z[0]).toBeGreaterThan(0);
    expect(z.slice(1).every((s) => s === 0)).toBe(true);
    // Lexically second, first in meaning by far: ends first.
    const fused = fuse(
      [
        { keys: [10, 11], scores: [4, 3.6], scale: 8 },
        { keys: [11, ...noise.map((_, i) => 20 + i)], scores },
      ],
      method,
    );
    expect(fused[0]?.key).toBe(11);
    expect(fused[0]?.ranks).toEqual([2, 1]);
  });

  it("reads too short a list as adding nothing", () => {
    expect(standardScores([0.9, 0.1, 0.1], { above: 0, per: 1 })).toEqual([0, 0, 0]);
  });
});
