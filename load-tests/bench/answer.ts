// `npm run bench:answer`: load-tests POST /v1/answer (real api, sidecar, fake OpenAI at 1.5 s) at 20/200/1000 clients.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type ApiChild,
  type FakeChild,
  machineTicks,
  type RunnerChild,
  startApi,
  startFake,
  startRunner,
} from "./lib/answer-children.js";
import {
  LEXICAL_SCENARIO,
  type LexicalCostRow,
  lexicalCostSummary,
  lexicalCostTable,
  measureLexicalCost,
} from "./lib/answer-lexical.js";
import {
  answerDetailTable,
  answerTable,
  answerTargets,
  cpuTable,
  lagTable,
  type ProbeRow,
  probeTable,
  stageTable,
  type Target,
  targetLines,
  upstreamTable,
} from "./lib/answer-report.js";
import {
  type AnswerRow,
  type AnswerScenario,
  type Budget,
  LAG_SAMPLING_MS,
  loadSpec,
  measure,
  runAnswerScenario,
  type Stack,
} from "./lib/answer-scenarios.js";
import { type BuiltIndex, buildVectorIndex, courseTitles } from "./lib/answer-setup.js";
import { cleanups, logger, runBench, seconds } from "./lib/cleanup.js";
import { createFixture, type Fixture, importCatalog } from "./lib/fixture.js";
import { writeJson } from "./lib/report.js";
import { startSidecar } from "./lib/vector-sidecar.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const CATALOG_DIR = resolve(root, "../shared/datasets/uiuc-course-catalog");
const RESULTS_DIR = resolve(root, "load-tests/bench/results");
const RESULTS_FILE = resolve(RESULTS_DIR, "answer-latest.json");
const CHAT_LATENCY_MS = 1500;
const EMBED_LATENCY_MS = 150;
const FAKE_KEY = "fake-key";
/** The stated upstream budget the api runs with; every figure below is read against it. */
const BUDGET: Budget = {
  maxConcurrency: 100,
  maxQueue: 100,
  maxQueueWaitMs: 2_000,
  rpm: 100_000,
  tpm: 100_000_000,
};
/**
 * A budget sized to this 2-core machine rather than to the upstream: about the answers/s its cores
 * can carry beside a saturating search load. Run once more (local only) for the search-probe targets.
 */
const MACHINE_BUDGET: Budget = { ...BUDGET, maxConcurrency: 20, maxQueue: 20 };
const ANSWER_MS = Number(process.env.BENCH_DURATION_S ?? 12) * 1000;
const PROBE_MS = 8_000;
// The probe starts once the 1000-client load is steady and must end before it does.
const PROBE_DELAY_MS = 2_000;
const HIT_BODY = JSON.stringify({ term: "2025-su", subjects: ["CS"], limit: 20 });
const VARIANTS = (process.env.BENCH_ANSWER_VARIANTS ?? "local,openai").split(",") as ("local" | "openai")[];
// BENCH_CPU_PROF=1 writes a V8 profile of the api and of each sidecar thread to results/profiles/ when they stop.
const NODE_PROFILE_ARGS = process.env.BENCH_CPU_PROF
  ? ["--cpu-prof", `--cpu-prof-dir=${resolve(RESULTS_DIR, "profiles")}`]
  : [];
const STRESS_SCENARIO = "1000 clients ignoring Retry-After (stress)";
const OTHER_BENCH = "load-tests/bench/(vector|search)\\.ts";
/** After set-up, scenarios wait (up to 5 min) until everything else on the machine uses less than this. */
const QUIET_CORES = Number(process.env.BENCH_QUIET_CORES ?? 0.5);
/** Comma-separated answer scenario names to run (e.g. "1000 clients" for a profile); default all. */
const ONLY = process.env.BENCH_ANSWER_SCENARIOS?.split(",").map((name) => name.trim());
/** BENCH_ANSWER_SCENARIOS="lexical stage cost" runs only the before/after of the lexical stage. */
const LEXICAL_ONLY = ONLY?.every((name) => name === LEXICAL_SCENARIO) ?? false;
const LEXICAL_MS = Number(process.env.BENCH_LEXICAL_DURATION_S ?? 4) * 1000;
const LEXICAL_ROUNDS = Number(process.env.BENCH_LEXICAL_ROUNDS ?? 8);
/** BENCH_LEXICAL_CONTROL=1: both apis serve ANSWER_RANKING=vector (an A/A run: the bench's own bias). */
const LEXICAL_CONTROL = process.env.BENCH_LEXICAL_CONTROL === "1";

