// `npm run bench:search`: load-tests POST /v1/courses/search (cache hit, cache miss) against a bare Hono floor.
import { cpus, loadavg, totalmem } from "node:os";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { missBodies } from "./lib/bodies.js";
import { cleanups, logger, runBench, seconds } from "./lib/cleanup.js";
import { type ClusterApi, startClusterApi, workerTargetLines, workerTargets } from "./lib/cluster-api.js";
import { createFixture, importCatalog, subjectsByTerm } from "./lib/fixture.js";
import { nginxInFront, nginxTargetLines, nginxTargets } from "./lib/nginx-front.js";
import { type ServerChild, startServer } from "./lib/processes.js";
import { evaluateTargets, markdownTable, targetLines, warnings, writeJson } from "./lib/report.js";
import {
  processTree,
  type RunSettings,
  runComparable,
  type ScenarioResult,
  type ScenarioSpec,
} from "./lib/scenario.js";
import { pidOf } from "./lib/video-cpu.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const CATALOG_DIR = resolve(root, "../shared/datasets/uiuc-course-catalog");
const RESULTS_FILE = resolve(root, "load-tests/bench/results/search-latest.json");
const SETTINGS: RunSettings = {
  connections: 50,
  warmupSeconds: 2,
  durationSeconds: Number(process.env.BENCH_DURATION_S ?? 10),
};
// Rows compared with each other are measured again as a group (up to this many times) while other work
// on the machine disturbed one of them (runComparable).
const TRIES = Number(process.env.BENCH_TRIES ?? 2);
// Far above what one machine can do in one run; only there so no run can be unbounded.
const MAX_REQUESTS_PER_RUN = 2_000_000;
const HIT_BODY = JSON.stringify({ term: "2025-su", subjects: ["CS"], limit: 20 });
// BENCH_CPU_PROF=1 writes a V8 profile of the api child to results/profiles/ when it stops.
const API_NODE_ARGS = process.env.BENCH_CPU_PROF
  ? ["--cpu-prof", `--cpu-prof-dir=${resolve(root, "load-tests/bench/results/profiles")}`]
  : [];

const log = logger("bench");

/** The processes a row's CPU columns add up: the server under test (with its workers), nginx, the stores. */
function processesOf(server: number, nginx?: number) {
  const [mariadbd, redis] = [pidOf("mariadbd") ?? pidOf("mysqld"), pidOf("redis-server")];
  return () => ({
    server: processTree(server),
    nginx: nginx ? processTree(nginx) : [],
    mariadbd: mariadbd ? [mariadbd] : [],
    redis: redis ? [redis] : [],
  });
}

/** Two real requests: the first fills the cache, the second returns the cached bytes we replay. */
async function captureCachedResponse(apiUrl: string) {
  const search = () =>
    fetch(`${apiUrl}/v1/courses/search`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: HIT_BODY,
    });
  const first = await search();
  await first.arrayBuffer();
  const second = await search();
  const body = await second.text();
  const xCache = second.headers.get("x-cache") ?? "";
  if (second.status !== 200 || !xCache.startsWith("HIT"))
    throw new Error(`warm search gave ${second.status} with X-Cache "${xCache}": ${body.slice(0, 300)}`);
  return { body, contentType: second.headers.get("content-type") ?? "" };
}

async function assertSameReply(bareUrl: string, expected: { body: string; contentType: string }) {
  const response = await fetch(`${bareUrl}/v1/courses/search`, { method: "POST", body: HIT_BODY });
  const body = Buffer.from(await response.arrayBuffer());
  if (
    !body.equals(Buffer.from(expected.body)) ||
    response.headers.get("content-type") !== expected.contentType
  )
    throw new Error("the bare route does not reply with the api's bytes and content type");
}

async function startServers(env: Record<string, string>) {
  const api = await startServer("load-tests/bench/serve-api.ts", { cwd: root, env, nodeArgs: API_NODE_ARGS });
  cleanups.push(api.stop);
  const reply = await captureCachedResponse(api.url);
  const bare = await startServer("load-tests/bench/serve-bare.ts", { cwd: root, message: reply });
  cleanups.push(bare.stop);
  await assertSameReply(bare.url, reply);
  const proxy = await nginxInFront(api.url);
  return { api, bare, proxy, responseBytes: Buffer.byteLength(reply.body) };
}

