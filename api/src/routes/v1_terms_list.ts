// GET /v1/terms: the terms in the catalog with their sizes.
import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../app.js";

const termSchema = z
  .object({
    code: z.string(),
    year: z.number(),
    season: z.string(),
    courses: z.number(),
    sections: z.number(),
    synthetic: z.boolean().openapi({
      description:
        "A generated demo term (what npm start loads into an empty database); a real import removes it",
    }),
  })
  .openapi("Term");

const listTermsRoute = createRoute({
  method: "get",
  path: "/v1/terms",
  tags: ["courses"],
  summary: "List catalog terms, newest first (real terms before a synthetic demo term)",
  responses: {
    200: {
      description: "Terms",
      content: {
        "application/json": { schema: z.object({ terms: z.array(termSchema), catalogVersion: z.number() }) },
      },
    },
  },
});

export function registerV1TermsList(app: App) {
  app.openapi(listTermsRoute, async (c) => {
    const services = c.get("services");
    const version = services.catalogVersion.current;
    const cached = await services.searchCache.getOrCompute(`terms:v${version}:synthetic`, async () =>
      JSON.stringify({ terms: await services.catalog.listTerms(), catalogVersion: version }),
    );
    c.set("cacheStatus", cached.result);
    return c.body(cached.value, 200, { "Content-Type": "application/json" }) as never;
  });
}
