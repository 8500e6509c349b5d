// Offline embedder: signed feature hashing of word and character n-grams with TF-IDF weights, so the vector
// index can be built and queried with no API key, for English and Japanese alike.
import { setImmediate } from "node:timers/promises";
import type { Embedder } from "./embedder.js";
import { FeatureTable } from "./feature-table.js";
import { l2Normalise } from "./vector.js";

/** Bump the version whenever features, hashing or weights change: old indexes are then incompatible. */
export const LOCAL_EMBEDDING_MODEL = "kogi-hash-tfidf-v1";
export const LOCAL_DEFAULT_DIMS = 1536;
const IDF_FORMAT = "kogi-idf-v1";

/**
 * Document frequencies learned from a corpus, keyed by 32-bit feature hash. JSON-serialisable; the pairs are
 * packed (hashes ascending, delta + LEB128 varints, base64) because a plain object of 10^5–10^6 numeric keys
 * costs 3–5x the bytes and far longer to parse.
 */
export interface IdfTable {
  format: typeof IDF_FORMAT;
  /** N: how many documents the table was learned from. */
  documents: number;
  /** Features with a lower document frequency were pruned and get the idf of df = 1. */
  minDf: number;
  /** Number of (hash, df) pairs in `data`. */
  features: number;
  data: string;
}

export interface LocalEmbedderOptions {
  /** Defaults to 1536, the size of text-embedding-3-small, so either provider fits the same index shape. */
  dims?: number;
  /** Without a table every feature has idf 1. */
  idf?: IdfTable;
}

// Feature families. Each family hashes from its own seed, so "ab" the word and "ab" the CJK bigram differ.
const WORD = 0;
const WORD_BIGRAM = 1;
const TRIGRAM = 2;
const CJK_UNIGRAM = 3;
const CJK_BIGRAM = 4;
// A Latin word yields about one trigram per letter; scaling trigrams down keeps whole-word matches dominant
// while still rewarding shared stems (learn/learning). Lone kanji are ambiguous, so CJK bigrams (closest to
// words) count most there.
const FAMILY_WEIGHT = [1, 0.8, 0.35, 0.5, 1] as const;

const BOUNDARY_START = 0x02;
const BOUNDARY_END = 0x03;
// A match is a run of letters/digits that are either all CJK (group 1) or all not: CJK is written without
// spaces, so it is cut out of mixed words such as "python入門". Script_Extensions (not Script) keeps the
// long-vowel mark ー inside katakana runs; it also covers 「」 and 、, hence the letter/digit lookahead.
const SEGMENT =
  /((?:(?=[\p{L}\p{N}])[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}])+)|(?:(?![\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}])[\p{L}\p{N}])+/gu;

// FNV-1a over code points, finished with murmur3's fmix32. FNV costs two instructions per character and can
// be fed incrementally, so n-grams are hashed without building substrings; but its multiply only carries
// bits upwards, so the finaliser spreads them before we take the bucket (low bits) and sign (top bit).
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function feed(hash: number, unit: number): number {
  return Math.imul(hash ^ unit, FNV_PRIME);
}

