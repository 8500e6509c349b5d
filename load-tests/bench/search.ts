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
import { type RunSettings, runScenario, type ScenarioResult } from "./lib/scenario.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const CATALOG_DIR = resolve(root, "../shared/datasets/uiuc-course-catalog");
const RESULTS_FILE = resolve(root, "load-tests/bench/results/search-latest.json");
const SETTINGS: RunSettings = {
  connections: 50,
  warmupSeconds: 2,
  durationSeconds: Number(process.env.BENCH_DURATION_S ?? 10),
};
// Far above what one machine can do in one run; only there so no run can be unbounded.
const MAX_REQUESTS_PER_RUN = 2_000_000;
const HIT_BODY = JSON.stringify({ term: "2025-su", subjects: ["CS"], limit: 20 });
// BENCH_CPU_PROF=1 writes a V8 profile of the api child to results/profiles/ when it stops.
const API_NODE_ARGS = process.env.BENCH_CPU_PROF
  ? ["--cpu-prof", `--cpu-prof-dir=${resolve(root, "load-tests/bench/results/profiles")}`]
  : [];

const log = logger("bench");

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
  proxyUrl: string,
  missSource: ReturnType<typeof missBodies>,
) {
  const results: ScenarioResult[] = [];
  const memory: Record<string, ReturnType<ServerChild["memory"]>> = {};
  const fixed = () => HIT_BODY;
  // Stop before the distinct bodies run out rather than repeat one (a repeat would be a hit).
  const missesLeft = () => Math.max(SETTINGS.connections, missSource.capacity - missSource.used - 200);
  const specs = [
    { name: "baseline (bare Hono)", url: bare.url, nextBody: fixed, maxRequests: () => MAX_REQUESTS_PER_RUN },
    { name: "cache hit", url: api.url, nextBody: fixed, maxRequests: () => MAX_REQUESTS_PER_RUN },
    { name: "cache hit via nginx", url: proxyUrl, nextBody: fixed, maxRequests: () => MAX_REQUESTS_PER_RUN },
    { name: "cache miss", url: api.url, nextBody: () => missSource.next(), maxRequests: missesLeft },
    {
      name: "cache miss via nginx",
      url: proxyUrl,
      nextBody: () => missSource.next(),
      maxRequests: missesLeft,
    },
  ];
  for (const spec of specs) {
    const started = performance.now();
    results.push(await runScenario(spec, SETTINGS));
    memory[spec.name] = api.memory();
    log(`${spec.name}: ${results.at(-1)?.requestsPerSecond} req/s (${seconds(started)})`);
  }
  return { results, memory };
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
  const { results, memory } = await runAll(api, bare, proxy.url, missSource);
  // The production entry point (compiled, node:cluster) with 1 and 2 workers, direct and via nginx.
  const pairs = await subjectsByTerm(fixture.pool);
  for (const workers of [1, 2]) {
    const cluster: ClusterApi = await startClusterApi(root, fixture.env, workers);
    cleanups.push(cluster.stop);
    const front = await nginxInFront(cluster.url);
    const misses = missBodies(pairs);
    const left = () => Math.max(SETTINGS.connections, misses.capacity - misses.used - 200);
    for (const [name, url, nextBody, maxRequests] of [
      [`cache hit, API_WORKERS=${workers}`, cluster.url, () => HIT_BODY, () => MAX_REQUESTS_PER_RUN],
      [`cache hit, API_WORKERS=${workers} via nginx`, front.url, () => HIT_BODY, () => MAX_REQUESTS_PER_RUN],
      [`cache miss, API_WORKERS=${workers}`, cluster.url, () => misses.next(), left],
      [`cache miss, API_WORKERS=${workers} via nginx`, front.url, () => misses.next(), left],
    ] as const) {
      results.push(await runScenario({ name, url, nextBody, maxRequests }, SETTINGS));
      memory[name] = cluster.memory();
      log(`${name}: ${results.at(-1)?.requestsPerSecond} req/s`);
    }
    await front.stop();
    await cluster.stop();
  }
  const row = (name: string) => results.find((result) => result.name === name) as ScenarioResult;
  const [baseline, hit, miss] = [row("baseline (bare Hono)"), row("cache hit"), row("cache miss")];
  const targets = {
    ...evaluateTargets(baseline, hit, miss),
    ...nginxTargets(hit, row("cache hit via nginx")),
    ...workerTargets(row("cache miss, API_WORKERS=1"), row("cache miss, API_WORKERS=2")),
  };

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
  console.log(`\n${targetLines(targets)}\n${nginxTargetLines(targets)}\n${workerTargetLines(targets)}\n`);
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