const log = logger("bench:answer");
const round2 = (value: number) => Math.round(value * 100) / 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function otherBenchmarks(): string[] {
  try {
    return execFileSync("pgrep", ["-af", OTHER_BENCH], { encoding: "utf8" })
      .trim()
      .split("\n")
      .filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** Busy cores of the whole machine over `ms` (all processes, ours included). */
async function machineBusyCores(ms: number): Promise<number> {
  const before = machineTicks();
  await sleep(ms);
  const after = machineTicks();
  if (!before || !after) return 0;
  return ((after.busy - before.busy) / (after.total - before.total)) * cpus().length;
}

/**
 * Two cores: another benchmark running beside us would make both sets of numbers meaningless. With
 * `maxBusyCores`, also waits for the machine itself to calm down (other people's tests, builds).
 */
async function waitForQuietMachine(limitMs: number, maxBusyCores = Number.POSITIVE_INFINITY) {
  const started = performance.now();
  for (;;) {
    const busy = otherBenchmarks();
    const cores = Number.isFinite(maxBusyCores) ? await machineBusyCores(3_000) : 0;
    const quiet = busy.length === 0 && cores < maxBusyCores;
    if (quiet || performance.now() - started >= limitMs)
      return {
        waitedSeconds: Math.round((performance.now() - started) / 1000),
        busy,
        busyCores: round2(cores),
        quiet,
      };
    log(
      busy.length
        ? `waiting for another benchmark to finish: ${busy[0]}`
        : `waiting for a quiet machine: ${cores.toFixed(2)} cores busy`,
    );
    await sleep(10_000);
  }
}

const databaseUrl = (fixture: Fixture) => fixture.env.DATABASE_URL as string;

interface World {
  fixture: Fixture;
  titles: string[];
  tmp: string;
  fake: FakeChild;
  load: RunnerChild;
  probe: RunnerChild;
  indexes: BuiltIndex[];
}

async function prepareWorld(): Promise<World> {
  let started = performance.now();
  const fixture = await createFixture("kogi_bench_answer");
  cleanups.push(fixture.drop);
  const imported = await importCatalog(fixture.pool, CATALOG_DIR);
  const titles = await courseTitles(fixture.pool);
  log(
    `imported ${imported.files} files (${imported.skipped} rows skipped, ${titles.length} titles) in ${seconds(started)}`,
  );
  const tmp = await mkdtemp(join(tmpdir(), "kogi-bench-answer-"));
  cleanups.push(() => rm(tmp, { recursive: true, force: true }));
  const fake = await startFake(root, CHAT_LATENCY_MS, EMBED_LATENCY_MS);
  cleanups.push(fake.stop);
  const load = await startRunner(root);
  cleanups.push(load.stop);
  const probe = await startRunner(root);
  cleanups.push(probe.stop);
  log(`fake OpenAI pid ${fake.pid} at ${fake.url}; load runners pid ${load.pid}, ${probe.pid}`);
  started = performance.now();
  const local = await buildVectorIndex(databaseUrl(fixture), join(tmp, "local"), "local", {
    apiKey: FAKE_KEY,
    baseUrl: fake.url,
  });
  log(
    `local index built in ${seconds(started)} (${local.manifest.count} courses, nlist ${local.manifest.nlist})`,
  );
  return { fixture, titles, tmp, fake, load, probe, indexes: [local] };
}

function apiEnv(
  world: World,
  variant: "local" | "openai",
  vectorUrl: string,
  budget: Budget,
): Record<string, string> {
  return {
    ...world.fixture.env,
    LOG_LEVEL: "warn",
    DEMO_COURSES: "0",
    VECTOR_URL: vectorUrl,
    OPENAI_API_KEY: FAKE_KEY,
    OPENAI_BASE_URL: world.fake.url,
    // local: only the rewrite goes to the fake; the sidecar embeds the question.
    EMBEDDINGS_PROVIDER: variant,
    OPENAI_MAX_CONCURRENCY: String(budget.maxConcurrency),
    OPENAI_MAX_QUEUE: String(budget.maxQueue),
    OPENAI_MAX_QUEUE_WAIT_MS: String(budget.maxQueueWaitMs),
    OPENAI_RPM: String(budget.rpm),
    OPENAI_TPM: String(budget.tpm),
  };
}

async function indexFor(world: World, variant: "local" | "openai"): Promise<BuiltIndex> {
  const existing = world.indexes.find((index) => index.provider === variant);
  if (existing) return existing;
  const started = performance.now();
  const built = await buildVectorIndex(databaseUrl(world.fixture), join(world.tmp, variant), variant, {
    apiKey: FAKE_KEY,
    baseUrl: world.fake.url,
  });
  log(`${variant} index built against the fake in ${seconds(started)} (${built.manifest.count} courses)`);
  world.indexes.push(built);
  return built;
}

/** Sidecar and api for one variant; stopped (by PID) when the variant is done. */
async function withStack<T>(
  world: World,
  variant: "local" | "openai",
  use: (stack: Stack) => Promise<T>,
  budget: Budget = BUDGET,
) {
  const label = budget === BUDGET ? variant : `${variant}, budget ${budget.maxConcurrency}`;
  const index = await indexFor(world, variant);
  const openaiEnv = {
    EMBEDDINGS_PROVIDER: "openai",
    OPENAI_API_KEY: FAKE_KEY,
    OPENAI_BASE_URL: world.fake.url,
  };
  const sidecar = await startSidecar({
    cwd: root,
    indexDir: index.dir,
    threads: 1,
    env: variant === "openai" ? openaiEnv : {},
    nodeArgs: NODE_PROFILE_ARGS,
  });
  cleanups.push(sidecar.stop);
  await mkdir(RESULTS_DIR, { recursive: true });
  const logFile = resolve(RESULTS_DIR, `answer-api-${label.replace(/\W+/g, "-")}.log`);
  await rm(logFile, { force: true });
  const api: ApiChild = await startApi(
    root,
    apiEnv(world, variant, sidecar.url, budget),
    logFile,
    NODE_PROFILE_ARGS,
  );
  cleanups.push(api.stop);
  log(`${label}: sidecar pid ${sidecar.pid}, api pid ${api.pid} at ${api.url}`);
  const stack: Stack = {
    variant,
    label,
    api,
    sidecar,
    fake: world.fake,
    load: world.load,
    probe: world.probe,
    upstreamLatencyMs: CHAT_LATENCY_MS + (variant === "openai" ? EMBED_LATENCY_MS : 0),
    upstreamStagesMs: variant === "openai" ? [CHAT_LATENCY_MS, EMBED_LATENCY_MS] : [CHAT_LATENCY_MS],
    budget,
    redis: {
      url: world.fixture.env.REDIS_URL as string,
      prefix: world.fixture.env.REDIS_PREFIX as string,
    },
  };
  try {
    return { value: await use(stack), apiLog: await summariseLog(logFile) };
  } finally {
    await api.stop();
    await sidecar.stop();
  }
}

/** The api logs at warn: every line is worth counting. */
async function summariseLog(file: string): Promise<Record<string, number>> {
  const text = await readFile(file, "utf8").catch(() => "");
  const counts: Record<string, number> = {};
  for (const line of text.split("\n").filter(Boolean)) {
    let key = line.slice(0, 120);
    try {
      const entry = JSON.parse(line) as { level?: number | string; msg?: string; err?: unknown };
      key = `${entry.level} ${entry.msg}${entry.err ? ` (${String((entry.err as { message?: string }).message ?? entry.err).slice(0, 80)})` : ""}`;
    } catch {}
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

async function warmSearch(apiUrl: string): Promise<void> {
  for (let i = 0; i < 2; i++) {
    const response = await fetch(`${apiUrl}/v1/courses/search`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: HIT_BODY,
    });
    const body = await response.text();
    if (response.status !== 200)
      throw new Error(`warm search gave ${response.status}: ${body.slice(0, 300)}`);
  }
}

let questionNumber = 0;
/** Distinct questions across every scenario and variant: each scenario numbers from its own million. */
function freshQuestions(titles: string[]) {
  questionNumber += 1_000_000;
  return { kind: "questions" as const, titles, firstNumber: questionNumber };
}

interface VariantResult {
  answers: AnswerRow[];
  probes: ProbeRow[];
}

async function runProbe(stack: Stack, name: string, connections: number, bodies: string[] | undefined) {
  const path = bodies ? "/v1/answer" : "/v1/courses/search";
  const spec = loadSpec(stack, name, {
    path,
    connections,
    durationMs: PROBE_MS,
    bodies: bodies ? { kind: "cycle", bodies } : { kind: "fixed", body: HIT_BODY },
    warmup: "body",
    // X-Cache tells hits apart; parsing every answer would make the load generator heavier than for search.
    inspectAnswers: false,
  });
  const measured = await measure(stack, spec);
  log(`${stack.label} ${name}: ${measured.load.responsesPerSecond} req/s`);
  return {
    variant: stack.label,
    name,
    result: measured.load,
    lag: measured.lag,
    cpu: measured.cpu,
    loadAverage1m: measured.loadAverage1m,
  } satisfies ProbeRow;
}

/** First calls of each stage (JIT, sockets to the fake and the sidecar, pools) happen here, out of the numbers. */
async function warmAnswers(apiUrl: string, titles: string[]): Promise<void> {
  const bodies = freshQuestions(titles);
  await Promise.all(
    Array.from({ length: 20 }, async (_, i) => {
      const response = await fetch(`${apiUrl}/v1/answer`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          question: `a course about ${titles[i % titles.length]} ${bodies.firstNumber + i}`,
        }),
      });
      const body = await response.text();
      if (response.status !== 200)
        throw new Error(`warm answer gave ${response.status}: ${body.slice(0, 300)}`);
    }),
  );
}

