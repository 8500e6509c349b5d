// `npm run bench:video`: (A) the replaced memo's naive D-ID client against Kogi's DIdClient on a 20 ms fake;
// (B) 500 video jobs through a real api onto a fake D-ID with 10 render slots, with searches beside them.
import { mkdir, rm } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { targetLines } from "./lib/answer-report.js";
import { cleanups, logger, runBench, seconds } from "./lib/cleanup.js";
import { createFixture } from "./lib/fixture.js";
import { writeJson } from "./lib/report.js";
import { DISTURBED_CORES, waitForQuiet } from "./lib/video-cpu.js";
import { type PartBSettings, runPartB } from "./lib/video-e2e.js";
import { type PartASettings, runPartA } from "./lib/video-part-a.js";
import { cpuTable, evaluateTargets, partATable, partBTable } from "./lib/video-report.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const RESULTS_DIR = resolve(root, "load-tests/bench/results");
const RESULTS_FILE = resolve(RESULTS_DIR, "video-latest.json");
const API_LOG = resolve(RESULTS_DIR, "video-api.log");

const PART_A: PartASettings = {
  latencyMs: 20,
  seconds: Number(process.env.BENCH_VIDEO_CALL_SECONDS ?? 4),
  uploadBytes: 2 ** 20,
  rpm: 100_000,
  callers: [1, 10],
};
const PART_B: PartBSettings = {
  jobs: Number(process.env.BENCH_VIDEO_JOBS ?? 500),
  submitConcurrency: 50,
  deadlineMs: Number(process.env.BENCH_VIDEO_DEADLINE_S ?? 180) * 1000,
  probeDelayMs: 15_000,
  search: { connections: 10, warmupSeconds: 1, durationSeconds: 5 },
  fake: { latencyMs: 20, maxInProgress: 10, renderMs: 2_000 },
  apiEnv: {
    // One process (no node:cluster workers): its pid, /metrics and /v1/stats are the whole api.
    API_WORKERS: "1",
    D_ID_MAX_CONCURRENCY: "10",
    D_ID_RPM: "100000",
    D_ID_POLL_INITIAL_MS: "250",
    D_ID_POLL_MAX_MS: "1000",
  },
};

const log = logger("bench:video");
/** Before each part: wait this long at most for other people's work on the machine to calm down. */
const QUIET_WAIT_MS = Number(process.env.BENCH_VIDEO_QUIET_WAIT_S ?? 60) * 1000;
const quietLine = (part: string, q: Awaited<ReturnType<typeof waitForQuiet>>) =>
  `- before part ${part}: waited ${q.waitedSeconds} s for a quiet machine, then ${q.busyCores} cores busy with other work${q.quiet ? "" : " (never got quiet!)"}`;

