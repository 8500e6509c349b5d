// Calendars: create, add/remove sections, conflicts, and search marks/exclusion against a calendar.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scheduleTerm } from "../testutil/fixtures.js";
import { createHarness, type Harness } from "../testutil/harness.js";

interface CalendarBody {
  id: string;
  term: string;
  revision: number;
  sections: { crn: string; subject: string; inCalendar: boolean; conflicts: string[] }[];
  conflicts: { crn: string; with: string[] }[];
  missing: string[];
}

describe("calendars", () => {
  let harness: Harness;
  let id: string;
  let auth: Record<string, string>;
  const put = async (crn: string) =>
    harness.request(`/v1/calendars/${id}/sections/${crn}`, { method: "PUT", headers: auth });

  beforeAll(async () => {
    harness = await createHarness();
    await harness.importTerms([scheduleTerm]);
    const created = await harness.request("/v1/calendars", { json: { term: "2030-fa", name: "Fall plan" } });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { id: string; token: string };
    expect(created.headers.get("location")).toBe(`/v1/calendars/${body.id}`);
    id = body.id;
    auth = { authorization: `Bearer ${body.token}` };
  });
  afterAll(async () => harness?.close());

  it("adds sections idempotently and lists conflicts both ways", async () => {
    expect((await put("1001")).status).toBe(200);
    expect((await put("1001")).status).toBe(200);
    expect((await put("2001")).status).toBe(200);
    const response = await put("3001");
    const calendar = (await response.json()) as CalendarBody;
    expect(calendar.sections.map((s) => s.crn)).toEqual(["1001", "2001", "3001"]);
    expect(calendar.conflicts).toEqual([
      { crn: "1001", with: ["2001"] },
      { crn: "2001", with: ["1001"] },
    ]);
    expect(calendar.sections.find((s) => s.crn === "3001")?.conflicts).toEqual([]);
  });

  it("marks search results against the calendar, per caller", async () => {
    const { response, body } = await harness.search({ term: "2030-fa", calendarId: id, limit: 50 }, auth);
    expect(response.status).toBe(200);
    const sections = new Map(body.results.flatMap((c) => c.sections.map((s) => [s.crn, s])));
    expect(sections.get("1001")).toMatchObject({ inCalendar: true, conflicts: ["2001"] });
    expect(sections.get("2001")).toMatchObject({ inCalendar: true, conflicts: ["1001"] });
    expect(sections.get("2002")).toMatchObject({ inCalendar: false, conflicts: [] });
    expect(sections.get("4001")).toMatchObject({ inCalendar: false, conflicts: ["1001"] });
    expect(sections.get("5001")).toMatchObject({ inCalendar: false, conflicts: [] });
    // The same query without a calendar (now cached) carries nobody's marks.
    const anonymous = await harness.search({ term: "2030-fa", limit: 50 });
    expect(anonymous.response.headers.get("x-cache")).toMatch(/HIT/);
    expect(
      anonymous.body.results
        .flatMap((c) => c.sections)
        .every((s) => !s.inCalendar && s.conflicts.length === 0),
    ).toBe(true);
  });

  it("drops conflicting sections with excludeConflicts, and follows calendar changes", async () => {
    const crns = async () => {
      const { body } = await harness.search(
        { term: "2030-fa", calendarId: id, excludeConflicts: true, limit: 50 },
        auth,
      );
      return body.results.flatMap((c) => c.sections.map((s) => s.crn)).sort();
    };
    // 4001 overlaps 1001; 1001 and 2001 overlap each other but are the calendar's own choices.
    expect(await crns()).toEqual(["1001", "2001", "2002", "3001", "5001"]);
    const removed = await harness.request(`/v1/calendars/${id}/sections/1001`, {
      method: "DELETE",
      headers: auth,
    });
    expect(removed.status).toBe(200);
    expect(((await removed.json()) as CalendarBody).conflicts).toEqual([]);
    // Now 1001 (no longer saved) overlaps 2001, and 4001 fits.
    expect(await crns()).toEqual(["2001", "2002", "3001", "4001", "5001"]);
  });

  it("refuses sections that are not in the calendar's term, and removing what is not there", async () => {
    const unknown = await put("9999");
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { code: string }).code).toBe("not_found");
    const gone = await harness.request(`/v1/calendars/${id}/sections/1001`, {
      method: "DELETE",
      headers: auth,
    });
    expect(gone.status).toBe(404);
  });
});
