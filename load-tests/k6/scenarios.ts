// Load scenarios as plain data and pure generators for the k6 scripts (and the tests that check them).
// No k6 and no Node imports: esbuild inlines this file into the k6 bundles and tsx runs it under Node.

export type ScenarioName = "search-cache-hit" | "search-cache-miss" | "answer" | "mixed";
export type Endpoint = "search" | "answer";

export interface EndpointSpec {
  method: "POST";
  path: string;
  /** Statuses that count as success; anything else (and any network error) counts towards the error rate. */
  expectedStatuses: readonly number[];
  /**
   * Statuses that, with a `Retry-After` header, are the api shedding load honestly (its upstream budget is
   * spent): counted as shed, with their own rate and threshold, not as failures. Without `Retry-After`
   * the same status is a failure.
   */
  shedStatuses: readonly number[];
}

export const ENDPOINTS: Readonly<Record<Endpoint, EndpointSpec>> = {
  // Search never waits on an upstream: under these loads any 503 is a failure.
  search: { method: "POST", path: "/v1/courses/search", expectedStatuses: [200], shedStatuses: [] },
  answer: { method: "POST", path: "/v1/answer", expectedStatuses: [200], shedStatuses: [503] },
};

/** Whether a scenario calls an endpoint that may shed load (and so has a shed rate and threshold). */
export const mayShed = (scenario: Pick<Scenario, "endpoints">) =>
  scenario.endpoints.some((endpoint) => ENDPOINTS[endpoint].shedStatuses.length > 0);

/** One request of a scenario: which endpoint, and the JSON body to send. */
export interface ScenarioRequest {
  endpoint: Endpoint;
  body: string;
}

export interface LatencyThresholds {
  p95Ms: number;
  p99Ms: number;
}

export interface Thresholds extends LatencyThresholds {
  /** Highest accepted share of failed requests (unexpected status or network error), 0..1. */
  maxErrorRate: number;
  /**
   * Highest accepted share of shed requests (a shed status with Retry-After) among the requests to
   * endpoints that may shed, 0..1; only for scenarios calling such an endpoint.
   */
  maxShedRate?: number;
  /** Extra latency limits for one endpoint, where a scenario mixes endpoints of very different cost. */
  byEndpoint?: Partial<Record<Endpoint, LatencyThresholds>>;
}

export interface Stage {
  durationSeconds: number;
  target: number;
}

export type LoadShape =
  | {
      executor: "constant-arrival-rate";
      /** Iterations (= requests) started per second, whether or not earlier ones have finished. */
      ratePerSecond: number;
      durationSeconds: number;
      preAllocatedVUs: number;
      maxVUs: number;
    }
  | { executor: "ramping-vus"; startVUs: number; stages: Stage[] };

export interface Scenario {
  name: ScenarioName;
  description: string;
  /** Endpoints this scenario calls (for per-endpoint tags, checks and report lines). */
  endpoints: readonly Endpoint[];
  /** Pure: the same iteration index always gives the same request, whichever VU runs it. */
  request(iteration: number): ScenarioRequest;
  /** Responses should carry `X-Cache: HIT` (all but the very first): a k6 check. */
  expectCacheHit: boolean;
  thresholds: Thresholds;
  load: LoadShape;
}

/** The environment: k6's `__ENV` (`-e KEY=VALUE` or the process environment), or a test's plain object. */
export type Env = Readonly<Record<string, string | undefined>>;

export const SCENARIO_NAMES: readonly ScenarioName[] = [
  "search-cache-hit",
  "search-cache-miss",
  "answer",
  "mixed",
];
export const DEFAULT_BASE_URL = "http://127.0.0.1:8080";
// The demo catalog's only term (DEMO_COURSES with seed 42): an unknown term would make every search an empty page.
export const DEFAULT_TERMS = ["2026-fa"];
const DEFAULT_SEED = 1;

export function isScenarioName(value: string): value is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(value);
}

// --- Catalog vocabulary (matches api/src/catalog/generator.ts, so generated filters find courses) ---

