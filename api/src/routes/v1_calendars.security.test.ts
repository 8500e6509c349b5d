// Calendar privacy: without the right token nobody reads, changes or searches with a calendar.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scheduleTerm } from "../testutil/fixtures.js";
import { createHarness, type Harness } from "../testutil/harness.js";

describe("calendar privacy", () => {
  let harness: Harness;
  const calendars: { id: string; token: string }[] = [];

  beforeAll(async () => {
    harness = await createHarness();
    await harness.importTerms([scheduleTerm]);
    for (const name of ["alice", "bob"]) {
      const response = await harness.request("/v1/calendars", { json: { term: "2030-fa", name } });
      calendars.push((await response.json()) as { id: string; token: string });
    }
    const [alice] = calendars;
    await harness.request(`/v1/calendars/${alice?.id}/sections/1001`, {
      method: "PUT",
      headers: { authorization: `Bearer ${alice?.token}` },
    });
  });
  afterAll(async () => harness?.close());

  const attempts = (id: string) => [
    ["GET", `/v1/calendars/${id}`],
    ["PUT", `/v1/calendars/${id}/sections/2002`],
    ["DELETE", `/v1/calendars/${id}/sections/1001`],
  ];

  it("answers 401 without a credential", async () => {
    for (const [method, path] of attempts(calendars[0]?.id as string)) {
      const response = await harness.request(path as string, { method });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/Bearer/);
    }
  });

  it("answers the same 404 for a wrong token, another person's token and an unknown calendar", async () => {
    const [alice, bob] = calendars as [{ id: string; token: string }, { id: string; token: string }];
    const cases: [string, string][] = [
      [alice.id, "wrong-token"],
      [alice.id, bob.token],
      ["cal_0000000000000000000000", alice.token],
    ];
    for (const [id, token] of cases)
      for (const [method, path] of attempts(id)) {
        const response = await harness.request(path as string, {
          method,
          headers: { authorization: `Bearer ${token}` },
        });
        expect(response.status).toBe(404);
        const body = (await response.json()) as { code: string; detail: string };
        expect(body.code).toBe("not_found");
        expect(body.detail).toBe("Calendar was not found");
        expect(body).not.toHaveProperty("sections");
      }
    // Nothing changed for Alice.
    const mine = await harness.request(`/v1/calendars/${alice.id}`, {
      headers: { authorization: `Bearer ${alice.token}` },
    });
    expect(((await mine.json()) as { sections: { crn: string }[] }).sections.map((s) => s.crn)).toEqual([
      "1001",
    ]);
  });

  it("does not mark search results for a calendar without its token", async () => {
    const [alice, bob] = calendars as [{ id: string; token: string }, { id: string; token: string }];
    const none = await harness.request("/v1/courses/search", { json: { calendarId: alice.id } });
    expect(none.status).toBe(401);
    const other = await harness.request("/v1/courses/search", {
      json: { calendarId: alice.id },
      headers: { authorization: `Bearer ${bob.token}` },
    });
    expect(other.status).toBe(404);
    const legacy = await harness.request(`/search?calendar_id=${alice.id}`, { json: {} });
    expect(legacy.status).toBe(401);
  });

  it("stores only a hash of the token", async () => {
    const [rows] = (await harness.pool.query("SELECT token_hash FROM calendars")) as unknown as [
      { token_hash: string }[],
    ];
    for (const { token } of calendars) expect(rows.some((r) => r.token_hash === token)).toBe(false);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.token_hash))).toBe(true);
  });
});
