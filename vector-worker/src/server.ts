// The sidecar's HTTP surface: search, reload, health, readiness, metrics and stats. The main thread
// only parses, validates and hands tasks to the pool; it never computes a distance.
import type { Embedder } from "@kogi/shared/embedding/embedder";
import type { Logger } from "@kogi/shared/logger";
import { ProblemError, problemResponse, toProblem, validationProblem } from "@kogi/shared/problem";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Piscina } from "piscina";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { embedRequestSchema, type SearchResponse, searchRequestSchema } from "./contracts.js";
import type { FollowerStatus } from "./index-follower.js";
import { IndexMismatchError, type IndexStore } from "./index-store.js";
import type { SearchOutput, SearchTask } from "./worker.js";

export interface SidecarDeps {
  store: IndexStore;
  pool: Piscina;
  logger: Logger;
  /** Embeds `text` queries in the main thread when the provider is remote (OpenAI); local text is embedded by the worker. */
  remoteEmbedder?: Embedder;
  exactThreshold: number;
  accepting: () => boolean;
  /** Whether the index fits the catalog, and the rebuild under way (absent: the index is managed by hand). */
  follower?: { status: FollowerStatus };
}

function createMetrics(pool: Piscina) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "kogi_vector_", eventLoopMonitoringPrecision: 10 });
  return {
    registry,
    searches: new Histogram({
      name: "kogi_vector_search_duration_seconds",
      help: "Search latency by strategy (queue wait included)",
      labelNames: ["strategy"] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers: [registry],
    }),
    rejected: new Counter({
      name: "kogi_vector_rejected_total",
      help: "Searches refused because the queue was full",
      registers: [registry],
    }),
    queue: new Gauge({
      name: "kogi_vector_queue_size",
      help: "Searches waiting for a thread",
      registers: [registry],
      collect() {
        this.set(pool.queueSize);
      },
    }),
  };
}

function liveIndex(store: IndexStore) {
  const index = store.current;
  if (!index)
    throw new ProblemError(503, "no_index", "No vector index is loaded yet", undefined, {
      "Retry-After": "5",
    });
  return index;
}

