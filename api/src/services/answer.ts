// The answer pipeline: filters -> allowed ids, question -> rewrite -> embedding -> vector search ->
// hydrate -> calendar marks. Every stage is cached on its own and the whole answer in front; no
// database connection is held while an upstream is awaited (each query borrows one and returns it).
import {
  UpstreamAbortedError,
  UpstreamError,
  UpstreamHttpError,
  UpstreamOverloadedError,
} from "@kogi/shared/outbound/errors";
import { decodeVector, encodeVector, type VectorAnswer } from "../adapters/vector-client.js";
import type { CacheResult } from "../cache/interface.js";
import { tokenize } from "../catalog/tokenize.js";
import type { ServiceContext } from "../context.js";
import type { AnswerRequest, AnswerResponse, Stage } from "../contracts/answer.js";
import type { CourseDto, SearchRequest } from "../contracts/search.js";
import { authorizeCalendar, calendarSections, markAgainstCalendar } from "./calendars.js";
import { canonicalSearchKey } from "./search-courses.js";

export interface AnswerContext {
  authorization?: string;
  signal?: AbortSignal;
  /** Epoch ms by which upstream work must be done. */
  deadline: number;
}

type Answer = Omit<AnswerResponse, "stages">;

const jsonCodec = {
  encode: (value: unknown) => JSON.stringify(value),
  decode: (text: string) => JSON.parse(text),
};

/** Runs one stage through the cache and records its timing. */
async function stage<T>(
  stages: Stage[],
  name: Stage["name"],
  cache: {
    getOrCompute(
      key: string,
      compute: () => Promise<string>,
    ): Promise<{ value: string; result: CacheResult }>;
  },
  key: string | undefined,
  compute: () => Promise<T>,
  codec: { encode(value: T): string; decode(text: string): T } = jsonCodec as never,
): Promise<T> {
  const started = performance.now();
  if (key === undefined) {
    const value = await compute();
    stages.push({ name, ms: performance.now() - started, cached: false });
    return value;
  }
  let computed: T | undefined;
  const { value, result } = await cache.getOrCompute(key, async () => {
    computed = await compute();
    return codec.encode(computed);
  });
  stages.push({ name, ms: performance.now() - started, cached: result !== "miss" });
  return computed ?? codec.decode(value);
}

const vectorCodec = { encode: encodeVector, decode: decodeVector };
const normalise = (text: string) => text.normalize("NFKC").trim().replace(/\s+/g, " ").toLowerCase();

function why(course: CourseDto, rewritten: string): string[] {
  const own = new Set(tokenize(`${course.title} ${course.description}`));
  return [...new Set(tokenize(rewritten))].filter((t) => t.length > 2 && own.has(t)).slice(0, 8);
}

/**
 * Upstream failures a fallback may answer: an open breaker, a timed-out or failed upstream. Load
 * shedding (503 + Retry-After is the honest answer), caller aborts and bad requests are not.
 */
function fallbackWorthy(error: unknown): boolean {
  if (error instanceof UpstreamOverloadedError || error instanceof UpstreamAbortedError) return false;
  if (error instanceof UpstreamHttpError) return error.status >= 500 || error.status === 429;
  return error instanceof UpstreamError;
}

