// The search use-case: canonical cache key -> tiered cache -> one hydrated page query -> calendar marks.
import type { SortKey } from "../adapters/mysql/catalog-repository.js";
import type { CacheResult } from "../cache/interface.js";
import type { ServiceContext } from "../context.js";
import type { SearchRequest, SearchResponse } from "../contracts/search.js";
import { ProblemError } from "../errors.js";
import { authorizeCalendar, calendarSections, markAgainstCalendar } from "./calendars.js";

const sortedUnique = <T extends string | number>(list: T[] | undefined) =>
  list ? [...new Set(list)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) : undefined;

/**
 * The request with defaults applied, lists deduplicated and ordered, free text normalised and keys
 * in a fixed order: two requests that must give the same answer give the same string.
 */
export function canonicalSearchKey(request: SearchRequest): string {
  const canonical = {
    term: request.term,
    subjects: sortedUnique(request.subjects),
    keyword: request.keyword?.toLowerCase().replace(/\s+/g, " "),
    creditHours: request.creditHours && { min: request.creditHours.min, max: request.creditHours.max },
    days: sortedUnique(request.days),
    timeWindow: request.timeWindow && { start: request.timeWindow.start, end: request.timeWindow.end },
    levels: sortedUnique(request.levels),
    types: sortedUnique(request.types),
    instructor: request.instructor?.toLowerCase(),
    genEd: sortedUnique(request.genEd),
    openOnly: request.openOnly || undefined,
    sort: request.sort,
  };
  return JSON.stringify(canonical);
}

/** FNV-1a: a short fingerprint that ties a cursor to the query it came from (not a security check). */
function fingerprint(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(36);
}

const encodeCursor = (query: string, key: SortKey) =>
  btoa(unescape(encodeURIComponent(JSON.stringify({ q: fingerprint(query), k: key }))))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

function decodeCursor(query: string, cursor: string): SortKey {
  try {
    const json = decodeURIComponent(escape(atob(cursor.replace(/-/g, "+").replace(/_/g, "/"))));
    const parsed = JSON.parse(json) as { q?: unknown; k?: unknown };
    if (parsed.q === fingerprint(query) && Array.isArray(parsed.k)) return parsed.k as SortKey;
  } catch {
    // fall through to the one error below
  }
  throw new ProblemError(400, "invalid_cursor", "The cursor does not belong to this query", [
    { field: "cursor", message: "does not belong to this query (send the same filters and sort)" },
  ]);
}

export interface SearchOutcome {
  body: string;
  cache: CacheResult;
  timings: { name: string; ms: number; desc?: string }[];
}

export async function searchCourses(
  services: ServiceContext,
  request: SearchRequest,
  authorization: string | undefined,
): Promise<SearchOutcome> {
  const timings: SearchOutcome["timings"] = [];
  const calendar = request.calendarId
    ? await authorizeCalendar(services, request.calendarId, authorization)
    : undefined;
  const query = canonicalSearchKey(request);
  // Excluding conflicts makes the result depend on one calendar's content: key it by calendar and revision.
  const scope = request.excludeConflicts && calendar ? `|cal:${calendar.id}@${calendar.revision}` : "";
  const after = request.cursor ? decodeCursor(query + scope, request.cursor) : undefined;
  const key = `search:v${services.catalogVersion.current}:${query}${scope}|${request.limit}|${request.cursor ?? ""}`;

  const started = performance.now();
  const cached = await services.searchCache.getOrCompute(key, async () => {
    const dbStarted = performance.now();
    const page = await services.catalog.findCoursePage({
      filters: request,
      sort: request.sort,
      limit: request.limit,
      after,
      excludeConflictsWith: scope ? calendar?.id : undefined,
    });
    timings.push({ name: "db", ms: performance.now() - dbStarted });
    const response: SearchResponse = {
      results: page.courses,
      nextCursor: page.more && page.last ? encodeCursor(query + scope, page.last) : null,
    };
    return JSON.stringify(response);
  });
  timings.unshift({ name: "cache", ms: performance.now() - started, desc: cached.result });

  if (!calendar) return { body: cached.value, cache: cached.result, timings };
  const marksStarted = performance.now();
  const response = JSON.parse(cached.value) as SearchResponse;
  const { sections } = await calendarSections(services, calendar);
  markAgainstCalendar(response.results, calendar.term, sections);
  timings.push({ name: "calendar", ms: performance.now() - marksStarted });
  return { body: JSON.stringify(response), cache: cached.result, timings };
}
