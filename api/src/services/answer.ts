// The answer pipeline: filters -> allowed ids, lexical ranking, question -> rewrite -> embedding ->
// vector ranking, fusion -> hydrate -> calendar marks. Every stage is cached on its own and the whole answer in front; no
// database connection is held while an upstream is awaited (each query borrows one and returns it).
import {
  UpstreamAbortedError,
  UpstreamError,
  UpstreamHttpError,
  UpstreamOverloadedError,
} from "@kogi/shared/outbound/errors";
import {
  decodeVector,
  encodeVector,
  type VectorAnswer,
  VectorSidecarError,
} from "../adapters/vector-client.js";
import type { CacheResult } from "../cache/interface.js";
import type { ServiceContext } from "../context.js";
import type { AnswerRequest, AnswerResponse, Stage } from "../contracts/answer.js";
import type { SearchRequest } from "../contracts/search.js";
import {
  type Candidates,
  candidateDepth,
  fuseCandidates,
  lexicalCandidates,
  queryTerms,
  type RankedCourse,
  type RankingMode,
  rankingSnapshot,
  vectorCandidates,
} from "./answer-ranking.js";
import { authorizeCalendar, calendarSections, markAgainstCalendar } from "./calendars.js";
import type { FusionMethod } from "./ranking/fusion.js";
import type { RankingSnapshot } from "./ranking/ranking-snapshot.js";
import { focusQuestion, type QueryTerm } from "./ranking/text-analysis.js";
import { canonicalSearchKey } from "./search-courses.js";

export interface AnswerContext {
  authorization?: string;
  signal?: AbortSignal;
  /** Epoch ms by which upstream work must be done. */
  deadline: number;
}

type Answer = Omit<AnswerResponse, "stages">;

/** Part of the whole-answer cache key: bump when the ranking or the answer's shape changes. */
const ANSWER_FORMAT = "r4";

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

/** Stages in the order they start; lexical runs while the rewrite is awaited. */
const STAGE_ORDER: Stage["name"][] = [
  "filters",
  "lexical",
  "rewrite",
  "embed",
  "vector",
  "hydrate",
  "calendar",
];

/**
 * Upstream failures a fallback may answer: an open breaker, a timed-out or failed upstream. Load
 * shedding (503 + Retry-After is the honest answer), caller aborts and bad requests are not.
 */
function fallbackWorthy(error: unknown): boolean {
  if (error instanceof UpstreamOverloadedError || error instanceof UpstreamAbortedError) return false;
  if (error instanceof UpstreamHttpError) return error.status >= 500 || error.status === 429;
  return error instanceof UpstreamError;
}

export interface RankOptions {
  mode: RankingMode;
  fusion?: FusionMethod;
}

export interface RankedAnswer {
  ranked: RankedCourse[];
  /** Each ranking's candidates before fusion (courses best first, with their own scores). */
  candidates: { lexical?: Candidates; vector?: Candidates };
  snapshot: RankingSnapshot | undefined;
  terms: QueryTerm[];
  rewritten: string;
  fallback: ("rewrite" | "embed")[];
  /** The vector index is older than the catalog: courses it lacks were ranked lexically only. */
  indexStale: boolean;
}

