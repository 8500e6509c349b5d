// The k6 scripts under the real k6 binary, against a live Kogi: the api entry point on a demo catalog,
// a vector sidecar serving an index built by `index:build`, and a fake OpenAI whose small budget makes
// the api shed answers (503 + Retry-After). Each scenario runs for a few seconds; k6 itself evaluates
// the thresholds (its exit status), and the summary JSON handleSummary writes is read back and checked.
// Latency limits are loosened here (a busy CI machine is no benchmark); what is checked is that the
// scripts run, count, shed and judge correctly. The performance team runs the full-length defaults.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ApiProcess,
  cleanIsolatedState,
  isolatedState,
  killAll,
  startApiProcess,
} from "@kogi/api/testutil/api-process";
import { freePort, waitFor } from "@kogi/api/testutil/redis-server";
import { type FakeOpenAI, startFakeOpenAI } from "@kogi/shared/fakes/openai-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildK6Scripts, K6_SCRIPTS } from "./build.js";
import { findK6, REPO_ROOT } from "./find-k6.js";
import type { ScenarioReport } from "./lib/report.js";

const k6 = findK6();
if (!k6.found)
  console.error(
    `\n${"!".repeat(100)}\n!!! k6.live.test: ${k6.message}\n!!! ${
      process.env.CI ? "FAILING: CI must run the k6 scripts under real k6." : "SKIPPING the real-k6 runs."
    }\n${"!".repeat(100)}\n`,
  );

interface Summary {
  script: string;
  baseUrl: string;
  scenarios: ScenarioReport[];
  k6: {
    metrics: Record<string, { values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }>;
  };
}

interface K6Run {
  code: number | null;
  stdout: string;
  stderr: string;
  summary: Summary;
}

/** Quiet, loose settings for every run; a test adds or overrides what it is about. */
const BASE_ENV = {
  DURATION: "3",
  RATE: "40",
  GRACEFUL_STOP: "2",
  P95_MS: "5000",
  P99_MS: "10000",
};

