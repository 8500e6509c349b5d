// The embedder the sidecar and the index build use, chosen by config (local offline default, or OpenAI).
import { type Config, embeddingsProvider } from "@kogi/shared/config";
import { LOCAL_EMBEDDING_MODEL, LocalEmbedder } from "@kogi/shared/embedding/local";
import { OpenAIEmbedder } from "@kogi/shared/embedding/openai";
import type { ExpectedEmbedder } from "./index-store.js";

export function expectedEmbedder(config: Config): ExpectedEmbedder {
  const provider = embeddingsProvider(config);
  return {
    provider,
    model: provider === "openai" ? config.OPENAI_EMBEDDING_MODEL : LOCAL_EMBEDDING_MODEL,
    dims: config.EMBEDDING_DIMS,
  };
}

export function openAIEmbedder(config: Config): OpenAIEmbedder {
  if (!config.OPENAI_API_KEY) throw new Error("EMBEDDINGS_PROVIDER=openai needs OPENAI_API_KEY");
  return new OpenAIEmbedder({
    apiKey: config.OPENAI_API_KEY,
    baseURL: config.OPENAI_BASE_URL,
    model: config.OPENAI_EMBEDDING_MODEL,
    dims: config.EMBEDDING_DIMS,
  });
}

/** For the index build: the local embedder learns its IDF from the catalog being indexed. */
export function embedderForBuild(config: Config) {
  return (corpus: string[]) => {
    if (embeddingsProvider(config) === "openai") return { embedder: openAIEmbedder(config) };
    const idf = LocalEmbedder.learnIdf(corpus);
    return { embedder: new LocalEmbedder({ dims: config.EMBEDDING_DIMS, idf }), idf };
  };
}
