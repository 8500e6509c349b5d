// `npm run bench:startup`: time from spawn to a 200 from /ready, and idle RSS, of the api and the vector
// sidecar run as before (tsx on the TypeScript, as `npm start` and the image used to) and as now (node on
// the build), alternating in the same run on the same machine; plus the build and its no-op check.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { migrate } from "@kogi/api/adapters/mysql/migrate";
import { generateCatalog } from "@kogi/api/catalog/generator";
import { importTerms } from "@kogi/api/catalog/importer";
import { cleanups, logger, runBench } from "./lib/cleanup.js";
import { createFixture } from "./lib/fixture.js";
import { freePort } from "./lib/processes.js";
import { writeJson } from "./lib/report.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const RESULTS_FILE = resolve(root, "load-tests/bench/results/startup-latest.json");
const ROUNDS = Number(process.env.BENCH_STARTUP_ROUNDS ?? 5);
const COURSES = 2_000; // the demo catalog's size
// Idle means after start-up work (lazy loads, first GCs) has settled; RSS is read this long after /ready.
const SETTLE_MS = 3_000;
const log = logger("startup");

interface Variant {
  name: string;
  kind: "api" | "sidecar";
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** The variant this one is compared with. */
  baseline?: string;
}

const TSX_CLI = join(root, "node_modules/.bin/tsx");
const VARIANTS: Variant[] = [
  // The tsx CLI is a node process that runs a second node with its loader: both count, as they did.
  { name: "api: tsx api/src/main.ts (before)", kind: "api", command: TSX_CLI, args: ["api/src/main.ts"] },
  {
    name: "api: node api/dist/main.js",
    kind: "api",
    command: process.execPath,
    args: ["--enable-source-maps", "api/dist/main.js"],
    baseline: "api: tsx api/src/main.ts (before)",
  },
  {
    name: "api: node api/dist/main.js, API_WORKERS=2 (primary + 2 workers)",
    kind: "api",
    command: process.execPath,
    args: ["--enable-source-maps", "api/dist/main.js"],
    env: { API_WORKERS: "2" },
    baseline: "api: tsx api/src/main.ts (before)",
  },
  {
    name: "sidecar: tsx vector-worker/src/main.ts (before)",
    kind: "sidecar",
    command: TSX_CLI,
    args: ["vector-worker/src/main.ts"],
  },
  {
    name: "sidecar: node vector-worker/dist/main.js",
    kind: "sidecar",
    command: process.execPath,
    args: ["--enable-source-maps", "vector-worker/dist/main.js"],
    baseline: "sidecar: tsx vector-worker/src/main.ts (before)",
  },
];

/** Resident memory of a process and all its descendants, in MiB (Linux /proc). */
async function treeRssMb(pid: number): Promise<number> {
  const parents = new Map<number, number>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // Field 4 (ppid) follows the parenthesised command name, which may itself contain spaces.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid) parents.set(Number(entry), ppid);
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++)
    for (const [child, parent] of parents) if (parent === tree[i]) tree.push(child);
  let kb = 0;
  for (const member of tree) {
    const status = await readFile(`/proc/${member}/status`, "utf8").catch(() => "");
    kb += Number(status.match(/^VmRSS:\s+(\d+)/m)?.[1] ?? 0);
  }
  return Math.round(kb / 1024);
}