function finish(hash: number): number {
  let h = hash;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const SEEDS = [WORD, WORD_BIGRAM, TRIGRAM, CJK_UNIGRAM, CJK_BIGRAM].map((family) =>
  feed(FNV_OFFSET, 0x110000 + family),
);
const seed = (family: number) => SEEDS[family] as number;

/** Adds every feature of `text` to `counts`: hash -> term frequency, tagged with the feature family. */
function countFeatures(text: string, counts: FeatureTable): void {
  const normalised = text.normalize("NFKC").toLowerCase();
  // Word bigrams chain consecutive Latin words; a CJK run breaks the chain.
  let previousWord = -1;
  for (const match of normalised.matchAll(SEGMENT)) {
    const segment = match[0];
    if (match[1] !== undefined) {
      previousWord = -1;
      let previous = -1;
      for (let i = 0; i < segment.length; ) {
        const cp = segment.codePointAt(i) as number;
        i += cp > 0xffff ? 2 : 1;
        counts.add(finish(feed(seed(CJK_UNIGRAM), cp)), 1, CJK_UNIGRAM);
        if (previous >= 0) counts.add(finish(feed(feed(seed(CJK_BIGRAM), previous), cp)), 1, CJK_BIGRAM);
        previous = cp;
      }
      continue;
    }
    // One pass yields the word hash and the trigrams of BOUNDARY_START + word + BOUNDARY_END.
    let word = seed(WORD);
    let a = BOUNDARY_START;
    let b = -1;
    for (let i = 0; i < segment.length; ) {
      const cp = segment.codePointAt(i) as number;
      i += cp > 0xffff ? 2 : 1;
      word = feed(word, cp);
      if (b >= 0) {
        counts.add(finish(feed(feed(feed(seed(TRIGRAM), a), b), cp)), 1, TRIGRAM);
        a = b;
      }
      b = cp;
    }
    counts.add(finish(feed(feed(feed(seed(TRIGRAM), a), b), BOUNDARY_END)), 1, TRIGRAM);
    const wordHash = finish(word);
    counts.add(wordHash, 1, WORD);
    if (previousWord >= 0) {
      counts.add(finish(feed(feed(seed(WORD_BIGRAM), previousWord), wordHash)), 1, WORD_BIGRAM);
    }
    previousWord = wordHash;
  }
}

const idfOf = (documents: number, df: number) => Math.log((1 + documents) / (1 + df)) + 1;

// Texts embedded between event-loop turns in embed(), so a large batch neither starves the api nor ignores abort.
const EMBED_CHUNK = 256;

export class LocalEmbedder implements Embedder {
  readonly provider = "local" as const;
  readonly model = LOCAL_EMBEDDING_MODEL;
  readonly dims: number;
  private readonly idf: FeatureTable | undefined;
  private readonly unseenIdf: number;
  private readonly idfHash: string;
  // Reused by every embedOne call: embedding is synchronous, so no two calls can interleave.
  private readonly counts = new FeatureTable();

  constructor(options: LocalEmbedderOptions = {}) {
    const dims = options.dims ?? LOCAL_DEFAULT_DIMS;
    if (!Number.isInteger(dims) || dims < 1) {
      throw new Error("LocalEmbedder: dims must be a positive integer");
    }
    this.dims = dims;
    if (options.idf) {
      this.idf = decodeIdf(options.idf);
      // Pruned features were seen in at most minDf - 1 documents; in a document's own vector that is
      // usually exactly one, and a query-only feature scales every score of that query alike.
      this.unseenIdf = idfOf(options.idf.documents, 1);
      this.idfHash = hex(hashString(`${options.idf.documents}/${options.idf.minDf}/${options.idf.data}`));
    } else {
      this.idf = undefined;
      this.unseenIdf = 1;
      this.idfHash = "none";
    }
  }

  /** Identifies vectors that are comparable: same model version, dims and IDF table. For index manifests. */
  fingerprint(): string {
    return `${this.model}:${this.dims}:idf-${this.idfHash}`;
  }

  async embed(texts: string[], options: { signal?: AbortSignal } = {}): Promise<Float32Array[]> {
    const vectors: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += EMBED_CHUNK) {
      if (start > 0) await setImmediate();
      options.signal?.throwIfAborted();
      const end = Math.min(texts.length, start + EMBED_CHUNK);
      for (let i = start; i < end; i++) vectors.push(this.embedOne(texts[i] as string));
    }
    options.signal?.throwIfAborted();
    return vectors;
  }

  /** Synchronous single-text embedding; all-zero when the text has no letters or digits. */
  embedOne(text: string): Float32Array {
    const counts = this.counts;
    counts.clear();
    countFeatures(text, counts);
    const { dims, idf, unseenIdf } = this;
    const vector = new Float32Array(dims);
    counts.forEach((hash, tf, family) => {
      const weight =
        (FAMILY_WEIGHT[family] as number) * (1 + Math.log(tf)) * (idf ? idf.get(hash, unseenIdf) : 1);
      // Signed hashing: colliding features cancel on average instead of always adding up.
      const bucket = (hash & 0x7fffffff) % dims;
      vector[bucket] = (vector[bucket] as number) + (hash & 0x80000000 ? -weight : weight);
    });
    return l2Normalise(vector);
  }

  /**
   * Learns document frequencies from a corpus (each text one document). Features seen in fewer than `minDf`
   * documents (default 2) are left out, which removes most of the table at little cost in accuracy.
   */
  static learnIdf(texts: Iterable<string>, options: { minDf?: number } = {}): IdfTable {
    const minDf = options.minDf ?? 2;
    if (!Number.isInteger(minDf) || minDf < 1) throw new Error("learnIdf: minDf must be a positive integer");
    const df = new FeatureTable(1 << 16);
    const counts = new FeatureTable();
    const countDocument = (hash: number) => df.add(hash, 1);
    let documents = 0;
    for (const text of texts) {
      documents++;
      counts.clear();
      countFeatures(text, counts);
      counts.forEach(countDocument);
    }
    return encodeIdf(documents, minDf, df);
  }
}

