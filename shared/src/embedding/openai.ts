// Embeddings from OpenAI (or any compatible endpoint) through the official SDK, batched and unit-length.
import OpenAI from "openai";
import type { Embedder, OpenAIOptions } from "./embedder.js";
import { l2Normalise } from "./vector.js";

export const OPENAI_DEFAULT_MODEL = "text-embedding-3-small";
export const OPENAI_DEFAULT_DIMS = 1536;
// Well under the API's 2048 inputs per request, and small enough that one failed request wastes little.
const DEFAULT_BATCH_SIZE = 96;
const DEFAULT_TIMEOUT_MS = 60_000;

export interface OpenAIEmbedderOptions extends OpenAIOptions {
  /** Must equal the length of the vectors the model returns; defaults to 1536. */
  dims?: number;
}

/** The endpoint answered, but not with what was asked for; retrying the same request will not help. */
export class EmbeddingResponseError extends Error {
  override readonly name = "EmbeddingResponseError";
}

export class OpenAIEmbedder implements Embedder {
  readonly provider = "openai" as const;
  readonly model: string;
  readonly dims: number;
  private readonly batchSize: number;
  private readonly client: OpenAI;

  constructor(options: OpenAIEmbedderOptions) {
    this.model = options.model ?? OPENAI_DEFAULT_MODEL;
    this.dims = options.dims ?? OPENAI_DEFAULT_DIMS;
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(this.dims) || this.dims < 1) {
      throw new Error("OpenAIEmbedder: dims must be a positive integer");
    }
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1 || this.batchSize > 2048) {
      throw new Error("OpenAIEmbedder: batchSize must be an integer from 1 to 2048");
    }
    if (!options.apiKey) throw new Error("OpenAIEmbedder: apiKey is required");
    this.client = new OpenAI({
      apiKey: options.apiKey,
      baseURL: options.baseURL,
      timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      // Retries (with backoff, budgets and logging) are the caller's policy, not the SDK's.
      maxRetries: options.maxRetries ?? 0,
    });
  }

  /** Identifies vectors that are comparable, for index manifests. */
  fingerprint(): string {
    return `openai:${this.model}:${this.dims}`;
  }

  async embed(texts: string[], options: { signal?: AbortSignal } = {}): Promise<Float32Array[]> {
    const vectors: Float32Array[] = new Array(texts.length);
    // The API rejects empty inputs (failing the whole batch); like the local embedder they embed as zero.
    const positions: number[] = [];
    texts.forEach((text, i) => {
      if (text.trim() === "") vectors[i] = new Float32Array(this.dims);
      else positions.push(i);
    });
    for (let start = 0; start < positions.length; start += this.batchSize) {
      const batch = positions.slice(start, start + this.batchSize);
      const response = await this.client.embeddings.create(
        // Explicit "float": the SDK otherwise asks for base64, which not every compatible server implements.
        { model: this.model, input: batch.map((i) => texts[i] as string), encoding_format: "float" },
        { signal: options.signal },
      );
      const data = response.data;
      if (!Array.isArray(data) || data.length !== batch.length) {
        throw new EmbeddingResponseError(
          `${this.model} returned ${Array.isArray(data) ? data.length : "no"} embeddings for ${batch.length} inputs`,
        );
      }
      for (const item of data) {
        const position = batch[item.index];
        if (!Number.isInteger(item.index) || position === undefined || vectors[position] !== undefined) {
          throw new EmbeddingResponseError(
            `${this.model} returned an embedding with a bad index ${item.index}`,
          );
        }
        if (!Array.isArray(item.embedding) || item.embedding.length !== this.dims) {
          const got = Array.isArray(item.embedding) ? `${item.embedding.length}-dimensional` : "non-array";
          throw new EmbeddingResponseError(
            `${this.model} returned ${got} embeddings but dims is ${this.dims}; set dims to the model's size`,
          );
        }
        const vector = Float32Array.from(item.embedding);
        if (!vector.every(Number.isFinite)) {
          throw new EmbeddingResponseError(`${this.model} returned an embedding with non-finite values`);
        }
        vectors[position] = l2Normalise(vector);
      }
    }
    return vectors;
  }
}