describe.skipIf(!k6.found && !process.env.CI)("k6 scripts under real k6 against a live Kogi", () => {
  const state = isolatedState("k6");
  const started: ApiProcess[] = [];
  const children: ChildProcess[] = [];
  let dir: string;
  let fake: FakeOpenAI;
  let api: ApiProcess;
  let bundles: Record<string, string>;

  /** A child process of ours (index build, sidecar) with its output kept for error messages. */
  function spawnTsx(script: string, env: Record<string, string>) {
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      cwd: REPO_ROOT,
      env: { ...process.env, LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let output = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    return { child, exited, output: () => output };
  }

  async function runK6(script: string, env: Record<string, string>, timeoutMs = 90_000): Promise<K6Run> {
    if (!k6.found) throw new Error(k6.message);
    const summaryFile = join(dir, `${script}-${Math.random().toString(36).slice(2, 8)}-summary.json`);
    const all = { ...BASE_ENV, BASE_URL: api.url, SUMMARY_JSON: summaryFile, ...env };
    const args = ["run", "--quiet", "--no-color", "--no-usage-report", "--address", "127.0.0.1:0"];
    for (const [key, value] of Object.entries(all)) args.push("-e", `${key}=${value}`);
    args.push(bundles[script] as string);
    const child = spawn(k6.found ? k6.path : "k6", args, {
      cwd: dir,
      env: { ...process.env, K6_NO_USAGE_REPORT: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (status) => resolve(status));
    }).finally(() => clearTimeout(timer));
    // The summary as the performance team reads it, in the test output.
    console.log(`--- k6 run ${script} ${JSON.stringify(env)} -> exit ${code}${stdout}`);
    const text = await readFile(summaryFile, "utf8").catch(() => {
      throw new Error(`k6 wrote no summary JSON (exit ${code}):\n${stdout}\n${stderr}`);
    });
    return { code, stdout, stderr, summary: JSON.parse(text) as Summary };
  }

  /** Every threshold of the summary agrees with k6's own verdict in its end-of-test data. */
  function expectVerdictsFromK6(summary: Summary) {
    for (const report of summary.scenarios)
      for (const threshold of report.thresholds) {
        const k6Verdict = summary.k6.metrics[threshold.metric]?.thresholds?.[threshold.condition]?.ok;
        expect(k6Verdict, `${threshold.metric} ${threshold.condition} judged by k6`).toBe(threshold.ok);
      }
  }

  beforeAll(async () => {
    if (!k6.found) throw new Error(`${k6.message} CI must run the k6 scripts under real k6.`);
    const version = await new Promise<string>((resolve, reject) => {
      const child = spawn(k6.path, ["version"], { env: { ...process.env, K6_NO_USAGE_REPORT: "true" } });
      let out = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        out += chunk;
      });
      child.once("error", reject);
      child.once("close", () => resolve(out.trim()));
    });
    expect(version, `${k6.path} (via ${k6.via})`).toMatch(/^k6 v1\./);

    dir = await mkdtemp(join(tmpdir(), "kogi-k6-live-"));
    const built = await buildK6Scripts(join(dir, "dist"));
    bundles = Object.fromEntries(K6_SCRIPTS.map((name, i) => [name, built[i] as string]));

    // Two rewrites at a time (shared budget), two more waiting: the answer scenario's VUs overflow it.
    fake = await startFakeOpenAI({ apiKey: "fake-key", chat: { latencyMs: 300 }, recordLimit: 100 });
    const vectorPort = await freePort();
    const indexDir = join(dir, "index");
    const common = {
      DATABASE_URL: state.databaseUrl,
      REDIS_PREFIX: state.redisPrefix,
      EMBEDDINGS_PROVIDER: "local",
      VECTOR_INDEX_DIR: indexDir,
    };
    api = await startApiProcess(
      "k6",
      {
        ...common,
        API_WORKERS: "1",
        DEMO_COURSES: "300",
        VECTOR_URL: `http://127.0.0.1:${vectorPort}`,
        VECTOR_TIMEOUT_MS: "5000",
        OPENAI_API_KEY: "fake-key",
        OPENAI_BASE_URL: fake.url,
        OPENAI_MAX_CONCURRENCY: "2",
        OPENAI_MAX_QUEUE: "2",
      },
      started,
      60_000,
    );
    const build = spawnTsx("vector-worker/src/cli/index-build.ts", common);
    expect(await build.exited, build.output()).toBe(0);
    spawnTsx("vector-worker/src/main.ts", {
      ...common,
      VECTOR_HOST: "127.0.0.1",
      VECTOR_PORT: String(vectorPort),
      VECTOR_THREADS: "1",
    });
    await waitFor(
      async () => (await fetch(`${api.url}/ready`).catch(() => undefined))?.status === 200,
      "the api (MySQL, Redis, sidecar) to be ready",
      60_000,
    );
  }, 180_000);

  afterAll(async () => {
    await killAll(started);
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        await exited;
      }
    await fake?.close();
    await cleanIsolatedState(state);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("search.js: cache hit then cache miss, every threshold met as k6 judges it", async () => {
    const run = await runK6("search", {});
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("result: PASS");
    expect(run.summary.script).toBe("search");
    expect(run.summary.baseUrl).toBe(api.url);
    expect(run.summary.scenarios.map((s) => s.scenario)).toEqual(["search-cache-hit", "search-cache-miss"]);
    for (const report of run.summary.scenarios) {
      expect(report.requests, report.scenario).toBeGreaterThan(50);
      expect(report.failed, report.scenario).toBe(0);
      expect(report.latencyMs.p95).toBeGreaterThan(0);
      expect(report.shed).toBeUndefined();
      expect(report.thresholds.length).toBeGreaterThanOrEqual(4);
      expect(report.thresholds.every((t) => t.ok)).toBe(true);
    }
    expectVerdictsFromK6(run.summary);
  }, 120_000);

  it("answer.js: 503 + Retry-After counts as shed (its own rate and threshold), not as failed", async () => {
    const run = await runK6("answer", { DURATION: "4", VUS: "8", MAX_SHED_RATE: "0.95" });
    expect(run.code, run.stderr).toBe(0);
    const [report] = run.summary.scenarios;
    if (!report) throw new Error("no answer scenario in the summary");
    expect(report.scenario).toBe("answer");
    expect(report.failed).toBe(0);
    expect(report.shed?.withoutRetryAfter).toBe(0);
    // The budget (2 running + 2 waiting) is smaller than 8 VUs: some answers were shed, some served.
    expect(report.shed?.count).toBeGreaterThan(0);
    expect(report.shed?.of).toBe(report.requests);
    expect(report.shed?.count).toBeLessThan(report.requests);
    expect(run.stdout).toMatch(/shed\.+: [\d.]+% {2}\d+ of \d+ {2}\(503 \+ Retry-After/);
    const conditions = report.thresholds.map((t) => `${t.metric} ${t.condition}`);
    expect(conditions).toContain("shed{scenario:answer} rate<=0.95");
    expect(conditions).toContain("shed_without_retry_after{scenario:answer} rate==0");
    expect(report.thresholds.every((t) => t.ok)).toBe(true);
    expectVerdictsFromK6(run.summary);

    // The same run with no shedding allowed: k6 fails it on the shed threshold alone (exit 99).
    // Another seed: the first run's questions are in the answer cache now and would not reach the budget.
    const strict = await runK6("answer", { DURATION: "4", VUS: "8", MAX_SHED_RATE: "0", SEED: "2" });
    expect(strict.code).toBe(99);
    const crossed = strict.summary.scenarios[0]?.thresholds.filter((t) => !t.ok).map((t) => t.metric);
    expect(crossed).toEqual(["shed{scenario:answer}"]);
    expect(strict.stdout).toContain("result: FAIL (1 threshold crossed)");
    expectVerdictsFromK6(strict.summary);
  }, 180_000);

  it("mixed.js: searches and answers at a constant arrival rate, judged per endpoint", async () => {
    const run = await runK6("mixed", { MAX_SHED_RATE: "0.95" });
    expect(run.code, run.stderr).toBe(0);
    const [report] = run.summary.scenarios;
    if (!report) throw new Error("no mixed scenario in the summary");
    expect(report.requests).toBeGreaterThan(50);
    expect(report.failed).toBe(0);
    expect(report.shed?.withoutRetryAfter).toBe(0);
    // One request in ten is an answer: the shed rate's denominator.
    expect(report.shed?.of).toBeGreaterThan(0);
    expect(report.shed?.of).toBeLessThan(report.requests / 5);
    const metrics = report.thresholds.map((t) => t.metric);
    expect(metrics).toContain("http_req_duration{scenario:mixed,endpoint:search}");
    expect(metrics).toContain("http_req_duration{scenario:mixed,endpoint:answer}");
    expect(report.thresholds.every((t) => t.ok)).toBe(true);
    expectVerdictsFromK6(run.summary);
  }, 120_000);

  it("a crossed latency threshold fails the run: k6 exits 99 and the summary says which", async () => {
    const run = await runK6("search", { SCENARIO: "search-cache-hit", DURATION: "1", P95_MS: "0.001" });
    expect(run.code).toBe(99);
    expect(run.stdout).toContain("result: FAIL");
    const [report] = run.summary.scenarios;
    const crossed = report?.thresholds.filter((t) => !t.ok).map((t) => `${t.metric} ${t.condition}`);
    expect(crossed).toEqual(["http_req_duration{scenario:search-cache-hit} p(95)<0.001"]);
    expectVerdictsFromK6(run.summary);
  }, 60_000);
});