async function computeAnswer(
  services: ServiceContext,
  request: AnswerRequest,
  ctx: AnswerContext,
  stages: Stage[],
) {
  const { searchCache: cache, catalogVersion, llm } = services;
  const version = catalogVersion.current;
  const filters = request.filters as SearchRequest;
  const filterKey = canonicalSearchKey({ ...filters, sort: "relevance", limit: 20 });
  const hasFilters = Object.values(request.filters).some((v) => v !== undefined);
  const allowed = hasFilters
    ? await stage(stages, "filters", cache, `ids:v${version}:${filterKey}`, () =>
        services.catalog.matchingCourseIds(request.filters),
      )
    : undefined;
  const fallback: ("rewrite" | "embed")[] = [];
  const call = { signal: ctx.signal, deadline: ctx.deadline };

  const question = normalise(request.question);
  const rewriter = llm.rewriter;
  const rewriteKey = `rw:${rewriter.provider}:${rewriter.model}:${rewriter.promptVersion}:${question}`;
  const rewriteStarted = performance.now();
  const rewritten = await stage(
    stages,
    "rewrite",
    cache,
    rewriteKey,
    () => rewriter.rewrite(request.question, call),
    {
      encode: (s: string) => s,
      decode: (s: string) => s,
    },
  ).catch((error: unknown) => {
    if (!fallbackWorthy(error)) throw error;
    fallback.push("rewrite");
    stages.push({ name: "rewrite", ms: performance.now() - rewriteStarted, cached: false });
    services.logger.warn(
      { err: (error as Error).message },
      "rewrite upstream failed; passing the question through",
    );
    return request.question;
  });

  if (allowed && allowed.length === 0) return { courses: [], scores: [], rewritten, fallback };
  const embedder = llm.embedder;
  const embedKey = `emb:${embedder.provider}:${await embedder.identity()}:${normalise(rewritten)}`;
  const query = { k: request.k, ids: allowed };
  // An embedder beside the index embeds and searches in one call on a cache miss.
  let searched: VectorAnswer | undefined;
  const embed = async () => {
    if (!embedder.embedAndSearch) return embedder.embed(rewritten, call);
    const both = await embedder.embedAndSearch(rewritten, query, ctx.signal);
    searched = both.answer;
    return both.vector;
  };
  const vector = await stage(stages, "embed", cache, embedKey, embed, vectorCodec).catch((error: unknown) => {
    if (!fallbackWorthy(error) || embedder.provider === "local") throw error;
    fallback.push("embed");
    return undefined;
  });

  let ranked: { id: number; score: number }[];
  if (searched) {
    // One call did both: the embed stage keeps the call's time but the sidecar's search.
    const embedStage = stages.find((s) => s.name === "embed");
    if (embedStage) embedStage.ms = Math.max(0, embedStage.ms - searched.plan.ms);
    stages.push({ name: "vector", ms: searched.plan.ms, cached: false });
    ranked = searched.results;
  } else if (vector) {
    const started = performance.now();
    const answer = await services.vector.search({ vector, ...query }, ctx.signal);
    stages.push({ name: "vector", ms: performance.now() - started, cached: false });
    ranked = answer.results;
  } else {
    // Embedding upstream down: rank the allowed courses by keyword relevance of the question instead.
    const page = await services.catalog.findCoursePage({
      filters: { ...request.filters, keyword: rewritten.split(/\s+/).slice(0, 3).join(" ") },
      sort: "relevance",
      limit: request.k,
    });
    ranked = page.ids.map((id, i) => ({ id, score: 1 / (i + 1) }));
  }
  const started = performance.now();
  const courses = await services.catalog.hydrate(
    ranked.map((r) => r.id),
    request.filters,
  );
  stages.push({ name: "hydrate", ms: performance.now() - started, cached: false });
  const scores = new Map(ranked.map((r) => [r.id, r.score]));
  return { courses, scores: courses.map((c) => scores.get(c.id) ?? 0), rewritten, fallback };
}

export async function answerQuestion(services: ServiceContext, request: AnswerRequest, ctx: AnswerContext) {
  const stages: Stage[] = [];
  const calendar = request.calendarId
    ? await authorizeCalendar(services, request.calendarId, ctx.authorization)
    : undefined;
  const { rewriter, embedder } = services.llm;
  const provider = `${rewriter.provider === "openai" ? `openai/${rewriter.model}` : "passthrough"} + ${embedder.provider}`;
  const key = [
    "answer",
    `v${services.catalogVersion.current}`,
    `${rewriter.provider}/${rewriter.model}/${rewriter.promptVersion}`,
    embedder.provider,
    request.k,
    canonicalSearchKey({ ...(request.filters as SearchRequest), sort: "relevance", limit: 20 }),
    normalise(request.question),
  ].join("|");

  const started = performance.now();
  // Shed before any Redis lookup or parsing when the rewrite upstream cannot take another call: under
  // overload a refusal must cost far less than an answer (bench:answer, 1000 clients).
  if (services.searchCache.peek(key) === undefined) rewriter.refuseEarly();
  let degraded = false;
  const cached = await services.searchCache.getOrCompute(key, async () => {
    const { courses, scores, rewritten, fallback } = await computeAnswer(services, request, ctx, stages);
    degraded = fallback.length > 0;
    const answer: Answer = {
      results: courses.map((course, i) => ({
        ...course,
        score: scores[i] ?? 0,
        why: why(course, rewritten),
      })),
      query: { rewritten, provider, fallback },
    };
    return JSON.stringify(answer);
  });
  // A fallback answer is served once but not kept: the next request tries the upstream again.
  if (degraded) services.searchCache.forget(key);
  if (cached.result !== "miss" && stages.length === 0)
    stages.push({ name: "answer", ms: performance.now() - started, cached: true });

  if (!calendar)
    // The cached answer is serialized JSON ending in "}": splice the stages in rather than parse and
    // re-serialize it, so a repeated question costs about what a search cache hit does.
    return {
      body: `${cached.value.slice(0, -1)},"stages":${JSON.stringify(stages)}}`,
      stages,
      cache: cached.result,
    };
  const answer = JSON.parse(cached.value) as Answer;
  const marksStarted = performance.now();
  const { sections } = await calendarSections(services, calendar);
  markAgainstCalendar(answer.results, calendar.term, sections);
  stages.push({ name: "calendar", ms: performance.now() - marksStarted, cached: false });
  return {
    body: JSON.stringify({ ...answer, stages } satisfies AnswerResponse),
    stages,
    cache: cached.result,
  };
}
