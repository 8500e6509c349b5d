// What the vector ranking embeds, on a small written catalog: typos corrected against the catalog's
// words, and the words the best lexical matches' titles share beside the question (title feedback).
import { describe, expect, it } from "vitest";
import { writtenCourseRow as course } from "../../testutil/fixtures.js";
import type { CourseRow } from "./course-groups.js";
import { RankingSnapshot } from "./ranking-snapshot.js";
import { queryTerms } from "./text-analysis.js";
import { correctTypos, feedbackWords } from "./vector-question.js";

const ROWS: CourseRow[] = [
  course("CS 446", "Machine Learning", "Learning from data: statistical learning, regression."),
  course("STAT 432", "Basics of Statistical Learning", "Supervised learning and learning theory."),
  course("PSYC 210", "Leaning Towers", "Why buildings lean."),
  course("CS 225", "Data Structures", "Lists, stacks, queues and trees."),
  course("CS 498", "Advanced Machine Learning (機械学習)", "本講義では機械学習を学ぶ。"),
  course("CS 499", "Seminar in Machine Learning (機械学習)", "本講義では機械学習を学ぶ。"),
  course("CS 173", "Foundations of Databases (データベース)", "本講義ではデータベースを学ぶ。"),
];

describe("the text the vector ranking embeds", () => {
  const snapshot = new RankingSnapshot(1, ROWS);
  const all = snapshot.scope(undefined);
  const lexicalTop = (question: string) =>
    snapshot.lexicalRanking(queryTerms(question), all, 3).hits.map((h) => h.doc);

  it("replaces words the catalog lacks by the most used catalog word one edit away", () => {
    // "lerning" is one edit from both "learning" (5 courses) and "leaning" (1): the common word wins.
    expect(snapshot.vectorQuestion("machne lerning")).toBe("machine learning");
    expect(snapshot.vectorQuestion("data strucures")).toBe("data structures");
  });

  it("leaves catalog words, their inflections, stopwords and words with no neighbour alone", () => {
    expect(snapshot.vectorQuestion("leaning towers")).toBe("leaning towers");
    // "learnings" is not a catalog word, but its stem is: the lexical ranking reads it as no typo.
    expect(snapshot.vectorQuestion("learnings")).toBe("learnings");
    expect(snapshot.vectorQuestion("about the xyzzy")).toBe("about the xyzzy");
    expect(snapshot.vectorQuestion("cs225 and 機械学習")).toBe("cs225 and 機械学習");
  });

  it("adds what the best matches' titles share when they say the whole question", () => {
    expect(snapshot.vectorQuestion("機械学習", lexicalTop("機械学習を学びたい"))).toBe(
      "機械学習 machine learning",
    );
    // Only one English title says "machine learning": nothing is shared, nothing is added.
    expect(snapshot.vectorQuestion("machine learning", lexicalTop("machine learning"))).toBe(
      "machine learning",
    );
  });

  it("corrects every word of a text but its stopwords, through the correction it is given", () => {
    const fixes: Record<string, string> = { quik: "quick", dgo: "dog", about: "abbot" };
    expect(correctTypos("a quik fox, about a dgo", (w) => fixes[w])).toBe("a quick fox, about a dog");
  });
});

describe("title feedback", () => {
  it("takes the words at least two titles share, not the question's own", () => {
    const titles = [
      "Seminar in Data Structures (データ構造)",
      "Topics in Data Structures (データ構造)",
      "Foundations of Data Structures (データ構造)",
    ];
    expect(feedbackWords("データ構造", titles)).toEqual(["data", "structures"]);
  });

  it("reads no title that lacks one of the question's terms", () => {
    const titles = [
      "Contemporary Nutrition",
      "Physical Activity, Nutrition, and Health",
      "Contemporary Health",
    ];
    expect(feedbackWords("nutritional principles for a healthy diet", titles)).toEqual([]);
    expect(feedbackWords("", titles)).toEqual([]);
  });

  it("reads only the first three titles", () => {
    const titles = [
      "Linear Algebra",
      "Applied Linear Algebra",
      "Abstract Linear Algebra",
      "Applied Linear Algebra",
    ];
    expect(feedbackWords("linear algebra", titles)).toEqual([]);
  });
});