/** `only`: the scenarios to run (the machine-sized budget runs just the 1000 clients and its baseline). */
async function runVariant(stack: Stack, titles: string[], only = ONLY): Promise<VariantResult> {
  const answers: AnswerRow[] = [];
  const probes: ProbeRow[] = [];
  const main = stack.budget === BUDGET;
  await warmSearch(stack.api.url);
  await warmAnswers(stack.api.url, titles);
  // A profile run (BENCH_ANSWER_SCENARIOS set) skips the idle measurements: only the chosen load is in it.
  if (!ONLY) {
    probes.push(await runProbe(stack, "search cache hit, idle", 10, undefined));
    if (main) probes.push(await runProbe(stack, "search cache hit, idle (50 conn.)", 50, undefined));
  }
  const searchProbe = loadSpec(stack, "search cache hit, during 1000-client answers", {
    path: "/v1/courses/search",
    connections: 10,
    durationMs: PROBE_MS,
    bodies: { kind: "fixed", body: HIT_BODY },
  });
  const thousand: AnswerScenario = {
    name: "1000 clients",
    connections: 1000,
    // Long enough for the probe window (delay + 8 s) to sit inside the load with a margin.
    durationMs: Math.max(ANSWER_MS, PROBE_DELAY_MS + PROBE_MS + 2_000),
    // A refused client comes back after Retry-After, as the 503 asks: the load the targets are about.
    honorRetryAfter: true,
    probe: searchProbe,
    probeDelayMs: PROBE_DELAY_MS,
    keepAnswered: main ? 5_000 : 0,
  };
  const scenarios: AnswerScenario[] = [
    { name: "20 clients", connections: 20, durationMs: ANSWER_MS, honorRetryAfter: false },
    { name: "200 clients", connections: 200, durationMs: ANSWER_MS, honorRetryAfter: false },
    thousand,
  ];
  // Stress: clients that ask again at once after every 503. Reported, not held to the targets: a
  // closed loop that never waits takes whatever CPU the refusals leave, however cheap they are.
  if (stack.variant === "local")
    scenarios.push({
      ...thousand,
      name: STRESS_SCENARIO,
      honorRetryAfter: false,
      probe: { ...searchProbe, name: "search cache hit, during 1000 clients ignoring Retry-After" },
      keepAnswered: 0,
    });
  for (const scenario of scenarios.filter((s) => !only || only.includes(s.name))) {
    const started = performance.now();
    const row = await runAnswerScenario(stack, scenario, freshQuestions(titles));
    answers.push(row);
    if (row.probe) probes.push({ variant: stack.label, name: row.probe.name, result: row.probe });
    log(
      `${stack.label} ${scenario.name}: ${row.load.okPerSecond} answers/s, ${row.load.statuses["503"] ?? 0} x 503 (${seconds(started)})`,
    );
    // Right after the 1000-client run its answers are the freshest entries of the cache: re-ask them.
    if (scenario.keepAnswered && row.load.answeredBodies.length > 0)
      probes.push(
        await runProbe(stack, "repeated questions (whole-answer hits)", 50, row.load.answeredBodies),
      );
  }
  return { answers, probes };
}