async function main() {
  const started = performance.now();
  const loadBefore = loadavg()[0] ?? 0;
  const fixture = await createFixture("kogi_bench_video");
  cleanups.push(fixture.drop);
  await mkdir(RESULTS_DIR, { recursive: true });
  await rm(API_LOG, { force: true });

  const quietA = await waitForQuiet(QUIET_WAIT_MS, log);
  const a = await runPartA(root, fixture, PART_A);
  log(`part A done (${seconds(started)})`);
  const loadBetween = loadavg()[0] ?? 0;
  const quietB = await waitForQuiet(QUIET_WAIT_MS, log);
  const b = await runPartB(root, fixture, PART_B, API_LOG);
  log(`part B done (${seconds(started)})`);
  const operations = [...new Set(a.rows.map((r) => r.operation))];
  const targets = evaluateTargets(a, b, operations);

  const upstream = a.kogi.upstream;
  console.log(
    [
      `## A. D-ID client: naive (the replaced memo's client) vs Kogi's DIdClient, fake D-ID at ${PART_A.latencyMs} ms per call`,
      "",
      `- each row: an untimed warm-up, then closed-loop callers for ${PART_A.seconds} s or its call cap (status reads 50,000, uploads 800); "vs latency floor" = calls/s against callers / ${PART_A.latencyMs} ms`,
      "- naive: a new TCP connection per call (no keep-alive agent), one call at a time across all callers (global mutex), 3 attempts with 2 s -> 10 s backoff on 5xx/timeouts",
      `- Kogi: createVideoServices' DIdClient, undici keep-alive pool of ${a.kogi.connections}, "d-id" Upstream (budget ${upstream.backend === "redis" ? "in Redis" : "IN MEMORY (Redis fallback)"}, D_ID_RPM=${a.kogi.rpm}); ${upstream.calls} calls, ${upstream.retries} retries, ${upstream.rejected} rejected, ${upstream.fallbacks} memory fallbacks`,
      "",
      partATable(a),
      "",
      `- rows are measured again (up to 3 times in the first 40 s of part A) while over ${DISTURBED_CORES} cores of other work run beside them; the least disturbed try is kept`,
      ...a.rows
        .filter((r) => (r.cores.others ?? 0) > DISTURBED_CORES)
        .map(
          (r) =>
            `- WARNING ${r.operation}, ${r.callers} caller(s), ${r.client}: ${r.cores.others} cores of other work beside it after ${r.tries} tries`,
        ),
      "",
      `## B. End to end: ${PART_B.jobs} jobs via POST /v1/videos (${PART_B.submitConcurrency} submits at a time), fake D-ID maxInProgress ${PART_B.fake.maxInProgress} (queue beyond), render ${PART_B.fake.renderMs} ms, ${PART_B.fake.latencyMs} ms per call`,
      "",
      `- api: api/src/main.ts with ${Object.entries(PART_B.apiEnv)
        .map(([k, v]) => `${k}=${v}`)
        .join(
          ", ",
        )}, DEMO_COURSES=2000, D-ID's completion webhook on (polling as the fallback); each job long-polled with Prefer: wait=20 until terminal (given up after ${PART_B.deadlineMs / 1000} s)`,
      `- search: POST /v1/courses/search, the same body repeated (cache hit), autocannon ${PART_B.search.connections} connections, ${PART_B.search.durationSeconds} s after ${PART_B.search.warmupSeconds} s warm-up; during = starting ${PART_B.probeDelayMs / 1000} s after the first submit${b.search.probeStartedAfterSubmits ? " (all submits were in)" : " (submits still going!)"}`,
      `- event-loop delay: /metrics kogi_nodejs_eventloop_lag_{p99,max}_seconds scraped every second from the first submit, minus the 10 ms sampling period`,
      "",
      partBTable(b),
      "",
      "CPU cores by process (2 cores in all):",
      "",
      cpuTable(b),
      "",
      `- api upstreams: ${b.upstreams.map((u) => `${u.name} (${u.backend}): ${u.calls} calls, ${u.failed} failed, ${u.retries} retries, ${u.rejected} rejected, ${u.fallbacks} memory fallbacks`).join("; ")}`,
      `- fake D-ID calls: ${Object.entries(b.fake.calls)
        .map(([route, n]) => `${route} ${n}`)
        .join(
          ", ",
        )}; watcher read errors: ${b.watchErrors}; submit errors: ${JSON.stringify(b.submitErrors)}`,
      `- search probe tries (each repeated, up to 3 times, while over ${DISTURBED_CORES} cores of other work ran beside it): ${JSON.stringify(b.probeTries)}`,
      ...b.warnings.map((w) => `- WARNING ${w}`),
      `- api log lines (warn and above) by message: ${JSON.stringify(b.apiLog)} (${b.apiLogFile})`,
      "",
      "## Targets",
      "",
      targetLines(targets),
      "",
      `- machine: ${cpus().length} cores (${cpus()[0]?.model}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}; load average ${loadBefore.toFixed(2)} at start, ${loadBetween.toFixed(2)} before part B (clients, fake, api, MariaDB and Redis share the cores)`,
      quietLine("A", quietA),
      quietLine("B", quietB),
      `- total runtime: ${seconds(started)}`,
    ].join("\n"),
  );
  await writeJson(RESULTS_FILE, {
    at: new Date().toISOString(),
    settings: { partA: PART_A, partB: PART_B },
    machine: {
      cores: cpus().length,
      cpu: cpus()[0]?.model,
      node: process.version,
      loadBefore,
      loadBetween,
      quietA,
      quietB,
    },
    partA: a,
    partB: b,
    targets,
    runtimeSeconds: Math.round((performance.now() - started) / 100) / 10,
  });
  log(`results written to ${RESULTS_FILE}`);
}

await runBench(main);
