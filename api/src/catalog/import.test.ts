// Importing the real UIUC catalog: counts against the files, idempotence, skipped rows, atomicity.
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoCatalog } from "../prepare-database.js";
import { createHarness, type Harness, uiucFiles } from "../testutil/harness.js";
import { readCatalogFile } from "./files.js";

/** The oracle: distinct courses and CRNs per term, straight from the CSV rows. */
function countsFromCsv(paths: string[]) {
  const terms = new Map<string, { courses: Set<string>; sections: Set<string> }>();
  for (const path of paths) {
    const rows = parse(readFileSync(path, "utf8"), { columns: true }) as Record<string, string>[];
    for (const row of rows) {
      const term = terms.get(row.YearTerm as string) ?? { courses: new Set(), sections: new Set() };
      term.courses.add(`${row.Subject} ${row.Number}`);
      term.sections.add(row.CRN as string);
      terms.set(row.YearTerm as string, term);
    }
  }
  return new Map(
    [...terms].map(([code, t]) => [code, { courses: t.courses.size, sections: t.sections.size }]),
  );
}

async function dbCounts(harness: Harness) {
  const [rows] = (await harness.pool.query(
    `SELECT t.code, (SELECT COUNT(*) FROM courses c WHERE c.term_id = t.id) AS courses,
            (SELECT COUNT(*) FROM sections s WHERE s.term_id = t.id) AS sections FROM terms t`,
  )) as unknown as [{ code: string; courses: number; sections: number }[]];
  return new Map(rows.map((r) => [r.code, { courses: Number(r.courses), sections: Number(r.sections) }]));
}

async function tableSizes(harness: Harness) {
  const sizes: Record<string, number> = {};
  for (const table of [
    "terms",
    "courses",
    "sections",
    "meetings",
    "instructors",
    "section_instructors",
    "course_tokens",
    "course_gen_eds",
  ]) {
    const [[row]] = (await harness.pool.query(`SELECT COUNT(*) AS n FROM ${table}`)) as unknown as [
      [{ n: number }],
    ];
    sizes[table] = Number(row?.n);
  }
  return sizes;
}

