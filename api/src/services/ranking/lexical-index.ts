// An in-process BM25F index over a few thousand documents (one per course), with typo and prefix
// expansion of query terms the catalog does not contain.
// Our own rather than a library's: BM25F (one saturation over weighted fields, not a sum of per-field
// BM25s), CJK bigrams from the shared tokenizer and filters as a bitmap take ~200 lines.

import { isCjkToken } from "../../catalog/tokenize.js";
import { runNow, type Steps } from "./cooperative.js";

export interface FieldSpec {
  name: string;
  /** How much one occurrence in this field counts against one in a weight-1 field. */
  weight: number;
  /** Length normalisation (BM25's b): 0 for short fields whose length says nothing. */
  b: number;
}

export interface LexicalDocument {
  /** Terms of each field, in the order of the index's fields (already analysed). */
  fields: string[][];
  /** The words the terms were stemmed from (word -> term), for typos and explanations. */
  words?: Map<string, string>;
}

export interface LexicalHit {
  doc: number;
  score: number;
}

export interface LexicalResult {
  hits: LexicalHit[];
  /**
   * What a document holding every query term once in a typical title would score: hits divided by
   * it read as "how much of the question this course's text says" (about 0..1), across questions.
   */
  ceiling: number;
}

export interface LexicalQuery {
  /** Phrase terms score where the text has them, but add nothing to title coverage or explanations. */
  terms: { term: string; word: string; phrase?: boolean }[];
  /** Only these documents may be returned (1 = allowed); all when absent. */
  allowed?: Uint8Array;
  limit: number;
}

const K1 = 1.2;
/** A term read through a one-edit typo, or as the prefix of longer catalog terms, counts less. */
const TYPO_WEIGHT = 0.7;
const PREFIX_WEIGHT = 0.5;
const MAX_EXPANSIONS = 3;
const MIN_FUZZY_LENGTH = 4;
/**
 * A document whose title holds all of the question's weight gets up to this much more, the most when
 * the title says nothing else ("Statistics" before "Economic Statistics I" for "statistics").
 */
const TITLE_COVERAGE_BOOST = 0.6;

const isLatinWord = (term: string) => !isCjkToken(term) && !/\d/.test(term);

/** One insertion, deletion, substitution or swap of neighbours apart (optimal string alignment <= 1). */
export function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true;
    return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
  }
  return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

function popcount(bits: number): number {
  let n = 0;
  for (let b = bits >>> 0; b !== 0; b &= b - 1) n++;
  return n;
}

/** Every string one deletion away: two words one edit apart share one (SymSpell's trick). */
function deletions(term: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < term.length; i++) out.push(term.slice(0, i) + term.slice(i + 1));
  return out;
}

/**
 * The `limit` best (score, doc) pairs of a stream, best first (ties: the smaller doc): a min-heap on
 * typed arrays, since a common word touches thousands of documents and only the first 50-100 are read.
 */
class TopHits {
  readonly #docs: Int32Array;
  readonly #scores: Float64Array;
  #size = 0;

  constructor(readonly limit: number) {
    this.#docs = new Int32Array(Math.max(0, limit));
    this.#scores = new Float64Array(Math.max(0, limit));
  }

  /** a ranks below b. */
  #worse(a: number, b: number): boolean {
    const sa = this.#scores[a] as number;
    const sb = this.#scores[b] as number;
    return sa < sb || (sa === sb && (this.#docs[a] as number) > (this.#docs[b] as number));
  }

  #swap(a: number, b: number): void {
    const doc = this.#docs[a] as number;
    const score = this.#scores[a] as number;
    this.#docs[a] = this.#docs[b] as number;
    this.#scores[a] = this.#scores[b] as number;
    this.#docs[b] = doc;
    this.#scores[b] = score;
  }

