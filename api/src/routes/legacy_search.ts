// POST /search?calendar_id=: the replaced service's route, kept as a thin alias of /v1/courses/search.
import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../app.js";
import { searchRequestSchema, searchResponseSchema } from "../contracts/search.js";
import { errorResponses, validationProblem } from "../errors.js";
import { searchCourses } from "../services/search-courses.js";

const legacySearchRoute = createRoute({
  method: "post",
  path: "/search",
  tags: ["compatibility"],
  summary: "Search courses (legacy alias)",
  description:
    "Same as POST /v1/courses/search with `calendar_id` moved to the query string. Kept so existing clients keep working; " +
    "marking against a calendar still needs its Bearer token.",
  request: {
    query: z.object({ calendar_id: z.string().min(1).max(64).optional() }),
    body: { required: false, content: { "application/json": { schema: searchRequestSchema } } },
  },
  responses: {
    200: {
      description: "One page of matching courses",
      content: { "application/json": { schema: searchResponseSchema } },
    },
    ...errorResponses(400, 401, 404, 413),
  },
});

export function registerLegacySearch(app: App) {
  app.openapi(legacySearchRoute, async (c) => {
    const { calendar_id } = c.req.valid("query");
    // Old clients may post no body at all, which means "no filters".
    const body = c.req.header("content-type")?.includes("json") ? c.req.valid("json") : {};
    const parsed = searchRequestSchema.safeParse({
      ...body,
      ...(calendar_id ? { calendarId: calendar_id } : {}),
    });
    if (!parsed.success) throw validationProblem(parsed.error, "body");
    const outcome = await searchCourses(c.get("services"), parsed.data, c.req.header("authorization"));
    c.get("timings").push(...outcome.timings);
    c.set("cacheStatus", outcome.cache);
    return c.body(outcome.body, 200, { "Content-Type": "application/json" }) as never;
  });
}
