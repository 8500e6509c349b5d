// Hybrid ranking through POST /v1/answer on a small written catalog (real sidecar): one result per
// course across terms and cross-listings, the offering shown, why each course was found, the stages.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CatalogTerm } from "../catalog/model.js";
import { type AnswerHarness, createAnswerHarness } from "../testutil/answer-harness.js";
import { writtenCourse } from "../testutil/fixtures.js";

const course = writtenCourse;

const ATTENTION = "How attention works, how researchers investigate attention, and its uses in design.";
const TESTING = "Studies theoretical and practical aspects of language testing and test construction.";
const term = (code: string, year: number, extra: ReturnType<typeof course>[] = []): CatalogTerm => ({
  code,
  year,
  season: "Summer",
  courses: [
    course("PSYC 355", "The Attentive Mind", ATTENTION),
    course("EIL 460", "Principles of Language Testing", TESTING),
    course("GER 460", "Principles of Language Testing", "Same as EIL 460 and PORT 460. See EIL 460.", [
      "EIL 460",
      "PORT 460",
    ]),
    course("PORT 460", "Principles of Language Testing", "Same as EIL 460 and GER 460. See EIL 460.", [
      "EIL 460",
      "GER 460",
    ]),
    course("STAT 432", "Basics of Statistical Learning", "Supervised and unsupervised learning, regression."),
    course(
      "CS 446",
      "Machine Learning",
      "Principles and practice of machine learning: classification, regression.",
    ),
    course("THEA 599", "Thesis Research", "Approved thesis research for graduate students in theatre."),
    course("MATH 114", "Trigonometry", "Degrees and radians, trigonometric functions and identities."),
    ...extra,
  ],
});
const TERMS = [
  term("2023-su", 2023),
  term("2024-su", 2024),
  term("2025-su", 2025, [course("TE 461", "Technology Entrepreneurship", "Preparation of a business plan.")]),
];

