// Search request and response contracts: one zod source for validation, types and OpenAPI.
import { z } from "@hono/zod-openapi";

const upper = (value: string) => value.toUpperCase();
export const clockSchema = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:MM (24-hour)")
  .openapi({ example: "09:00" });
export const daySchema = z
  .enum(["M", "T", "W", "R", "F", "S", "U"])
  .openapi({ description: "R = Thursday, U = Sunday" });
export const termCodeSchema = z
  .string()
  .regex(/^\d{4}-[a-z]{2}$/, "must look like 2025-su")
  .openapi({ example: "2025-su" });

export const searchFiltersSchema = z
  .object({
    term: termCodeSchema.optional(),
    subjects: z
      .array(
        z
          .string()
          .regex(/^[A-Za-z]{2,12}$/, "must be a subject code like CS")
          .transform(upper),
      )
      .max(50)
      .optional()
      .openapi({ example: ["CS", "MATH"] }),
    keyword: z.string().trim().min(1).max(200).optional().openapi({
      description: "Every word must start a word of the title, description or course code (case-insensitive)",
      example: "data structures",
    }),
    creditHours: z
      .object({ min: z.number().min(0).max(99).optional(), max: z.number().min(0).max(99).optional() })
      .strict()
      .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, {
        message: "max must not be below min",
        path: ["max"],
      })
      .optional()
      .openapi({ description: "Courses that can be taken for some credit value in this range" }),
    days: z
      .array(daySchema)
      .min(1)
      .max(7)
      .optional()
      .openapi({
        description: "Sections that meet only on these days (sections without a fixed schedule are excluded)",
        example: ["T", "R"],
      }),
    timeWindow: z
      .object({ start: clockSchema, end: clockSchema })
      .strict()
      .refine((w) => w.start < w.end, { message: "end must be after start", path: ["end"] })
      .optional()
      .openapi({ description: "Sections whose every scheduled meeting lies inside the window" }),
    levels: z
      .array(z.number().int().min(0).max(900).multipleOf(100, "must be a multiple of 100"))
      .max(10)
      .optional()
      .openapi({ example: [100, 200] }),
    types: z
      .array(
        z
          .string()
          .regex(/^[A-Za-z0-9]{1,8}$/, "must be a section type code like LEC")
          .transform(upper),
      )
      .max(50)
      .optional()
      .openapi({ example: ["LEC", "ONL"] }),
    instructor: z
      .string()
      .trim()
      .min(1)
      .max(128)
      .optional()
      .openapi({ description: "Case-insensitive part of a name" }),
    genEd: z
      .array(
        z
          .string()
          .regex(/^[A-Za-z0-9-]{1,64}$/, "must be a gen-ed code like QR1")
          .transform(upper),
      )
      .max(20)
      .optional()
      .openapi({ description: "Courses carrying any of these gen-ed attributes", example: ["QR1"] }),
    openOnly: z.boolean().optional(),
  })
  .strict();

export const searchRequestSchema = searchFiltersSchema
  .extend({
    calendarId: z.string().min(1).max(64).optional().openapi({
      description: "Mark sections against this calendar (send its token as a Bearer credential)",
    }),
    excludeConflicts: z
      .boolean()
      .optional()
      .openapi({ description: "Drop sections that conflict with the calendar" }),
    sort: z.enum(["relevance", "subject", "credits"]).default("relevance"),
    limit: z.number().int().min(1).max(100).default(20),
    cursor: z.string().min(1).max(1024).optional(),
  })
  .strict()
  .refine((r) => !r.excludeConflicts || r.calendarId, {
    message: "needs calendarId",
    path: ["excludeConflicts"],
  })
  .openapi("SearchRequest");

export type SearchFilters = z.infer<typeof searchFiltersSchema>;
export type SearchRequest = z.infer<typeof searchRequestSchema>;

export const meetingSchema = z.object({
  type: z.string(),
  days: z.string().openapi({ example: "TR" }),
  start: z.string().nullable(),
  end: z.string().nullable(),
  building: z.string(),
  room: z.string(),
});

export const sectionSchema = z
  .object({
    crn: z.string(),
    section: z.string(),
    type: z.string(),
    days: z.string(),
    start: z.string().nullable(),
    end: z.string().nullable(),
    building: z.string(),
    room: z.string(),
    instructors: z.array(z.string()),
    status: z.enum(["open", "closed", "inactive"]),
    partOfTerm: z.string(),
    meetings: z.array(meetingSchema),
    inCalendar: z.boolean(),
    conflicts: z
      .array(z.string())
      .openapi({ description: "CRNs in the calendar whose meetings overlap this section" }),
  })
  .openapi("Section");

export const courseSchema = z
  .object({
    id: z.number().int(),
    term: z.string(),
    subject: z.string(),
    number: z.string(),
    title: z.string(),
    description: z.string(),
    creditHours: z.object({ min: z.number(), max: z.number() }),
    genEd: z.array(z.string()),
    crossListed: z.array(z.string()),
    sections: z.array(sectionSchema),
  })
  .openapi("Course");

export const searchResponseSchema = z
  .object({ results: z.array(courseSchema), nextCursor: z.string().nullable() })
  .openapi("SearchResponse");

export type MeetingDto = z.infer<typeof meetingSchema>;
export type SectionDto = z.infer<typeof sectionSchema>;
export type CourseDto = z.infer<typeof courseSchema>;
export type SearchResponse = z.infer<typeof searchResponseSchema>;