const SUBJECTS = ["CS", "MATH", "STAT", "PHYS", "CHEM", "ECON", "HIST", "JAPN", "PSYC", "MUS", "ART", "ENG"];
const TOPICS = [
  "data structures",
  "algorithms",
  "machine learning",
  "operating systems",
  "computer networks",
  "databases",
  "computer graphics",
  "linear algebra",
  "probability",
  "differential equations",
  "statistical inference",
  "bayesian statistics",
  "data science",
  "quantum physics",
  "thermodynamics",
  "organic chemistry",
  "biochemistry",
  "microeconomics",
  "econometrics",
  "game theory",
  "east asian history",
  "medieval europe",
  "japanese literature",
  "japanese culture",
  "cognitive psychology",
  "social psychology",
  "music theory",
  "jazz performance",
  "digital media",
  "creative writing",
  "shakespeare",
  "academic writing",
];
// Words of generated titles and descriptions: each keyword matches courses in most subjects.
const KEYWORDS = [
  "introduction",
  "foundations",
  "topics",
  "advanced",
  "applied",
  "seminar",
  "principles",
  "projects",
  "research",
  "laboratory",
  "theory",
];

type Filters = Record<string, unknown>;

// Each dimension lists distinct options, so distinct index tuples give distinct bodies (and cache keys).
const SEARCH_DIMENSIONS: readonly (readonly Filters[])[] = [
  // Subjects: each alone, then each with its neighbour.
  [
    ...SUBJECTS.map((s) => ({ subjects: [s] })),
    ...SUBJECTS.map((s, i) => ({ subjects: [s, SUBJECTS[(i + 1) % SUBJECTS.length]] })),
  ],
  [
    {},
    ...[[100], [200], [300], [400], [500], [100, 200], [300, 400], [400, 500]].map((levels) => ({ levels })),
  ],
  [
    {},
    ...[
      ["M", "W", "F"],
      ["T", "R"],
      ["M", "W"],
      ["M", "T", "W", "R", "F"],
      ["T", "W", "R"],
    ].map((days) => ({ days })),
  ],
  [
    {},
    ...[
      ["08:00", "12:00"],
      ["09:00", "13:00"],
      ["12:00", "17:00"],
      ["08:00", "18:00"],
      ["13:00", "20:00"],
    ].map(([start, end]) => ({ timeWindow: { start, end } })),
  ],
  [{}, ...KEYWORDS.map((keyword) => ({ keyword }))],
  ["relevance", "subject", "credits"].map((sort) => ({ sort })),
  [10, 20, 25, 50].map((limit) => ({ limit })),
];

const QUESTION_TEMPLATES = [
  "a hands-on intro to {topic}",
  "advanced {topic} with lots of projects",
  "something about {topic} for a beginner",
  "a course on {topic} that is not too math heavy",
  "{topic} with weekly assignments",
  "research seminar in {topic}",
  "I want to learn {topic} for my career",
  "a rigorous theory course in {topic}",
];
const QUESTION_ENDINGS = ["", " please", " for non-majors", " with team projects", " with a lab", " online"];
const ANSWER_DIMENSIONS: readonly (readonly Filters[])[] = [
  QUESTION_TEMPLATES.map((template) => ({ template })),
  TOPICS.map((topic) => ({ topic })),
  QUESTION_ENDINGS.map((ending) => ({ ending })),
  [{}, { levels: [100, 200] }, { levels: [300, 400] }, { days: ["T", "R"] }],
  [5, 9, 12].map((k) => ({ k })),
];

// --- Pure index arithmetic ---

