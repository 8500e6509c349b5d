// PUT /v1/calendars/{id}/sections/{crn}: adds a section of the calendar's term (idempotent).
import { createRoute } from "@hono/zod-openapi";
import type { App } from "../app.js";
import { calendarSchema, calendarSectionParams } from "../contracts/calendars.js";
import { errorResponses, notFound } from "../errors.js";
import { authorizeCalendar, viewCalendar } from "../services/calendars.js";

const addSectionRoute = createRoute({
  method: "put",
  path: "/v1/calendars/{id}/sections/{crn}",
  tags: ["calendars"],
  summary: "Add a section to a calendar",
  description: "Returns the calendar with conflicts; adding a section already there changes nothing.",
  security: [{ calendarToken: [] }],
  request: { params: calendarSectionParams },
  responses: {
    200: { description: "The updated calendar", content: { "application/json": { schema: calendarSchema } } },
    ...errorResponses(400, 401, 404),
  },
});

export function registerV1CalendarsAddSection(app: App) {
  app.openapi(addSectionRoute, async (c) => {
    const services = c.get("services");
    const { id, crn } = c.req.valid("param");
    const calendar = await authorizeCalendar(services, id, c.req.header("authorization"));
    if ((await services.calendars.sectionCourse(calendar.id, crn)) === undefined)
      throw notFound(`Section ${crn} in term ${calendar.term}`);
    if (await services.calendars.addSection(calendar.id, crn)) calendar.revision++;
    return c.json(await viewCalendar(services, calendar), 200, { "Cache-Control": "private, no-store" });
  });
}
