// Client of the vector sidecar: pooled keep-alive HTTP (undici) with a timeout, behind a small interface.
import { Pool } from "undici";
import type { ReadinessCheck } from "../context.js";

export interface VectorQuery {
  /** Sent as base64 float32: a 1536-number JSON array cost the api ~30 KB of string per search. */
  vector?: Float32Array;
  text?: string;
  /** With `text`: also return the vector the sidecar embedded (`embedded`). */
  returnVector?: boolean;
  k: number;
  /** Allowed course ids; sent in the compact base64 form when long. */
  ids?: number[];
  /** Search the allowed ids the index knows rather than be refused for the others (`index.unknownIds` counts them). */
  skipUnknownIds?: boolean;
}

export interface VectorAnswer {
  results: { id: number; score: number }[];
  plan: { strategy: string; nprobe: number; scanned: number; fellBack: boolean; ms: number };
  index: { version: string; catalogVersion: number; unknownIds?: number };
  embedded?: { vectorBase64: string; fingerprint: string; ms: number };
}

export interface EmbedAnswer {
  model: string;
  /** Identity of the index's embedder (model, dims, IDF table): part of embedding cache keys. */
  fingerprint: string;
  vectors: Float32Array[];
}

export interface VectorSearch {
  search(query: VectorQuery, signal?: AbortSignal): Promise<VectorAnswer>;
  /** Embeds texts with the live index's own (local) embedder. */
  embed(texts: string[], signal?: AbortSignal): Promise<EmbedAnswer>;
  /** Not ok when the sidecar is down, has no index, or its index is older than `catalogVersion`. */
  ready(timeoutMs?: number, catalogVersion?: number): Promise<ReadinessCheck>;
  close(): Promise<void>;
}

export function decodeVector(base64: string): Float32Array {
  const bytes = Buffer.from(base64, "base64");
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export function encodeVector(vector: Float32Array): string {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString("base64");
}

export class VectorSidecarError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The sidecar's problem code when it answered one (e.g. no_index). */
    readonly code?: string,
  ) {
    super(message);
  }
}

function problemCode(text: string): string | undefined {
  try {
    const code = (JSON.parse(text) as { code?: unknown }).code;
    return typeof code === "string" ? code : undefined;
  } catch {
    return undefined;
  }
}

export class HttpVectorClient implements VectorSearch {
  readonly #pool: Pool;

  constructor(
    url: string,
    private readonly timeoutMs: number,
  ) {
    this.#pool = new Pool(url, {
      connections: 32,
      keepAliveTimeout: 30_000,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connectTimeout: Math.min(timeoutMs, 2_000),
    });
  }

  async search(query: VectorQuery, signal?: AbortSignal): Promise<VectorAnswer> {
    const { ids, vector, ...rest } = query;
    // Above ~100 ids the base64 form is smaller and ~20x cheaper for the sidecar to parse.
    const body = {
      ...rest,
      ...(vector && { vectorBase64: encodeVector(vector) }),
      ...(ids &&
        (ids.length > 100
          ? { idsBase64: Buffer.from(Int32Array.from(ids).buffer).toString("base64") }
          : { ids })),
    };
    return (await this.#post("/v1/search", body, signal)) as VectorAnswer;
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<EmbedAnswer> {
    const answer = (await this.#post("/v1/embed", { texts }, signal)) as {
      model: string;
      fingerprint: string;
      vectors: string[];
    };
    return { ...answer, vectors: answer.vectors.map(decodeVector) };
  }

  async #post(path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    try {
      const response = await this.#pool.request({
        method: "POST",
        path,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      const text = await response.body.text();
      if (response.statusCode !== 200)
        throw new VectorSidecarError(
          response.statusCode,
          `vector sidecar ${response.statusCode}: ${text}`,
          problemCode(text),
        );
      return JSON.parse(text);
    } catch (error) {
      // Our own deadline passing is the sidecar being slow (503 + Retry-After), not an internal error;
      // a caller's abort stays an abort.
      if (timeout.aborted && !signal?.aborted)
        throw new VectorSidecarError(504, `vector sidecar did not answer within ${this.timeoutMs} ms`);
      if (signal?.aborted || error instanceof VectorSidecarError) throw error;
      // Refused, reset, dropped: the sidecar is unreachable; said here, where we know it was the sidecar.
      throw new VectorSidecarError(503, `vector sidecar unreachable: ${(error as Error).message}`);
    }
  }

  async ready(timeoutMs = 1_000, catalogVersion?: number): Promise<ReadinessCheck> {
    const started = performance.now();
    try {
      const response = await this.#pool.request({
        method: "GET",
        path: "/ready",
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = (await response.body.json()) as {
        index?: string | null;
        catalogVersion?: number | null;
        follow?: { state: string; reason?: string } | null;
      };
      const latencyMs = Math.round((performance.now() - started) * 100) / 100;
      const building = body.follow?.state === "building" ? "; a new index is being built" : "";
      if (response.statusCode !== 200)
        return {
          ok: false,
          latencyMs,
          detail: `sidecar has no index loaded${body.follow?.reason ? ` (${body.follow.reason})` : ""}${building}`,
        };
      if (
        catalogVersion !== undefined &&
        typeof body.catalogVersion === "number" &&
        body.catalogVersion < catalogVersion
      )
        return {
          ok: false,
          latencyMs,
          detail: `index ${body.index} is for catalog v${body.catalogVersion}, the catalog is v${catalogVersion}: answers rank the newer courses lexically${building}`,
        };
      return { ok: true, latencyMs, detail: `index ${body.index}` };
    } catch (error) {
      return { ok: false, detail: `unreachable: ${(error as Error).message}` };
    }
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}