/** 32-bit integer mix (the mulberry32 finaliser): spreads small seeds over the whole range. */
function mix(seed: number): number {
  let t = (seed + 0x6d2b79f5) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

/**
 * A seeded permutation of 0..size-1, so a miss run never repeats a body within `size` iterations.
 * An invertible mix (add a key, multiply by an odd constant, xor-shift; each a bijection on k bits)
 * scrambles the index over the smallest power of two >= size; results >= size are mixed again
 * (cycle walking), which keeps it a bijection on 0..size-1. Neighbouring indices then differ in
 * every dimension, not only in the fastest-changing one.
 */
export function permutation(size: number, seed: number): (index: number) => number {
  if (!Number.isInteger(size) || size < 1 || size > 2 ** 30)
    throw new Error(`permutation size must be an integer in 1..2^30: ${size}`);
  let bits = 1;
  while (2 ** bits < size) bits++;
  const mask = 2 ** bits - 1;
  const shift = Math.ceil(bits / 2);
  const keys = [mix(seed) & mask, mix(seed + 1) & mask];
  const scramble = (x: number) => {
    let y = x;
    for (const key of keys) {
      y = (y + key) & mask;
      y = Math.imul(y, 0x2c1b3c6d) & mask;
      y ^= y >>> shift;
      y = Math.imul(y, 0x297a2d39) & mask;
      y ^= y >>> shift;
    }
    return y;
  };
  return (index) => {
    let y = scramble(Math.floor(Math.abs(index)) % size);
    while (y >= size) y = scramble(y);
    return y;
  };
}

/** Mixed-radix decoding: which option of each dimension the number `n` picks. */
function pick(dimensions: readonly (readonly Filters[])[], n: number): Filters[] {
  const chosen: Filters[] = [];
  let rest = n;
  for (const options of dimensions) {
    chosen.push(options[rest % options.length] as Filters);
    rest = Math.floor(rest / options.length);
  }
  return chosen;
}

const sizeOf = (dimensions: readonly (readonly unknown[])[]) => dimensions.reduce((n, d) => n * d.length, 1);

export interface Generator {
  /** How many distinct bodies exist; index `capacity` repeats index 0's body. */
  capacity: number;
  body(index: number): string;
}

/** Distinct search bodies over terms x subjects x levels x days x time windows x keywords x sort x limit. */
export function searchBodies(terms: readonly string[], seed: number): Generator {
  const dimensions = [terms.map((term) => ({ term })), ...SEARCH_DIMENSIONS];
  const capacity = sizeOf(dimensions);
  const order = permutation(capacity, seed);
  return {
    capacity,
    body: (index) => JSON.stringify(Object.assign({}, ...pick(dimensions, order(index)))),
  };
}

/** Distinct answer bodies: question wording x topic x ending x filters x k. */
export function answerBodies(terms: readonly string[], seed: number): Generator {
  const dimensions = [terms.map((term) => ({ term })), ...ANSWER_DIMENSIONS];
  const capacity = sizeOf(dimensions);
  const order = permutation(capacity, seed);
  return {
    capacity,
    body(index) {
      const [term, template, topic, ending, filters, k] = pick(dimensions, order(index)) as [
        { term: string },
        { template: string },
        { topic: string },
        { ending: string },
        Filters,
        { k: number },
      ];
      const question = template.template.replace("{topic}", topic.topic) + ending.ending;
      return JSON.stringify({ question, filters: { term: term.term, ...filters }, k: k.k });
    },
  };
}

// --- Environment overrides ---

function numberFrom(env: Env, key: string, fallback: number, min = 0): number {
  const raw = env[key];
  if (raw === undefined || raw.trim() === "") return fallback;
  // "20s" is accepted for durations because that is how k6 users write them.
  const value = Number(raw.trim().replace(/s$/, ""));
  if (!Number.isFinite(value) || value < min)
    throw new Error(`${key} must be a number >= ${min}, got "${raw}"`);
  return value;
}

export interface Settings {
  baseUrl: string;
  seed: number;
  terms: string[];
}

export function settingsFrom(env: Env): Settings {
  // Not TERM: that is the terminal type in every shell, and it would end up in the request bodies.
  const terms = (env.KOGI_TERMS ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  const bad = terms.find((t) => !/^\d{4}-[a-z]{2}$/.test(t));
  if (bad !== undefined) throw new Error(`KOGI_TERMS must be term codes like 2026-fa, got "${bad}"`);
  return {
    baseUrl: (env.BASE_URL?.trim() || DEFAULT_BASE_URL).replace(/\/+$/, ""),
    seed: Math.floor(numberFrom(env, "SEED", DEFAULT_SEED)),
    terms: terms.length ? terms : DEFAULT_TERMS,
  };
}

/**
 * DURATION (s) replaces an arrival-rate duration and scales ramping stages to that total; RATE replaces
 * the arrival rate; VUS caps the arrival-rate VUs or the ramping peak (stages scale with it).
 */
function applyLoadOverrides(load: LoadShape, env: Env): LoadShape {
  if (load.executor === "constant-arrival-rate") {
    const maxVUs = Math.max(1, Math.floor(numberFrom(env, "VUS", load.maxVUs, 1)));
    return {
      ...load,
      // k6 takes whole iterations per time unit.
      ratePerSecond: Math.round(numberFrom(env, "RATE", load.ratePerSecond, 1)),
      durationSeconds: numberFrom(env, "DURATION", load.durationSeconds, 1),
      maxVUs,
      preAllocatedVUs: Math.min(load.preAllocatedVUs, maxVUs),
    };
  }
  const total = load.stages.reduce((s, stage) => s + stage.durationSeconds, 0);
  const peak = Math.max(1, ...load.stages.map((s) => s.target));
  const timeScale = numberFrom(env, "DURATION", total, 1) / total;
  const vuScale = Math.floor(numberFrom(env, "VUS", peak, 1)) / peak;
  return {
    executor: "ramping-vus",
    startVUs: Math.round(load.startVUs * vuScale),
    stages: load.stages.map((s) => ({
      durationSeconds: Math.max(1, Math.round(s.durationSeconds * timeScale)),
      target: Math.round(s.target * vuScale),
    })),
  };
}

/** P95_MS and P99_MS replace every latency limit of the scenario, its per-endpoint ones included. */
function applyThresholdOverrides(thresholds: Thresholds, env: Env): Thresholds {
  const latency = (limits: LatencyThresholds): LatencyThresholds => ({
    p95Ms: numberFrom(env, "P95_MS", limits.p95Ms),
    p99Ms: numberFrom(env, "P99_MS", limits.p99Ms),
  });
  const byEndpoint = thresholds.byEndpoint
    ? Object.fromEntries(
        Object.entries(thresholds.byEndpoint).map(([endpoint, limits]) => [endpoint, latency(limits)]),
      )
    : undefined;
  return {
    ...thresholds,
    ...latency(thresholds),
    maxErrorRate: numberFrom(env, "MAX_ERROR_RATE", thresholds.maxErrorRate),
    ...(thresholds.maxShedRate !== undefined
      ? { maxShedRate: numberFrom(env, "MAX_SHED_RATE", thresholds.maxShedRate) }
      : {}),
    ...(byEndpoint ? { byEndpoint } : {}),
  };
}

/** Seconds an iteration may run past its scenario's end (GRACEFUL_STOP, default 5); also the gap between scenarios. */
export function gracefulStopSeconds(env: Env = {}): number {
  return numberFrom(env, "GRACEFUL_STOP", 5, 1);
}

/** Longest pause a closed-loop client takes when told to come back later (Retry-After), in seconds. */
export const MAX_RETRY_AFTER_SECONDS = 5;

// --- The scenarios ---

/** Mixed traffic: searches come back to popular bodies this often; the rest are fresh misses. */
const MIXED_POPULAR_SEARCHES = 100;
const MIXED_POPULAR_QUESTIONS = 20;

function definitions(settings: Settings): Record<ScenarioName, Scenario> {
  const search = searchBodies(settings.terms, settings.seed);
  const answers = answerBodies(settings.terms, settings.seed);
  const hitBody = JSON.stringify({ term: settings.terms[0], subjects: ["CS"], limit: 20 });
  return {
    "search-cache-hit": {
      name: "search-cache-hit",
      description: "one fixed search body: after the first request every response comes from the cache",
      endpoints: ["search"],
      request: () => ({ endpoint: "search", body: hitBody }),
      expectCacheHit: true,
      thresholds: { p95Ms: 50, p99Ms: 100, maxErrorRate: 0.01 },
      load: {
        executor: "constant-arrival-rate",
        ratePerSecond: 200,
        durationSeconds: 20,
        preAllocatedVUs: 20,
        maxVUs: 50,
      },
    },
    "search-cache-miss": {
      name: "search-cache-miss",
      description: `distinct search bodies from seed ${settings.seed} (${search.capacity} before one repeats)`,
      endpoints: ["search"],
      request: (i) => ({ endpoint: "search", body: search.body(i) }),
      expectCacheHit: false,
      thresholds: { p95Ms: 150, p99Ms: 300, maxErrorRate: 0.01 },
      load: {
        executor: "constant-arrival-rate",
        ratePerSecond: 100,
        durationSeconds: 20,
        preAllocatedVUs: 20,
        maxVUs: 50,
      },
    },
    answer: {
      name: "answer",
      description: `distinct questions from seed ${settings.seed} (${answers.capacity} before one repeats)`,
      endpoints: ["answer"],
      request: (i) => ({ endpoint: "answer", body: answers.body(i) }),
      expectCacheHit: false,
      // Each answer waits on the rewrite and embedding upstreams: closed-loop VUs, not an open arrival rate.
      // A shed answer (503 + Retry-After) sends its VU to sleep for Retry-After, as a polite client would.
      thresholds: { p95Ms: 2_000, p99Ms: 5_000, maxErrorRate: 0.02, maxShedRate: 0.05 },
      load: {
        executor: "ramping-vus",
        startVUs: 1,
        stages: [
          { durationSeconds: 5, target: 5 },
          { durationSeconds: 10, target: 10 },
          { durationSeconds: 5, target: 0 },
        ],
      },
    },
    mixed: {
      name: "mixed",
      description: "9 searches (3 of 4 on popular bodies, 1 of 4 fresh) then 1 answer, per 10 iterations",
      endpoints: ["search", "answer"],
      request(i) {
        const n = Math.floor(Math.abs(i));
        if (n % 10 === 9) {
          const a = Math.floor(n / 10);
          // Fresh questions are taken after the popular ones so the two never collide.
          const index =
            a % 2 === 0 ? (a / 2) % MIXED_POPULAR_QUESTIONS : MIXED_POPULAR_QUESTIONS + (a - 1) / 2;
          return { endpoint: "answer", body: answers.body(index) };
        }
        const s = n - Math.floor(n / 10);
        // Popular picks walk the whole popular set in turn: the p-th popular search is body p mod 100.
        const popular = Math.floor(s / 4) * 3 + (s % 4);
        const index =
          s % 4 !== 3 ? popular % MIXED_POPULAR_SEARCHES : MIXED_POPULAR_SEARCHES + Math.floor(s / 4);
        return { endpoint: "search", body: search.body(index) };
      },
      expectCacheHit: false,
      thresholds: {
        p95Ms: 300,
        p99Ms: 1_500,
        maxErrorRate: 0.01,
        maxShedRate: 0.05,
        byEndpoint: { search: { p95Ms: 100, p99Ms: 250 }, answer: { p95Ms: 2_000, p99Ms: 5_000 } },
      },
      load: {
        executor: "constant-arrival-rate",
        ratePerSecond: 100,
        durationSeconds: 20,
        preAllocatedVUs: 20,
        maxVUs: 100,
      },
    },
  };
}

/** A scenario with the environment's overrides applied (DURATION, RATE, VUS, P95_MS, P99_MS, MAX_ERROR_RATE, MAX_SHED_RATE, SEED, KOGI_TERMS). */
export function resolveScenario(name: ScenarioName, env: Env = {}): Scenario {
  const scenario = definitions(settingsFrom(env))[name];
  return {
    ...scenario,
    thresholds: applyThresholdOverrides(scenario.thresholds, env),
    load: applyLoadOverrides(scenario.load, env),
  };
}

/** Seconds the load shape runs for (without k6's graceful stop). */
export function loadSeconds(load: LoadShape): number {
  return load.executor === "constant-arrival-rate"
    ? load.durationSeconds
    : load.stages.reduce((s, stage) => s + stage.durationSeconds, 0);
}

/** One line saying what load the shape asks for, for reports. */
export function describeLoad(load: LoadShape): string {
  if (load.executor === "constant-arrival-rate")
    return `constant-arrival-rate ${load.ratePerSecond}/s for ${load.durationSeconds}s (up to ${load.maxVUs} VUs)`;
  const stages = load.stages.map((s) => `${s.target} VUs over ${s.durationSeconds}s`).join(", then ");
  return `ramping-vus from ${load.startVUs}: ${stages}`;
}
