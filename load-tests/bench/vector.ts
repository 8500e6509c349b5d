// `npm run bench:vector`: builds UIUC and synthetic-100k vector indexes, load-tests the sidecar at 1/2 threads, checks recall, compares with faiss flat.
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeIds } from "@kogi/vector-worker/contracts";
import { cleanups, logger, runBench, seconds } from "./lib/cleanup.js";
import { writeJson } from "./lib/report.js";
import { flatBaseline } from "./lib/vector-baseline.js";
import {
  buildCatalogIndex,
  type CourseText,
  DIMS,
  syntheticCourses,
  uiucCourses,
} from "./lib/vector-catalogs.js";
import { exactTopK, recallAtK, rowMask, type Scored, sameScores } from "./lib/vector-exact.js";
import {
  type LoadSettings,
  loadRun,
  percentile,
  sequentialAnswers,
  timedSequential,
} from "./lib/vector-load.js";
import { type FilterScenario, filterScenarios, phrasingOf, titleQueries } from "./lib/vector-queries.js";
import {
  baselineTable,
  buildTable,
  type CatalogReport,
  diagnosticsTable,
  evaluateTargets,
  type LoadRow,
  loadTable,
  type MemoryRow,
  memoryTable,
  phrasingLines,
  qualityTable,
  type ScenarioQuality,
  scalingTable,
  strategyMix,
  targetLines,
  thresholdTable,
} from "./lib/vector-report.js";
import { type SidecarChild, type Snapshot, startSidecar, windowBetween } from "./lib/vector-sidecar.js";
import { measureThreshold } from "./lib/vector-threshold.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const RESULTS_FILE = resolve(root, "load-tests/bench/results/vector-latest.json");
const K = 9;
const QUERIES = 200;
const LOAD: LoadSettings = {
  connections: 8,
  warmupSeconds: 2,
  durationSeconds: Number(process.env.BENCH_DURATION_S ?? 8),
  maxRequests: 2_000_000,
};
// The same short load at every thread count before reading RSS, so 1, 2 and 4 threads compare like for like.
const TOUCH: LoadSettings = { connections: 8, warmupSeconds: 0, durationSeconds: 2, maxRequests: 200_000 };
// 500..16000 per the planner's comment; the larger sizes locate the crossover if it lies beyond.
const THRESHOLD_SIZES = [500, 1000, 2000, 4000, 8000, 16000, 32000, 64000];
const THRESHOLD_QUERIES = 40;

const log = logger("bench:vector");
const round3 = (value: number) => Math.round(value * 1000) / 1000;

interface Catalog {
  name: string;
  courses: () => CourseText[];
  /** The planner evidence is asked for on 100k; UIUC is cheap and shows how the crossover moves with nprobe. */
  thresholdSizes: number[];
}

const CATALOGS: Catalog[] = [
  { name: "UIUC", courses: uiucCourses, thresholdSizes: THRESHOLD_SIZES },
  { name: "synthetic 100k", courses: () => syntheticCourses(100_000, 42), thresholdSizes: THRESHOLD_SIZES },
];

async function withSidecar<T>(
  indexDir: string,
  threads: number,
  use: (sidecar: SidecarChild) => Promise<T>,
): Promise<T> {
  const started = performance.now();
  const sidecar = await startSidecar({ cwd: root, indexDir, threads });
  const stop = () => sidecar.stop();
  cleanups.push(stop);
  log(`sidecar pid ${sidecar.pid}, ${threads} thread(s), ready in ${seconds(started)}`);
  try {
    return await use(sidecar);
  } finally {
    await sidecar.stop();
    cleanups.splice(cleanups.indexOf(stop), 1);
  }
}

const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

/** The same short mixed load at every thread count (every thread maps the index and serves both plan kinds). */
async function touchRss(sidecar: SidecarChild, bodies: string[][]): Promise<number> {
  for (const set of [bodies[0], bodies.at(-1)]) if (set) await loadRun(sidecar.url, set, TOUCH);
  const stats = await sidecar.stats();
  if (stats.threads !== sidecar.threads)
    throw new Error(`sidecar runs ${stats.threads} threads, asked for ${sidecar.threads}`);
  return mib(stats.memory.rss);
}

