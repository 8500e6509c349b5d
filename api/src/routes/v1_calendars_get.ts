// GET /v1/calendars/{id}: the calendar's sections and their conflicts (token required).
import { createRoute } from "@hono/zod-openapi";
import type { App } from "../app.js";
import { calendarIdParams, calendarSchema } from "../contracts/calendars.js";
import { errorResponses } from "../errors.js";
import { authorizeCalendar, viewCalendar } from "../services/calendars.js";

const getCalendarRoute = createRoute({
  method: "get",
  path: "/v1/calendars/{id}",
  tags: ["calendars"],
  summary: "Read a calendar",
  security: [{ calendarToken: [] }],
  request: { params: calendarIdParams },
  responses: {
    200: { description: "The calendar", content: { "application/json": { schema: calendarSchema } } },
    ...errorResponses(400, 401, 404),
  },
});

export function registerV1CalendarsGet(app: App) {
  app.openapi(getCalendarRoute, async (c) => {
    const services = c.get("services");
    const calendar = await authorizeCalendar(
      services,
      c.req.valid("param").id,
      c.req.header("authorization"),
    );
    return c.json(await viewCalendar(services, calendar), 200, { "Cache-Control": "private, no-store" });
  });
}
