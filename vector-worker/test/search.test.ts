// Search results against a brute-force oracle: exact plans are exact, IVF plans meet the recall target.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeIds } from "../src/contracts.js";
import { createSidecar, exactTopK, recallAtK } from "./harness.js";

describe("vector search", () => {
  let sidecar: Awaited<ReturnType<typeof createSidecar>>;
  let queries: Float32Array[];
  beforeAll(async () => {
    // The real UIUC catalog; threshold 2000: filters of more allowed rows go through the IVF lists.
    sidecar = await createSidecar({ exactThreshold: 2000 });
    // Questions the way users ask them: a course's title in other words, for 60 courses across the catalog.
    const asks = ["a course on ", "intro to ", "", "classes about "];
    // Offset 91: none of these titles is among the build's calibration titles (every 54th course).
    const sample = sidecar.courses.filter((_, i) => i % 180 === 91).slice(0, 60);
    queries = await sidecar.embedder.embed(
      sample.map((c, i) => `${asks[i % asks.length]}${c.title.toLowerCase()}`),
    );
  });
  afterAll(async () => sidecar?.close());

  it("builds an IVF index for a catalog of this size", () => {
    expect(sidecar.manifest.nlist).toBeGreaterThan(0);
    expect(sidecar.manifest.count).toBe(10805);
  });

  it("keeps one vector per distinct course text and returns every course sharing it, in id order", async () => {
    // Distinct vectors, bit for bit (two texts differing only in punctuation embed the same).
    const { matrix } = sidecar;
    const rowBytes = (i: number) => Buffer.from(matrix.buffer, matrix.byteOffset + i * 1536 * 4, 1536 * 4);
    const distinct = new Set(sidecar.ids.map((_, i) => rowBytes(i).toString("base64"))).size;
    expect(sidecar.store.current?.shared.rows).toBe(distinct);
    expect(distinct).toBeLessThan(sidecar.courses.length / 3); // the same course, term after term

    // A course offered in many terms: an exact scan ranks all its copies first, each scanned once.
    const copies = new Map<string, number[]>();
    for (const c of sidecar.courses) copies.set(c.text, [...(copies.get(c.text) ?? []), c.id]);
    const [text, ids] = [...copies].sort((a, b) => b[1].length - a[1].length)[0] as [string, number[]];
    const [vector] = await sidecar.embedder.embed([text]);
    const allowed = [...new Set([...sidecar.ids.slice(0, 1500), ...ids])];
    const rowOfId = sidecar.store.current?.rowOfId as Int32Array;
    const k = Math.min(ids.length, 20);
    const { body } = await sidecar.search({ vector: Array.from(vector as Float32Array), k, ids: allowed });
    expect(body.plan.strategy).toBe("exact");
    expect(body.plan.scanned).toBe(new Set(allowed.map((id) => rowOfId[id])).size);
    expect(body.results.map((r) => r.id)).toEqual(ids.slice(0, k));
    const oracle = exactTopK(sidecar.matrix, sidecar.ids, vector as Float32Array, k, new Set(allowed));
    expect(body.results.map((r) => r.score)).toEqual(oracle.map((o) => expect.closeTo(o.score, 5)));
  });

  it.each([1, 7, 500, 2000])(
    "answers a %i-id filter exactly (scores and ids equal brute force)",
    async (size) => {
      const allowed = sidecar.ids.filter((_, i) => (i * 7919) % 10805 < size).slice(0, size);
      for (const query of queries.slice(0, 8)) {
        const { status, body } = await sidecar.search({ vector: Array.from(query), k: 9, ids: allowed });
        expect(status).toBe(200);
        expect(body.plan.strategy).toBe("exact");
        const oracle = exactTopK(sidecar.matrix, sidecar.ids, query, 9, new Set(allowed));
        expect(body.results.map((r) => r.score)).toEqual(oracle.map((o) => expect.closeTo(o.score, 5)));
        for (const r of body.results) expect(allowed).toContain(r.id);
      }
    },
  );

  it("reaches recall@9 >= 0.95 unfiltered through the IVF lists", async () => {
    let total = 0;
    for (const query of queries) {
      const { body } = await sidecar.search({ vector: Array.from(query), k: 9 });
      expect(body.plan.strategy).toBe("ivf");
      total += recallAtK(body.results, exactTopK(sidecar.matrix, sidecar.ids, query, 9), 9);
    }
    expect(total / queries.length).toBeGreaterThanOrEqual(0.95);
  });

  it("reaches recall@9 >= 0.95 with a 50% filter (IVF with over-fetch) and never returns a disallowed id", async () => {
    const allowed = sidecar.ids.filter((_, i) => i % 2 === 0);
    const allowedSet = new Set(allowed);
    let total = 0;
    for (const query of queries) {
      const { body } = await sidecar.search({
        vector: Array.from(query),
        k: 9,
        idsBase64: encodeIds(allowed),
      });
      expect(body.plan.strategy).toBe("ivf");
      for (const r of body.results) expect(allowedSet.has(r.id)).toBe(true);
      total += recallAtK(body.results, exactTopK(sidecar.matrix, sidecar.ids, query, 9, allowedSet), 9);
    }
    expect(total / queries.length).toBeGreaterThanOrEqual(0.95);
  });

  it("embeds text queries in the worker with the index's own embedder", async () => {
    const [vector] = await sidecar.embedder.embed(["Introduction to Machine Learning"]);
    const byText = await sidecar.search({ text: "Introduction to Machine Learning", k: 5 });
    const byVector = await sidecar.search({ vector: Array.from(vector as Float32Array), k: 5 });
    expect(byText.body.results).toEqual(byVector.body.results);
    expect(byText.body.embedded).toBeUndefined();

    // Asked for, a text search hands back the vector it embedded, for the caller's embedding cache.
    const withVector = await sidecar.search({
      text: "Introduction to Machine Learning",
      k: 5,
      returnVector: true,
    });
    expect(withVector.body.results).toEqual(byVector.body.results);
    const returned = Buffer.from(withVector.body.embedded?.vectorBase64 ?? "", "base64");
    expect(new Float32Array(returned.buffer, returned.byteOffset, returned.length / 4)).toEqual(vector);
    expect(withVector.body.embedded?.fingerprint).toBe(sidecar.manifest.embedderFingerprint);
  });

  it("accepts the compact id form with the same answer as the JSON array", async () => {
    const allowed = sidecar.ids.slice(100, 2100);
    const query = Array.from(queries[0] as Float32Array);
    const json = await sidecar.search({ vector: query, k: 9, ids: allowed });
    const compact = await sidecar.search({ vector: query, k: 9, idsBase64: encodeIds(allowed) });
    expect(compact.body.results).toEqual(json.body.results);
  });

  it("accepts the compact vector form with the same answer as the JSON array", async () => {
    const query = queries[2] as Float32Array;
    const json = await sidecar.search({ vector: Array.from(query), k: 9 });
    const compact = await sidecar.search({
      vectorBase64: Buffer.from(query.buffer).toString("base64"),
      k: 9,
    });
    expect(compact.status).toBe(200);
    expect(compact.body.results).toEqual(json.body.results);
  });

  it("returns fewer results when fewer ids are allowed than k", async () => {
    const { body } = await sidecar.search({
      vector: Array.from(queries[1] as Float32Array),
      k: 9,
      ids: sidecar.ids.slice(0, 3),
    });
    expect(body.results).toHaveLength(3);
  });
});