async function stop(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

/** One start: spawn, poll /ready every 10 ms until 200, let it settle, read RSS, SIGTERM. */
async function measure(variant: Variant, env: Record<string, string>) {
  const port = await freePort();
  const portEnv =
    variant.kind === "api" ? { PORT: String(port) } : { VECTOR_PORT: String(port), VECTOR_HOST: "127.0.0.1" };
  const started = performance.now();
  const child = spawn(variant.command, variant.args, {
    cwd: root,
    env: { ...process.env, ...env, ...portEnv, ...variant.env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  cleanups.push(() => stop(child));
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${variant.name} exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`${variant.name} not ready within 60 s`);
      const status = await fetch(`http://127.0.0.1:${port}/ready`, {
        signal: AbortSignal.timeout(2_000),
      }).then(
        async (r) => {
          await r.arrayBuffer();
          return r.status;
        },
        () => 0,
      );
      if (status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const readyMs = performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    return { readyMs, rssMb: await treeRssMb(child.pid ?? 0) };
  } finally {
    await stop(child);
  }
}

async function timedNode(args: string[]): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  const [code] = await once(child, "exit");
  if (code !== 0) throw new Error(`node ${args.join(" ")} exited with ${code}`);
  return performance.now() - started;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

async function main() {
  log(
    `machine: ${cpus().length} cores, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
  const buildMs = await timedNode(["scripts/build.mjs"]);
  const noOpMs = median(
    await Promise.all([0, 1, 2].map(() => timedNode(["scripts/build.mjs", "--if-stale"]))),
  );

  const fixture = await createFixture("kogi_bench_startup");
  cleanups.push(fixture.drop);
  await migrate(fixture.pool);
  await importTerms(fixture.pool, generateCatalog({ courses: COURSES, seed: 42 }).terms);
  const indexDir = await mkdtemp(join(tmpdir(), "kogi-bench-startup-"));
  cleanups.push(() => rm(indexDir, { recursive: true, force: true }));
  const env = {
    ...fixture.env,
    LOG_LEVEL: "warn",
    API_WORKERS: "1",
    DEMO_COURSES: "0",
    VECTOR_INDEX_DIR: indexDir,
    // The api's /ready does not need the sidecar (it reports it); measured apart, nothing listens here.
    VECTOR_URL: "http://127.0.0.1:9",
  };
  const index = spawn(process.execPath, ["vector-worker/dist/index-build.js"], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  if ((await once(index, "exit"))[0] !== 0) throw new Error("index build failed");

  const samples = new Map<string, { readyMs: number[]; rssMb: number[] }>(
    VARIANTS.map((v) => [v.name, { readyMs: [], rssMb: [] }]),
  );
  for (let round = 0; round < ROUNDS; round++) {
    // Rotating the order spreads warm file caches and machine noise over every variant alike.
    const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length] as Variant);
    for (const variant of order) {
      const sample = await measure(variant, env);
      samples.get(variant.name)?.readyMs.push(sample.readyMs);
      samples.get(variant.name)?.rssMb.push(sample.rssMb);
    }
    log(`round ${round + 1}/${ROUNDS} done`);
  }

  const rows = VARIANTS.map((variant) => {
    const s = samples.get(variant.name) ?? { readyMs: [], rssMb: [] };
    const base = variant.baseline ? samples.get(variant.baseline) : undefined;
    return {
      name: variant.name,
      readyMs: Math.round(median(s.readyMs)),
      readyRangeMs: [Math.round(Math.min(...s.readyMs)), Math.round(Math.max(...s.readyMs))],
      rssMb: median(s.rssMb),
      readyRatio: base ? median(s.readyMs) / median(base.readyMs) : 1,
      rssRatio: base ? median(s.rssMb) / median(base.rssMb) : 1,
    };
  });
  const lines = [
    `| process | start to /ready, median (min-max) | vs before | idle RSS, median | vs before |`,
    `| --- | --- | --- | --- | --- |`,
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.readyMs} ms (${r.readyRangeMs[0]}-${r.readyRangeMs[1]}) | ${r.readyRatio.toFixed(2)}x | ${r.rssMb} MiB | ${r.rssRatio.toFixed(2)}x |`,
    ),
  ];
  console.log(`\n## Start-up (${ROUNDS} rounds, ${COURSES}-course catalog, its index for the sidecar)\n`);
  console.log(lines.join("\n"));
  console.log(
    `\nnpm run build: ${Math.round(buildMs)} ms; the staleness check when nothing changed (npm start, the CLIs): ${Math.round(noOpMs)} ms`,
  );
  await writeJson(RESULTS_FILE, {
    rounds: ROUNDS,
    courses: COURSES,
    buildMs,
    noOpMs,
    rows,
    cpus: cpus().length,
  });
}

await runBench(main);
