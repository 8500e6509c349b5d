// bench:answer's lexical-stage cost: two compiled apis on one sidecar and the UIUC catalog, one with
// ANSWER_RANKING=vector (before) and one with =hybrid (after), taking distinct questions in turn.
import { execFileSync } from "node:child_process";
import { type ApiChild, type RunnerChild, startApi } from "./answer-children.js";
import type { BodySpec, LoadResult, LoadSpec } from "./closed-loop.js";

export const LEXICAL_SCENARIO = "lexical stage cost";

export interface LexicalCostRow {
  ranking: "vector" | "hybrid";
  round: number;
  connections: number;
  okPerSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  lexicalP50Ms: number | null;
  lexicalP99Ms: number | null;
  /** Hydration depends on which courses are ranked first (big "Thesis Research" courses cost more). */
  hydrateP99Ms: number | null;
  statuses: Record<string, number>;
}

export interface LexicalCostOptions {
  root: string;
  /** The api's environment without the ranking (database, Redis, sidecar URL). */
  env: Record<string, string>;
  logFile: (ranking: string) => string;
  /** Both apis serve ANSWER_RANKING=vector: an A/A run that shows the bench's own bias and noise. */
  control?: boolean;
  /** Node flags for each ranking's api (BENCH_CPU_PROF: a profile per ranking). */
  nodeArgs?: (ranking: string) => string[];
  runner: RunnerChild;
  questions: () => BodySpec;
  durationMs: number;
  /** Closed-loop clients per measurement: one (no queueing) and a few (the 2 cores shared). */
  connections: number[];
  rounds: number;
  log: (message: string) => void;
}

function spec(api: ApiChild, connections: number, durationMs: number, bodies: BodySpec): LoadSpec {
  return {
    name: `${LEXICAL_SCENARIO}, ${connections} clients`,
    origin: api.url,
    path: "/v1/answer",
    connections,
    durationMs,
    maxRequests: 2_000_000,
    timeoutMs: 20_000,
    bodies,
    warmup: "health",
    honorRetryAfter: false,
    inspectAnswers: true,
    keepAnswered: 0,
  };
}

const round2 = (value: number | undefined | null) => (value == null ? null : Math.round(value * 100) / 100);

const RANKINGS = ["vector", "hybrid"] as const;
type Ranking = (typeof RANKINGS)[number];

/**
 * No upstream in the answer (pass-through rewrite, the sidecar's own embedder), so the lexical stage
 * is not hidden behind a 1.5 s rewrite: every millisecond it adds shows in the latency. Both apis run
 * side by side on one sidecar and take the load in turn, in short windows whose order flips every
 * round, so drift of the shared machine hits both alike (a restart per ranking and long windows moved
 * the 8-client p99 by 15 ms between runs of the same code). Half way the two apis are started again
 * in the other order: in an A/A run (`control`) without that, the api started second served 7% fewer
 * answers at 8 clients.
 */
export async function measureLexicalCost(options: LexicalCostOptions): Promise<LexicalCostRow[]> {
  const rows: LexicalCostRow[] = [];
  // The compiled api, as production runs it.
  execFileSync(process.execPath, ["scripts/build.mjs", "--if-stale"], {
    cwd: options.root,
    stdio: "inherit",
  });
  const half = Math.ceil(options.rounds / 2);
  for (const [first, last, startOrder] of [
    [1, half, RANKINGS],
    [half + 1, options.rounds, [...RANKINGS].reverse()],
  ] as const) {
    if (first > last) continue;
    const apis = new Map<Ranking, ApiChild>();
    try {
      for (const ranking of startOrder) {
        const served = options.control ? "vector" : ranking;
        const env = {
          ...options.env,
          ANSWER_RANKING: served,
          OPENAI_API_KEY: "",
          EMBEDDINGS_PROVIDER: "local",
        };
        apis.set(
          ranking,
          await startApi(options.root, env, options.logFile(ranking), options.nodeArgs?.(ranking), "build"),
        );
      }
      // Untimed: JIT, pools and the ranking snapshot's first build.
      for (const api of apis.values()) await options.runner.run(spec(api, 4, 3_000, options.questions()));
      for (let round = first; round <= last; round++) {
        const order = round % 2 === 1 ? RANKINGS : [...RANKINGS].reverse();
        for (const connections of options.connections)
          for (const ranking of order)
            rows.push(
              await measureWindow(options, apis.get(ranking) as ApiChild, ranking, round, connections),
            );
      }
    } finally {
      for (const api of apis.values()) await api.stop();
    }
  }
  return rows;
}

