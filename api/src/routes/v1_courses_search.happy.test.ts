// Every search filter, alone and combined, against an oracle computed here from the raw CSV rows.
import { readFileSync } from "node:fs";
import { parse } from "csv-parse/sync";
import { decodeHTML } from "entities";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, searchAll, uiucFiles } from "../testutil/harness.js";

type Row = Record<string, string>;
interface OracleSection {
  crn: string;
  rows: Row[];
}
interface OracleCourse {
  key: string;
  term: string;
  subject: string;
  number: number;
  text: string;
  credits: [number, number];
  attributes: string;
  sections: Map<string, OracleSection>;
}

const toMinutes = (t: string) => {
  const m = /^(\d\d):(\d\d) (AM|PM)$/.exec(t);
  if (!m) return null;
  return ((Number(m[1]) % 12) + (m[3] === "PM" ? 12 : 0)) * 60 + Number(m[2]);
};

function loadOracle(): OracleCourse[] {
  const courses = new Map<string, OracleCourse>();
  for (const path of uiucFiles()) {
    for (const row of parse(readFileSync(path, "utf8"), { columns: true }) as Row[]) {
      const key = `${row.YearTerm} ${row.Subject} ${row.Number}`;
      let course = courses.get(key);
      if (!course) {
        const nums = (row["Credit Hours"] as string).match(/\d*\.?\d+/g)?.map(Number) ?? [0];
        course = {
          key,
          term: row.YearTerm as string,
          subject: row.Subject as string,
          number: Number(row.Number),
          text: decodeHTML(`${row.Name} ${row.Description} ${row.Subject} ${row.Number}`).toLowerCase(),
          credits: [nums[0] as number, (nums[1] ?? nums[0]) as number],
          attributes: (row["Degree Attributes"] as string).replace(/\u2013/g, "-"),
          sections: new Map(),
        };
        courses.set(key, course);
      }
      const section = course.sections.get(row.CRN as string) ?? { crn: row.CRN as string, rows: [] };
      section.rows.push(row);
      course.sections.set(row.CRN as string, section);
    }
  }
  return [...courses.values()];
}

interface Filters {
  term?: string;
  subjects?: string[];
  keyword?: string;
  creditHours?: { min?: number; max?: number };
  days?: string[];
  timeWindow?: { start: string; end: string };
  levels?: number[];
  types?: string[];
  instructor?: string;
  genEd?: string[];
  openOnly?: boolean;
}

const GEN_ED_NAMES: Record<string, RegExp> = {
  QR1: /Quantitative Reasoning I(?!I)/,
  ACP: /Advanced Composition/,
  HP: /Humanities - Hist & Phil/,
};

function sectionMatches(section: OracleSection, f: Filters): boolean {
  const scheduled = section.rows.filter((r) => toMinutes(r["Start Time"] as string) !== null);
  if (f.openOnly) {
    const first = section.rows[0] as Row;
    if (first["Status Code"] !== "A" || /closed|full/i.test(first["Enrollment Status"] as string))
      return false;
  }
  if (f.days) {
    // A fixed schedule means days and times; only those meetings are checked against the days.
    const fixed = scheduled.filter((r) => r["Days of Week"] !== "");
    if (fixed.length === 0) return false;
    if (!fixed.every((r) => [...(r["Days of Week"] as string)].every((d) => f.days?.includes(d))))
      return false;
  }
  if (f.timeWindow) {
    const [ws, we] = [f.timeWindow.start, f.timeWindow.end].map(
      (t) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3)),
    );
    if (scheduled.length === 0) return false;
    const inside = (r: Row) =>
      (toMinutes(r["Start Time"] as string) as number) >= (ws as number) &&
      (toMinutes(r["End Time"] as string) as number) <= (we as number);
    if (!scheduled.every(inside)) return false;
  }
  if (f.types && !section.rows.some((r) => f.types?.includes(r["Type Code"] as string))) return false;
  if (f.instructor) {
    const needle = f.instructor.toLowerCase();
    const names = section.rows.flatMap((r) => (r.Instructors as string).split(";"));
    if (!names.some((n) => n.toLowerCase().includes(needle))) return false;
  }
  return true;
}

const hasSectionFilter = (f: Filters) =>
  Boolean(f.openOnly || f.days || f.timeWindow || f.types || f.instructor);

/** Expected "term subject number" -> matching CRNs. */
function expected(oracle: OracleCourse[], f: Filters): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const c of oracle) {
    if (f.term && c.term !== f.term) continue;
    if (f.subjects && !f.subjects.includes(c.subject)) continue;
    if (f.levels && !f.levels.includes(Math.floor(c.number / 100) * 100)) continue;
    if (f.creditHours?.min !== undefined && c.credits[1] < f.creditHours.min) continue;
    if (f.creditHours?.max !== undefined && c.credits[0] > f.creditHours.max) continue;
    if (f.genEd && !f.genEd.some((code) => GEN_ED_NAMES[code]?.test(c.attributes))) continue;
    if (f.keyword) {
      const words = c.text.match(/[\p{L}\p{N}]+/gu) ?? [];
      const wanted = f.keyword.toLowerCase().split(/\s+/);
      if (!wanted.every((w) => words.some((word) => word.startsWith(w)))) continue;
    }
    const sections = [...c.sections.values()].filter((s) => sectionMatches(s, f)).map((s) => s.crn);
    if (hasSectionFilter(f) && sections.length === 0) continue;
    out.set(c.key, sections.sort());
  }
  return out;
}

