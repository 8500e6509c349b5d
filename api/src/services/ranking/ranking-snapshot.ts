// What ranking needs from one catalog version, built in-process once per version: the course groups
// and the lexical index over one document per course (its newest text, all of its codes).
import { runInSlices, runNow, type Steps } from "./cooperative.js";
import { CourseGroups, type CourseRow } from "./course-groups.js";
import { type FieldSpec, LexicalIndex } from "./lexical-index.js";
import { fieldTerms, phraseTerms, type QueryTerm, stem } from "./text-analysis.js";
import { TitleAbbreviations } from "./title-abbreviations.js";
import { correctTypos, FEEDBACK_TITLES, feedbackWords } from "./vector-question.js";

/**
 * Title above description; codes ("cs 225", "cs225") count like a title; phrases (neighbouring terms
 * of title and description) add to the words they are made of.
 */
export const FIELDS: FieldSpec[] = [
  { name: "title", weight: 3, b: 0.3 },
  { name: "description", weight: 1, b: 0.75 },
  { name: "code", weight: 3, b: 0 },
  { name: "phrases", weight: 1.5, b: 0.75 },
];

export interface Scope {
  /** 1 for groups with an allowed row. */
  mask: Uint8Array;
  /** The offering shown for each allowed group (-1 elsewhere). */
  representative: Int32Array;
  /** Course ids whose vectors stand for the allowed groups (one per group). */
  vectorIds: number[];
}

export class RankingSnapshot {
  // Set by the build steps, before the snapshot is handed out.
  groups!: CourseGroups;
  lexical!: LexicalIndex;
  builtMs = 0;
  /** Each group's title (its canonical row's). */
  #titles: string[] = [];
  #unfiltered: Scope | undefined;

  /** Builds at once; `RankingSnapshot.build` builds in slices that leave the event loop free. */
  constructor(
    readonly version: number,
    rows: CourseRow[],
    /** Takes the build steps instead of running them now (see build()). */
    deferred?: (steps: Steps) => void,
  ) {
    const steps = this.#steps(rows);
    if (deferred) deferred(steps);
    else runNow(steps);
  }

  static async build(version: number, rows: CourseRow[]): Promise<RankingSnapshot> {
    let steps: Steps | undefined;
    const snapshot = new RankingSnapshot(version, rows, (build) => {
      steps = build;
    });
    await runInSlices(steps as Steps);
    return snapshot;
  }

  *#steps(rows: CourseRow[]): Steps {
    const started = performance.now();
    this.groups = new CourseGroups(rows);
    yield;
    const byId = new Map(rows.map((row) => [row.id, row]));
    const texts = this.groups.groups.map((group) => byId.get(group.canonical) as CourseRow);
    this.#titles = texts.map((text) => text.title);
    const abbreviations = new TitleAbbreviations(texts.map((text) => text.description));
    yield;
    const docs = [];
    for (const [g, text] of texts.entries()) {
      if (g % 100 === 99) yield;
      const words = new Map<string, string>();
      const codes = this.groups.codes(g).flatMap((code) => {
        const [subject = "", number = ""] = code.toLowerCase().split(" ");
        return [subject, number, `${subject}${number}`];
      });
      const title = fieldTerms(abbreviations.expandTitle(text.title, text.description), words);
      const description = fieldTerms(text.description, words);
      docs.push({
        fields: [title, description, codes, [...phraseTerms(title), ...phraseTerms(description)]],
        words,
      });
    }
    const lexical = LexicalIndex.build(FIELDS, docs);
    yield* lexical.steps;
    this.lexical = lexical.index;
    this.builtMs = performance.now() - started;
  }

  /** The groups a filter leaves (undefined: no filter), cached for the unfiltered case. */
  scope(allowed: readonly number[] | undefined): Scope {
    if (!allowed && this.#unfiltered) return this.#unfiltered;
    const { mask, representative } = this.groups.allowed(allowed);
    const vectorIds: number[] = [];
    for (const [g, group] of this.groups.groups.entries()) if (mask[g] === 1) vectorIds.push(group.canonical);
    const scope = { mask, representative, vectorIds };
    if (!allowed) this.#unfiltered = scope;
    return scope;
  }

  lexicalRanking(terms: QueryTerm[], scope: Scope, limit: number) {
    return this.lexical.search({ terms, allowed: scope.mask, limit });
  }

  /**
   * What the vector ranking embeds for a focused question: its typos corrected against the catalog,
   * then the words the titles of `lexicalTop` (groups, best first) share that it lacks.
   */
  vectorQuestion(focused: string, lexicalTop: readonly number[] = []): string {
    const corrected = correctTypos(focused, (word) => this.lexical.correction(word, stem(word)));
    const titles = lexicalTop.slice(0, FEEDBACK_TITLES).map((g) => this.#titles[g] ?? "");
    const feedback = feedbackWords(corrected, titles);
    return feedback.length > 0 ? `${corrected} ${feedback.join(" ")}` : corrected;
  }
}

/**
 * The snapshot of the latest catalog version asked for, built on first use (UIUC: ~10.8k rows in
 * a few hundred ms); concurrent callers share one build.
 */
export class RankingSnapshots {
  #latest: { version: number; snapshot: Promise<RankingSnapshot> } | undefined;
  #ready: RankingSnapshot | undefined;

  constructor(private readonly load: () => Promise<CourseRow[]>) {}

  /** The snapshot of this version when it is built, without a turn of the event loop. */
  ready(version: number): RankingSnapshot | undefined {
    return this.#ready?.version === version ? this.#ready : undefined;
  }

  get(version: number): Promise<RankingSnapshot> {
    if (this.#latest?.version === version) return this.#latest.snapshot;
    const building = this.load().then(async (rows) => {
      // In slices: other requests are served while it builds (answers for this version await it).
      const snapshot = await RankingSnapshot.build(version, rows);
      if (this.#latest === entry) this.#ready = snapshot;
      return snapshot;
    });
    const entry = { version, snapshot: building };
    this.#latest = entry;
    // A failed build is not kept: the next answer tries again.
    building.catch(() => {
      if (this.#latest === entry) this.#latest = undefined;
    });
    return building;
  }
}
