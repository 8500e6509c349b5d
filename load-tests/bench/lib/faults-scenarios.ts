// bench:faults' scenarios: each breaks one dependency (or restarts the api) under a bounded closed-loop
// load of searches and answers, then brings it back; runFault records what the clients saw.
import type { FakeStep } from "@kogi/shared/fakes/openai-server";
import { type Replica, startIntoRotation } from "../../deploy/replicas.js";
import { waitUntil } from "../../deploy/wait.js";
import { type LoadResult, type LoadSpec, runClosedLoop } from "./closed-loop.js";
import { type Outcome, pollReady, type ReadySample, recordOutcomes } from "./faults-timeline.js";
import { errorLogLines, type World } from "./faults-world.js";
import { prng } from "./vector-queries.js";

export const SEARCH_PATH = "/v1/courses/search";
export const ANSWER_PATH = "/v1/answer";
const SEARCH_CONNECTIONS = 4;
const ANSWER_CONNECTIONS = 4;
/** Load before the fault, so every row starts from a serving system. */
const BEFORE_MS = 2_000;
/** Load after the dependency is back: room to see the recovery and a run of successes. */
const AFTER_MS = 8_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

export interface Fault {
  name: string;
  /** "nginx": the load goes through nginx to both replicas; "direct": to replica a. */
  via: "direct" | "nginx";
  /** How long the dependency stays broken before restore() starts. */
  holdMs: number;
  /** Time restore() usually needs (a restart): added to the load's length so the after-window stays. */
  restoreBudgetMs(world: World): number;
  inject(world: World): Promise<string[]>;
  /** Resolves once the dependency serves again: that instant is when recovery is counted from. */
  restore(world: World): Promise<string[]>;
}

/** A seeded 30% of 5xx (500, 502, 503 in turn) among otherwise successful chat calls. */
function thirtyPercent5xx(count: number): FakeStep[] {
  const random = prng(42);
  const statuses = [500, 502, 503];
  return Array.from({ length: count }, (_, i) => (random() < 0.3 ? (statuses[i % 3] as number) : "ok"));
}

/** Starts a replica again and waits until nginx sends it requests (as bench:deploy does). */
async function restartBehindNginx(world: World, replica: Replica): Promise<string[]> {
  const drainStarted = performance.now();
  const code = await replica.stop("SIGTERM");
  const drained = `${replica.name} drained (exit ${code}) in ${Math.round(performance.now() - drainStarted)} ms`;
  const { inRotationMs } = await startIntoRotation(replica, world.nginx);
  return [drained, `${replica.name} ready and in rotation in ${Math.round(inRotationMs)} ms`];
}

export const FAULTS: Fault[] = [
  {
    name: "Redis killed",
    via: "direct",
    holdMs: 8_000,
    restoreBudgetMs: () => 500,
    inject: async (world) => {
      await world.redis.stop();
      return ["redis-server SIGKILLed"];
    },
    restore: async (world) => {
      await world.redis.start();
      return ["redis-server started"];
    },
  },
  {
    name: "MariaDB killed",
    via: "direct",
    holdMs: 8_000,
    restoreBudgetMs: () => 5_000,
    inject: async (world) => {
      await world.db.kill();
      return ["mariadbd SIGKILLed"];
    },
    restore: async (world) => {
      const started = performance.now();
      await world.db.start();
      return [`mariadbd accepting connections ${Math.round(performance.now() - started)} ms after start`];
    },
  },
  {
    name: "MariaDB frozen (SIGSTOP 10 s)",
    via: "direct",
    holdMs: 10_000,
    restoreBudgetMs: () => 0,
    inject: async (world) => {
      world.db.freeze();
      return ["mariadbd SIGSTOPped"];
    },
    restore: async (world) => {
      world.db.thaw();
      return ["mariadbd SIGCONTed"];
    },
  },
  {
    name: "vector sidecar killed",
    via: "direct",
    holdMs: 8_000,
    restoreBudgetMs: (world) => 1.5 * world.startMs.sidecar + 1_000,
    inject: async (world) => {
      await world.sidecar.kill();
      return ["sidecar SIGKILLed"];
    },
    restore: async (world) => {
      const started = performance.now();
      await world.sidecar.start();
      return [`sidecar ready ${Math.round(performance.now() - started)} ms after start`];
    },
  },
  {
    name: "chat upstream 30% 5xx",
    via: "direct",
    holdMs: 10_000,
    restoreBudgetMs: () => 0,
    inject: async (world) => {
      world.fake.setBehavior({ chat: { sequence: thirtyPercent5xx(20_000) } });
      return ["fake OpenAI chat: 30% of calls 500/502/503"];
    },
    restore: async (world) => {
      const outcomes = world.fake.stats().chat.outcomes;
      world.fake.setBehavior({ chat: { sequence: [] } });
      return [`fake OpenAI chat outcomes during the fault: ${JSON.stringify(outcomes)}`];
    },
  },
  {
    name: "rolling restart of the api (2 replicas, nginx)",
    via: "nginx",
    holdMs: 0,
    restoreBudgetMs: (world) => 2 * (1.5 * world.startMs.replica + 2_000),
    inject: async () => [],
    restore: async (world) => {
      const events: string[] = [];
      for (const replica of world.replicas) events.push(...(await restartBehindNginx(world, replica)));
      return events;
    },
  },
];

export interface FaultRun {
  fault: Fault;
  origin: string;
  search: LoadResult;
  answer: LoadResult;
  outcomes: Outcome[];
  ready: ReadySample[];
  faultAt: number;
  returnedAt: number;
  loadEndedAt: number;
  events: string[];
  errorLogs: Record<string, unknown>[];
}