describe("catalog import (real UIUC files)", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await createHarness();
  });
  afterAll(async () => harness?.close());

  it("imports all 17 files with per-term counts equal to the distinct rows", async () => {
    const files = uiucFiles();
    expect(files).toHaveLength(17);
    await harness.importFiles(files);
    const expected = countsFromCsv(files);
    expect(await dbCounts(harness)).toEqual(expected);
    const total = [...expected.values()].reduce((n, t) => n + t.courses, 0);
    expect(total).toBe(10805);
  });

  it("re-importing the same files changes nothing, not even the catalog version", async () => {
    const before = await tableSizes(harness);
    const version = await harness.services.catalogVersion.refresh();
    const [ids] = await harness.pool.query("SELECT id, title FROM courses ORDER BY id");
    const results = [];
    for (const path of uiucFiles())
      results.push(...(await harness.importTerms((await readCatalogFile(path)).terms)));
    expect(results.every((r) => !r.changed)).toBe(true);
    expect(await tableSizes(harness)).toEqual(before);
    expect(await harness.services.catalogVersion.refresh()).toBe(version);
    const [after] = await harness.pool.query("SELECT id, title FROM courses ORDER BY id");
    expect(after).toEqual(ids);
  });

  it("parses credit ranges, ARRANGED times, HTML entities, R as Thursday and cross-listings", async () => {
    const [[course]] = (await harness.pool.query(
      "SELECT title, credit_min, credit_max, cross_listed FROM courses WHERE title LIKE '%&%' AND title NOT LIKE '%&amp;%' LIMIT 1",
    )) as unknown as [[{ title: string }]];
    expect(course?.title).toMatch(/&/);
    const { terms } = await readCatalogFile(uiucFiles()[0] as string);
    const courses = terms.flatMap((t) => t.courses);
    const ranged = courses.find((c) => c.creditMin !== c.creditMax);
    expect(ranged && ranged.creditMax > ranged.creditMin).toBe(true);
    const meetings = courses.flatMap((c) => c.sections.flatMap((s) => s.meetings));
    expect(meetings.some((m) => m.start === null && m.days === "")).toBe(true);
    expect(meetings.some((m) => m.days.includes("R"))).toBe(true);
    expect(courses.some((c) => c.crossListed.length > 0)).toBe(true);
    const [[thursday]] = (await harness.pool.query(
      "SELECT COUNT(*) AS n FROM meetings WHERE day_mask & 8 <> 0",
    )) as unknown as [[{ n: number }]];
    expect(Number(thursday?.n)).toBeGreaterThan(0);
  });

  it("reports malformed rows with file and line and imports the rest", async () => {
    const header = readFileSync(uiucFiles()[1] as string, "utf8").split("\n")[0];
    const row = (crn: string, start = "09:00 AM", end = "09:50 AM") =>
      `2099,Summer,2099-su,CS,101,Intro,"A course,\nwith a newline",3 hours.,,,,${crn},A,A,1,,,A,UNKNOWN,Lecture,LEC,${start},${end},MW,1,Hall,"Doe, J"`;
    const text = [
      header,
      row("11111"),
      row("NOTACRN"),
      row("22222", "25:00 PM", "10:00 AM"),
      row("33333"),
    ].join("\n");
    const { parseUiucCsv } = await import("./uiuc-csv.js");
    const parsed = parseUiucCsv(text, "broken.csv");
    // Each record spans two lines (the quoted description holds a newline): records start at 2, 4, 6, 8.
    expect(parsed.skipped.map((s) => `${s.file}:${s.line}`)).toEqual(["broken.csv:4", "broken.csv:6"]);
    expect(parsed.skipped[0]?.reason).toMatch(/CRN/);
    expect(parsed.skipped[1]?.reason).toMatch(/time/);
    expect(parsed.terms[0]?.courses[0]?.sections.map((s) => s.crn)).toEqual(["11111", "33333"]);
  });

  it("refuses a structurally broken file before writing anything", async () => {
    const before = await tableSizes(harness);
    const path = join(tmpdir(), `kogi-broken-${process.pid}.csv`);
    const original = readFileSync(uiucFiles()[2] as string, "utf8");
    writeFileSync(
      path,
      `${original.replaceAll("2018-wi", "2098-wi")}2098,Winter,2098-wi,CS,101,"unterminated quote,3 hours.\n`,
    );
    await expect(readCatalogFile(path)).rejects.toThrow(/kogi-broken/);
    expect(await tableSizes(harness)).toEqual(before);
  });

  it("a failure in the middle of writing leaves the database exactly as it was", async () => {
    const before = await tableSizes(harness);
    const version = await harness.services.catalogVersion.refresh();
    const { terms } = await readCatalogFile(uiucFiles()[3] as string);
    const renamed = terms.map((t) => ({
      ...t,
      code: "2097-su",
      courses: t.courses.map((c) => ({ ...c, title: `${c.title} v2` })),
    }));
    const changed = (await readCatalogFile(uiucFiles()[4] as string)).terms.map((t) => ({
      ...t,
      courses: t.courses.map((c) => ({ ...c, title: `${c.title} changed` })),
    }));
    let steps = 0;
    await expect(
      harness.importTerms([...renamed, ...changed], ({ term, step }) => {
        steps++;
        if (term === changed[0]?.code && step === "keywords") throw new Error("simulated crash mid-import");
      }),
    ).rejects.toThrow(/simulated crash/);
    expect(steps).toBeGreaterThan(3);
    expect(await tableSizes(harness)).toEqual(before);
    expect(await harness.services.catalogVersion.refresh()).toBe(version);
    const [[row]] = (await harness.pool.query(
      "SELECT COUNT(*) AS n FROM terms WHERE code = '2097-su'",
    )) as unknown as [[{ n: number }]];
    expect(Number(row?.n)).toBe(0);
  });
});

describe("the synthetic demo catalog", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await createHarness();
  });
  afterAll(async () => harness?.close());

  const terms = async () =>
    ((await (await harness.request("/v1/terms")).json()) as { terms: { code: string; synthetic: boolean }[] })
      .terms;

  it("is marked synthetic, and importing a real catalog removes it in the same import", async () => {
    await harness.importTerms(demoCatalog(60), undefined, { synthetic: true });
    expect(await terms()).toEqual([expect.objectContaining({ code: "2026-fa", synthetic: true })]);
    // Importing the demo again is not a "real" import: nothing is removed.
    expect((await harness.importTerms(demoCatalog(60), undefined, { synthetic: true }))[0]).toMatchObject({
      changed: false,
    });

    const real = (await readCatalogFile(uiucFiles()[0] as string)).terms;
    const results = await harness.importTerms(real);
    expect(results.filter((r) => r.removedSynthetic)).toEqual([
      { term: "2026-fa", courses: 60, sections: expect.any(Number), changed: true, removedSynthetic: true },
    ]);
    const after = await terms();
    expect(after.map((t) => t.code)).toEqual(real.map((t) => t.code));
    expect(after.every((t) => !t.synthetic)).toBe(true);
    const search = await harness.search({ keyword: "Applied Algorithms", limit: 5 });
    expect(search.body.results.filter((c) => c.term === "2026-fa")).toEqual([]);
  });

  it("keeps a demo term that calendars use, and says so", async () => {
    await harness.importTerms(demoCatalog(30), undefined, { synthetic: true });
    const created = await harness.request("/v1/calendars", { json: { term: "2026-fa", name: "mine" } });
    expect(created.status).toBe(201);
    const real = (await readCatalogFile(uiucFiles()[1] as string)).terms;
    const results = await harness.importTerms(real);
    expect(results.find((r) => r.term === "2026-fa")).toMatchObject({ keptSynthetic: { calendars: 1 } });
    expect((await terms()).find((t) => t.code === "2026-fa")).toMatchObject({ synthetic: true });
  });
});
