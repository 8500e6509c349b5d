// `npm run bench:deploy`: two real api replicas behind the repo's nginx under a steady mixed load: a
// steady window (the baseline), a rolling restart, and a replica SIGKILLed and started again.
import { cpus, loadavg } from "node:os";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { longestGap, mixedRequests, type Outcome, percentile, startLoad, succeeded } from "../deploy/load.js";
import { type NginxProcess, startNginx } from "../deploy/nginx-process.js";
import { type Replica, startCluster, startIntoRotation } from "../deploy/replicas.js";
import { waitUntil } from "../deploy/wait.js";
import { cleanups, logger, runBench, seconds } from "./lib/cleanup.js";
import { writeJson } from "./lib/report.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const RESULTS_FILE = resolve(root, "load-tests/bench/results/deploy-latest.json");
// 20 addresses x 20 r/s: 400 r/s, each address well under nginx's 50 r/s per-address limit.
const CLIENTS = Number(process.env.BENCH_DEPLOY_CLIENTS ?? 20);
const RATE_PER_CLIENT = Number(process.env.BENCH_DEPLOY_RATE ?? 20);
const STEADY_SECONDS = Number(process.env.BENCH_DURATION_S ?? 10);
const MAX_REQUESTS = 200_000;

const log = logger("bench:deploy");

interface Row {
  scenario: string;
  seconds: number;
  requests: number;
  failed: number;
  /** Answered only after nginx tried a second replica. */
  retried: number;
  longestGapMs: number;
  p99Ms: number;
  events: string[];
}

interface Stage {
  nginx: NginxProcess;
  replicas: Replica[];
  next: ReturnType<typeof mixedRequests>;
  /** Each scenario's clients take fresh addresses, so nginx's per-address buckets start empty. */
  firstHost: number;
}

/** Runs the load while `during` does its deed, then tallies every request of the scenario. */
async function measure(stage: Stage, scenario: string, during: () => Promise<string[]>): Promise<Row> {
  const started = performance.now();
  const load = startLoad({
    url: stage.nginx.url,
    clients: CLIENTS,
    ratePerClient: RATE_PER_CLIENT,
    next: stage.next,
    maxRequests: MAX_REQUESTS,
    firstHost: stage.firstHost,
    tag: `s${stage.firstHost}`,
  });
  stage.firstHost += CLIENTS;
  let events: string[] = [];
  try {
    await waitUntil(() => load.successes() >= CLIENTS * 5, "the load to warm up", 30_000);
    events = await during();
  } finally {
    await load.stop();
  }
  const outcomes: Outcome[] = load.outcomes;
  const retried = new Set(
    stage.nginx
      .accessLog()
      .filter((line) => line.upstream_addr.includes(", "))
      .map((line) => line.request_id),
  );
  return {
    scenario,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    requests: outcomes.length,
    failed: outcomes.filter((o) => !succeeded(o)).length,
    retried: outcomes.filter((o) => succeeded(o) && retried.has(o.requestId)).length,
    longestGapMs: Math.round(longestGap(outcomes)),
    p99Ms: Math.round(percentile(outcomes, 99) * 10) / 10,
    events,
  };
}

async function timed(what: string, step: () => Promise<unknown>): Promise<string> {
  const started = performance.now();
  await step();
  return `${what} ${Math.round(performance.now() - started)} ms`;
}

/** Starts a replica again and waits until nginx sends it requests. */
async function restart(stage: Stage, replica: Replica): Promise<string> {
  const { readyMs } = await startIntoRotation(replica, stage.nginx);
  return `${replica.name} ready in ${Math.round(readyMs)} ms`;
}

const steady = (stage: Stage) =>
  measure(stage, "steady (baseline)", async () => {
    const end = performance.now() + STEADY_SECONDS * 1000;
    await waitUntil(() => performance.now() >= end, "the steady window", STEADY_SECONDS * 1000 + 5_000);
    return [];
  });

const rollingRestart = (stage: Stage) =>
  measure(stage, "rolling restart (SIGTERM, start, /ready; A then B)", async () => {
    const events: string[] = [];
    for (const replica of stage.replicas) {
      events.push(await timed(`${replica.name} drained in`, () => replica.stop("SIGTERM")));
      events.push(await restart(stage, replica));
    }
    return events;
  });

const killed = (stage: Stage) =>
  measure(stage, "replica A SIGKILLed, then started", async () => {
    const a = stage.replicas[0] as Replica;
    await a.stop("SIGKILL");
    return [await restart(stage, a)];
  });

function printTable(rows: Row[], loadBefore: number, started: number) {
  const steadyRow = rows[0] as Row;
  const rolling = rows[1] as Row;
  console.log(
    `\n## Deploys behind nginx: 2 replicas (API_WORKERS=1), ${CLIENTS} clients x ${RATE_PER_CLIENT} r/s, mixed GET/POST\n`,
  );
  console.log(
    "| scenario | s | requests | failed | retried by nginx | longest gap ms | vs steady | p99 ms |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const row of rows)
    console.log(
      `| ${row.scenario} | ${row.seconds} | ${row.requests} | ${row.failed} | ${row.retried} | ${row.longestGapMs} | ` +
        `${(row.longestGapMs / Math.max(1, steadyRow.longestGapMs)).toFixed(1)}x | ${row.p99Ms} |`,
    );
  const met = rolling.failed === 0 ? "MET" : "NOT MET";
  console.log(`\n- failed requests during a rolling restart: ${rolling.failed} (target 0) -> ${met}`);
  for (const row of rows) if (row.events.length) console.log(`- ${row.scenario}: ${row.events.join(", ")}`);
  console.log(
    `- machine: ${cpus().length} cores, load average ${loadBefore.toFixed(2)} before; nginx, both replicas, ` +
      "the load generator, MariaDB and Redis share the cores",
  );
  console.log(`- total runtime: ${seconds(started)}`);
}

async function main() {
  const started = performance.now();
  const cluster = await startCluster("bench_deploy", 2, { courses: 2000 });
  cleanups.push(cluster.close);
  const nginx = await startNginx({ upstreams: cluster.replicas.map((replica) => replica.address) });
  cleanups.push(nginx.stop);
  const terms = (await (await fetch(`${nginx.url}/v1/terms`)).json()) as { terms: { code: string }[] };
  const stage: Stage = {
    nginx,
    replicas: cluster.replicas,
    next: mixedRequests(terms.terms[0]?.code ?? ""),
    firstHost: 10,
  };
  log(
    `replicas ${cluster.replicas.map((r) => r.address).join(", ")} behind nginx ${nginx.url} (${seconds(started)})`,
  );

  const loadBefore = loadavg()[0] ?? 0;
  const rows: Row[] = [];
  for (const scenario of [steady, rollingRestart, killed]) {
    rows.push(await scenario(stage));
    log(`${rows.at(-1)?.scenario}: ${rows.at(-1)?.failed} failed of ${rows.at(-1)?.requests}`);
  }
  printTable(rows, loadBefore, started);
  await writeJson(RESULTS_FILE, {
    at: new Date().toISOString(),
    settings: {
      clients: CLIENTS,
      ratePerClient: RATE_PER_CLIENT,
      steadySeconds: STEADY_SECONDS,
      apiWorkers: 1,
    },
    rows,
  });
  log(`results written to ${RESULTS_FILE}`);
}

await runBench(main);
