// GET /v1/courses/{id}: one course with all its sections.
import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../app.js";
import { courseSchema } from "../contracts/search.js";
import { errorResponses, notFound } from "../errors.js";

const getCourseRoute = createRoute({
  method: "get",
  path: "/v1/courses/{id}",
  tags: ["courses"],
  summary: "Get a course by id",
  request: { params: z.object({ id: z.coerce.number().int().positive().openapi({ example: 42 }) }) },
  responses: {
    200: { description: "The course", content: { "application/json": { schema: courseSchema } } },
    ...errorResponses(400, 404),
  },
});

export function registerV1CoursesGet(app: App) {
  app.openapi(getCourseRoute, async (c) => {
    const { id } = c.req.valid("param");
    const services = c.get("services");
    const key = `course:v${services.catalogVersion.current}:${id}`;
    const cached = await services.searchCache.getOrCompute(key, async () => {
      const [course] = await services.catalog.hydrate([id]);
      return course ? JSON.stringify(course) : "";
    });
    c.set("cacheStatus", cached.result);
    if (!cached.value) throw notFound(`Course ${id}`);
    return c.body(cached.value, 200, { "Content-Type": "application/json" }) as never;
  });
}
