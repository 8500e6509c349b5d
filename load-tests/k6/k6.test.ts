// Bundles the k6 scripts and checks k6 could run them: k6-only imports, options from the scenario data,
// a default function sending the scenario's requests, and a handleSummary (run against fake k6 modules).
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildK6Scripts, K6_SCRIPTS } from "./build.js";
import { k6Thresholds } from "./lib/thresholds.js";
import {
  answerBodies,
  ENDPOINTS,
  permutation,
  resolveScenario,
  type ScenarioName,
  searchBodies,
} from "./scenarios.js";

const SCRIPT_SCENARIOS: Record<(typeof K6_SCRIPTS)[number], ScenarioName[]> = {
  search: ["search-cache-hit", "search-cache-miss"],
  answer: ["answer"],
  mixed: ["mixed"],
};

/** What the fake k6 modules record; they reach it through globalThis, as k6 modules are singletons. */
interface FakeK6 {
  scenario: { name: string; iterationInTest: number };
  requests: { method: string; url: string; body: string; params: { tags?: Record<string, string> } }[];
  checks: [string, boolean][];
  rates: [string, boolean, Record<string, string>][];
  sleeps: number[];
  /** What the fake http.request answers. */
  response: { status: number; headers: Record<string, string> };
}

const HIT = { status: 200, headers: { "X-Cache": "HIT; tier=memory" } };

const FAKE_MODULES: Record<string, string> = {
  "fake-k6.js": `export function check(value, sets) {
  let ok = true;
  for (const [name, test] of Object.entries(sets)) { const passed = !!test(value); globalThis.__k6fake.checks.push([name, passed]); ok &&= passed; }
  return ok;
}
export function sleep(seconds) { globalThis.__k6fake.sleeps.push(seconds); }`,
  "fake-k6-metrics.js": `export class Rate {
  constructor(name) { this.name = name; }
  add(value, tags) { globalThis.__k6fake.rates.push([this.name, !!value, tags]); }
}`,
  "fake-k6-http.js": `export default {
  request(method, url, body, params) {
    globalThis.__k6fake.requests.push({ method, url, body, params });
    return globalThis.__k6fake.response;
  },
  expectedStatuses(...statuses) { return { statuses }; },
};`,
  "fake-k6-execution.js": "export default { get scenario() { return globalThis.__k6fake.scenario; } };",
};

const ENV = { BASE_URL: "http://127.0.0.1:9999/", DURATION: "3", SEED: "7", SUMMARY_JSON: "out.json" };

let dir: string;
let bundles: string[];
const fake: FakeK6 = {
  scenario: { name: "", iterationInTest: 0 },
  requests: [],
  checks: [],
  rates: [],
  sleeps: [],
  response: HIT,
};
const globals = globalThis as unknown as { __ENV?: Record<string, string>; __k6fake?: FakeK6 };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kogi-k6-"));
  bundles = await buildK6Scripts(join(dir, "dist"));
  for (const [name, source] of Object.entries(FAKE_MODULES)) await writeFile(join(dir, name), source);
  globals.__ENV = ENV;
  globals.__k6fake = fake;
});

