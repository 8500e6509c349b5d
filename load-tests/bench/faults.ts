// `npm run bench:faults`: each dependency killed, frozen or failing (and the api restarted) under a
// bounded load of searches and answers on loopback, all on private instances; prints one table.
import { cpus, loadavg } from "node:os";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { logger, runBench, seconds } from "./lib/cleanup.js";
import { faultTable, RECOVERY_RUN, rowsOf, TARGETS, targetSummary, timelineOf } from "./lib/faults-report.js";
import { FAULTS, type FaultRun, runFault, settle } from "./lib/faults-scenarios.js";
import { createWorld } from "./lib/faults-world.js";
import { writeJson } from "./lib/report.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const RESULTS_FILE = resolve(root, "load-tests/bench/results/faults-latest.json");
/** BENCH_FAULTS="Redis,sidecar" runs only the faults whose names contain one of these. */
const ONLY = process.env.BENCH_FAULTS?.split(",").map((name) => name.trim().toLowerCase());

const log = logger("bench:faults");

async function main() {
  const started = performance.now();
  const world = await createWorld(log);
  log(`world ready in ${seconds(started)}`);
  const loadBefore = loadavg()[0] ?? 0;
  const runs: FaultRun[] = [];
  const notes: string[] = [];
  for (const [row, fault] of FAULTS.entries()) {
    if (ONLY && !ONLY.some((name) => fault.name.toLowerCase().includes(name))) continue;
    const unsettled = await settle(world);
    if (unsettled) notes.push(`before "${fault.name}": ${unsettled}`);
    const run = await runFault(world, fault, row);
    runs.push(run);
    log(`${fault.name}: ${run.events.join("; ")}`);
  }
  const rows = rowsOf(runs);
  console.log(
    `\n## Faults under load: ${runs[0]?.search.connections ?? 0} search + ${runs[0]?.answer.connections ?? 0} answer ` +
      "closed-loop clients, private MariaDB/Redis/sidecar/fake OpenAI on loopback\n",
  );
  console.log(faultTable(rows));
  console.log("");
  for (const line of targetSummary(rows)) console.log(line);
  for (const run of runs) {
    console.log(`- ${run.fault.name}: ${run.events.join("; ")}`);
    if (run.errorLogs.length) {
      const messages = new Map<string, number>();
      for (const line of run.errorLogs) {
        const err = (line.err as { message?: string } | undefined)?.message ?? "";
        const key = `${line.msg}${err ? `: ${err.slice(0, 120)}` : ""}`;
        messages.set(key, (messages.get(key) ?? 0) + 1);
      }
      console.log(`  error-level log lines: ${[...messages].map(([key, n]) => `${key} (x${n})`).join("; ")}`);
    }
  }
  for (const note of notes) console.log(`- note: ${note}`);
  console.log(
    `- recovery: seconds from the dependency serving again to the first of ${RECOVERY_RUN} consecutive 200s on the route; ` +
      "p99 and max over the requests in flight at some moment of the fault",
  );
  console.log(
    `- machine: ${cpus().length} cores, load average ${loadBefore.toFixed(2)} before; the api replicas, sidecar, MariaDB, ` +
      "Redis, nginx, fake OpenAI and the load generator share them",
  );
  console.log(`- total runtime: ${seconds(started)}`);
  await writeJson(RESULTS_FILE, {
    at: new Date().toISOString(),
    settings: world.settings,
    targets: TARGETS,
    rows,
    runs: runs.map((run) => ({
      fault: run.fault.name,
      via: run.fault.via,
      events: run.events,
      faultSeconds: (run.returnedAt - run.faultAt) / 1000,
      search: { ...run.search, answeredBodies: undefined },
      answer: { ...run.answer, answeredBodies: undefined },
      timeline: timelineOf(run),
      ready: run.ready.map((s) => ({ ...s, at: Math.round(s.at - run.faultAt) })),
      errorLogs: run.errorLogs.slice(0, 20),
    })),
    notes,
  });
  log(`results written to ${RESULTS_FILE}`);
}

await runBench(main);