async function rewriteQuestion(
  services: ServiceContext,
  request: AnswerRequest,
  call: { signal?: AbortSignal; deadline: number },
  stages: Stage[],
  fallback: ("rewrite" | "embed")[],
): Promise<string> {
  const rewriter = services.llm.rewriter;
  const question = normalise(request.question);
  const rewriteKey = `rw:${rewriter.provider}:${rewriter.model}:${rewriter.promptVersion}:${question}`;
  const rewriteStarted = performance.now();
  const text = { encode: (s: string) => s, decode: (s: string) => s };
  return stage(
    stages,
    "rewrite",
    services.searchCache,
    rewriteKey,
    () => rewriter.rewrite(request.question, call),
    text,
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
}

/**
 * Embeds the (focused) rewritten question and searches the sidecar among the allowed courses its index
 * knows; undefined when the embedder is down. `stale`: the index is older than the catalog (it lacks
 * some allowed courses, or has none loaded yet while a build runs): the lexical ranking covers the rest.
 */
async function vectorSearch(
  services: ServiceContext,
  text: string,
  query: { k: number; ids: number[] },
  ctx: AnswerContext,
  stages: Stage[],
  fallback: ("rewrite" | "embed")[],
): Promise<{ results: { id: number; score: number }[]; stale: boolean } | undefined> {
  try {
    const answer = await embedAndSearch(
      services,
      text,
      { ...query, skipUnknownIds: true },
      ctx,
      stages,
      fallback,
    );
    if (!answer) return undefined;
    const stale =
      (answer.index.unknownIds ?? 0) > 0 || answer.index.catalogVersion < services.catalogVersion.current;
    return { results: answer.results, stale };
  } catch (error) {
    if (!(error instanceof VectorSidecarError) || error.code !== "no_index") throw error;
    services.logger.warn({ err: error.message }, "no vector index loaded yet; ranking lexically");
    return { results: [], stale: true };
  }
}

/** The embedding (cached) and the sidecar's search; undefined when the embedding upstream is down. */
async function embedAndSearch(
  services: ServiceContext,
  text: string,
  query: { k: number; ids: number[]; skipUnknownIds: boolean },
  ctx: AnswerContext,
  stages: Stage[],
  fallback: ("rewrite" | "embed")[],
): Promise<VectorAnswer | undefined> {
  const embedder = services.llm.embedder;
  const call = { signal: ctx.signal, deadline: ctx.deadline };
  const embedKey = `emb:${embedder.provider}:${await embedder.identity()}:${normalise(text)}`;
  // An embedder beside the index embeds and searches in one call on a cache miss.
  let searched: VectorAnswer | undefined;
  const embed = async () => {
    if (!embedder.embedAndSearch) return embedder.embed(text, call);
    const both = await embedder.embedAndSearch(text, query, ctx.signal);
    searched = both.answer;
    return both.vector;
  };
  const vector = await stage(stages, "embed", services.searchCache, embedKey, embed, vectorCodec).catch(
    (error: unknown) => {
      if (!fallbackWorthy(error) || embedder.provider === "local") throw error;
      fallback.push("embed");
      return undefined;
    },
  );
  if (searched) {
    // One call did both: the embed stage keeps the call's time but the sidecar's search.
    const embedStage = stages.find((s) => s.name === "embed");
    if (embedStage) embedStage.ms = Math.max(0, embedStage.ms - searched.plan.ms);
    stages.push({ name: "vector", ms: searched.plan.ms, cached: false });
    return searched;
  }
  if (!vector) return undefined;
  const started = performance.now();
  const answer = await services.vector.search({ vector, ...query }, ctx.signal);
  stages.push({ name: "vector", ms: performance.now() - started, cached: false });
  return answer;
}

/**
 * filters -> allowed courses; lexical ranking (while the rewrite is awaited); rewrite -> embedding ->
 * vector ranking; fusion. Both rankings see one entry per course, so k means k distinct courses.
 */
export async function rankAnswer(
  services: ServiceContext,
  request: AnswerRequest,
  ctx: AnswerContext,
  stages: Stage[],
  options: RankOptions,
): Promise<RankedAnswer> {
  const { searchCache: cache, catalogVersion } = services;
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
  const terms = queryTerms(request.question);
  const call = { signal: ctx.signal, deadline: ctx.deadline };
  const rewriting = rewriteQuestion(services, request, call, stages, fallback);
  // Settled below; a lexical failure must not leave the rewrite's rejection unhandled.
  rewriting.catch(() => undefined);

  if (allowed && allowed.length === 0)
    return {
      ranked: [],
      candidates: {},
      snapshot: undefined,
      terms,
      rewritten: await rewriting,
      fallback,
      indexStale: false,
    };
  const depth = candidateDepth(request.k);
  const lexicalStarted = performance.now();
  // Awaited only while it is being built: the stage's time is then the lexical ranking's own.
  const ready = rankingSnapshot(services, version);
  const snapshot = ready instanceof Promise ? await ready : ready;
  const scope = snapshot.scope(allowed);
  const rankLexically = () => lexicalCandidates(snapshot, scope, terms, depth);
  let lexical = options.mode === "vector" ? undefined : rankLexically();
  if (lexical) stages.push({ name: "lexical", ms: performance.now() - lexicalStarted, cached: false });
  const rewritten = await rewriting;

  let vector: Candidates | undefined;
  let indexStale = false;
  if (options.mode !== "lexical" && scope.vectorIds.length > 0) {
    const text = snapshot.vectorQuestion(focusQuestion(rewritten), lexical?.keys);
    const searched = await vectorSearch(
      services,
      text,
      { k: depth, ids: scope.vectorIds },
      ctx,
      stages,
      fallback,
    );
    indexStale = searched?.stale ?? false;
    if (searched) vector = vectorCandidates(snapshot, scope, searched.results);
    // Embedding upstream down, or no index yet: the lexical ranking answers alone.
    if ((!searched || searched.results.length === 0) && !lexical) {
      const started = performance.now();
      lexical = rankLexically();
      stages.push({ name: "lexical", ms: performance.now() - started, cached: false });
    }
  }
  const ranked = fuseCandidates(scope, lexical, vector, request.k, options.fusion);
  return { ranked, candidates: { lexical, vector }, snapshot, terms, rewritten, fallback, indexStale };
}

async function computeAnswer(
  services: ServiceContext,
  request: AnswerRequest,
  ctx: AnswerContext,
  stages: Stage[],
): Promise<{ answer: Answer; fallback: string[]; indexStale: boolean }> {
  const { ranked, snapshot, terms, rewritten, fallback, indexStale } = await rankAnswer(
    services,
    request,
    ctx,
    stages,
    {
      mode: services.config.ANSWER_RANKING,
    },
  );
  const started = performance.now();
  const courses = await services.catalog.hydrate(
    ranked.map((r) => r.id),
    request.filters,
  );
  stages.push({ name: "hydrate", ms: performance.now() - started, cached: false });
  const byId = new Map(ranked.map((r) => [r.id, r]));
  const results = courses.map((course) => {
    const rank = byId.get(course.id) as RankedCourse;
    const offerings = snapshot?.groups.offerings(rank.group, course.id) ?? {
      otherTerms: [],
      crossListings: [],
    };
    return {
      ...course,
      score: rank.score,
      why: {
        terms: snapshot?.lexical.matchedWords(rank.group, terms) ?? [],
        lexicalRank: rank.lexicalRank,
        vectorRank: rank.vectorRank,
      },
      ...offerings,
    };
  });
  const provider = providerName(services);
  return {
    answer: {
      results,
      query: {
        rewritten,
        terms: terms.filter((t) => !t.phrase).map((t) => t.word),
        provider,
        fallback,
        indexStale,
      },
    },
    fallback,
    indexStale,
  };
}

function providerName(services: ServiceContext): string {
  const { rewriter, embedder } = services.llm;
  return `${rewriter.provider === "openai" ? `openai/${rewriter.model}` : "passthrough"} + ${embedder.provider}`;
}

export async function answerQuestion(services: ServiceContext, request: AnswerRequest, ctx: AnswerContext) {
  const stages: Stage[] = [];
  const calendar = request.calendarId
    ? await authorizeCalendar(services, request.calendarId, ctx.authorization)
    : undefined;
  const { rewriter, embedder } = services.llm;
  const key = [
    "answer",
    `v${services.catalogVersion.current}`,
    // Bumped when ranking or the answer's shape changes, so no older cached answer is served.
    `${ANSWER_FORMAT}/${services.config.ANSWER_RANKING}`,
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
    const { answer, fallback, indexStale } = await computeAnswer(services, request, ctx, stages);
    degraded = fallback.length > 0 || indexStale;
    return JSON.stringify(answer);
  });
  stages.sort((a, b) => STAGE_ORDER.indexOf(a.name) - STAGE_ORDER.indexOf(b.name));
  // A fallback answer (or one from an index older than the catalog) is served once but not kept: the
  // next request tries the upstream, or the rebuilt index, again.
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