function decodeIds(request: { ids?: number[]; idsBase64?: string }): Int32Array | undefined {
  if (request.ids) return Int32Array.from(request.ids);
  if (request.idsBase64 === undefined) return undefined;
  const bytes = Buffer.from(request.idsBase64, "base64");
  if (bytes.length % 4 !== 0)
    throw new ProblemError(400, "validation_failed", "Invalid body: idsBase64", [
      { field: "idsBase64", message: "must be base64 of little-endian int32 values" },
    ]);
  return new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

const encodeVector = (v: Float32Array) =>
  Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");

function decodeVector(request: { vector?: number[]; vectorBase64?: string }): Float32Array | undefined {
  if (request.vector) return Float32Array.from(request.vector);
  if (request.vectorBase64 === undefined) return undefined;
  const bytes = Buffer.from(request.vectorBase64, "base64");
  if (bytes.length % 4 !== 0)
    throw new ProblemError(400, "validation_failed", "Invalid body: vectorBase64", [
      { field: "vectorBase64", message: "must be base64 of little-endian float32 values" },
    ]);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

export function createSidecarApp(deps: SidecarDeps) {
  const { store, pool, logger } = deps;
  const metrics = createMetrics(pool);
  const app = new Hono();
  app.use("/v1/*", bodyLimit({ maxSize: 4 * 1024 * 1024 }));

  app.post("/v1/search", async (c) => {
    const started = performance.now();
    const index = liveIndex(store);
    const parsed = searchRequestSchema.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) throw validationProblem(parsed.error, "body");
    const request = parsed.data;
    const { dims } = index.manifest;
    const given = decodeVector(request);
    if (given) {
      const field = request.vector ? "vector" : "vectorBase64";
      if (given.length !== dims)
        throw new ProblemError(400, "validation_failed", `Invalid body: ${field}`, [
          { field, message: `must have ${dims} numbers, got ${given.length}` },
        ]);
      if (!given.every(Number.isFinite))
        throw new ProblemError(400, "validation_failed", `Invalid body: ${field}`, [
          { field, message: "must hold finite numbers" },
        ]);
    }
    let allowed = decodeIds(request);
    let unknownIds = 0;
    if (allowed) {
      const known = (id: number) => id > 0 && id < index.rowOfId.length && index.rowOfId[id] !== -1;
      const unknown = allowed.filter((id) => !known(id));
      // An index older than the catalog lacks the newest courses: the caller may search the ones it has.
      if (unknown.length && request.skipUnknownIds) {
        unknownIds = unknown.length;
        allowed = allowed.filter(known);
      } else if (unknown.length)
        throw new ProblemError(400, "validation_failed", "Invalid body: ids", [
          {
            field: request.ids ? "ids" : "idsBase64",
            message: `unknown ids: ${[...unknown.slice(0, 10)].join(", ")}${unknown.length > 10 ? ", ..." : ""}`,
          },
        ]);
    }
    let vector = given;
    let remoteEmbedMs: number | undefined;
    if (!vector && deps.remoteEmbedder) {
      const embedStarted = performance.now();
      [vector] = await deps.remoteEmbedder.embed([request.text ?? ""]);
      remoteEmbedMs = performance.now() - embedStarted;
    }
    if (vector) {
      let norm = 0;
      for (const v of vector) norm += v * v;
      norm = Math.sqrt(norm);
      if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] as number) / norm;
    }
    // Encoded before the vector's buffer is transferred to the search thread.
    const remoteEmbedded =
      vector && remoteEmbedMs !== undefined
        ? { vectorBase64: encodeVector(vector), ms: remoteEmbedMs }
        : undefined;
    const task: SearchTask = {
      index: index.shared,
      vector,
      text: vector ? undefined : request.text,
      k: request.k,
      allowed,
      exactThreshold: deps.exactThreshold,
    };
    let output: SearchOutput;
    try {
      const transfer = [vector?.buffer, allowed?.buffer].filter(
        (b): b is ArrayBuffer => b instanceof ArrayBuffer,
      );
      output = (await pool.run(task, { transferList: transfer })) as SearchOutput;
    } catch (error) {
      const message = (error as Error).message ?? "";
      if (/queue is at limit/i.test(message)) {
        metrics.rejected.inc();
        throw new ProblemError(
          503,
          "overloaded",
          "All search threads are busy and the queue is full",
          undefined,
          {
            "Retry-After": "1",
          },
        );
      }
      logger.error({ err: message }, "search thread failed");
      throw new ProblemError(
        503,
        "search_failed",
        "The search thread failed; it has been replaced, retry",
        undefined,
        {
          "Retry-After": "1",
        },
      );
    }
    const ms = performance.now() - started;
    metrics.searches.observe({ strategy: output.strategy }, ms / 1000);
    const body: SearchResponse = {
      results: Array.from(output.ids, (id, i) => ({ id, score: output.scores[i] as number })),
      plan: {
        strategy: output.strategy,
        nprobe: output.nprobe,
        scanned: output.scanned,
        fellBack: output.fellBack,
        ms,
      },
      index: { version: index.manifest.version, catalogVersion: index.manifest.catalogVersion, unknownIds },
    };
    const embedded = output.embedded
      ? { vectorBase64: encodeVector(output.embedded.vector), ms: output.embedded.ms }
      : remoteEmbedded;
    if (request.returnVector && embedded)
      body.embedded = { ...embedded, fingerprint: index.manifest.embedderFingerprint };
    return c.json(body);
  });

  // Embeds query texts with the live index's own embedder (its IDF table), so callers that cache
  // embeddings get vectors comparable with the index. Runs on a search thread like any other work.
  app.post("/v1/embed", async (c) => {
    const index = liveIndex(store);
    const parsed = embedRequestSchema.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) throw validationProblem(parsed.error, "body");
    const vectors = deps.remoteEmbedder
      ? await deps.remoteEmbedder.embed(parsed.data.texts)
      : ((await pool.run({ index: index.shared, embedOnly: parsed.data.texts })) as Float32Array[]);
    return c.json({
      model: index.manifest.model,
      fingerprint: index.manifest.embedderFingerprint,
      dims: index.manifest.dims,
      vectors: vectors.map(encodeVector),
    });
  });

  app.post("/v1/admin/reload", async (c) => {
    const result = await store.reload();
    logger.info(result, "index reload");
    return c.json({ ...result, manifest: store.current?.manifest });
  });

  app.get("/health", (c) => c.json({ status: "ok" }));
  // Ready with any loaded index, even one older than the catalog (searches still answer); `follow`
  // says whether it fits and what is being done about it.
  app.get("/ready", (c) => {
    const ready = deps.accepting() && store.current !== undefined;
    return c.json(
      {
        status: ready ? "ready" : "unavailable",
        index: store.current?.manifest.version ?? null,
        catalogVersion: store.current?.manifest.catalogVersion ?? null,
        follow: deps.follower?.status ?? null,
      },
      ready ? 200 : 503,
    );
  });
  app.get("/metrics", async (c) =>
    c.body(await metrics.registry.metrics(), 200, { "Content-Type": metrics.registry.contentType }),
  );
  app.get("/stats", (c) => {
    const current = store.current;
    return c.json({
      threads: pool.threads.length,
      queueSize: pool.queueSize,
      completed: pool.completed,
      utilization: pool.utilization,
      index: current?.manifest ?? null,
      follow: deps.follower?.status ?? null,
      /** Courses with identical vectors share one row (see dedupe.ts). */
      distinctVectors: current?.shared.rows ?? 0,
      vectorBytes: current ? current.shared.rows * current.shared.dims * 4 : 0,
      memory: process.memoryUsage(),
    });
  });

  app.notFound((c) =>
    problemResponse(
      c,
      new ProblemError(404, "route_not_found", `No route for ${c.req.method} ${c.req.path}`),
    ),
  );
  app.onError((error, c) => {
    const problem = toProblem(error);
    if (problem) return problemResponse(c, problem);
    if (error instanceof IndexMismatchError || (error as NodeJS.ErrnoException).code === "ENOENT")
      return problemResponse(c, new ProblemError(409, "index_refused", error.message));
    logger.error({ err: error }, "unhandled error");
    return problemResponse(c, new ProblemError(500, "internal_error", "Something went wrong on our side"));
  });
  return app;
}
