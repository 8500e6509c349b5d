// Hot swap under load loses nothing, a mismatched index is refused, a killed thread is replaced.
import { LocalEmbedder } from "@kogi/shared/embedding/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeIndexVersion } from "../src/build-index.js";
import { buildTestIndex, catalogTexts, createSidecar } from "./harness.js";

async function hammer(sidecar: Awaited<ReturnType<typeof createSidecar>>, until: () => boolean) {
  const statuses: number[] = [];
  const versions = new Set<string>();
  const client = async () => {
    for (let i = 0; !until() && i < 5000; i++) {
      const { status, body } = await sidecar.search({ text: `course ${i % 50}`, k: 9 });
      statuses.push(status);
      if (status === 200) versions.add(body.index.version);
    }
  };
  await Promise.all(Array.from({ length: 8 }, client));
  return { statuses, versions };
}

describe("sidecar lifecycle", () => {
  let sidecar: Awaited<ReturnType<typeof createSidecar>>;
  beforeAll(async () => {
    sidecar = await createSidecar({ courses: 3000, threads: 2 });
  });
  afterAll(async () => sidecar?.close());

  it("swaps in a new index version under load without a failed request", async () => {
    const before = sidecar.manifest.version;
    let done = false;
    const load = hammer(sidecar, () => done);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const next = await buildTestIndex(sidecar.dir, catalogTexts(3200), 2);
    const reload = await sidecar.app.request("/v1/admin/reload", { method: "POST" });
    expect(reload.status).toBe(200);
    expect(((await reload.json()) as { changed: boolean }).changed).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    done = true;
    const { statuses, versions } = await load;
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(versions).toEqual(new Set([before, next.manifest.version]));
    const after = await sidecar.search({ text: "chemistry", k: 3 });
    expect(after.body.index).toEqual({ version: next.manifest.version, catalogVersion: 2, unknownIds: 0 });
  });

  it("refuses an index built for other dims and keeps serving the old one", async () => {
    const live = sidecar.store.current?.manifest.version;
    const embedder = new LocalEmbedder({ dims: 64 });
    await writeIndexVersion({
      dir: sidecar.dir,
      matrix: new Float32Array(64 * 10).fill(0.125),
      ids: Int32Array.from({ length: 10 }, (_, i) => i + 1),
      embedder,
      catalogVersion: 3,
      nlist: 0,
    });
    const reload = await sidecar.app.request("/v1/admin/reload", { method: "POST" });
    expect(reload.status).toBe(409);
    expect(((await reload.json()) as { detail: string }).detail).toMatch(/dims 64 \(configured: 1536\)/);
    expect(sidecar.store.current?.manifest.version).toBe(live);
    expect((await sidecar.search({ text: "physics", k: 3 })).status).toBe(200);
  });

  it("replaces a thread that dies mid-load; only its own request fails, cleanly", async () => {
    let done = false;
    const load = hammer(sidecar, () => done);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await sidecar.pool.threads[0]?.terminate();
    await new Promise((resolve) => setTimeout(resolve, 200));
    done = true;
    const { statuses } = await load;
    expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    expect(statuses.filter((s) => s === 503).length).toBeLessThanOrEqual(1);
    expect(sidecar.pool.threads.length).toBe(2);
    const after = await Promise.all(
      Array.from({ length: 6 }, (_, i) => sidecar.search({ text: `after ${i}`, k: 3 })),
    );
    expect(after.every((r) => r.status === 200)).toBe(true);
  });
});