function encodeIdf(documents: number, minDf: number, df: FeatureTable): IdfTable {
  const kept: number[] = [];
  df.forEach((hash, frequency) => {
    if (frequency >= minDf) kept.push(hash);
  });
  const hashes = Uint32Array.from(kept).sort();
  // Worst case 5 bytes per delta and per df.
  const bytes = new Uint8Array(hashes.length * 10);
  let length = 0;
  const write = (value: number) => {
    let rest = value;
    while (rest >= 0x80) {
      bytes[length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    bytes[length++] = rest;
  };
  let previous = 0;
  for (const hash of hashes) {
    write(hash - previous);
    write(df.get(hash, 0));
    previous = hash;
  }
  return {
    format: IDF_FORMAT,
    documents,
    minDf,
    features: hashes.length,
    data: Buffer.from(bytes.buffer, 0, length).toString("base64"),
  };
}

/** Unpacks and validates a table (it usually arrives from a JSON file) into hash -> idf. */
function decodeIdf(table: IdfTable): FeatureTable {
  const invalid = (why: string) => new Error(`Invalid IDF table: ${why}`);
  if (table === null || typeof table !== "object") throw invalid("not an object");
  if (table.format !== IDF_FORMAT)
    throw invalid(`format ${JSON.stringify(table.format)}, expected ${IDF_FORMAT}`);
  for (const key of ["documents", "minDf", "features"] as const) {
    if (!Number.isSafeInteger(table[key]) || table[key] < 0) throw invalid(`${key} must be a whole number`);
  }
  if (typeof table.data !== "string") throw invalid("data must be a base64 string");
  const bytes = Buffer.from(table.data, "base64");
  // Each pair takes at least two bytes; checked before sizing the table from an untrusted count.
  if (table.features * 2 > bytes.length) throw invalid(`data holds fewer than ${table.features} features`);
  let offset = 0;
  const read = () => {
    let value = 0;
    for (let scale = 1; ; scale *= 0x80) {
      if (offset >= bytes.length || scale > 0x80 ** 4) throw invalid("truncated or corrupt data");
      const byte = bytes[offset++] as number;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
    }
  };
  const idf = new FeatureTable(table.features);
  let hash = 0;
  for (let i = 0; i < table.features; i++) {
    const delta = read();
    hash += delta;
    const frequency = read();
    if ((i > 0 && delta === 0) || hash > 0xffffffff || frequency < 1 || frequency > table.documents) {
      throw invalid("corrupt data");
    }
    idf.add(hash, idfOf(table.documents, frequency));
  }
  if (offset !== bytes.length) throw invalid(`data holds more than ${table.features} features`);
  return idf;
}

function hashString(text: string): number {
  let hash = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) hash = feed(hash, text.charCodeAt(i));
  return finish(hash);
}

const hex = (value: number) => value.toString(16).padStart(8, "0");