/** Builds the index and everything the runs need; the course texts and the course-order matrix stay behind. */
async function prepare(catalog: Catalog, dir: string) {
  let started = performance.now();
  const courses = catalog.courses();
  log(`${catalog.name}: ${courses.length} courses read in ${seconds(started)}; building the index`);
  started = performance.now();
  const built = await buildCatalogIndex(dir, courses);
  const { manifest } = built;
  log(
    `${catalog.name}: built in ${seconds(started)} (nlist ${manifest.nlist}, nprobe ${manifest.nprobe}, calibrated recall ${manifest.calibratedRecall.toFixed(3)})`,
  );
  const queries = await titleQueries(courses, built.calibration, built.embedder, QUERIES);
  const scenarios = filterScenarios(built.ids);
  started = performance.now();
  const exact = exactTopK(
    built.matrix,
    built.ids,
    DIMS,
    queries.vectors,
    scenarios.map((s) => rowMask(built.ids, s.allowed)),
    K,
  );
  log(`${catalog.name}: brute-force oracle for ${queries.texts.length} queries in ${seconds(started)}`);
  // Bodies built once: the load generator only picks the next string. Vectors and ids in the compact
  // base64 forms, as the api sends them.
  const bodies = scenarios.map((s) => {
    const idsBase64 = s.allowed ? encodeIds(s.allowed) : undefined;
    return queries.vectors.map((v) =>
      JSON.stringify({
        vectorBase64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64"),
        k: K,
        idsBase64,
      }),
    );
  });
  return {
    courses: courses.length,
    manifest,
    timings: built.timings,
    ids: built.ids,
    queries: queries.vectors,
    scenarios,
    exact,
    bodies,
  };
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

async function measureQuality(
  sidecar: SidecarChild,
  scenario: FilterScenario,
  bodies: string[],
  exact: Scored[][],
): Promise<ScenarioQuality> {
  const allowed = scenario.allowed ? new Set(scenario.allowed) : undefined;
  const { answers } = await sequentialAnswers(sidecar.url, bodies);
  const recalls = answers.map((answer, q) => recallAtK(answer.results, exact[q] ?? [], K));
  const strategies: Record<string, number> = {};
  for (const answer of answers) {
    strategies[answer.plan.strategy] = (strategies[answer.plan.strategy] ?? 0) + 1;
    if (allowed && answer.results.some((r) => !allowed.has(r.id)))
      throw new Error(`${scenario.name}: the sidecar returned an id outside the allowed set`);
  }
  const byPhrasing: Record<string, number[]> = {};
  recalls.forEach((recall, q) => {
    const phrase = phrasingOf(q);
    byPhrasing[phrase] = [...(byPhrasing[phrase] ?? []), recall];
  });
  // Two timed rounds after the untimed pass above (which also warmed the JIT and the socket).
  const latencies = await timedSequential(sidecar.url, bodies, 2);
  const meanMs = mean(latencies);
  return {
    scenario: scenario.name,
    allowed: scenario.allowed?.length ?? null,
    recall: round3(mean(recalls)),
    exactAnswers: answers.filter((answer, q) => sameScores(answer.results, exact[q] ?? [])).length,
    queries: answers.length,
    strategies,
    fellBack: answers.filter((a) => a.plan.fellBack).length,
    meanNprobe: Math.round(mean(answers.map((a) => a.plan.nprobe)) * 10) / 10,
    meanScanned: Math.round(mean(answers.map((a) => a.plan.scanned))),
    serverP50Ms: round3(
      percentile(
        answers.map((a) => a.plan.ms),
        50,
      ),
    ),
    single: {
      p50Ms: round3(percentile(latencies, 50)),
      p99Ms: round3(percentile(latencies, 99)),
      meanMs: round3(meanMs),
      requestsPerSecond: Math.round(1000 / meanMs),
      requests: latencies.length,
    },
    recallByPhrasing: Object.fromEntries(
      Object.entries(byPhrasing).map(([phrase, values]) => [phrase, round3(mean(values))]),
    ),
  };
}

async function runCatalog(catalog: Catalog, scratch: string): Promise<CatalogReport> {
  const dir = join(scratch, catalog.name.replace(/\W+/g, "-"));
  const prepared = await prepare(catalog, dir);
  const { manifest, scenarios, exact, bodies } = prepared;

  let started = performance.now();
  const baseline = await flatBaseline({
    cwd: root,
    folder: join(dir, manifest.version),
    scratchDir: dir,
    queries: prepared.queries,
    k: K,
    ompThreads: 1,
  });
  const baselineRecall = mean(baseline.results.map((answer, q) => recallAtK(answer, exact[q]?.[0] ?? [], K)));
  log(
    `${catalog.name}: faiss flat p50 ${baseline.p50Ms} ms, ${baseline.queriesPerSecond} q/s, recall ${baselineRecall.toFixed(3)} (${seconds(started)})`,
  );

  started = performance.now();
  const threshold = await measureThreshold({
    dir,
    version: manifest.version,
    ids: prepared.ids,
    queries: prepared.queries.slice(0, THRESHOLD_QUERIES),
    sizes: catalog.thresholdSizes.filter((size) => size <= prepared.courses * 0.75),
    k: K,
  });
  log(`${catalog.name}: threshold runs in ${seconds(started)} (crossover ${threshold.crossover ?? "none"})`);

  const quality: ScenarioQuality[] = [];
  const load: LoadRow[] = [];
  const memory: MemoryRow[] = [];
  for (const threads of [1, 2]) {
    await withSidecar(dir, threads, async (sidecar) => {
      const rssTouchMb = await touchRss(sidecar, bodies);
      // Answers do not depend on the thread count: recall and single-request latency once, at 1 thread.
      if (threads === 1)
        for (const [i, scenario] of scenarios.entries()) {
          const q = await measureQuality(
            sidecar,
            scenario,
            bodies[i] as string[],
            exact.map((perQuery) => perQuery[i] ?? []),
          );
          quality.push(q);
          log(
            `${catalog.name}: ${scenario.name}: recall@9 ${q.recall}, ${strategyMix(q.strategies, q.fellBack)}, p50 ${q.single.p50Ms} ms at 1 in flight`,
          );
        }
      for (const [i, scenario] of scenarios.entries()) {
        let before: Snapshot | undefined;
        let after: Snapshot | undefined;
        const result = await loadRun(sidecar.url, bodies[i] as string[], LOAD, async () => {
          // prom-client resets the lag histogram on every scrape: this one opens the measured window.
          before = await sidecar.snapshot();
          return async () => {
            after = await sidecar.snapshot();
          };
        });
        if (!before || !after) throw new Error("no sidecar snapshots around the run");
        const window = windowBetween(before, after);
        load.push({ threads, scenario: scenario.name, result, sidecar: window });
        log(
          `${catalog.name}: ${threads}t ${scenario.name}: ${result.requestsPerSecond} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms (server p99 <= ${window.serverP99Ms} ms, client GC max ${result.client.gcMaxMs} ms)`,
        );
      }
      const stats = await sidecar.stats();
      memory.push({
        threads,
        rssTouchMb,
        rssAfterLoadMb: mib(stats.memory.rss),
        peakMb: sidecar.peakMb() ?? null,
      });
    });
  }
  // Four threads only for memory: the cores are two, so its throughput would say nothing new.
  await withSidecar(dir, 4, async (sidecar) => {
    memory.push({
      threads: 4,
      rssTouchMb: await touchRss(sidecar, bodies),
      rssAfterLoadMb: null,
      peakMb: sidecar.peakMb() ?? null,
    });
  });

  const { results: _answers, ...baselineSummary } = baseline;
  return {
    name: catalog.name,
    courses: prepared.courses,
    queries: prepared.queries.length,
    build: {
      ...prepared.timings,
      nlist: manifest.nlist,
      nprobe: manifest.nprobe,
      calibratedRecall: round3(manifest.calibratedRecall),
      matrixMb: mib(manifest.count * manifest.dims * 4),
      version: manifest.version,
    },
    baseline: { ...baselineSummary, recall: round3(baselineRecall) },
    quality,
    load,
    memory,
    threshold,
  };
}

async function main() {
  const started = performance.now();
  const scratch = await mkdtemp(join(tmpdir(), "kogi-bench-vector-"));
  cleanups.push(() => rm(scratch, { recursive: true, force: true }));
  const loadBefore = loadavg()[0] ?? 0;
  const reports: CatalogReport[] = [];
  for (const catalog of CATALOGS) {
    const catalogStarted = performance.now();
    reports.push(await runCatalog(catalog, scratch));
    // Each catalog's index folder (up to ~600 MB) goes as soon as it is done.
    await rm(join(scratch, catalog.name.replace(/\W+/g, "-")), { recursive: true, force: true });
    log(`${catalog.name}: done in ${seconds(catalogStarted)}`);
  }
  const big = reports.find((r) => r.name === "synthetic 100k") as CatalogReport;
  const targets = evaluateTargets(big);
  const machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverage1m: { before: loadBefore, after: loadavg()[0] ?? 0 },
  };
  const runtimeSeconds = Math.round((performance.now() - started) / 100) / 10;

  console.log("\n## Vector index builds (local embedder, 1536 dims)\n");
  console.log(buildTable(reports));
  console.log(
    `\n## Sidecar under load: POST /v1/search, ${LOAD.connections} connections, ${LOAD.durationSeconds} s measured after ${LOAD.warmupSeconds} s warm-up, ${QUERIES} queries cycled\n`,
  );
  console.log(loadTable(reports, LOAD.connections));
  console.log(
    [
      "",
      `- p50/p99 under ${LOAD.connections} closed-loop connections are mostly queueing (about ${LOAD.connections} / throughput); single-request latency is in the next table.`,
      "- event-loop lag = prom-client's p99 minus its 10 ms sampling interval (an idle loop reads 10.1 ms).",
      "- flat baseline = faiss-node IndexFlatIP over the whole index, in-process, 1 OMP thread, one query per call; for filters it is the same unfiltered search (faiss-node has no ID selector).",
    ].join("\n"),
  );
  console.log("\n## Where the time goes under load\n");
  console.log(diagnosticsTable(reports));
  console.log(
    "\n- server p50/p99 = upper bound of the kogi_vector_search_duration_seconds bucket (request parse to answer, queue wait included); cores = CPU seconds per second from /proc.",
  );
  console.log("\n## Recall@9 vs brute force and single-request latency (1 thread, one request in flight)\n");
  console.log(qualityTable(reports));
  console.log(`\n${phrasingLines(reports)}`);
  console.log("\n## faiss-node flat exact baseline (same queries)\n");
  console.log(baselineTable(reports));
  console.log("\n## Thread scaling (2 cores shared with the load generator)\n");
  console.log(scalingTable(reports));
  console.log("\n## Resident memory by thread count\n");
  console.log(memoryTable(reports));
  console.log(
    "\n## Planner threshold: exact subset scan vs IVF by allowed-set size (in-process worker `search`)\n",
  );
  for (const report of reports) console.log(`${thresholdTable(report)}\n`);
  console.log("## Targets (synthetic 100k)\n");
  console.log(targetLines(targets));
  console.log(
    `\n- machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGb} GiB, node ${process.version}; load average ${loadBefore.toFixed(2)} before, ${machine.loadAverage1m.after.toFixed(2)} after`,
  );
  console.log(`- total runtime: ${runtimeSeconds} s`);

  await writeJson(RESULTS_FILE, {
    at: new Date().toISOString(),
    settings: { k: K, queries: QUERIES, load: LOAD, touch: TOUCH, dims: DIMS },
    machine,
    catalogs: reports,
    targets,
    runtimeSeconds,
  });
  log(`results written to ${RESULTS_FILE}`);
}

await runBench(main);
