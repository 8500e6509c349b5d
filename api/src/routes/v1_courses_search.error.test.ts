// Bad input gets a 400 problem naming every field at fault; sizes, routes and failures are problems too.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { generateCatalog } from "../catalog/generator.js";
import { createHarness, type Harness } from "../testutil/harness.js";

interface Problem {
  type: string;
  status: number;
  code: string;
  detail: string;
  errors?: { field: string; message: string }[];
}

const INVALID: [string, Record<string, unknown>][] = [
  ["term", { term: "2025" }],
  ["subjects.0", { subjects: ["C1"] }],
  ["keyword", { keyword: "" }],
  ["creditHours.max", { creditHours: { min: 5, max: 2 } }],
  ["creditHours.min", { creditHours: { min: -1 } }],
  ["days.0", { days: ["X"] }],
  ["timeWindow.start", { timeWindow: { start: "25:00", end: "26:00" } }],
  ["timeWindow.end", { timeWindow: { start: "10:00", end: "09:00" } }],
  ["levels.0", { levels: [150] }],
  ["types.0", { types: ["L E C"] }],
  ["instructor", { instructor: "" }],
  ["genEd.0", { genEd: ["Q R"] }],
  ["openOnly", { openOnly: "yes" }],
  ["sort", { sort: "price" }],
  ["limit", { limit: 500 }],
  ["limit", { limit: 0 }],
  ["cursor", { cursor: "" }],
  ["excludeConflicts", { excludeConflicts: true }],
  ["colour", { colour: "blue" }],
];

describe("search input errors", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await createHarness();
    await harness.importTerms(generateCatalog({ courses: 120, seed: 3 }).terms);
  });
  afterAll(async () => harness?.close());

  const post = async (body: unknown) => {
    const response = await harness.request("/v1/courses/search", { json: body });
    return { response, problem: (await response.json()) as Problem };
  };

  it.each(INVALID)("names %s", async (field, body) => {
    const { response, problem } = await post(body);
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toMatch(/application\/problem\+json/);
    expect(problem.code).toBe("validation_failed");
    expect(problem.errors?.map((e) => e.field)).toContain(field);
  });

  it("lists every bad field of one request", async () => {
    // Cases that share a field (limit, creditHours, timeWindow) overwrite each other in one body.
    const shared = ["limit", "creditHours.max", "timeWindow.end", "excludeConflicts"];
    const cases = INVALID.filter(([field]) => !shared.includes(field));
    const { response, problem } = await post(Object.assign({}, ...cases.map(([, body]) => body)));
    expect(response.status).toBe(400);
    const fields = problem.errors?.map((e) => e.field) ?? [];
    for (const [field] of cases) expect(fields).toContain(field);
  });

  it("rejects malformed JSON, a body that is not JSON and an oversized body", async () => {
    const malformed = await harness.request("/v1/courses/search", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as Problem).code).toBe("malformed_request");

    const text = await harness.request("/v1/courses/search", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: '{"subjects":["CS"]}',
    });
    expect(text.status).toBe(415);
    expect(((await text.json()) as Problem).code).toBe("unsupported_media_type");

    // No body at all is an empty filter: browse everything.
    expect((await harness.request("/v1/courses/search", { method: "POST" })).status).toBe(200);

    const huge = await harness.request("/v1/courses/search", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ keyword: "x".repeat(200_000) }),
    });
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as Problem).code).toBe("body_too_large");
  });

  it("refuses a cursor that was not made for this query", async () => {
    const page = await post({ limit: 2, sort: "subject" });
    const cursor = (page.problem as unknown as { nextCursor: string }).nextCursor;
    expect(cursor).toBeTruthy();
    expect((await post({ limit: 2, sort: "subject", cursor })).response.status).toBe(200);
    const other = await post({ limit: 2, sort: "credits", cursor });
    expect(other.response.status).toBe(400);
    expect(other.problem.code).toBe("invalid_cursor");
    expect(other.problem.errors?.[0]?.field).toBe("cursor");
    expect((await post({ cursor: "garbage!!" })).problem.code).toBe("invalid_cursor");
  });

  it("answers unknown routes and ids with 404 problems, bad ids with 400", async () => {
    const route = await harness.request("/v1/nothing-here");
    expect(route.status).toBe(404);
    expect(((await route.json()) as Problem).code).toBe("route_not_found");
    const course = await harness.request("/v1/courses/99999999");
    expect(course.status).toBe(404);
    const bad = await harness.request("/v1/courses/abc");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Problem).errors?.[0]?.field).toBe("id");
    const calendar = await harness.request("/v1/calendars", { json: { term: "1999-xx" } });
    expect(calendar.status).toBe(400);
    expect(((await calendar.json()) as Problem).errors?.[0]?.field).toBe("term");
  });

  it("never shows a stack trace when something breaks inside", async () => {
    const spy = vi
      .spyOn(harness.services.catalog, "findCoursePage")
      .mockRejectedValueOnce(new Error("secret internal detail at /srv/app.ts:12"));
    const { response, problem } = await post({ keyword: "never cached before" });
    spy.mockRestore();
    expect(response.status).toBe(500);
    expect(problem.code).toBe("internal_error");
    expect(JSON.stringify(problem)).not.toMatch(/secret|\.ts:|at /);
  });
});