  offer(doc: number, score: number): void {
    if (this.limit <= 0) return;
    if (this.#size < this.limit) {
      let i = this.#size++;
      this.#docs[i] = doc;
      this.#scores[i] = score;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!this.#worse(i, parent)) break;
        this.#swap(i, parent);
        i = parent;
      }
      return;
    }
    // The root is the worst kept: the newcomer replaces it only when it ranks above it.
    const root = this.#scores[0] as number;
    if (score < root || (score === root && doc > (this.#docs[0] as number))) return;
    this.#docs[0] = doc;
    this.#scores[0] = score;
    for (let i = 0; ; ) {
      const left = 2 * i + 1;
      const right = left + 1;
      let worst = i;
      if (left < this.#size && this.#worse(left, worst)) worst = left;
      if (right < this.#size && this.#worse(right, worst)) worst = right;
      if (worst === i) break;
      this.#swap(i, worst);
      i = worst;
    }
  }

  sorted(): LexicalHit[] {
    const hits: LexicalHit[] = [];
    for (let i = 0; i < this.#size; i++)
      hits.push({ doc: this.#docs[i] as number, score: this.#scores[i] as number });
    return hits.sort((a, b) => b.score - a.score || a.doc - b.doc);
  }
}

export class LexicalIndex {
  readonly documents: number;
  readonly #termIds = new Map<string, number>();
  readonly #terms: string[] = [];
  /** First word seen for each term: how explanations name a corrected typo. */
  readonly #words: string[] = [];
  /** Every word of the catalog -> its term: typos are corrected against words, not stems. */
  readonly #wordTerms = new Map<string, number>();
  #offsets: Uint32Array = new Uint32Array(1);
  #postingDocs: Int32Array = new Int32Array(0);
  /** Saturated BM25F term weight of each posting, idf included. */
  #postingScores: Float32Array = new Float32Array(0);
  #postingInTitle: Uint8Array = new Uint8Array(0);
  #idf: Float32Array = new Float32Array(0);
  // Set by the build steps (see build()), before the index is handed out.
  #sortedTerms: string[] = [];
  /** Deletion variant -> catalog words it comes from. */
  readonly #deletes = new Map<string, string[]>();
  // Per-query scratch, reused: scoring is synchronous, so no two queries interleave.
  #score = new Float64Array(0);
  #best = new Float64Array(0);
  #stamp = new Int32Array(0);
  /** Bit i: query term i already counted towards the document's title coverage. */
  #titleSeen = new Int32Array(0);
  #titleIdf = new Float64Array(0);
  /** Distinct terms in each document's title. */
  #titleTerms = new Uint16Array(0);
  #generation = 0;

  /** Builds at once; `LexicalIndex.build` builds in steps (see cooperative.ts). */
  constructor(
    readonly fields: FieldSpec[],
    docs: LexicalDocument[],
    readonly titleField = 0,
    /** Takes the build steps instead of running them now (see build()). */
    deferred?: (steps: Steps) => void,
  ) {
    this.documents = docs.length;
    const steps = this.#steps(docs);
    if (deferred) deferred(steps);
    else runNow(steps);
  }

  /** The index and the steps that build it: it may be used only once they have all run. */
  static build(
    fields: FieldSpec[],
    docs: LexicalDocument[],
    titleField = 0,
  ): { index: LexicalIndex; steps: Steps } {
    let steps: Steps | undefined;
    const index = new LexicalIndex(fields, docs, titleField, (build) => {
      steps = build;
    });
    return { index, steps: steps as Steps };
  }

  *#steps(docs: LexicalDocument[]): Steps {
    const titleField = this.titleField;
    this.#titleTerms = Uint16Array.from(docs, (doc) => Math.min(65535, new Set(doc.fields[titleField]).size));
    yield* this.#build(docs);
    this.#sortedTerms = [...this.#terms].sort();
    yield;
    let words = 0;
    for (const word of this.#wordTerms.keys()) {
      if (++words % 500 === 0) yield;
      if (word.length < MIN_FUZZY_LENGTH || !isLatinWord(word)) continue;
      for (const variant of deletions(word)) {
        const list = this.#deletes.get(variant);
        if (list) list.push(word);
        else this.#deletes.set(variant, [word]);
      }
    }
    this.#score = new Float64Array(docs.length);
    this.#best = new Float64Array(docs.length);
    this.#stamp = new Int32Array(docs.length).fill(-1);
    this.#titleSeen = new Int32Array(docs.length);
    this.#titleIdf = new Float64Array(docs.length);
  }

  *#build(docs: LexicalDocument[]): Steps {
    const { fields } = this;
    const totals = new Float64Array(fields.length);
    for (const doc of docs)
      for (const [f, terms] of doc.fields.entries()) totals[f] = (totals[f] as number) + terms.length;
    const averages = Array.from(totals, (total) => Math.max(1, total / Math.max(1, docs.length)));
    // term id -> [doc, pseudo term frequency, in title] triples, in doc order.
    const lists: number[][] = [];
    for (const [d, doc] of docs.entries()) {
      if (d % 100 === 99) yield;
      const tf = new Map<number, number>();
      const inTitle = new Set<number>();
      for (const [f, terms] of doc.fields.entries()) {
        const spec = fields[f] as FieldSpec;
        const norm = 1 - spec.b + (spec.b * terms.length) / (averages[f] as number);
        for (const term of terms) {
          let id = this.#termIds.get(term);
          if (id === undefined) {
            id = this.#terms.length;
            this.#termIds.set(term, id);
            this.#terms.push(term);
            this.#words.push(term);
            lists.push([]);
          }
          tf.set(id, (tf.get(id) ?? 0) + spec.weight / norm);
          if (f === this.titleField) inTitle.add(id);
        }
      }
      for (const [id, value] of tf) (lists[id] as number[]).push(d, value, inTitle.has(id) ? 1 : 0);
      for (const [word, term] of doc.words ?? []) {
        const id = this.#termIds.get(term);
        if (id === undefined || this.#wordTerms.has(word)) continue;
        this.#wordTerms.set(word, id);
        if (this.#words[id] === term) this.#words[id] = word;
      }
    }
    const n = docs.length;
    const postings = lists.reduce((sum, list) => sum + list.length / 3, 0);
    this.#offsets = new Uint32Array(lists.length + 1);
    this.#postingDocs = new Int32Array(postings);
    this.#postingScores = new Float32Array(postings);
    this.#postingInTitle = new Uint8Array(postings);
    this.#idf = new Float32Array(lists.length);
    let at = 0;
    for (const [id, list] of lists.entries()) {
      if (id % 5000 === 4999) yield;
      this.#offsets[id] = at;
      const df = list.length / 3;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      this.#idf[id] = idf;
      for (let i = 0; i < list.length; i += 3) {
        const tf = list[i + 1] as number;
        this.#postingDocs[at] = list[i] as number;
        this.#postingScores[at] = (idf * tf * (K1 + 1)) / (tf + K1);
        this.#postingInTitle[at] = list[i + 2] as number;
        at++;
      }
    }
    this.#offsets[lists.length] = at;
  }

  get vocabularySize(): number {
    return this.#terms.length;
  }

  #df(id: number): number {
    return (this.#offsets[id + 1] as number) - (this.#offsets[id] as number);
  }

  /**
   * The catalog terms a query term is read as: itself; else the terms of catalog words one edit from
   * the word typed; else (when none) the longer terms it is the start of.
   */
  expand(term: string, word = term): { id: number; weight: number }[] {
    const exact = this.#termIds.get(term);
    if (exact !== undefined) return [{ id: exact, weight: 1 }];
    if (word.length < MIN_FUZZY_LENGTH || !isLatinWord(word)) return [];
    const found = new Set(this.#oneEditWords(word).map((w) => this.#wordTerms.get(w) as number));
    const byDf = (ids: Iterable<number>) =>
      [...ids].sort((a, b) => this.#df(b) - this.#df(a) || a - b).slice(0, MAX_EXPANSIONS);
    if (found.size > 0) return byDf(found).map((id) => ({ id, weight: TYPO_WEIGHT }));
    if (term.length < MIN_FUZZY_LENGTH) return [];
    const prefixed: number[] = [];
    let lo = 0;
    let hi = this.#sortedTerms.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#sortedTerms[mid] as string) < term) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.#sortedTerms.length && prefixed.length < 50; i++) {
      const candidate = this.#sortedTerms[i] as string;
      if (!candidate.startsWith(term)) break;
      prefixed.push(this.#termIds.get(candidate) as number);
    }
    return byDf(prefixed).map((id) => ({ id, weight: PREFIX_WEIGHT }));
  }

  /** Catalog words one edit from `word` (not itself). */
  #oneEditWords(word: string): string[] {
    const near = new Set<string>(this.#deletes.get(word) ?? []);
    for (const variant of deletions(word)) {
      if (variant.length >= MIN_FUZZY_LENGTH && this.#wordTerms.has(variant)) near.add(variant);
      for (const other of this.#deletes.get(variant) ?? []) near.add(other);
    }
    // Shared deletions also pair some words two edits apart: keep the true one-edit typos.
    return [...near].filter((candidate) => candidate !== word && withinOneEdit(word, candidate));
  }

  /**
   * The catalog word a word was most likely meant as when `expand` reads it as a typo (its term is not
   * in the catalog): of the words one edit away, the one whose term most courses use (then the first in
   * order); undefined otherwise.
   */
  correction(word: string, term = word): string | undefined {
    if (this.#termIds.has(term) || this.#wordTerms.has(word)) return undefined;
    if (word.length < MIN_FUZZY_LENGTH || !isLatinWord(word)) return undefined;
    let best: string | undefined;
    let bestDf = -1;
    for (const candidate of this.#oneEditWords(word).sort()) {
      const df = this.#df(this.#wordTerms.get(candidate) as number);
      if (df > bestDf) {
        best = candidate;
        bestDf = df;
      }
    }
    return best;
  }

  search(query: LexicalQuery): LexicalResult {
    // Stamps are generation x 32 + term in an Int32Array: start over long before they overflow.
    if (this.#generation >= 0x3ffffff) {
      this.#generation = 0;
      this.#stamp.fill(-1);
    }
    const generation = ++this.#generation;
    const touched: number[] = [];
    const terms = query.terms.slice(0, 31);
    const expansions = terms.map((t) => {
      if (!t.phrase) return this.expand(t.term, t.word);
      const id = this.#termIds.get(t.term);
      return id === undefined ? [] : [{ id, weight: 1 }];
    });
    let queryIdf = 0;
    for (const [i, options] of expansions.entries()) {
      if (options.length === 0) continue;
      const phrase = terms[i]?.phrase === true;
      const termIdf = Math.max(...options.map((o) => (this.#idf[o.id] as number) * o.weight));
      if (!phrase) queryIdf += termIdf;
      const stampOf = generation * 32 + i;
      const termTouched: number[] = [];
      for (const { id, weight } of options) {
        for (let p = this.#offsets[id] as number; p < (this.#offsets[id + 1] as number); p++) {
          const doc = this.#postingDocs[p] as number;
          if (query.allowed && query.allowed[doc] !== 1) continue;
          const value = (this.#postingScores[p] as number) * weight;
          if (this.#stamp[doc] !== stampOf) {
            if ((this.#stamp[doc] as number) < generation * 32) {
              this.#score[doc] = 0;
              this.#titleSeen[doc] = 0;
              this.#titleIdf[doc] = 0;
              touched.push(doc);
            }
            this.#stamp[doc] = stampOf;
            this.#best[doc] = value;
            termTouched.push(doc);
          } else if (value > (this.#best[doc] as number)) this.#best[doc] = value;
          if (!phrase && this.#postingInTitle[p] === 1 && !((this.#titleSeen[doc] as number) & (1 << i))) {
            this.#titleSeen[doc] = (this.#titleSeen[doc] as number) | (1 << i);
            this.#titleIdf[doc] = (this.#titleIdf[doc] as number) + termIdf;
          }
        }
      }
      for (const doc of termTouched)
        this.#score[doc] = (this.#score[doc] as number) + (this.#best[doc] as number);
    }
    const best = new TopHits(query.limit);
    for (const doc of touched) {
      const coverage = queryIdf > 0 ? (this.#titleIdf[doc] as number) / queryIdf : 0;
      const precision =
        popcount(this.#titleSeen[doc] as number) / Math.max(1, this.#titleTerms[doc] as number);
      const boost = TITLE_COVERAGE_BOOST * coverage * coverage * (0.5 + 0.5 * Math.min(1, precision));
      best.offer(doc, (this.#score[doc] as number) * (1 + boost));
    }
    const title = this.fields[this.titleField]?.weight ?? 1;
    const ceiling = queryIdf * ((title * (K1 + 1)) / (title + K1)) * (1 + TITLE_COVERAGE_BOOST);
    return { hits: best.sorted(), ceiling };
  }

  /**
   * The question's words found in a document: the user's own word for exact matches, the catalog's
   * word for a typo or prefix it was read as.
   */
  matchedWords(doc: number, terms: LexicalQuery["terms"]): string[] {
    const words: string[] = [];
    for (const { term, word, phrase } of terms.slice(0, 31)) {
      if (phrase) continue;
      const hit = this.expand(term, word).find((o) => this.#contains(o.id, doc));
      if (hit) words.push(hit.weight === 1 ? word : (this.#words[hit.id] as string));
    }
    return words;
  }

  #contains(id: number, doc: number): boolean {
    let lo = this.#offsets[id] as number;
    let hi = this.#offsets[id + 1] as number;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.#postingDocs[mid] as number;
      if (at === doc) return true;
      if (at < doc) lo = mid + 1;
      else hi = mid;
    }
    return false;
  }
}
