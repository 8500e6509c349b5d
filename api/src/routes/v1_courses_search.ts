// POST /v1/courses/search: structured catalog search with cursor pagination and calendar marks.
import { createRoute } from "@hono/zod-openapi";
import type { App } from "../app.js";
import { searchRequestSchema, searchResponseSchema } from "../contracts/search.js";
import { errorResponses } from "../errors.js";
import { searchCourses } from "../services/search-courses.js";

export const searchCoursesRoute = createRoute({
  method: "post",
  path: "/v1/courses/search",
  tags: ["courses"],
  summary: "Search courses by filters",
  description:
    "Filters combine with AND; list filters match any of their values. Results carry `X-Cache` (HIT/MISS) and `Server-Timing`. " +
    "With `calendarId` (and its token as a Bearer credential) each section says whether it is in the calendar and which calendar CRNs it overlaps.",
  request: { body: { required: true, content: { "application/json": { schema: searchRequestSchema } } } },
  responses: {
    200: {
      description: "One page of matching courses",
      content: { "application/json": { schema: searchResponseSchema } },
    },
    ...errorResponses(400, 401, 404, 413, 503),
  },
});

export function registerV1CoursesSearch(app: App) {
  app.openapi(searchCoursesRoute, async (c) => {
    const outcome = await searchCourses(
      c.get("services"),
      c.req.valid("json"),
      c.req.header("authorization"),
    );
    c.get("timings").push(...outcome.timings);
    c.set("cacheStatus", outcome.cache);
    // The cached body is already serialized JSON: send the bytes as they are.
    return c.body(outcome.body, 200, { "Content-Type": "application/json" }) as never;
  });
}
