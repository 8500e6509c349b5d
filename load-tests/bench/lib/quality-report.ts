// bench:quality's tables: metrics per question class and method, the targets, and the misses.

import type { QuestionResult } from "./quality-eval.js";
import type { EngineLatency } from "./quality-fulltext.js";
import { mean } from "./quality-metrics.js";
import { QUESTION_CLASSES } from "./quality-set.js";

const f2 = (value: number) => value.toFixed(2);

export interface ClassRow {
  embedder: string;
  questionClass: string;
  method: string;
  questions: number;
  top1: number;
  top3: number;
  ndcg9: number;
}

export function classRows(embedder: string, results: QuestionResult[], methods: string[]): ClassRow[] {
  const rows: ClassRow[] = [];
  for (const questionClass of [...QUESTION_CLASSES, "all"]) {
    for (const method of methods) {
      const picked = results.filter(
        (r) => r.method === method && (questionClass === "all" || r.question.class === questionClass),
      );
      if (picked.length === 0) continue;
      const m = mean(picked.map((r) => r.score));
      rows.push({ embedder, questionClass, method, ...m });
    }
  }
  return rows;
}

export function classTable(rows: ClassRow[]): string {
  return [
    "| embedder | class | questions | method | top-1 | top-3 | nDCG@9 |",
    "|---|---|---:|---|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.embedder} | ${r.questionClass} | ${r.questions} | ${r.method} | ${f2(r.top1)} | ${f2(r.top3)} | ${f2(r.ndcg9)} |`,
    ),
  ].join("\n");
}

const ms = (value: number | null) => (value === null ? "-" : value.toFixed(2));

export function latencyTable(rows: EngineLatency[]): string {
  return [
    "| lexical engine | calls | p50 ms | p99 ms | max ms |",
    "|---|---:|---:|---:|---:|",
    ...rows.map((r) => `| ${r.engine} | ${r.calls} | ${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${ms(r.maxMs)} |`),
  ].join("\n");
}

export interface Target {
  name: string;
  actual: string;
  met: boolean;
}

/** The issue's targets, per embedder: hybrid >= both alone per class, and the top-3 floors. */
export function targets(rows: ClassRow[]): Target[] {
  const out: Target[] = [];
  const find = (embedder: string, questionClass: string, method: string) =>
    rows.find((r) => r.embedder === embedder && r.questionClass === questionClass && r.method === method);
  for (const embedder of new Set(rows.map((r) => r.embedder))) {
    for (const questionClass of QUESTION_CLASSES) {
      const [h, l, v] = ["hybrid", "lexical", "vector"].map((m) => find(embedder, questionClass, m));
      if (!h || !l || !v) continue;
      const metrics = ["top1", "top3", "ndcg9"] as const;
      const notWorse = metrics.every((m) => h[m] >= Math.max(l[m], v[m]) - 1e-9);
      const better = metrics.some((m) => h[m] > Math.max(l[m], v[m]) + 1e-9);
      out.push({
        name: `${embedder} ${questionClass}: hybrid beats lexical and vector alone (no metric worse, nDCG@9 or a hit rate better, or all equal at the ceiling)`,
        actual: `nDCG@9 ${f2(h.ndcg9)} vs ${f2(l.ndcg9)} / ${f2(v.ndcg9)}; top-3 ${f2(h.top3)} vs ${f2(l.top3)} / ${f2(v.top3)}; top-1 ${f2(h.top1)} vs ${f2(l.top1)} / ${f2(v.top1)}`,
        met: notWorse && (better || metrics.every((m) => h[m] >= 0.999)),
      });
      out.push({
        name: `${embedder} ${questionClass}: no metric worse than vector alone`,
        actual: `top-1 ${f2(h.top1)} vs ${f2(v.top1)}, top-3 ${f2(h.top3)} vs ${f2(v.top3)}, nDCG@9 ${f2(h.ndcg9)} vs ${f2(v.ndcg9)}`,
        met: metrics.every((m) => h[m] >= v[m] - 1e-9),
      });
    }
    const floor = (questionClass: string, min: number) => {
      const h = find(embedder, questionClass, "hybrid");
      if (h)
        out.push({
          name: `${embedder} ${questionClass}: hybrid top-3 >= ${min}`,
          actual: f2(h.top3),
          met: h.top3 >= min,
        });
    };
    floor("exact title", 0.97);
    floor("title paraphrase", 0.95);
    floor("description paraphrase", 0.95);
  }
  return out;
}

export function targetLines(list: Target[]): string {
  return list.map((t) => `- ${t.met ? "MET" : "NOT MET"}: ${t.name}: ${t.actual}`).join("\n");
}

/** Questions where the method's first three miss every course graded >= 2, with what came instead. */
export function misses(results: QuestionResult[], method: string): string {
  const lines = results
    .filter((r) => r.method === method && r.score.top3 === 0)
    .map(
      (r) =>
        `- ${r.question.id} "${r.question.question}": ${r.top
          .slice(0, 3)
          .map(
            (t) =>
              `${t.code} ${t.title} (grade ${t.grade}, lex ${t.lexicalRank ?? "-"}, vec ${t.vectorRank ?? "-"})`,
          )
          .join("; ")}`,
    );
  return lines.length ? lines.join("\n") : "- none";
}
