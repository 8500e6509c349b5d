// DELETE /v1/calendars/{id}/sections/{crn}: removes a section from the calendar.
import { createRoute } from "@hono/zod-openapi";
import type { App } from "../app.js";
import { calendarSchema, calendarSectionParams } from "../contracts/calendars.js";
import { errorResponses, notFound } from "../errors.js";
import { authorizeCalendar, viewCalendar } from "../services/calendars.js";

const removeSectionRoute = createRoute({
  method: "delete",
  path: "/v1/calendars/{id}/sections/{crn}",
  tags: ["calendars"],
  summary: "Remove a section from a calendar",
  security: [{ calendarToken: [] }],
  request: { params: calendarSectionParams },
  responses: {
    200: { description: "The updated calendar", content: { "application/json": { schema: calendarSchema } } },
    ...errorResponses(400, 401, 404),
  },
});

export function registerV1CalendarsRemoveSection(app: App) {
  app.openapi(removeSectionRoute, async (c) => {
    const services = c.get("services");
    const { id, crn } = c.req.valid("param");
    const calendar = await authorizeCalendar(services, id, c.req.header("authorization"));
    if (!(await services.calendars.removeSection(calendar.id, crn)))
      throw notFound(`Section ${crn} in this calendar`);
    calendar.revision++;
    return c.json(await viewCalendar(services, calendar), 200, { "Cache-Control": "private, no-store" });
  });
}
