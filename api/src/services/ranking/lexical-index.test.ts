// The lexical ranking on a small written catalog: field weights, stopwords and filler, typos, Japanese.
import { describe, expect, it } from "vitest";
import { writtenCourseRow as course } from "../../testutil/fixtures.js";
import type { CourseRow } from "./course-groups.js";
import { withinOneEdit } from "./lexical-index.js";
import { RankingSnapshot } from "./ranking-snapshot.js";
import { focusQuestion, queryTerms, stem } from "./text-analysis.js";

const ROWS: CourseRow[] = [
  course("STAT 100", "Statistics", "Descriptive statistics, probability and inference for beginners."),
  course(
    "ECON 202",
    "Economic Statistics I",
    "Statistics for economics: statistics of markets, statistics of prices.",
  ),
  course("STAT 432", "Basics of Statistical Learning", "Supervised learning, regression and classification."),
  course(
    "PSYC 355",
    "The Attentive Mind",
    "How attention works; we will study attention and learning in the mind.",
  ),
  course("CS 225", "Data Structures", "Lists, stacks, queues and trees in an object-oriented language."),
  course("CS 411", "Database Systems", "Relational data models and query languages; the data of structures."),
  course(
    "TE 461",
    "Technology Entrepreneurship",
    "Ventures, founders and the preparation of a business plan.",
  ),
  course("CS 498", "Introduction to Machine Learning (機械学習)", "本講義では機械学習の基礎を学ぶ。"),
  course("MATH 415", "Applied Linear Algebra (線形代数)", "本講義では線形代数の基礎を学ぶ。"),
];

describe("lexical ranking", () => {
  const snapshot = new RankingSnapshot(1, ROWS);
  const all = snapshot.scope(undefined);
  const rank = (question: string) =>
    snapshot.lexicalRanking(queryTerms(question), all, 10).hits.map((h) => {
      const canonical = snapshot.groups.groups[h.doc]?.canonical as number;
      const row = snapshot.groups.row(canonical);
      return `${row?.subject} ${row?.number}`;
    });

  it("ranks the course whose title says it above descriptions that repeat it", () => {
    // STAT 432 ("Statistical") comes third: statistics and statistical share their stem.
    expect(rank("statistics")).toEqual(["STAT 100", "ECON 202", "STAT 432"]);
    expect(rank("data structures")[0]).toBe("CS 225");
  });

  it("does not let stopwords and a question's filler match anything", () => {
    expect(queryTerms("I am looking for a course about the attentive mind").map((t) => t.word)).toEqual([
      "attentive",
      "mind",
      // The phrase of the two, which scores only where they stand side by side.
      "attentiv mind",
    ]);
    expect(rank("I would like to take a class on business plans")[0]).toBe("TE 461");
    expect(rank("what is the and of a")).toEqual([]);
  });

  it("reads one-edit typos as the catalog's words and says which", () => {
    expect(rank("statistcal lerning")[0]).toBe("STAT 432");
    const terms = queryTerms("data strucures");
    const hit = snapshot.lexicalRanking(terms, all, 1).hits[0];
    expect(snapshot.lexical.matchedWords(hit?.doc as number, terms)).toEqual(["data", "structures"]);
  });

  it("matches course codes and Japanese bigrams", () => {
    expect(rank("cs 225")[0]).toBe("CS 225");
    expect(rank("CS225")[0]).toBe("CS 225");
    expect(rank("機械学習を学びたい")).toEqual(["CS 498"]);
    expect(rank("線形代数の授業")).toEqual(["MATH 415"]);
  });

  it("returns only allowed courses", () => {
    const scope = snapshot.scope([ROWS[1]?.id as number]);
    const hits = snapshot.lexicalRanking(queryTerms("statistics"), scope, 10).hits;
    expect(hits.map((h) => h.doc)).toEqual([snapshot.groups.groupOf(ROWS[1]?.id as number)]);
  });

  it("gives the same ranks every time", () => {
    const first = rank("statistics learning data");
    for (let i = 0; i < 5; i++) expect(rank("statistics learning data")).toEqual(first);
  });
});

describe("text analysis", () => {
  it("strips conversational wrappers but keeps the topic's own words", () => {
    expect(focusQuestion("Hi! I want to learn about machine learning?")).toBe("machine learning");
    expect(focusQuestion("introduction to statistics")).toBe("introduction to statistics");
    expect(focusQuestion("i am looking for")).toBe("i am looking for");
  });

  it("merges plurals and inflections, not unrelated words", () => {
    expect(stem("statistics")).toBe(stem("statistical"));
    expect(stem("learning")).toBe("learn");
    expect(stem("environmental")).toBe(stem("environment"));
    expect(stem("intro")).toBe(stem("introduction"));
    expect(stem("general")).not.toBe(stem("generate"));
  });

  it("knows one edit from two", () => {
    expect(withinOneEdit("sceince", "science")).toBe(true);
    expect(withinOneEdit("machne", "machine")).toBe(true);
    expect(withinOneEdit("machn", "match")).toBe(false);
  });
});