function evaluate(results: VariantResult[]): Target[] {
  const targets: Target[] = [];
  for (const { answers, probes } of results) {
    for (const row of answers)
      targets.push(
        ...answerTargets(row, BUDGET).map((t) =>
          row.name === STRESS_SCENARIO && t.name.includes("beyond budget") ? { ...t, reportedOnly: true } : t,
        ),
      );
    const idle10 = probes.find((p) => p.name === "search cache hit, idle");
    const idle50 = probes.find((p) => p.name.startsWith("search cache hit, idle (50"));
    for (const under of probes.filter((p) => p.name.startsWith("search cache hit, during"))) {
      if (!idle10) continue;
      const ratio = under.result.responsesPerSecond / idle10.result.responsesPerSecond;
      targets.push({
        name: `${under.variant} ${under.name}: >= 80% of idle`,
        actual: `${under.result.responsesPerSecond} vs ${idle10.result.responsesPerSecond} req/s = ${Math.round(ratio * 100)}%`,
        met: ratio >= 0.8,
        reportedOnly: under.name.includes("ignoring Retry-After"),
      });
    }
    for (const row of answers.filter((r) => r.connections === 1000)) {
      const worst = row.lag.p99WorstMs ?? Number.POSITIVE_INFINITY;
      targets.push({
        name: `${row.variant} ${row.name}: api event-loop delay p99 < 20 ms (worst 1-s scrape of kogi_nodejs_eventloop_lag_p99_seconds minus its ${LAG_SAMPLING_MS} ms sampling period)`,
        actual: `worst ${worst} ms, median ${row.lag.p99MedianMs} ms over ${row.lag.windows} windows`,
        met: worst < 20,
        reportedOnly: !row.honorRetryAfter,
      });
    }
    const repeated = probes.find((p) => p.name.startsWith("repeated"));
    if (repeated && idle50) {
      const ratio = repeated.result.responsesPerSecond / idle50.result.responsesPerSecond;
      const hits = repeated.result.xCache.HIT ?? 0;
      targets.push({
        name: `${repeated.variant} repeated questions at search cache-hit speed (>= 80% of idle search, both 50 connections; my threshold)`,
        actual: `${repeated.result.responsesPerSecond} vs ${idle50.result.responsesPerSecond} req/s = ${Math.round(ratio * 100)}%, ${hits} of ${repeated.result.responses} X-Cache HIT`,
        met: ratio >= 0.8,
      });
    }
  }
  return targets;
}