async function runAll(
  api: ServerChild,
  bare: ServerChild,
  proxy: { url: string; pid: number },
  missSource: ReturnType<typeof missBodies>,
) {
  const results: ScenarioResult[] = [];
  const memory: Record<string, ReturnType<ServerChild["memory"]>> = {};
  const fixed = () => HIT_BODY;
  // Stop before the distinct bodies run out rather than repeat one (a repeat would be a hit).
  const missesLeft = () => Math.max(SETTINGS.connections, missSource.capacity - missSource.used - 200);
  const [direct, viaNginx] = [processesOf(api.pid), processesOf(api.pid, proxy.pid)];
  const unlimited = () => MAX_REQUESTS_PER_RUN;
  const specs = [
    {
      name: "baseline (bare Hono)",
      url: bare.url,
      nextBody: fixed,
      maxRequests: unlimited,
      processes: processesOf(bare.pid),
    },
    { name: "cache hit", url: api.url, nextBody: fixed, maxRequests: unlimited, processes: direct },
    {
      name: "cache hit via nginx",
      url: proxy.url,
      nextBody: fixed,
      maxRequests: unlimited,
      processes: viaNginx,
    },
    {
      name: "cache miss",
      url: api.url,
      nextBody: () => missSource.next(),
      maxRequests: missesLeft,
      processes: direct,
    },
    {
      name: "cache miss via nginx",
      url: proxy.url,
      nextBody: () => missSource.next(),
      maxRequests: missesLeft,
      processes: viaNginx,
    },
  ];
  // Compared with each other: hit with the bare route and with nginx in front; miss direct and via nginx.
  for (const group of [specs.slice(0, 3), specs.slice(3)]) {
    const started = performance.now();
    results.push(...(await runComparable(group, SETTINGS, TRIES)));
    for (const spec of group) memory[spec.name] = api.memory();
    log(`${group.map((spec) => spec.name).join(", ")}: ${seconds(started)}`);
  }
  return { results, memory };
}

/**
 * The production entry point (compiled, node:cluster) with 1 and 2 workers, direct and via nginx. Both
 * clusters run at once (the idle one costs nothing measurable), so the rows that are compared with each
 * other are measured back to back and repeated together when disturbed.
 */
async function runClusters(
  env: Record<string, string>,
  pairs: Awaited<ReturnType<typeof subjectsByTerm>>,
  memory: Record<string, ReturnType<ServerChild["memory"]>>,
) {
  const rows = new Map<string, ScenarioSpec>();
  const clusters: ClusterApi[] = [];
  for (const workers of [1, 2]) {
    const cluster = await startClusterApi(root, env, workers);
    cleanups.push(cluster.stop);
    clusters.push(cluster);
    const front = await nginxInFront(cluster.url);
    const misses = missBodies(pairs);
    const left = () => Math.max(SETTINGS.connections, misses.capacity - misses.used - 200);
    const [direct, viaNginx] = [processesOf(cluster.pid), processesOf(cluster.pid, front.pid)];
    const name = `API_WORKERS=${workers}`;
    const hit = { nextBody: () => HIT_BODY, maxRequests: () => MAX_REQUESTS_PER_RUN };
    const miss = { nextBody: () => misses.next(), maxRequests: left };
    for (const [cache, load] of [
      ["hit", hit],
      ["miss", miss],
    ] as const)
      for (const [suffix, url, processes] of [
        ["", cluster.url, direct],
        [" via nginx", front.url, viaNginx],
      ] as const) {
        const key = `cache ${cache}, ${name}${suffix}`;
        rows.set(key, { name: key, url, ...load, processes });
      }
  }
  const spec = (name: string) => rows.get(name) as ScenarioSpec;
  const groups = [
    ["cache hit, API_WORKERS=1", "cache hit, API_WORKERS=1 via nginx"],
    ["cache hit, API_WORKERS=2", "cache hit, API_WORKERS=2 via nginx"],
    ["cache miss, API_WORKERS=1", "cache miss, API_WORKERS=2"],
    ["cache miss, API_WORKERS=1 via nginx", "cache miss, API_WORKERS=2 via nginx"],
  ];
  const measured = new Map<string, ScenarioResult>();
  for (const group of groups) {
    for (const result of await runComparable(group.map(spec), SETTINGS, TRIES)) {
      measured.set(result.name, result);
      memory[result.name] = clusters[result.name.includes("API_WORKERS=1") ? 0 : 1]?.memory();
      log(`${result.name}: ${result.requestsPerSecond} req/s`);
    }
  }
  for (const cluster of clusters) await cluster.stop();
  // Table order: each cluster's rows together.
  return [...rows.keys()].map((name) => measured.get(name) as ScenarioResult);
}

