// The embedding contract shared by the vector index build and the api, and the factory that picks a provider.
import type { IdfTable } from "./local.js";
import { LocalEmbedder } from "./local.js";
import { OpenAIEmbedder } from "./openai.js";

export interface Embedder {
  readonly provider: "local" | "openai";
  /** e.g. "kogi-hash-tfidf-v1" or "text-embedding-3-small". */
  readonly model: string;
  readonly dims: number;
  /** One L2-normalised vector per input, same order (all-zero for a text with nothing to embed). */
  embed(texts: string[], options?: { signal?: AbortSignal }): Promise<Float32Array[]>;
}

export interface OpenAIOptions {
  apiKey: string;
  /** Any OpenAI-compatible endpoint, e.g. "https://api.openai.com/v1". */
  baseURL?: string;
  /** Defaults to "text-embedding-3-small". */
  model?: string;
  /** Inputs per request; defaults to 96. */
  batchSize?: number;
  timeoutMs?: number;
  /** The SDK's own retries; defaults to 0 because retrying is the caller's policy. */
  maxRetries?: number;
}

export interface EmbedderOptions {
  provider: "local" | "openai";
  dims: number;
  /** Required when provider is "openai". */
  openai?: OpenAIOptions;
  /** Local provider only: document frequencies learned by LocalEmbedder.learnIdf. */
  idf?: IdfTable;
}

export function createEmbedder(options: EmbedderOptions): Embedder {
  switch (options.provider) {
    case "local":
      return new LocalEmbedder({ dims: options.dims, idf: options.idf });
    case "openai":
      if (!options.openai) throw new Error('createEmbedder: provider "openai" needs openai options (apiKey)');
      return new OpenAIEmbedder({ ...options.openai, dims: options.dims });
    default:
      throw new Error(
        `createEmbedder: unknown provider ${JSON.stringify((options as { provider: unknown }).provider)}`,
      );
  }
}