const CASES: [string, Filters][] = [
  ["term", { term: "2024-su" }],
  ["subjects", { subjects: ["CS", "MATH"] }],
  ["keyword (one word)", { keyword: "quantum" }],
  ["keyword (two words, prefixes)", { keyword: "data struct" }],
  ["credit hours minimum", { term: "2023-su", creditHours: { min: 5 } }],
  ["credit hours maximum", { term: "2023-su", creditHours: { max: 1 } }],
  ["credit hours range", { term: "2022-su", creditHours: { min: 2, max: 3 } }],
  ["days (R is Thursday)", { term: "2024-su", days: ["T", "R"] }],
  ["time window", { term: "2024-su", timeWindow: { start: "08:00", end: "12:00" } }],
  ["levels", { term: "2021-su", levels: [400, 500] }],
  ["section types", { types: ["LAB", "LBD"] }],
  ["instructor", { instructor: "smith" }],
  ["gen-ed", { genEd: ["QR1"] }],
  ["open sections only", { term: "2019-su", openOnly: true }],
  [
    "days + time window + subject",
    {
      term: "2025-su",
      subjects: ["MATH", "CHEM"],
      days: ["M", "T", "W", "R", "F"],
      timeWindow: { start: "09:00", end: "15:00" },
    },
  ],
  [
    "gen-ed + level + open + credits",
    { genEd: ["ACP", "HP"], levels: [200, 300], openOnly: true, creditHours: { min: 3 } },
  ],
  ["keyword + types + term", { term: "2023-su", keyword: "introduction", types: ["ONL", "LEC"] }],
  ["instructor + days", { instructor: "a", days: ["M", "W"] }],
];

describe("POST /v1/courses/search on the UIUC catalog", () => {
  let harness: Harness;
  let oracle: OracleCourse[];
  beforeAll(async () => {
    harness = await createHarness();
    await harness.importFiles(uiucFiles());
    oracle = loadOracle();
  });
  afterAll(async () => harness?.close());

  it.each(CASES)("filter: %s", async (_name, filters) => {
    const want = expected(oracle, filters);
    expect(want.size).toBeGreaterThan(0);
    const got = await searchAll(harness, { ...filters, sort: "subject", limit: 100 });
    const keys = got.map((c) => `${c.term} ${c.subject} ${c.number}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(
      new Map(got.map((c) => [`${c.term} ${c.subject} ${c.number}`, c.sections.map((s) => s.crn).sort()])),
    ).toEqual(want);
  });

  it.each(["relevance", "subject", "credits"])(
    "pagination returns every match exactly once (sort %s)",
    async (sort) => {
      const filters = { term: "2020-su", keyword: "research" };
      const pages = await searchAll(harness, { ...filters, sort, limit: 7 });
      const ids = pages.map((c) => c.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(expected(oracle, filters).size);
    },
  );

  it("orders by sort: subject then number; credits ascending; relevance puts title matches first", async () => {
    const bySubject = (await harness.search({ term: "2024-su", sort: "subject", limit: 50 })).body.results;
    const keys = bySubject.map((c) => [c.subject, c.number].join(" "));
    expect(keys).toEqual([...keys].sort());
    const byCredits = (await harness.search({ term: "2024-su", sort: "credits", limit: 100 })).body.results;
    const credits = byCredits.map((c) => c.creditHours.min);
    expect(credits).toEqual([...credits].sort((a, b) => a - b));
    const relevant = (await harness.search({ keyword: "chemistry", limit: 10 })).body.results;
    expect(relevant[0]?.title.toLowerCase()).toContain("chem");
  });

  it("returns a course by id, and terms with their counts", async () => {
    const [first] = (await harness.search({ term: "2025-su", subjects: ["CS"], limit: 1 })).body.results;
    const response = await harness.request(`/v1/courses/${first?.id}`);
    expect(response.status).toBe(200);
    const course = (await response.json()) as { id: number; sections: unknown[] };
    expect(course.id).toBe(first?.id);
    expect(course.sections.length).toBeGreaterThan(0);
    const terms = (await (await harness.request("/v1/terms")).json()) as {
      terms: { code: string; courses: number }[];
    };
    expect(terms.terms).toHaveLength(17);
    expect(terms.terms.reduce((n, t) => n + t.courses, 0)).toBe(10805);
  });

  it("keeps the old POST /search?calendar_id= route working as an alias", async () => {
    const body = { term: "2024-su", subjects: ["CS"], limit: 5 };
    const alias = await harness.request("/search", { json: body });
    expect(alias.status).toBe(200);
    const v1 = await harness.search(body);
    expect(await alias.json()).toEqual(v1.body);
  });
});
