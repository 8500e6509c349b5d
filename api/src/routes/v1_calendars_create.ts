// POST /v1/calendars: creates a private timetable for one term and returns its bearer token once.
import { createRoute } from "@hono/zod-openapi";
import type { App } from "../app.js";
import { createCalendarSchema, createdCalendarSchema } from "../contracts/calendars.js";
import { errorResponses } from "../errors.js";
import { createCalendar } from "../services/calendars.js";

const createCalendarRoute = createRoute({
  method: "post",
  path: "/v1/calendars",
  tags: ["calendars"],
  summary: "Create a calendar",
  request: { body: { required: true, content: { "application/json": { schema: createCalendarSchema } } } },
  responses: {
    201: { description: "Created", content: { "application/json": { schema: createdCalendarSchema } } },
    ...errorResponses(400, 413),
  },
});

export function registerV1CalendarsCreate(app: App) {
  app.openapi(createCalendarRoute, async (c) => {
    const { term, name } = c.req.valid("json");
    const created = await createCalendar(c.get("services"), term, name);
    return c.json(created, 201, { Location: `/v1/calendars/${created.id}`, "Cache-Control": "no-store" });
  });
}