async function main() {
  const started = performance.now();
  const fixture = await createFixture();
  cleanups.push(fixture.drop);
  const imported = await importCatalog(fixture.pool, CATALOG_DIR);
  const missSource = missBodies(await subjectsByTerm(fixture.pool));
  log(`imported ${imported.files} files (${imported.skipped} rows skipped) in ${seconds(started)}`);

  const { api, bare, proxy, responseBytes } = await startServers(fixture.env);
  log(
    `api pid ${api.pid} at ${api.url}, bare pid ${bare.pid} at ${bare.url}, nginx pid ${proxy.pid} at ${proxy.url}`,
  );
  // Everything shares this machine's cores: a busy neighbour shows up here, not in the table.
  const loadBefore = loadavg()[0] ?? 0;
  const { results, memory } = await runAll(api, bare, proxy, missSource);
  results.push(...(await runClusters(fixture.env, await subjectsByTerm(fixture.pool), memory)));
  const row = (name: string) => results.find((result) => result.name === name) as ScenarioResult;
  const [baseline, hit, miss] = [row("baseline (bare Hono)"), row("cache hit"), row("cache miss")];
  const targets = {
    ...evaluateTargets(baseline, hit, miss),
    ...nginxTargets(hit, row("cache hit via nginx")),
    ...workerTargets(row("cache miss, API_WORKERS=1"), row("cache miss, API_WORKERS=2"), cpus().length),
  };

  const clusterPairs = [1, 2].map((workers) => ({
    workers,
    hit: row(`cache hit, API_WORKERS=${workers}`),
    viaNginx: row(`cache hit, API_WORKERS=${workers} via nginx`),
  }));
  const machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    loadAverage1m: { before: loadBefore, after: loadavg()[0] ?? 0 },
  };
  console.log(
    `\n## POST /v1/courses/search: ${SETTINGS.connections} connections, ${SETTINGS.durationSeconds} s each\n`,
  );
  console.log(markdownTable(results, baseline));
  console.log(
    `\nCPU columns: cores used during each measured run (this machine has ${cpus().length}). generator: ` +
      "autocannon, in this process; server: the api (primary and workers) or the bare route; others: busy " +
      "CPU of no process named here (other work on the machine).",
  );
  console.log(
    `\n${targetLines(targets)}\n${nginxTargetLines(targets, clusterPairs)}\n${workerTargetLines(targets)}\n`,
  );
  for (const warning of warnings(results, SETTINGS.durationSeconds)) console.log(`- WARNING ${warning}`);
  console.log(
    `- machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGb} GiB, node ${process.version}; ` +
      `load average ${loadBefore.toFixed(2)} before the scenarios (server, client, MariaDB and Redis share the cores)`,
  );
  console.log(
    `- cached response: ${responseBytes} bytes; miss bodies: ${missSource.used} used of ${missSource.capacity} distinct`,
  );
  console.log(`- miss pages that were empty: ${miss.emptyPages} of ${miss.requests}`);
  for (const [name, mem] of Object.entries(memory))
    if (mem) console.log(`- api RSS after ${name}: ${mem.rssMb} MiB (peak ${mem.peakMb} MiB)`);
  console.log(`- total runtime: ${seconds(started)}`);

  await writeJson(RESULTS_FILE, {
    at: new Date().toISOString(),
    settings: SETTINGS,
    machine: { ...machine, node: process.version },
    hitBody: JSON.parse(HIT_BODY),
    responseBytes,
    results,
    targets,
    apiMemoryMb: memory,
    missBodies: { used: missSource.used, distinct: missSource.capacity },
    runtimeSeconds: Math.round((performance.now() - started) / 100) / 10,
  });
  log(`results written to ${RESULTS_FILE}`);
}

await runBench(main);
