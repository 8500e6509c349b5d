// The README's curl examples for search, answers and calendars, run as written on what `npm start` loads
// into an empty database (the synthetic demo catalog): a new user who copies them gets results.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadConfig } from "@kogi/shared/config";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoCatalog } from "./prepare-database.js";
import { type AnswerHarness, createAnswerHarness } from "./testutil/answer-harness.js";

interface Example {
  method: string;
  path: string;
  body?: unknown;
  auth: boolean;
}

/** Every `curl -s [-X M] localhost:8080/<path> ... [-d '<json>']` of the README, continuation lines joined. */
function readmeExamples(): Example[] {
  const readme = readFileSync(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8");
  return readme
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .flatMap((line) => {
      const match = /^curl -s (?:-X (\w+) )?'?localhost:8080(\/[^\s']*)'?(.*)$/.exec(line.trim());
      if (!match) return [];
      const [, method, path = "", rest = ""] = match;
      const body = /-d '([^']*)'/.exec(rest)?.[1];
      return [
        {
          method: method ?? (body ? "POST" : "GET"),
          path,
          body: body ? JSON.parse(body) : undefined,
          auth: /authorization: Bearer \$TOKEN/.test(rest),
        },
      ];
    });
}

const examples = readmeExamples();
const find = (method: string, path: RegExp) => {
  const found = examples.find((e) => e.method === method && path.test(e.path));
  if (!found) throw new Error(`the README has no ${method} ${path} example`);
  return found;
};

let harness: AnswerHarness;
beforeAll(async () => {
  harness = await createAnswerHarness({
    load: (h) => h.importTerms(demoCatalog(loadConfig({}).DEMO_COURSES), undefined, { synthetic: true }),
  });
}, 180_000);
afterAll(async () => harness?.close());

describe("the README's examples on the demo catalog", () => {
  it("lists the demo term as synthetic", async () => {
    const body = (await (await harness.request("/v1/terms")).json()) as {
      terms: { code: string; synthetic: boolean }[];
    };
    expect(body.terms).toEqual([expect.objectContaining({ code: "2026-fa", synthetic: true })]);
  });

  it("search finds courses", async () => {
    const example = find("POST", /^\/v1\/courses\/search$/);
    const response = await harness.request(example.path, { json: example.body });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { results: { term: string; subject: string }[] };
    expect(body.results.length).toBeGreaterThan(0);
    expect(body.results.every((c) => c.term === "2026-fa" && c.subject === "CS")).toBe(true);
  });

  it("answers find machine-learning courses", async () => {
    const example = find("POST", /^\/v1\/answer$/);
    const { response, body } = await harness.answer(example.body);
    expect(response.status).toBe(200);
    expect(body.results.length).toBeGreaterThan(0);
    expect(body.results[0]?.title).toMatch(/machine learning/i);
  });

  it("a calendar is created, a section added, shown and removed", async () => {
    const create = find("POST", /^\/v1\/calendars$/);
    const created = await harness.request(create.path, { json: create.body });
    expect(created.status).toBe(201);
    const { id, token } = (await created.json()) as { id: string; token: string };
    const headers = { authorization: `Bearer ${token}` };
    const concrete = (e: Example) => e.path.replace("$ID", id);
    const add = find("PUT", /^\/v1\/calendars\/\$ID\/sections\/\d+$/);
    expect((await harness.request(concrete(add), { method: "PUT", headers })).status).toBeLessThan(300);
    const show = find("GET", /^\/v1\/calendars\/\$ID$/);
    const shown = (await (await harness.request(concrete(show), { headers })).json()) as {
      sections: { crn: string }[];
    };
    const crn = add.path.split("/").at(-1);
    expect(shown.sections.map((s) => s.crn)).toEqual([crn]);
    const remove = find("DELETE", /^\/v1\/calendars\/\$ID\/sections\/\d+$/);
    expect((await harness.request(concrete(remove), { method: "DELETE", headers })).status).toBeLessThan(300);
  });
});
