// Question text -> vector comparable with the index: the sidecar's own local embedder, or OpenAI-compatible.
import { OpenAIEmbedder } from "@kogi/shared/embedding/openai";
import { decodeVector, type VectorAnswer, type VectorQuery, type VectorSearch } from "../vector-client.js";
import type { CallGuard, CallOptions } from "./guard.js";
import { toUpstreamError } from "./openai-errors.js";

export interface QueryEmbedder {
  readonly provider: "local" | "openai";
  /** Cache identity of the vectors this embedder makes (model, dims and, for local, the IDF table). */
  identity(): Promise<string>;
  embed(text: string, options?: CallOptions): Promise<Float32Array>;
  /**
   * Embeds and searches in one call, where the embedder lives beside the index (the sidecar's own):
   * one round trip instead of two on an embedding-cache miss.
   */
  embedAndSearch?(
    text: string,
    query: Omit<VectorQuery, "vector" | "text" | "returnVector">,
    signal?: AbortSignal,
  ): Promise<{ vector: Float32Array; answer: VectorAnswer }>;
}

/** The index's own embedder, run by the sidecar, so the IDF table always matches the loaded index. */
export class SidecarQueryEmbedder implements QueryEmbedder {
  readonly provider = "local" as const;
  #fingerprint: string | undefined;

  constructor(private readonly vector: VectorSearch) {}

  /** Learned from the sidecar's answers (it changes when a new index with a new IDF table is swapped in). */
  async identity(): Promise<string> {
    if (!this.#fingerprint) await this.embed("");
    return this.#fingerprint as string;
  }

  async embed(text: string, options: CallOptions = {}): Promise<Float32Array> {
    const answer = await this.vector.embed([text], options.signal);
    this.#fingerprint = answer.fingerprint;
    return answer.vectors[0] as Float32Array;
  }

  async embedAndSearch(
    text: string,
    query: Omit<VectorQuery, "vector" | "text" | "returnVector">,
    signal?: AbortSignal,
  ): Promise<{ vector: Float32Array; answer: VectorAnswer }> {
    const answer = await this.vector.search({ ...query, text, returnVector: true }, signal);
    if (!answer.embedded) throw new Error("the vector sidecar did not return the query vector");
    this.#fingerprint = answer.embedded.fingerprint;
    return { vector: decodeVector(answer.embedded.vectorBase64), answer };
  }
}

export class OpenAIQueryEmbedder implements QueryEmbedder {
  readonly provider = "openai" as const;
  readonly #embedder: OpenAIEmbedder;

  constructor(
    options: { apiKey: string; baseURL?: string; model: string; dims: number },
    private readonly guard: CallGuard,
  ) {
    this.#embedder = new OpenAIEmbedder({ ...options, maxRetries: 0 });
  }

  async identity(): Promise<string> {
    return this.#embedder.fingerprint();
  }

  async embed(text: string, options: CallOptions = {}): Promise<Float32Array> {
    const [vector] = await this.guard.call(
      ({ signal }) =>
        this.#embedder.embed([text], { signal }).catch((error: unknown) => {
          throw toUpstreamError(error);
        }),
      { tokens: Math.ceil(text.length / 4), ...options },
    );
    return vector as Float32Array;
  }
}
