// `npm run index:build`: embeds the catalog and publishes a new index version (resumable after an interruption).
// It reads the catalog the api imported: with no database, tables or courses it says which step is missing.
// One build at a time (a MySQL named lock): it waits for a running one. `--if-stale` builds only when the
// index does not fit the catalog version or the configured embedder (what `npm start` runs); with
// `--no-wait` it gives up at once (exit 75) when another builder is at work (what the sidecar runs).
import { CliError, runCli } from "@kogi/shared/cli";
import { loadConfig } from "@kogi/shared/config";
import { SingleBar } from "cli-progress";
import { embedderForBuild, expectedEmbedder } from "../embedders.js";
import { buildIfStale } from "../index-freshness.js";

/** EX_TEMPFAIL: another builder holds the lock; try again later. */
const BUSY = 75;

await runCli("index:build", async (context) => {
  const args = new Set(process.argv.slice(2));
  const config = loadConfig();
  context.databaseUrl = config.DATABASE_URL;
  const bar = process.stderr.isTTY ? new SingleBar({ format: "{step} [{bar}] {value}/{total}" }) : undefined;
  let lastStep = "";
  const started = performance.now();
  const result = await buildIfStale({
    databaseUrl: config.DATABASE_URL,
    dir: config.VECTOR_INDEX_DIR,
    embedder: embedderForBuild(config),
    expected: expectedEmbedder(config),
    force: !args.has("--if-stale"),
    waitSeconds: args.has("--no-wait") ? 0 : 600,
    onProgress: (step, done, total) => {
      if (step !== lastStep) {
        bar?.stop();
        bar?.start(total, done, { step });
        if (!bar) console.log(`${step}...`);
        lastStep = step;
      } else bar?.update(done);
    },
  }).finally(() => bar?.stop());
  if (result.outcome === "busy") {
    console.log("another index build is running; not starting a second one");
    return BUSY;
  }
  if (result.outcome === "empty")
    throw new CliError(
      "The catalog is empty, so there is nothing to index: import one first (npm run catalog:import -- <file>, " +
        "or npm start, which loads the demo catalog into an empty database).",
    );
  const { manifest } = result;
  if (result.outcome === "current") {
    console.log(
      `index ${manifest.version} is current (catalog v${manifest.catalogVersion}); nothing to build`,
    );
    return 0;
  }
  console.log(`rebuilding: ${result.reason}`);
  console.log(
    `index ${manifest.version}: ${manifest.count} courses, ${manifest.dims} dims, ${manifest.nlist} lists, ` +
      `${manifest.provider}/${manifest.model}, catalog v${manifest.catalogVersion}, ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  console.log(
    "running sidecars load it by themselves within INDEX_FOLLOW_INTERVAL_MS (at once: POST /v1/admin/reload or SIGHUP)",
  );
  return 0;
});
