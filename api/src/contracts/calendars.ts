// Calendar contracts.
import { z } from "@hono/zod-openapi";
import { sectionSchema, termCodeSchema } from "./search.js";

export const calendarIdParams = z.object({
  id: z
    .string()
    .regex(/^cal_[A-Za-z0-9]{22}$/, "must be a calendar id")
    .openapi({ example: "cal_3kTMd9Qv0b2XlZr7pYc1aE" }),
});

export const calendarSectionParams = calendarIdParams.extend({
  crn: z
    .string()
    .regex(/^\d{1,10}$/, "must be a CRN")
    .openapi({ example: "40507" }),
});

export const createCalendarSchema = z
  .object({ term: termCodeSchema, name: z.string().trim().max(100).default("") })
  .strict()
  .openapi("CreateCalendar");

export const createdCalendarSchema = z
  .object({
    id: z.string(),
    token: z.string().openapi({ description: "Shown once: send it as `Authorization: Bearer <token>`" }),
    term: z.string(),
    name: z.string(),
  })
  .openapi("CreatedCalendar");

export const calendarSchema = z
  .object({
    id: z.string(),
    term: z.string(),
    name: z.string(),
    revision: z.number(),
    createdAt: z.string(),
    sections: z.array(
      sectionSchema.extend({
        courseId: z.number(),
        subject: z.string(),
        number: z.string(),
        title: z.string(),
      }),
    ),
    missing: z.array(z.string()).openapi({ description: "Saved CRNs the current catalog no longer has" }),
    conflicts: z.array(z.object({ crn: z.string(), with: z.array(z.string()) })),
  })
  .openapi("Calendar");
