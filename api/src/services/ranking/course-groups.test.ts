// Grouping rows into courses: terms of one code, cross-listed copies, the offering shown, the others listed.
import { describe, expect, it } from "vitest";
import { CourseGroups, type CourseRow } from "./course-groups.js";

const row = (
  id: number,
  term: string,
  code: string,
  title: string,
  description = "Real text.",
  crossListed: string[] = [],
) => {
  const [subject = "", number = ""] = code.split(" ");
  return { id, term, subject, number, title, description, crossListed } satisfies CourseRow;
};

// PSYC 355 in three terms; EIL 460 with two cross-listed stubs in two terms; CS 225 once.
const ROWS: CourseRow[] = [
  row(1, "2024-su", "PSYC 355", "The Attentive Mind"),
  row(2, "2025-su", "PSYC 355", "The Attentive Mind"),
  row(3, "2023-su", "PSYC 355", "The Attentive Mind"),
  row(4, "2025-su", "EIL 460", "Principles of Language Testing", "Studies language testing."),
  row(
    5,
    "2025-su",
    "GER 460",
    "Principles of Language Testing",
    "Same as EIL 460 and PORT 460. See EIL 460.",
    ["EIL 460", "PORT 460"],
  ),
  row(
    6,
    "2025-su",
    "PORT 460",
    "Principles of Language Testing",
    "Same as EIL 460 and GER 460. See EIL 460.",
    ["EIL 460", "GER 460"],
  ),
  row(7, "2024-su", "GER 460", "Principles of Language Testing", "Same as EIL 460. See EIL 460.", [
    "EIL 460",
  ]),
  row(8, "2024-su", "EIL 460", "Principles of Language Testing", "Studies language testing."),
  row(9, "2025-su", "CS 225", "Data Structures"),
];

describe("CourseGroups", () => {
  const groups = new CourseGroups(ROWS);
  const groupOf = (id: number) => groups.groupOf(id);

  it("puts every term of a code and every cross-listed copy in one course", () => {
    expect(groups.groups).toHaveLength(3);
    expect(new Set([1, 2, 3].map(groupOf)).size).toBe(1);
    expect(new Set([4, 5, 6, 7, 8].map(groupOf)).size).toBe(1);
    expect(groupOf(9)).not.toBe(groupOf(1));
    expect(groupOf(99)).toBe(-1);
  });

  it("orders members newest term first, the real description before its stubs", () => {
    const eil = groups.groups[groupOf(4)];
    expect(eil?.members).toEqual([4, 5, 6, 8, 7]);
    // The newest row with a real description stands for the course when it is scored.
    expect(eil?.canonical).toBe(4);
    expect(groups.groups[groupOf(1)]?.members).toEqual([2, 1, 3]);
  });

  it("shows the newest offering without a filter, and the best allowed one with a filter", () => {
    const all = groups.allowed(undefined);
    expect(all.representative[groupOf(1)]).toBe(2);
    expect(all.representative[groupOf(4)]).toBe(4);
    // A term filter: that term's offering.
    const summer24 = groups.allowed([1, 7, 8]);
    expect(summer24.representative[groupOf(1)]).toBe(1);
    expect(summer24.representative[groupOf(4)]).toBe(8);
    expect(summer24.mask[groupOf(9)]).toBe(0);
    // A subject filter (GER): the GER copy, even though its text is a stub.
    expect(groups.allowed([5, 7]).representative[groupOf(4)]).toBe(5);
  });

  it("lists the other terms of the code shown and the cross-listings in its term", () => {
    expect(groups.offerings(groupOf(2), 2)).toEqual({
      otherTerms: [
        { id: 1, term: "2024-su" },
        { id: 3, term: "2023-su" },
      ],
      crossListings: [],
    });
    expect(groups.offerings(groupOf(4), 4)).toEqual({
      otherTerms: [{ id: 8, term: "2024-su" }],
      crossListings: [
        { id: 5, subject: "GER", number: "460" },
        { id: 6, subject: "PORT", number: "460" },
      ],
    });
    expect(groups.codes(groupOf(4))).toEqual(["EIL 460", "GER 460", "PORT 460"]);
  });
});
