// `npm run bench:quality`: ranking quality of /v1/answer on the real UIUC catalog (and the synthetic
// catalog's Japanese texts) against the committed relevance set: lexical alone, vector alone, hybrid,
// other fusions, and MariaDB FULLTEXT beside the in-process lexical index (quality and latency).
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { generateCatalog } from "@kogi/api/catalog/generator";
import { DEFAULT_FUSION, VECTOR_STANDARD_SCORE } from "@kogi/api/services/answer-ranking";
import { RRF_K } from "@kogi/api/services/ranking/fusion";
import { createAnswerHarness } from "@kogi/api/testutil/answer-harness";
import { uiucFiles } from "@kogi/api/testutil/harness";
import { cleanups, logger, runBench, seconds } from "./lib/cleanup.js";
import { evaluate, type Method, type QuestionResult, type World, worldOf } from "./lib/quality-eval.js";
import { compareLexicalEngines, type EngineLatency, FULLTEXT_METHOD } from "./lib/quality-fulltext.js";
import {
  type ClassRow,
  classRows,
  classTable,
  latencyTable,
  misses,
  targetLines,
  targets,
} from "./lib/quality-report.js";
import { readRelevanceSet } from "./lib/quality-set.js";
import { writeJson } from "./lib/report.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const SET_FILE = resolve(root, "load-tests/bench/quality-relevance.json");
const RESULTS_FILE = resolve(root, "load-tests/bench/results/quality-latest.json");
const log = logger("bench:quality");

/** The three rankings the issue compares; hybrid is what /v1/answer serves (ANSWER_RANKING=hybrid). */
const METHODS: Method[] = [
  { name: "lexical", mode: "lexical" },
  { name: "vector", mode: "vector" },
  { name: "hybrid", mode: "hybrid" },
];
/** Other fusions, measured on the same questions to justify the choice. */
const FUSIONS: Method[] = [
  { name: "RRF k=20", mode: "hybrid", fusion: { kind: "rrf", k: 20 } },
  { name: `RRF k=${RRF_K}`, mode: "hybrid", fusion: { kind: "rrf", k: RRF_K } },
  {
    name: `RRF k=${RRF_K}, vector x0.5`,
    mode: "hybrid",
    fusion: { kind: "rrf", k: RRF_K, weights: [1, 0.5] },
  },
  { name: "blend: each / its best", mode: "hybrid", fusion: { kind: "blend", relative: [true, true] } },
  { name: "blend: lexical / ceiling + inner product", mode: "hybrid", fusion: { kind: "blend" } },
  {
    name: "blend: lexical / ceiling + 0.5 x inner product",
    mode: "hybrid",
    fusion: { kind: "blend", weights: [1, 0.5] },
  },
  ...[
    { above: 2.5, per: 5 },
    { above: 3.5, per: 3 },
    VECTOR_STANDARD_SCORE,
    { above: 3.5, per: 8 },
    { above: 4.5, per: 5 },
  ].map(
    (standard): Method => ({
      name: `blend: lexical / ceiling + max(0, z - ${standard.above}) / ${standard.per}${standard === VECTOR_STANDARD_SCORE ? " (served)" : ""}`,
      mode: "hybrid",
      fusion:
        standard === VECTOR_STANDARD_SCORE
          ? DEFAULT_FUSION
          : { kind: "blend", standard: [undefined, standard] },
    }),
  ),
];
/** Passes of the set timed for the lexical engines' latency (after one untimed warm-up pass). */
const ENGINE_ROUNDS = 5;
// BENCH_QUALITY_SHOW=1 prints each question's top 5 per method (how the grades were checked).
const SHOW = process.env.BENCH_QUALITY_SHOW === "1";

async function openWorlds(embedder: "local" | "openai", synthetic: { courses: number; seed: number }) {
  const env: Record<string, string> =
    embedder === "openai"
      ? {
          EMBEDDINGS_PROVIDER: "openai",
          OPENAI_API_KEY: process.env.OPENAI_API_KEY as string,
          ...(process.env.OPENAI_BASE_URL ? { OPENAI_BASE_URL: process.env.OPENAI_BASE_URL } : {}),
        }
      : { EMBEDDINGS_PROVIDER: "local", OPENAI_API_KEY: "" };
  let started = performance.now();
  const uiuc = await createAnswerHarness({ env, load: (h) => h.importFiles(uiucFiles()) });
  cleanups.push(() => uiuc.close());
  log(`${embedder}: UIUC catalog imported and indexed in ${seconds(started)}`);
  started = performance.now();
  const generated = await createAnswerHarness({
    env,
    load: (h) => h.importTerms(generateCatalog({ ...synthetic, terms: 1 }).terms),
  });
  cleanups.push(() => generated.close());
  log(`${embedder}: synthetic catalog (${synthetic.courses} courses) indexed in ${seconds(started)}`);
  return { uiuc: await worldOf("uiuc", uiuc), synthetic: await worldOf("synthetic", generated) };
}