afterAll(async () => {
  delete globals.__ENV;
  delete globals.__k6fake;
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Static and dynamic import specifiers of an ES module's source. */
function importSpecifiers(source: string): string[] {
  const patterns = [
    /\bimport\s[^"'`]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\(\s*["'`]([^"'`]+)/g,
  ];
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((m) => m[1] as string));
}

/** A copy of the bundle whose k6 imports point at the fake modules, imported into this process. */
async function importWithFakeK6(script: string) {
  const source = await readFile(join(dir, "dist", `${script}.js`), "utf8");
  const patched = source.replace(/from\s*"k6(?:\/([\w-]+))?"/g, (_, sub?: string) =>
    sub ? `from "./fake-k6-${sub}.js"` : `from "./fake-k6.js"`,
  );
  const file = join(dir, `${script}.patched.js`);
  await writeFile(file, patched);
  return (await import(pathToFileURL(file).href)) as {
    options: { scenarios: Record<string, Record<string, unknown>>; thresholds: Record<string, string[]> };
    default: () => void;
    handleSummary: (data: unknown) => Record<string, string>;
  };
}

describe("k6 bundles", () => {
  it("writes one bundle per script", async () => {
    expect(bundles.map((file) => file.split("/").pop())).toEqual(K6_SCRIPTS.map((s) => `${s}.js`));
    for (const file of bundles) expect((await readFile(file, "utf8")).length).toBeGreaterThan(1000);
  });

  it.each(K6_SCRIPTS)("%s.js imports only k6 modules and no CommonJS or Node built-ins", async (script) => {
    const source = await readFile(join(dir, "dist", `${script}.js`), "utf8");
    expect(source).not.toMatch(/\brequire\s*\(/);
    expect(source).not.toMatch(/["']node:/);
    expect(source).not.toMatch(/\bprocess\.env\b|\bBuffer\./);
    const specifiers = importSpecifiers(source);
    expect(specifiers.length).toBeGreaterThan(0);
    for (const specifier of specifiers) expect(specifier).toMatch(/^k6(\/[\w-]+)?$/);
  });

  it.each(K6_SCRIPTS)(
    "%s.js exports options from the scenario data, a default function and handleSummary",
    async (script) => {
      const module = await importWithFakeK6(script);
      const expected = SCRIPT_SCENARIOS[script].map((name) => resolveScenario(name, ENV));
      expect(typeof module.default).toBe("function");
      expect(typeof module.handleSummary).toBe("function");
      expect(Object.keys(module.options.scenarios)).toEqual(SCRIPT_SCENARIOS[script]);
      expect(module.options.thresholds).toEqual(k6Thresholds(expected));
      for (const scenario of expected) {
        const k6Scenario = module.options.scenarios[scenario.name] as Record<string, unknown>;
        expect(k6Scenario.executor).toBe(scenario.load.executor);
        // DURATION=3 shortens every scenario: nothing in a bundle runs for its 20 s default.
        if (scenario.load.executor === "constant-arrival-rate") expect(k6Scenario.duration).toBe("3s");
      }

      // The default function sends exactly what the shared scenario data says for each iteration.
      for (const scenario of expected)
        for (const iteration of [0, 1, 2, 9, 19, 1234]) {
          fake.requests.length = 0;
          fake.scenario = { name: scenario.name, iterationInTest: iteration };
          module.default();
          const { endpoint, body } = scenario.request(iteration);
          expect(fake.requests).toHaveLength(1);
          expect(fake.requests[0]).toMatchObject({
            method: ENDPOINTS[endpoint].method,
            url: `http://127.0.0.1:9999${ENDPOINTS[endpoint].path}`,
            body,
            params: { tags: { endpoint } },
          });
        }

      const metrics: Record<string, unknown> = {};
      for (const [metric, conditions] of Object.entries(module.options.thresholds))
        metrics[metric] = {
          type: "trend",
          values: {
            count: 10,
            rate: 0,
            passes: 0,
            fails: 10,
            avg: 1,
            min: 1,
            med: 1,
            max: 2,
            "p(90)": 1,
            "p(95)": 2,
            "p(99)": 2,
          },
          thresholds: Object.fromEntries(conditions.map((c) => [c, { ok: true }])),
        };
      const outputs = module.handleSummary({ metrics });
      expect(outputs.stdout).toContain("result: PASS");
      for (const name of SCRIPT_SCENARIOS[script]) expect(outputs.stdout).toContain(`scenario: ${name}`);
      const json = JSON.parse(outputs["out.json"] as string) as { script: string; scenarios: unknown[] };
      expect(json.script).toBe(script);
      expect(json.scenarios).toHaveLength(SCRIPT_SCENARIOS[script].length);
    },
  );

  it("answers shed with Retry-After count as shed, not failed; without Retry-After they are neither excused", async () => {
    const answer = await importWithFakeK6("answer");
    const mixed = await importWithFakeK6("mixed");
    const search = await importWithFakeK6("search");
    const runOnce = (
      module: typeof answer,
      name: string,
      iteration: number,
      response: FakeK6["response"],
    ) => {
      Object.assign(fake, { requests: [], checks: [], rates: [], sleeps: [], response });
      fake.scenario = { name, iterationInTest: iteration };
      module.default();
      return { rates: fake.rates, checks: fake.checks.map(([, ok]) => ok), sleeps: fake.sleeps };
    };
    try {
      const shed = { status: 503, headers: { "Retry-After": "2" } };
      expect(runOnce(answer, "answer", 0, shed)).toEqual({
        rates: [
          ["shed", true, { endpoint: "answer" }],
          ["shed_without_retry_after", false, { endpoint: "answer" }],
        ],
        checks: [true],
        // A closed-loop VU waits as told before its next question.
        sleeps: [2],
      });
      expect(runOnce(answer, "answer", 1, { status: 503, headers: {} })).toEqual({
        rates: [
          ["shed", false, { endpoint: "answer" }],
          ["shed_without_retry_after", true, { endpoint: "answer" }],
        ],
        checks: [false],
        sleeps: [],
      });
      expect(runOnce(answer, "answer", 2, { status: 500, headers: { "Retry-After": "1" } }).checks).toEqual([
        false,
      ]);
      expect(runOnce(answer, "answer", 3, { status: 200, headers: {} }).rates.map(([, v]) => v)).toEqual([
        false,
        false,
      ]);
      // An arrival-rate scenario does not slow down (its next iteration arrives on schedule anyway).
      expect(runOnce(mixed, "mixed", 9, shed).sleeps).toEqual([]);
      expect(runOnce(mixed, "mixed", 9, shed).rates).toHaveLength(2);
      // Search never sheds: no shed samples, and a 503 there is a failed check.
      expect(runOnce(search, "search-cache-miss", 0, shed)).toMatchObject({ rates: [], checks: [false] });
    } finally {
      fake.response = HIT;
    }
    // k6's responseCallback accepts the shed status, so http_req_failed leaves it out (not for search).
    const callback = () =>
      (fake.requests[0]?.params as { responseCallback?: { statuses: number[] } } | undefined)
        ?.responseCallback;
    runOnce(search, "search-cache-miss", 0, HIT);
    expect(callback()).toEqual({ statuses: [200] });
    runOnce(answer, "answer", 0, HIT);
    expect(callback()).toEqual({ statuses: [200, 503] });
    expect(answer.options.thresholds).toMatchObject({
      "shed{scenario:answer}": ["rate<=0.05"],
      "shed_without_retry_after{scenario:answer}": ["rate==0"],
    });
    expect(Object.keys(search.options.thresholds).some((m) => m.startsWith("shed"))).toBe(false);
  });

  it("SCENARIO picks one of a script's scenarios and rejects the others", async () => {
    globals.__ENV = { ...ENV, SCENARIO: "search-cache-miss" };
    try {
      const source = (await readFile(join(dir, "search.patched.js"), "utf8")).replace(/$/, "\n// again");
      const file = join(dir, "search.only-miss.js");
      await writeFile(file, source);
      const module = (await import(pathToFileURL(file).href)) as { options: { scenarios: object } };
      expect(Object.keys(module.options.scenarios)).toEqual(["search-cache-miss"]);

      globals.__ENV = { ...ENV, SCENARIO: "answer" };
      await writeFile(join(dir, "search.wrong.js"), source);
      await expect(import(pathToFileURL(join(dir, "search.wrong.js")).href)).rejects.toThrow(
        /not one of this script's scenarios/,
      );
    } finally {
      globals.__ENV = ENV;
    }
  });
});