/** The lexical stage's cost: one sidecar, then the api with ANSWER_RANKING=vector and =hybrid in turn. */
async function runLexicalCost(world: World): Promise<LexicalCostRow[]> {
  const index = await indexFor(world, "local");
  const sidecar = await startSidecar({
    cwd: root,
    indexDir: index.dir,
    threads: 1,
    env: {},
    nodeArgs: NODE_PROFILE_ARGS,
  });
  cleanups.push(sidecar.stop);
  await mkdir(RESULTS_DIR, { recursive: true });
  try {
    return await measureLexicalCost({
      root,
      env: { ...world.fixture.env, LOG_LEVEL: "warn", DEMO_COURSES: "0", VECTOR_URL: sidecar.url },
      logFile: (ranking) => resolve(RESULTS_DIR, `answer-api-lexical-${ranking}.log`),
      nodeArgs: (ranking) =>
        process.env.BENCH_CPU_PROF
          ? ["--cpu-prof", `--cpu-prof-dir=${resolve(RESULTS_DIR, "profiles", `lexical-${ranking}`)}`]
          : [],
      runner: world.load,
      questions: () => freshQuestions(world.titles),
      durationMs: LEXICAL_MS,
      connections: [1, 8],
      rounds: LEXICAL_ROUNDS,
      control: LEXICAL_CONTROL,
      log,
    });
  } finally {
    await sidecar.stop();
  }
}

