// `npm run index:build`: embeds the catalog and publishes a new index version (resumable after an interruption).
import { loadConfig } from "@kogi/shared/config";
import { SingleBar } from "cli-progress";
import { buildIndex } from "../build-index.js";
import { embedderForBuild } from "../embedders.js";

const config = loadConfig();
const bar = process.stderr.isTTY ? new SingleBar({ format: "{step} [{bar}] {value}/{total}" }) : undefined;
let lastStep = "";
const started = performance.now();
const manifest = await buildIndex({
  databaseUrl: config.DATABASE_URL,
  dir: config.VECTOR_INDEX_DIR,
  embedder: embedderForBuild(config),
  onProgress: (step, done, total) => {
    if (step !== lastStep) {
      bar?.stop();
      bar?.start(total, done, { step });
      if (!bar) console.log(`${step}...`);
      lastStep = step;
    } else bar?.update(done);
  },
});
bar?.stop();
console.log(
  `index ${manifest.version}: ${manifest.count} courses, ${manifest.dims} dims, ${manifest.nlist} lists, ` +
    `${manifest.provider}/${manifest.model}, catalog v${manifest.catalogVersion}, ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
console.log("running sidecars pick it up with POST /v1/admin/reload or SIGHUP");
