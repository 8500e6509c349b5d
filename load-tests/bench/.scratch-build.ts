import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildCatalogIndex, syntheticCourses, uiucCourses } from "./lib/vector-catalogs.js";
for (const [name, make] of [["uiuc", () => uiucCourses()], ["synthetic", () => syntheticCourses(100000, 42)]] as const) {
  let t = performance.now();
  const courses = make();
  console.log(name, courses.length, "texts in", Math.round(performance.now() - t), "ms");
  const dir = await mkdtemp(join(tmpdir(), "kogi-vb-"));
  t = performance.now();
  const b = await buildCatalogIndex(dir, courses);
  console.log(name, b.timings, b.manifest.nlist, b.manifest.nprobe, b.manifest.calibratedRecall, Math.round(performance.now() - t), "ms", process.memoryUsage().rss/2**20);
  console.log(new Set(courses.map(c=>c.title.toLowerCase())).size, "distinct titles", b.calibration.size);
  await rm(dir, { recursive: true, force: true });
}