function lexicalTargets(rows: LexicalCostRow[]): Target[] {
  return lexicalCostSummary(rows).map((s) => ({
    name: `lexical stage adds <= 5 ms p99 (${s.connections} clients, median of rounds): the stage's own p99, and hybrid's answer p99 minus vector's`,
    actual: `lexical stage p99 ${s.lexicalStageP99} ms; answer p99 ${s.hybridP99} - ${s.vectorP99} = ${s.addedP99} ms`,
    met: s.lexicalStageP99 <= 5 && s.addedP99 <= 5,
  }));
}

function printReport(
  results: VariantResult[],
  targets: Target[],
  context: Record<string, unknown>,
  lexicalRows: LexicalCostRow[] = [],
) {
  const answers = results.flatMap((r) => r.answers);
  const probes = results.flatMap((r) => r.probes);
  const idleOf = (row: ProbeRow) =>
    probes.find(
      (p) =>
        p.variant === row.variant &&
        p.name ===
          (row.result.connections === 50 ? "search cache hit, idle (50 conn.)" : "search cache hit, idle"),
    );
  const budget = `OPENAI_MAX_CONCURRENCY=${BUDGET.maxConcurrency}, OPENAI_MAX_QUEUE=${BUDGET.maxQueue}, OPENAI_MAX_QUEUE_WAIT_MS=${BUDGET.maxQueueWaitMs}, OPENAI_RPM=${BUDGET.rpm}, OPENAI_TPM=${BUDGET.tpm}; rows marked "budget ${MACHINE_BUDGET.maxConcurrency}" ran again with OPENAI_MAX_CONCURRENCY=${MACHINE_BUDGET.maxConcurrency} and OPENAI_MAX_QUEUE=${MACHINE_BUDGET.maxQueue}, a budget sized to what 2 cores carry beside a saturating search load`;
  const out = [
    "## POST /v1/answer under load",
    "",
    `- upstream budget (per api, shared through Redis): ${budget}`,
    `- fake OpenAI (child process): chat ${CHAT_LATENCY_MS} ms, embeddings ${EMBED_LATENCY_MS} ms; expected answers/s = min(clients / upstream latency, ${BUDGET.maxConcurrency} / slowest upstream's latency) (local: 1.5 s chat only, so min(clients, ${BUDGET.maxConcurrency}) / 1.5 s; openai: clients / 1.65 s (chat then embeddings), capped at ${BUDGET.maxConcurrency} / 1.5 s since each upstream has its own ${BUDGET.maxConcurrency} slots)`,
    `- variants run: ${VARIANTS.join(", ")} (EMBEDDINGS_PROVIDER); distinct questions "a course about <UIUC title> <n>"; closed loop, one keep-alive connection per client, connections warmed before the window`,
    `- clients start staggered over one upstream latency (the window opens once all run), so they do not move in lock-step waves; answer windows ${ANSWER_MS / 1000} s (1000 clients: ${Math.max(ANSWER_MS, PROBE_DELAY_MS + PROBE_MS + 2_000) / 1000} s, search probe ${PROBE_MS / 1000} s from ${PROBE_DELAY_MS / 1000} s in); responses still in flight at the end are awaited and counted in the latencies`,
    "",
    "### Answers",
    "",
    answerTable(answers),
    "",
    answerDetailTable(answers),
    "",
    stageTable(answers),
    "",
    "### Search and repeated questions",
    "",
    probeTable(probes, idleOf),
    "",
    "### Targets",
    "",
    targetLines(targets),
    "",
    `### Event-loop delay of the api (scraped every second; kogi_nodejs_eventloop_lag_* minus the ${LAG_SAMPLING_MS} ms timer period it includes)`,
    "",
    lagTable([...probes.filter((p) => p.lag), ...answers]),
    "",
    ...(lexicalRows.length
      ? [
          `### Lexical stage cost (UIUC, pass-through rewrite, local embedder: no upstream hides it; distinct questions; an api with ANSWER_RANKING=vector (before) and one with =hybrid (after) side by side on one sidecar, taking the load in turn in ${LEXICAL_MS / 1000} s windows, ${LEXICAL_ROUNDS} rounds, order flipped every round, the apis started again in the other order half way${LEXICAL_CONTROL ? "; CONTROL: both serve ANSWER_RANKING=vector" : ""})`,
          "",
          lexicalCostTable(lexicalRows),
          "",
        ]
      : []),
    "### Upstream calls (api /v1/stats) and what the fake saw",
    "",
    upstreamTable(answers),
    "",
    "### CPU by process over each measured window (2 cores in all)",
    "",
    cpuTable([
      ...probes.filter((p) => p.cpu).map((p) => ({ ...p, runnerElu: p.result.runner.eventLoopUtilization })),
      ...answers.map((a) => ({ ...a, runnerElu: a.load.runner.eventLoopUtilization })),
    ]),
    "",
    ...Object.entries(context).map(
      ([key, value]) => `- ${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`,
    ),
  ];
  console.log(out.join("\n"));
}

