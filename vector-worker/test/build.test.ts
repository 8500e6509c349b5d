// npm run index:build's library: reads the catalog from MySQL, resumes an interrupted embedding run.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateCatalog } from "@kogi/api/catalog/generator";
import { createHarness, type Harness } from "@kogi/api/testutil/harness";
import { LocalEmbedder } from "@kogi/shared/embedding/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildIndex, readCourseTexts } from "../src/build-index.js";
import { readCurrentVersion, readManifest } from "../src/index-format.js";

/** The local embedder, telling `onEmbed` about every batch before embedding it (it may throw). */
function watchedEmbedder(onEmbed: (texts: string[]) => void) {
  return (corpus: string[]) => {
    const idf = LocalEmbedder.learnIdf(corpus);
    const local = new LocalEmbedder({ dims: 1536, idf });
    const watched = Object.assign(Object.create(local) as LocalEmbedder, {
      embed: async (texts: string[]) => {
        onEmbed(texts);
        return local.embed(texts);
      },
    });
    return { embedder: watched, idf };
  };
}

describe("index build", () => {
  let harness: Harness;
  let dir: string;
  beforeAll(async () => {
    harness = await createHarness();
    await harness.importTerms(generateCatalog({ courses: 2500, seed: 4 }).terms);
    dir = await mkdtemp(join(tmpdir(), "kogi-build-"));
  });
  afterAll(async () => {
    await harness?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("resumes after an interruption, embedding only what was left, and publishes the version", async () => {
    const embedded: number[] = [];
    let failAfter = 3;
    const embedder = watchedEmbedder((texts) => {
      if (failAfter-- === 0) throw new Error("simulated crash while embedding");
      embedded.push(texts.length);
    });
    const options = { databaseUrl: harness.config.DATABASE_URL, dir, embedder, batchSize: 500 };
    await expect(buildIndex(options)).rejects.toThrow(/simulated crash/);
    expect(embedded).toEqual([500, 500, 500]);
    expect(await readCurrentVersion(dir)).toBeUndefined();
    expect((await readdir(dir)).some((name) => name.startsWith(".staging-"))).toBe(true);

    failAfter = Number.POSITIVE_INFINITY;
    const manifest = await buildIndex(options);
    // The two missing batches, then the 200 calibration titles; the first 1500 rows were not redone.
    expect(embedded).toEqual([500, 500, 500, 500, 500, 200]);
    expect(manifest.count).toBe(2500);
    expect(manifest.nlist).toBeGreaterThan(0);
    expect(manifest.catalogVersion).toBe(harness.services.catalogVersion.current);
    expect(await readCurrentVersion(dir)).toBe(manifest.version);
    expect((await readManifest(join(dir, manifest.version))).checksum).toBe(manifest.checksum);
    expect((await readdir(dir)).some((name) => name.startsWith(".staging-"))).toBe(false);
  });

  it("embeds a text shared by courses of several terms once", async () => {
    const [term] = generateCatalog({ courses: 300, seed: 5 }).terms;
    if (!term) throw new Error("no term generated");
    await harness.importTerms([term, { ...term, code: "2031-sp", year: 2031, season: "spring" }]);
    const { courses } = await readCourseTexts(harness.config.DATABASE_URL);
    const distinct = new Set(courses.map((c) => c.text)).size;
    expect(distinct).toBeLessThanOrEqual(courses.length - 300);

    let embedded = 0;
    const embedder = watchedEmbedder((texts) => {
      embedded += texts.length;
    });
    const manifest = await buildIndex({ databaseUrl: harness.config.DATABASE_URL, dir, embedder });
    expect(manifest.count).toBe(courses.length);
    expect(embedded).toBe(distinct + 200); // + the calibration titles
  });
});
