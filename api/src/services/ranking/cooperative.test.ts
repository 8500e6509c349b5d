// Building the ranking's index in slices gives the event loop back while it runs, and gives the same
// index as building it at once.
import { describe, expect, it } from "vitest";
import { generateCatalog } from "../../catalog/generator.js";
import type { CourseRow } from "./course-groups.js";
import { RankingSnapshot } from "./ranking-snapshot.js";
import { queryTerms } from "./text-analysis.js";

let id = 1;
const ROWS: CourseRow[] = generateCatalog({ courses: 3000, seed: 11 }).terms.flatMap((term) =>
  term.courses.map((c) => ({
    id: id++,
    term: term.code,
    subject: c.subject,
    number: c.number,
    title: c.title,
    description: c.description,
    crossListed: c.crossListed,
  })),
);

describe("RankingSnapshot.build", () => {
  it("lets other work run while it builds, and ranks as the snapshot built at once", async () => {
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    let built: RankingSnapshot;
    try {
      built = await RankingSnapshot.build(1, ROWS);
    } finally {
      clearInterval(ticker);
    }
    expect(turns).toBeGreaterThan(0);

    const atOnce = new RankingSnapshot(1, ROWS);
    for (const question of ["applied machine learning", "introduction to statistics", "organic chemistry"]) {
      const terms = queryTerms(question);
      const rank = (s: RankingSnapshot) => s.lexicalRanking(terms, s.scope(undefined), 9).hits;
      expect(rank(built)).toEqual(rank(atOnce));
      expect(rank(built).length).toBeGreaterThan(0);
    }
  });
});