function show(results: QuestionResult[]) {
  for (const r of results)
    console.error(
      `${r.question.id} [${r.method}] ${r.question.question}\n${r.top
        .slice(0, 5)
        .map(
          (t, i) =>
            `   ${i + 1}. g${t.grade} ${t.code} ${t.title} (lex ${t.lexicalRank ?? "-"}, vec ${t.vectorRank ?? "-"})`,
        )
        .join("\n")}`,
    );
}

async function main() {
  const started = performance.now();
  const set = await readRelevanceSet(SET_FILE);
  const embedders: ("local" | "openai")[] = process.env.OPENAI_API_KEY ? ["local", "openai"] : ["local"];
  const rows: ClassRow[] = [];
  const fusionRows: ClassRow[] = [];
  const missLines: string[] = [];
  const engineRows: ClassRow[] = [];
  let engineLatency: EngineLatency[] = [];
  const record: Record<string, unknown> = {};
  for (const embedder of embedders) {
    const worlds = await openWorlds(embedder, set.synthetic);
    const results: QuestionResult[] = [];
    for (const method of [...METHODS, ...FUSIONS])
      for (const question of set.questions) {
        const world: World = question.catalog === "uiuc" ? worlds.uiuc : worlds.synthetic;
        results.push(await evaluate(world, question, method));
      }
    if (SHOW) show(results.filter((r) => METHODS.some((m) => m.name === r.method)));
    // The engine comparison does not depend on the embedder: run it once.
    if (engineLatency.length === 0) {
      const engines = await compareLexicalEngines(worlds, set.questions, ENGINE_ROUNDS);
      engineLatency = engines.latency;
      results.push(...engines.results);
      engineRows.push(
        ...classRows(
          "-",
          [...results.filter((r) => r.method === "lexical"), ...engines.results],
          ["lexical", FULLTEXT_METHOD],
        ),
      );
    }
    rows.push(
      ...classRows(
        embedder,
        results,
        METHODS.map((m) => m.name),
      ),
    );
    fusionRows.push(
      ...classRows(
        embedder,
        results,
        FUSIONS.map((m) => m.name),
      ),
    );
    const ranFulltext = results.some((r) => r.method === FULLTEXT_METHOD);
    for (const method of [...METHODS.map((m) => m.name), ...(ranFulltext ? [FULLTEXT_METHOD] : [])])
      missLines.push(
        `#### ${embedder}, ${method}: questions with no good answer in the top 3`,
        "",
        misses(results, method),
        "",
      );
    record[embedder] = results.map((r) => ({
      id: r.question.id,
      method: r.method,
      ...r.score,
      top: r.top.slice(0, 3).map((t) => `${t.code} (${t.grade})`),
    }));
  }
  const met = targets(rows);
  const questions = set.questions.length;
  console.log(
    [
      "## Answer ranking quality (bench:quality)",
      "",
      `- ${questions} questions (load-tests/bench/quality-relevance.json), graded by hand: 3 = the course asked for, 2 = a good answer, 1 = acceptable; top-1 / top-3 = a course graded >= 2 at rank 1 / in the first 3; nDCG@9 with gain 2^grade - 1 against the best possible order of every graded course`,
      "- questions without filters search every term of the UIUC catalog (2017-2025, 10,805 rows, one result per course); the Japanese ones search the synthetic catalog",
      '- the vector ranking embeds the focused question with words the catalog lacks read as their one-edit correction; in hybrid it also gets the words that the best lexical matches\' titles share beside the whole question (title feedback: 機械学習 gains "machine learning")',
      `- embedders: ${embedders.join(", ")}${embedders.length === 1 ? " (set OPENAI_API_KEY to add the OpenAI-compatible one)" : ""}; rewrite: ${embedders.includes("openai") ? "the LLM for openai, " : ""}pass-through for local`,
      "",
      "### Per question class",
      "",
      classTable(rows),
      "",
      "### Fusion methods (all questions)",
      "",
      classTable(fusionRows),
      "",
      "### Lexical engines: in-process BM25F (served) vs MariaDB FULLTEXT",
      "",
      "FULLTEXT: `MATCH(title, description) AGAINST (focused question IN NATURAL LANGUAGE MODE)` on a scratch table of one row per course (the text the in-process index scores), InnoDB's default stopwords and 3-character minimum; no title weight, no typo or Japanese handling (MariaDB has no ngram parser).",
      "",
      classTable(engineRows),
      "",
      latencyTable(engineLatency),
      "",
      "### Targets",
      "",
      targetLines(met),
      "",
      "### Misses",
      "",
      ...missLines,
      `- total runtime: ${seconds(started)}`,
    ].join("\n"),
  );
  await writeJson(RESULTS_FILE, {
    at: new Date().toISOString(),
    rows,
    fusionRows,
    engineRows,
    engineLatency,
    targets: met,
    questions: record,
  });
  log(`results written to ${RESULTS_FILE}`);
}

await runBench(main);
