// Fusion of ranked lists: reciprocal rank fusion and the score blend, with deterministic ties.
import { describe, expect, it } from "vitest";
import { fuse, reciprocalRankFusion, scoreBlend } from "./fusion.js";

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
