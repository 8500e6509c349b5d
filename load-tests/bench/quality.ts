// `npm run bench:quality`: ranking quality of /v1/answer on the real UIUC catalog (and the synthetic
// catalog's Japanese texts) against the committed relevance set: lexical alone, vector alone, hybrid.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { generateCatalog } from "../../api/src/catalog/generator.js";
import { DEFAULT_FUSION } from "../../api/src/services/answer-ranking.js";
import { RRF_K } from "../../api/src/services/ranking/fusion.js";
import { createAnswerHarness } from "../../api/src/testutil/answer-harness.js";
import { uiucFiles } from "../../api/src/testutil/harness.js";
import { cleanups, logger, runBench, seconds } from "./lib/cleanup.js";
import { evaluate, type Method, type QuestionResult, type World, worldOf } from "./lib/quality-eval.js";
import { type ClassRow, classRows, classTable, misses, targetLines, targets } from "./lib/quality-report.js";
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
  {
    name: "blend: lexical / its best + inner product",
    mode: "hybrid",
    fusion: { kind: "blend", relative: [true, false] },
  },
  { name: "blend: lexical / ceiling + inner product (served)", mode: "hybrid", fusion: DEFAULT_FUSION },
  {
    name: "blend: lexical / ceiling + 0.5 x inner product",
    mode: "hybrid",
    fusion: { kind: "blend", weights: [1, 0.5] },
  },
  {
    name: "blend: lexical / ceiling + 2 x inner product",
    mode: "hybrid",
    fusion: { kind: "blend", weights: [1, 2] },
  },
];
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
    for (const method of METHODS.map((m) => m.name))
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
    targets: met,
    questions: record,
  });
  log(`results written to ${RESULTS_FILE}`);
}

await runBench(main);