describe("scenario data", () => {
  it("permutation is a bijection for awkward sizes", () => {
    for (const size of [1, 2, 3, 7, 100, 1000, 4097]) {
      const order = permutation(size, 42);
      const seen = new Set(Array.from({ length: size }, (_, i) => order(i)));
      expect(seen.size).toBe(size);
      expect(Math.min(...seen)).toBe(0);
      expect(Math.max(...seen)).toBe(size - 1);
    }
  });

  it("search and answer generators never repeat a body within their capacity, and depend on the seed", () => {
    const answers = answerBodies(["2026-fa"], 3);
    expect(new Set(Array.from({ length: answers.capacity }, (_, i) => answers.body(i))).size).toBe(
      answers.capacity,
    );
    const search = searchBodies(["2026-fa", "2026-sp"], 3);
    expect(search.capacity).toBeGreaterThan(1_000_000);
    expect(new Set(Array.from({ length: 50_000 }, (_, i) => search.body(i))).size).toBe(50_000);
    expect(search.body(5)).toBe(searchBodies(["2026-fa", "2026-sp"], 3).body(5));
    expect(search.body(5)).not.toBe(searchBodies(["2026-fa", "2026-sp"], 4).body(5));
  });

  it("mixed sends 9 searches and 1 answer per 10 iterations", () => {
    const mixed = resolveScenario("mixed");
    const endpoints = Array.from({ length: 1000 }, (_, i) => mixed.request(i).endpoint);
    expect(endpoints.filter((e) => e === "answer")).toHaveLength(100);
    expect(endpoints.filter((e) => e === "search")).toHaveLength(900);
  });

  it("environment overrides change load and thresholds, and bad values are refused", () => {
    const hit = resolveScenario("search-cache-hit", {
      DURATION: "5s",
      RATE: "50",
      P95_MS: "10",
      MAX_ERROR_RATE: "0",
    });
    expect(hit.load).toMatchObject({
      executor: "constant-arrival-rate",
      durationSeconds: 5,
      ratePerSecond: 50,
    });
    expect(hit.thresholds).toMatchObject({ p95Ms: 10, p99Ms: 100, maxErrorRate: 0 });
    const mixed = resolveScenario("mixed", { P95_MS: "900", MAX_SHED_RATE: "0.5" });
    // Latency overrides reach the per-endpoint limits too; the shed limit has its own variable.
    expect(mixed.thresholds).toMatchObject({
      p95Ms: 900,
      p99Ms: 1_500,
      maxShedRate: 0.5,
      byEndpoint: { search: { p95Ms: 900, p99Ms: 250 }, answer: { p95Ms: 900, p99Ms: 5_000 } },
    });
    expect(
      resolveScenario("search-cache-hit", { MAX_SHED_RATE: "0.5" }).thresholds.maxShedRate,
    ).toBeUndefined();
    const answer = resolveScenario("answer", { DURATION: "10", VUS: "20" });
    expect(answer.load.executor === "ramping-vus" && answer.load.stages).toEqual([
      { durationSeconds: 3, target: 10 },
      { durationSeconds: 5, target: 20 },
      { durationSeconds: 3, target: 0 },
    ]);
    expect(() => resolveScenario("answer", { DURATION: "soon" })).toThrow(/DURATION/);
    // The shell's TERM (terminal type) must never leak into request bodies; KOGI_TERMS is checked.
    expect(resolveScenario("search-cache-hit", { TERM: "xterm" }).request(0).body).toContain(
      '"term":"2026-fa"',
    );
    expect(resolveScenario("search-cache-hit", { KOGI_TERMS: "2025-su" }).request(0).body).toContain(
      "2025-su",
    );
    expect(() => resolveScenario("search-cache-hit", { KOGI_TERMS: "xterm" })).toThrow(/KOGI_TERMS/);
  });
});