async function measureWindow(
  options: LexicalCostOptions,
  api: ApiChild,
  ranking: Ranking,
  round: number,
  connections: number,
): Promise<LexicalCostRow> {
  const result: LoadResult = await options.runner.run(
    spec(api, connections, options.durationMs, options.questions()),
  );
  const lexical = result.answers?.stagesMs.lexical;
  options.log(
    `${ranking} round ${round}, ${connections} clients: ${result.okPerSecond} answers/s, p99 ${round2(result.latency.ok?.p99)} ms`,
  );
  return {
    ranking,
    round,
    connections,
    okPerSecond: result.okPerSecond,
    p50Ms: round2(result.latency.ok?.p50),
    p99Ms: round2(result.latency.ok?.p99),
    lexicalP50Ms: round2(lexical?.p50),
    lexicalP99Ms: round2(lexical?.p99),
    hydrateP99Ms: round2(result.answers?.stagesMs.hydrate?.p99),
    statuses: result.statuses,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length / 2;
  const value = Number.isInteger(mid)
    ? ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
    : (sorted[Math.floor(mid)] as number);
  return Math.round(value * 100) / 100;
};

/** Per client count: the median over rounds of each ranking's p99, and hybrid minus vector. */
export function lexicalCostSummary(rows: LexicalCostRow[]) {
  return [...new Set(rows.map((r) => r.connections))].map((connections) => {
    const of = (ranking: string, pick: (r: LexicalCostRow) => number | null) =>
      median(
        rows
          .filter((r) => r.connections === connections && r.ranking === ranking)
          .map(pick)
          .filter((v): v is number => v !== null),
      );
    const vectorP99 = of("vector", (r) => r.p99Ms);
    const hybridP99 = of("hybrid", (r) => r.p99Ms);
    return {
      connections,
      vectorP50: of("vector", (r) => r.p50Ms),
      hybridP50: of("hybrid", (r) => r.p50Ms),
      vectorP99,
      hybridP99,
      addedP99: Math.round((hybridP99 - vectorP99) * 100) / 100,
      lexicalStageP99: of("hybrid", (r) => r.lexicalP99Ms),
      vectorPerSecond: of("vector", (r) => r.okPerSecond),
      hybridPerSecond: of("hybrid", (r) => r.okPerSecond),
    };
  });
}

export function lexicalCostTable(rows: LexicalCostRow[]): string {
  const cell = (v: number | null) => (v === null ? "-" : String(v));
  return [
    "| ranking | round | clients | answers/s | p50 ms | p99 ms | lexical stage p50 ms | lexical stage p99 ms | hydrate stage p99 ms | statuses |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ...rows.map(
      (r) =>
        `| ${r.ranking} | ${r.round} | ${r.connections} | ${r.okPerSecond} | ${cell(r.p50Ms)} | ${cell(r.p99Ms)} | ${cell(r.lexicalP50Ms)} | ${cell(r.lexicalP99Ms)} | ${cell(r.hydrateP99Ms)} | ${Object.entries(
          r.statuses,
        )
          .map(([s, n]) => `${s}: ${n}`)
          .join(", ")} |`,
    ),
    "",
    "| clients | vector p99 ms | hybrid p99 ms | added p99 ms (target <= 5) | lexical stage p99 ms | vector p50 ms | hybrid p50 ms | vector answers/s | hybrid answers/s |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...lexicalCostSummary(rows).map(
      (s) =>
        `| ${s.connections} | ${s.vectorP99} | ${s.hybridP99} | ${s.addedP99} | ${s.lexicalStageP99} | ${s.vectorP50} | ${s.hybridP50} | ${s.vectorPerSecond} | ${s.hybridPerSecond} |`,
    ),
  ].join("\n");
}
