// Local hashed TF-IDF embedder: shape, determinism, similarity in English and Japanese, and the IDF table.
import { describe, expect, it } from "vitest";
import { createEmbedder } from "./embedder.js";
import { type IdfTable, LOCAL_EMBEDDING_MODEL, LocalEmbedder } from "./local.js";
import { OpenAIEmbedder } from "./openai.js";
import { cosine } from "./vector.js";

const norm = (vector: Float32Array) => Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));

const TOPICS = [
  "quantum chemistry",
  "medieval history",
  "linear algebra",
  "organic farming",
  "jazz improvisation",
  "urban planning",
  "marine biology",
  "corporate finance",
  "film theory",
  "robot kinematics",
  "tax law",
  "sports medicine",
];
// "course" and "on" appear in every document, each topic word in one or two.
const CORPUS = TOPICS.flatMap((topic, i) => [
  `course on ${topic}`,
  `course on ${topic} and ${TOPICS[(i + 1) % TOPICS.length]}`,
]);

describe("LocalEmbedder", () => {
  it("returns unit vectors of the configured dims, deterministically", async () => {
    const text = "Introduction to data structures: lists, trees and hash tables. データ構造の基礎。";
    for (const dims of [64, 1536]) {
      const embedder = new LocalEmbedder({ dims });
      const [first, second] = await embedder.embed([text, text]);
      expect(first).toBeInstanceOf(Float32Array);
      expect(first?.length).toBe(dims);
      expect(norm(first as Float32Array)).toBeCloseTo(1, 5);
      expect(second).toEqual(first);
      expect(new LocalEmbedder({ dims }).embedOne(text)).toEqual(first);
    }
    expect(new LocalEmbedder().dims).toBe(1536);
    expect(new LocalEmbedder().model).toBe(LOCAL_EMBEDDING_MODEL);
  });

  it("keeps the order of its inputs and matches embedOne", async () => {
    const embedder = new LocalEmbedder({ dims: 256 });
    const texts = Array.from({ length: 600 }, (_, i) => `course number ${i}`);
    const vectors = await embedder.embed(texts);
    expect(vectors).toHaveLength(600);
    for (const i of [0, 255, 256, 599]) expect(vectors[i]).toEqual(embedder.embedOne(texts[i] as string));
    expect(await embedder.embed([])).toEqual([]);
  });

  it("rejects an aborted request", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(new LocalEmbedder().embed(["x"], { signal: controller.signal })).rejects.toThrow();
  });

  it("gives an all-zero vector, not NaN, for text with nothing to embed", () => {
    const embedder = new LocalEmbedder({ dims: 32, idf: LocalEmbedder.learnIdf(CORPUS) });
    for (const text of ["", "   ", "!?.,—「」"]) {
      const vector = embedder.embedOne(text);
      expect(vector.every((value) => value === 0)).toBe(true);
      expect(cosine(vector, embedder.embedOne("course"))).toBe(0);
    }
  });

  it("scores similar English texts above unrelated ones", () => {
    const embedder = new LocalEmbedder();
    const [query, similar, unrelated] = [
      "Introduction to machine learning",
      "Machine learning fundamentals",
      "History of Japanese literature",
    ].map((text) => embedder.embedOne(text)) as [Float32Array, Float32Array, Float32Array];
    expect(cosine(query, similar)).toBeGreaterThan(0.3);
    expect(cosine(query, similar)).toBeGreaterThan(cosine(query, unrelated) + 0.2);
    // Character trigrams reward a shared stem.
    expect(cosine(embedder.embedOne("learning"), embedder.embedOne("learn"))).toBeGreaterThan(
      cosine(embedder.embedOne("learning"), embedder.embedOne("literature")),
    );
  });

  it("scores similar Japanese texts above unrelated ones", () => {
    const embedder = new LocalEmbedder();
    const [query, similar, unrelated] = ["機械学習入門", "機械学習の基礎", "日本文学史"].map((text) =>
      embedder.embedOne(text),
    ) as [Float32Array, Float32Array, Float32Array];
    expect(cosine(query, similar)).toBeGreaterThan(0.3);
    expect(cosine(query, similar)).toBeGreaterThan(cosine(query, unrelated) + 0.2);
    // Half-width katakana and the long-vowel mark normalise to the same features.
    expect(cosine(embedder.embedOne("ﾃﾞｰﾀﾍﾞｰｽ"), embedder.embedOne("データベース"))).toBeCloseTo(1, 5);
  });

  it("down-weights a word that appears in every document", () => {
    const document = "course on quantum chemistry";
    const sharesCommonWord = "course policy";
    const sharesRareWord = "quantum policy";
    const plain = new LocalEmbedder();
    const weighted = new LocalEmbedder({ idf: LocalEmbedder.learnIdf(CORPUS) });
    const score = (embedder: LocalEmbedder, query: string) =>
      cosine(embedder.embedOne(query), embedder.embedOne(document));
    expect(score(weighted, sharesRareWord)).toBeGreaterThan(2 * score(weighted, sharesCommonWord));
    // The IDF, not word length, makes the difference: without it the two queries score about the same.
    expect(score(plain, sharesRareWord) / score(plain, sharesCommonWord)).toBeLessThan(1.5);
  });

  it("learns a pruned IDF table that round-trips through JSON", () => {
    const table = LocalEmbedder.learnIdf(CORPUS);
    expect(table.documents).toBe(CORPUS.length);
    expect(table.features).toBeGreaterThan(0);
    const everything = LocalEmbedder.learnIdf(CORPUS, { minDf: 1 });
    expect(everything.features).toBeGreaterThan(table.features);

    const parsed = JSON.parse(JSON.stringify(table)) as IdfTable;
    expect(parsed).toEqual(table);
    const original = new LocalEmbedder({ dims: 128, idf: table });
    const restored = new LocalEmbedder({ dims: 128, idf: parsed });
    for (const text of [...CORPUS, "an unseen query about course planning"]) {
      expect(restored.embedOne(text)).toEqual(original.embedOne(text));
    }
    expect(restored.fingerprint()).toBe(original.fingerprint());
  });

  it("fingerprints model, dims and IDF table", () => {
    const idf = LocalEmbedder.learnIdf(CORPUS);
    const fingerprints = new Set([
      new LocalEmbedder().fingerprint(),
      new LocalEmbedder({ dims: 768 }).fingerprint(),
      new LocalEmbedder({ idf }).fingerprint(),
      new LocalEmbedder({ idf: LocalEmbedder.learnIdf(CORPUS.slice(1)) }).fingerprint(),
    ]);
    expect(fingerprints.size).toBe(4);
    expect(new LocalEmbedder().fingerprint()).toBe(`${LOCAL_EMBEDDING_MODEL}:1536:idf-none`);
  });

  it("rejects a corrupt IDF table", () => {
    const table = LocalEmbedder.learnIdf(CORPUS);
    expect(() => new LocalEmbedder({ idf: { ...table, features: table.features + 1 } })).toThrow(
      /Invalid IDF/,
    );
    expect(() => new LocalEmbedder({ idf: { ...table, data: `${table.data}AAAA` } })).toThrow(/Invalid IDF/);
    expect(() => new LocalEmbedder({ idf: { ...table, format: "other" } as unknown as IdfTable })).toThrow(
      /Invalid IDF/,
    );
  });
});

describe("createEmbedder", () => {
  it("builds the provider asked for", () => {
    const local = createEmbedder({ provider: "local", dims: 256 });
    expect(local).toBeInstanceOf(LocalEmbedder);
    expect(local.dims).toBe(256);
    const openai = createEmbedder({
      provider: "openai",
      dims: 1536,
      openai: { apiKey: "sk-test", model: "text-embedding-3-small" },
    });
    expect(openai).toBeInstanceOf(OpenAIEmbedder);
    expect(openai.model).toBe("text-embedding-3-small");
    expect(() => createEmbedder({ provider: "openai", dims: 1536 })).toThrow(/apiKey/);
  });
});
