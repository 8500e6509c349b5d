// Abbreviated title words read as the description's word: what is expanded, what is left alone.
import { describe, expect, it } from "vitest";
import type { CourseRow } from "./course-groups.js";
import { RankingSnapshot } from "./ranking-snapshot.js";
import { queryTerms } from "./text-analysis.js";
import { TitleAbbreviations } from "./title-abbreviations.js";

describe("TitleAbbreviations", () => {
  const catalog = new TitleAbbreviations([
    "Advanced organic chemistry: synthesis and mechanisms. Prerequisite: CHEM 232.",
    "Art and artistic practice; art history for art majors.",
    "Studio art: the artist's materials and art criticism.",
    "Art of the Renaissance and its artists.",
    "Prerequisite: CHEM 102 or CHEM 104. Credit is not given for both CHEM 202 and CHEM 204.",
  ]);

  it("reads a title word no description uses as a word as the longer word of its own description", () => {
    expect(
      catalog.expandTitle(
        "Elementary Organic Chem II",
        "Continuation of CHEM 232: advanced organic chemistry and carbohydrate chemistry.",
      ),
    ).toEqual(["elementary", "organic", "chemistry", "ii"]);
  });

  it("leaves words that descriptions use as words, known abbreviations and unmatched words alone", () => {
    // "art" is a word in three descriptions; "intro" is already read as "introduction" by the stemmer.
    expect(catalog.expandTitle("Art Studio", "Artistic practice.")).toEqual(["art", "studio"]);
    expect(catalog.expandTitle("Intro to Chem", "An introductory survey.")).toEqual(["intro", "to", "chem"]);
  });

  it("counts a subject code before a number as a code, not as a use of the word", () => {
    // "CHEM 102" in five descriptions does not make "chem" a word.
    expect(catalog.expandTitle("Chem Lab", "General chemistry laboratory.")).toEqual(["chemistry", "lab"]);
  });
});

describe("abbreviated titles in the lexical ranking", () => {
  const row = (id: number, code: string, title: string, description: string): CourseRow => {
    const [subject = "", number = ""] = code.split(" ");
    return { id, term: "2025-su", subject, number, title, description, crossListed: [] };
  };
  const snapshot = new RankingSnapshot(1, [
    row(1, "CHEM 360", "Chemistry of the Environment", "Chemistry of air and water; organic pollutants."),
    row(
      2,
      "CHEM 332",
      "Elementary Organic Chem II",
      "Continuation of CHEM 232: organic chemistry synthesis.",
    ),
    row(3, "HIST 100", "Global History", "Empires and trade."),
  ]);

  it("ranks a course whose title abbreviates the question's words as a title match", () => {
    const hits = snapshot.lexicalRanking(queryTerms("organic chemistry"), snapshot.scope(undefined), 5).hits;
    const codes = hits.map((h) => snapshot.groups.codes(h.doc)[0]);
    expect(codes).toEqual(["CHEM 332", "CHEM 360"]);
  });
});