/** `slice` picks the row's own search bodies: 0..FAULTS.length-1 for the rows, the next ones for second loads. */
function specs(world: World, origin: string, slice: number, durationMs: number): [LoadSpec, LoadSpec] {
  const perSlice = Math.floor(world.searchBodies.length / (2 * FAULTS.length));
  const common = {
    origin,
    durationMs,
    maxRequests: 200_000,
    // Above every deadline of the api (answers 5 s, statements 5 s + acquisition 1 s).
    timeoutMs: 30_000,
    warmup: "health" as const,
    honorRetryAfter: false,
    keepAnswered: 0,
  };
  return [
    {
      ...common,
      name: "search",
      path: SEARCH_PATH,
      connections: SEARCH_CONNECTIONS,
      // A slice no earlier row asked for: misses that must reach MySQL (later repeats are cache hits).
      bodies: { kind: "cycle", bodies: world.searchBodies.slice(slice * perSlice, (slice + 1) * perSlice) },
      inspectAnswers: false,
    },
    {
      ...common,
      name: "answer",
      path: ANSWER_PATH,
      connections: ANSWER_CONNECTIONS,
      // Distinct questions: no whole-answer or rewrite cache hit.
      bodies: { kind: "questions", titles: world.titles, firstNumber: (slice + 1) * 1_000_000 },
      inspectAnswers: true,
      staggerMs: 300,
    },
  ];
}

/** Totals of two loads one after the other (only the tallies the report reads). */
function merged(a: LoadResult, b: LoadResult): LoadResult {
  const sum = (x: Record<string, number>, y: Record<string, number>) => {
    const out = { ...x };
    for (const [key, n] of Object.entries(y)) out[key] = (out[key] ?? 0) + n;
    return out;
  };
  return {
    ...a,
    responses: a.responses + b.responses,
    statuses: sum(a.statuses, b.statuses),
    problemCodes: sum(a.problemCodes, b.problemCodes),
    errors: sum(a.errors, b.errors),
    retryAfter: {
      present: a.retryAfter.present + b.retryAfter.present,
      missing: a.retryAfter.missing + b.retryAfter.missing,
      values: sum(a.retryAfter.values, b.retryAfter.values),
    },
    answers:
      a.answers && b.answers
        ? { ...a.answers, fallback: a.answers.fallback + b.answers.fallback }
        : a.answers,
  };
}

/** Both routes' closed loops at once; resolves once both measure (warm-up over) and once both end. */
function startLoads(world: World, origin: string, row: number, durationMs: number) {
  const [searchSpec, answerSpec] = specs(world, origin, row, durationMs);
  let measuring = 0;
  let bothMeasuring: () => void = () => undefined;
  const measured = new Promise<void>((resolve) => {
    bothMeasuring = resolve;
  });
  const onMeasuring = () => {
    if (++measuring === 2) bothMeasuring();
  };
  const ended = Promise.all([runClosedLoop(searchSpec, onMeasuring), runClosedLoop(answerSpec, onMeasuring)]);
  return { measured: Promise.race([measured, ended]), ended };
}

/**
 * One row: the load on both routes, the fault BEFORE_MS into it, the dependency back, AFTER_MS more. A
 * restore slower than its budget gets a second load of AFTER_MS from when it is back, so recovery is
 * always watched under load.
 */
export async function runFault(world: World, fault: Fault, row: number): Promise<FaultRun> {
  const origin = fault.via === "nginx" ? world.nginx.url : (world.replicas[0].url as string);
  const durationMs = Math.round(BEFORE_MS + fault.holdMs + fault.restoreBudgetMs(world) + AFTER_MS);
  const marks = world.replicas.map((replica) => replica.output().length);
  world.fake.reset();
  const recorder = recordOutcomes(origin);
  const ready = pollReady(origin);
  const load = startLoads(world, origin, row, durationMs);
  const events: string[] = [];
  let faultAt = 0;
  let returnedAt = 0;
  const driver = (async () => {
    await load.measured;
    await sleep(BEFORE_MS);
    faultAt = performance.now();
    events.push(...(await fault.inject(world)));
    await sleep(fault.holdMs - (performance.now() - faultAt));
    events.push(...(await fault.restore(world)));
    returnedAt = performance.now();
  })();
  // The load ends by itself at durationMs; a failed restore is reported once it has.
  let [[search, answer], failed] = await Promise.all([
    load.ended,
    driver.then(
      () => undefined,
      (error: Error) => error,
    ),
  ]);
  if (failed) throw new Error(`${fault.name}: ${failed.message}`);
  if (performance.now() - returnedAt < AFTER_MS / 2) {
    events.push("restore outlasted its budget: a second load watched the recovery");
    const after = startLoads(world, origin, FAULTS.length + row, AFTER_MS);
    const [moreSearch, moreAnswer] = await after.ended;
    search = merged(search, moreSearch);
    answer = merged(answer, moreAnswer);
  }
  const loadEndedAt = performance.now();
  return {
    fault,
    origin,
    search,
    answer,
    outcomes: recorder.stop(),
    ready: await ready.stop(),
    faultAt,
    returnedAt,
    loadEndedAt,
    events,
    errorLogs: errorLogLines(world.replicas, marks),
  };
}

/** Between rows: the direct api ready with every check green, so no row inherits the last one's fault. */
export async function settle(world: World): Promise<string | undefined> {
  try {
    await waitUntil(
      async () => {
        const response = await fetch(`${world.replicas[0].url}/ready`).catch(() => undefined);
        const body = (await response?.json().catch(() => undefined)) as { status?: string } | undefined;
        return body?.status === "ready";
      },
      "the api to be ready with every check green",
      30_000,
    );
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