async function main() {
  const started = performance.now();
  const quiet = await waitForQuietMachine(600_000);
  if (quiet.busy.length)
    log(`another benchmark is still running after 10 min; going on anyway: ${quiet.busy[0]}`);
  const world = await prepareWorld();
  const calm = await waitForQuietMachine(300_000, QUIET_CORES);
  if (!calm.quiet) log(`the machine is still busy (${calm.busyCores} cores); measuring anyway`);
  const loadBefore = loadavg()[0] ?? 0;
  const results: VariantResult[] = [];
  const apiLogs: Record<string, Record<string, number>> = {};
  for (const variant of LEXICAL_ONLY ? [] : VARIANTS) {
    const { value, apiLog } = await withStack(world, variant, (stack) => runVariant(stack, world.titles));
    results.push(value);
    apiLogs[variant] = apiLog;
  }
  const lexicalRows =
    VARIANTS.includes("local") && (!ONLY || ONLY.includes(LEXICAL_SCENARIO))
      ? await runLexicalCost(world)
      : [];
  if (VARIANTS.includes("local") && !ONLY) {
    const { value, apiLog } = await withStack(
      world,
      "local",
      (stack) => runVariant(stack, world.titles, ["1000 clients"]),
      MACHINE_BUDGET,
    );
    results.push(value);
    apiLogs[`local, budget ${MACHINE_BUDGET.maxConcurrency}`] = apiLog;
  }
  const targets = [...evaluate(results), ...lexicalTargets(lexicalRows)];
  const machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverage1m: { beforeScenarios: loadBefore, after: loadavg()[0] ?? 0 },
  };
  const context = {
    machine: `${machine.cores} cores (${machine.cpu}), ${machine.memoryGb} GiB, node ${machine.node}; load average ${loadBefore.toFixed(2)} before the scenarios`,
    "waited for other benchmarks": `${quiet.waitedSeconds} s${quiet.busy.length ? " (still running!)" : ""}`,
    "waited for a quiet machine": `${calm.waitedSeconds} s, then ${calm.busyCores} cores busy (threshold ${QUIET_CORES})${calm.quiet ? "" : " (never got quiet!)"}`,
    indexes: world.indexes
      .map(
        (i) =>
          `${i.provider}: ${i.manifest.count} courses, nlist ${i.manifest.nlist}, nprobe ${i.manifest.nprobe}, built in ${(i.ms / 1000).toFixed(1)} s`,
      )
      .join("; "),
    "api log lines (warn and above) by message": apiLogs,
    "total runtime": seconds(started),
  };
  printReport(results, targets, context, lexicalRows);
  await writeJson(RESULTS_FILE, {
    at: new Date().toISOString(),
    budget: BUDGET,
    fake: { chatLatencyMs: CHAT_LATENCY_MS, embedLatencyMs: EMBED_LATENCY_MS },
    settings: {
      answerMs: ANSWER_MS,
      probeMs: PROBE_MS,
      probeDelayMs: PROBE_DELAY_MS,
      variants: VARIANTS,
      hitBody: JSON.parse(HIT_BODY),
    },
    machine,
    quiet,
    calm,
    indexes: world.indexes,
    // The answered question bodies are only the repeat scenario's input: left out of the record.
    results: results.map((r) => ({
      answers: r.answers.map((a) => ({
        ...a,
        load: { ...a.load, answeredBodies: a.load.answeredBodies.length },
      })),
      probes: r.probes.map((p) => ({ ...p, result: { ...p.result, answeredBodies: undefined } })),
    })),
    lexicalCost: lexicalRows,
    targets,
    apiLogs,
    runtimeSeconds: Math.round((performance.now() - started) / 100) / 10,
  });
  log(`results written to ${RESULTS_FILE}`);
}

await runBench(main);
