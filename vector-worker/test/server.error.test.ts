// Every bad search input is a 400 naming its field; overload is a 503 with Retry-After, never a queue without end.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSidecar } from "./harness.js";

describe("sidecar input errors and backpressure", () => {
  let sidecar: Awaited<ReturnType<typeof createSidecar>>;
  beforeAll(async () => {
    sidecar = await createSidecar({ courses: 3000, threads: 1, maxQueue: 4 });
  });
  afterAll(async () => sidecar?.close());

  const vector = () => Array.from({ length: 1536 }, (_, i) => (i % 7) / 7);
  const floats = (values: number[]) => Buffer.from(Float32Array.from(values).buffer).toString("base64");
  const cases: [string, Record<string, unknown>][] = [
    ["vector", { vector: [1, 2, 3], k: 5 }],
    ["vector", { vector: [...vector().slice(1), "NaN"], k: 5 }],
    ["vector", { vector: [...vector().slice(1), null], k: 5 }],
    ["vector", { k: 5 }],
    ["vector", { vector: vector(), text: "both", k: 5 }],
    ["vector", { vectorBase64: floats(vector()), text: "both", k: 5 }],
    ["vectorBase64", { vectorBase64: floats([1, 2, 3]), k: 5 }],
    ["vectorBase64", { vectorBase64: floats([...vector().slice(1), Number.NaN]), k: 5 }],
    ["vectorBase64", { vectorBase64: "AAA", k: 5 }],
    ["k", { text: "x", k: 0 }],
    ["k", { text: "x", k: 101 }],
    ["k", { text: "x", k: 2.5 }],
    ["ids", { text: "x", ids: [1000, 999_999] }],
    ["ids.0", { text: "x", ids: ["one"] }],
    ["idsBase64", { text: "x", idsBase64: "AAA" }],
    ["idsBase64", { text: "x", idsBase64: Buffer.from(Int32Array.of(424242).buffer).toString("base64") }],
    ["colour", { text: "x", colour: "red" }],
  ];

  it.each(cases)("names %s", async (field, body) => {
    const { status, body: problem } = await sidecar.search(body);
    expect(status).toBe(400);
    expect(problem.code).toBe("validation_failed");
    // The field itself, or the element inside it ("vector.1535").
    expect(problem.errors?.map((e) => e.field.replace(/\.\d+$/, field.includes(".") ? "$&" : ""))).toContain(
      field,
    );
  });

  it("with skipUnknownIds searches the allowed ids it knows and counts the others", async () => {
    const known = sidecar.courses.slice(0, 3).map((c) => c.id);
    const ids = [...known, 999_999, 888_888];
    const { status, body } = await sidecar.search({ text: "chemistry", k: 5, ids });
    expect(status).toBe(400);
    expect(body.code).toBe("validation_failed");
    const skipped = await sidecar.search({
      text: "chemistry",
      k: 5,
      ids,
      skipUnknownIds: true,
    });
    expect(skipped.status).toBe(200);
    expect(skipped.body.index.unknownIds).toBe(2);
    expect(skipped.body.results.map((r) => r.id).sort()).toEqual([...known].sort());
  });

  it("sheds load with 503 + Retry-After when the queue is full, and serves everything else", async () => {
    const responses = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        sidecar.app.request("/v1/search", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ text: `query ${i}`, k: 9 }),
        }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    const shed = responses.find((r) => r.status === 503) as Response;
    expect(shed.headers.get("retry-after")).toBe("1");
    expect(((await shed.json()) as { code: string }).code).toBe("overloaded");
  });
});
