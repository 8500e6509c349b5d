import { describe, expect, it } from "vitest";
import { distinctRows } from "./dedupe.js";

describe("distinctRows", () => {
  it("keeps each distinct vector once per list and lists the courses sharing it", () => {
    const dims = 2;
    // Two lists: rows 0-3 and 4-5. Rows 0, 2 and 3 are equal; row 4 equals row 1 but sits in another
    // list (it cannot, in a real index: equal vectors share a list), so it stays a row of its own.
    const vectors = Float32Array.of(1, 0, 0, 1, 1, 0, 1, 0, 0, 1, 0.6, 0.8);
    const ids = Int32Array.of(10, 11, 12, 13, 14, 15);
    const lists = Uint32Array.of(0, 4, 6);
    const distinct = distinctRows(vectors, dims, ids, lists);
    expect(distinct.rows).toBe(4);
    expect([...distinct.sourceOf]).toEqual([0, 1, 4, 5]);
    expect([...distinct.lists]).toEqual([0, 2, 4]);
    const membersOf = (row: number) => [
      ...distinct.memberIds.subarray(distinct.members[row], distinct.members[row + 1]),
    ];
    expect([0, 1, 2, 3].map(membersOf)).toEqual([[10, 12, 13], [11], [14], [15]]);
  });

  it("tells apart rows that differ in one bit only, and -0 from 0", () => {
    const a = Float32Array.of(0.5, 0.25);
    const b = Float32Array.of(0.5, 0.25 + 2 ** -25);
    const vectors = Float32Array.of(...a, ...b, 0, 1, -0, 1);
    const distinct = distinctRows(vectors, 2, Int32Array.of(1, 2, 3, 4), Uint32Array.of(0, 4));
    expect(distinct.rows).toBe(4);
  });
});