describe("POST /v1/answer ranking (small catalog, three terms)", () => {
  let harness: AnswerHarness;
  beforeAll(async () => {
    harness = await createAnswerHarness({ load: (h) => h.importTerms(TERMS) });
  });
  afterAll(async () => harness?.close());

  it("returns each course once, from its newest term, listing the others", async () => {
    const { body } = await harness.answer({ question: "the attentive mind", k: 5 });
    const codes = body.results.map((c) => `${c.subject} ${c.number}`);
    expect(new Set(codes).size).toBe(codes.length);
    const first = body.results[0];
    expect(first).toMatchObject({ subject: "PSYC", number: "355", term: "2025-su" });
    expect(first?.otherTerms.map((t) => t.term)).toEqual(["2024-su", "2023-su"]);
    expect(first?.crossListings).toEqual([]);
  });

  it("shows the filtered term's offering", async () => {
    const { body } = await harness.answer({
      question: "the attentive mind",
      filters: { term: "2024-su" },
      k: 3,
    });
    expect(body.results[0]).toMatchObject({ subject: "PSYC", term: "2024-su" });
    expect(body.results[0]?.otherTerms.map((t) => t.term)).toEqual(["2025-su", "2023-su"]);
    expect(body.results.every((c) => c.term === "2024-su")).toBe(true);
  });

  it("folds cross-listed copies into one result with the real description", async () => {
    const { body } = await harness.answer({ question: "principles of language testing", k: 9 });
    const testing = body.results.filter((c) => c.title === "Principles of Language Testing");
    expect(testing).toHaveLength(1);
    expect(testing[0]).toMatchObject({ subject: "EIL", number: "460", term: "2025-su" });
    expect(testing[0]?.crossListings.map((c) => `${c.subject} ${c.number}`)).toEqual(["GER 460", "PORT 460"]);
    // k means distinct courses: the catalog has 8 (TE 461 only in 2025), never 8 copies of one.
    const all = await harness.answer({ question: "principles of language testing", k: 50 });
    expect(all.body.results.length).toBeLessThanOrEqual(8);
    // Asked within one subject, the course is that subject's copy.
    const ger = await harness.answer({ question: "language testing", filters: { subjects: ["GER"] } });
    expect(ger.body.results.map((c) => `${c.subject} ${c.number}`)).toEqual(["GER 460"]);
  });

  it("says which rankings found each course, at what rank, and with which words", async () => {
    const { body } = await harness.answer({
      question: "I am looking for a course about machine learning",
      k: 3,
    });
    expect(body.query.terms).toEqual(["machine", "learning"]);
    const top = body.results[0];
    expect(top).toMatchObject({ subject: "CS", number: "446" });
    expect(top?.why).toEqual({
      terms: ["machine", "learning"],
      lexicalRank: 1,
      vectorRank: expect.any(Number),
    });
    expect(body.results.every((c) => !c.why.terms.includes("course") && !c.why.terms.includes("about"))).toBe(
      true,
    );
    const scores = body.results.map((c) => c.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(body.stages.map((s) => s.name)).toEqual(["lexical", "rewrite", "embed", "vector", "hydrate"]);
  });

  it("finds a course through a typo the embedder cannot read", async () => {
    const { body } = await harness.answer({ question: "trigonomtry", k: 3 });
    expect(body.results[0]).toMatchObject({ title: "Trigonometry" });
    expect(body.results[0]?.why).toMatchObject({ terms: ["trigonometry"], lexicalRank: 1 });
  });

  it("answers the same question with the same ranks every time", async () => {
    const ask = async (question: string) =>
      (await harness.answer({ question, k: 8 })).body.results.map((c) => [
        c.id,
        c.why.lexicalRank,
        c.why.vectorRank,
      ]);
    // Different k: each is a separate whole-answer cache entry, computed afresh.
    const first = await ask("learning and research in design");
    const again = (await harness.answer({ question: "learning and research in design", k: 7 })).body.results;
    expect(again.map((c) => [c.id, c.why.lexicalRank, c.why.vectorRank])).toEqual(first.slice(0, 7));
  });
});

describe("POST /v1/answer with a vector index older than the catalog", () => {
  let harness: AnswerHarness;
  beforeAll(async () => {
    harness = await createAnswerHarness({ load: (h) => h.importTerms(TERMS) });
    // Imported after the index was built: the sidecar does not know these ids.
    await harness.importTerms([
      {
        code: "2026-su",
        year: 2026,
        season: "Summer",
        courses: [course("HORT 101", "Quantum Gardening", "Gardens, soil and plants.")],
      },
    ]);
  });
  afterAll(async () => harness?.close());

  it("still answers, finding new courses by their words", async () => {
    const { response, body } = await harness.answer({ question: "quantum gardening", k: 3 });
    expect(response.status).toBe(200);
    expect(body.results[0]).toMatchObject({
      title: "Quantum Gardening",
      why: { lexicalRank: 1, vectorRank: null },
    });
    const old = await harness.answer({ question: "the attentive mind", filters: { term: "2025-su" }, k: 3 });
    expect(old.body.results[0]).toMatchObject({ subject: "PSYC", why: { lexicalRank: 1, vectorRank: 1 } });
  });
});

describe("ANSWER_RANKING=vector", () => {
  let harness: AnswerHarness;
  beforeAll(async () => {
    harness = await createAnswerHarness({
      env: { ANSWER_RANKING: "vector" },
      load: (h) => h.importTerms(TERMS),
    });
  });
  afterAll(async () => harness?.close());

  it("ranks by the vector alone, still one result per course", async () => {
    const { body } = await harness.answer({ question: "principles of language testing", k: 9 });
    expect(body.stages.map((s) => s.name)).not.toContain("lexical");
    expect(body.results.every((c) => c.why.lexicalRank === null && c.why.vectorRank !== null)).toBe(true);
    expect(body.results.filter((c) => c.title === "Principles of Language Testing")).toHaveLength(1);
  });
});
