// Calendar use-cases: private timetables guarded by a bearer token, with conflicts computed on read.
import type { CalendarRow } from "../adapters/mysql/calendar-repository.js";
import type { ServiceContext } from "../context.js";
import type { CourseDto, SectionDto } from "../contracts/search.js";
import { notFound, ProblemError } from "../errors.js";
import { conflictingCrns, type TimedSection } from "./schedule.js";

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

function randomString(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => ALPHABET[b % ALPHABET.length]).join("");
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export interface CalendarSection extends SectionDto {
  courseId: number;
  subject: string;
  number: string;
  title: string;
}

export interface CalendarView {
  id: string;
  term: string;
  name: string;
  revision: number;
  createdAt: string;
  sections: CalendarSection[];
  /** CRNs saved earlier that the current catalog no longer has. */
  missing: string[];
  conflicts: { crn: string; with: string[] }[];
}

export async function createCalendar(services: ServiceContext, term: string, name: string) {
  if (!(await services.calendars.termExists(term)))
    throw new ProblemError(400, "validation_failed", "Invalid body: term", [
      { field: "term", message: "unknown term" },
    ]);
  const id = `cal_${randomString(22)}`;
  const token = randomString(43);
  await services.calendars.create(id, term, name, await sha256Hex(token));
  return { id, token, term, name };
}

/**
 * Missing credential -> 401; unknown calendar or wrong token -> the same 404, so a caller cannot
 * learn whether somebody else's calendar exists.
 */
export async function authorizeCalendar(
  services: ServiceContext,
  id: string,
  authorization: string | undefined,
): Promise<CalendarRow> {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
  if (!token)
    throw new ProblemError(
      401,
      "unauthorized",
      "This calendar needs its token as `Authorization: Bearer <token>`",
      undefined,
      {
        "WWW-Authenticate": 'Bearer realm="calendars"',
      },
    );
  const calendar = await services.calendars.find(id);
  if (!calendar || calendar.tokenHash !== (await sha256Hex(token))) throw notFound("Calendar");
  return calendar;
}

/** The calendar's sections with course data, in the order they were added. */
export async function calendarSections(services: ServiceContext, calendar: CalendarRow) {
  const entries = await services.calendars.entries(calendar.id);
  const courseIds = [...new Set(entries.flatMap((e) => (e.courseId === null ? [] : [e.courseId])))];
  const courses = await services.catalog.hydrate(courseIds);
  const byCrn = new Map<string, CalendarSection>();
  for (const course of courses)
    for (const section of course.sections)
      byCrn.set(section.crn, {
        ...section,
        courseId: course.id,
        subject: course.subject,
        number: course.number,
        title: course.title,
      });
  const sections = entries.flatMap((e) => byCrn.get(e.crn) ?? []);
  const missing = entries.filter((e) => !byCrn.has(e.crn)).map((e) => e.crn);
  return { sections, missing };
}

export async function viewCalendar(services: ServiceContext, calendar: CalendarRow): Promise<CalendarView> {
  const { sections, missing } = await calendarSections(services, calendar);
  const marked = sections.map((section) => ({
    ...section,
    inCalendar: true,
    conflicts: conflictingCrns(section, sections),
  }));
  return {
    id: calendar.id,
    term: calendar.term,
    name: calendar.name,
    revision: calendar.revision,
    createdAt: calendar.createdAt,
    sections: marked,
    missing,
    conflicts: marked.filter((s) => s.conflicts.length).map((s) => ({ crn: s.crn, with: s.conflicts })),
  };
}

/** Marks each section of the calendar's term: in the calendar, and which calendar CRNs it overlaps. */
export function markAgainstCalendar(courses: CourseDto[], term: string, calendar: TimedSection[]): void {
  const inCalendar = new Set(calendar.map((s) => s.crn));
  for (const course of courses) {
    if (course.term !== term) continue;
    for (const section of course.sections) {
      section.inCalendar = inCalendar.has(section.crn);
      section.conflicts = conflictingCrns(section, calendar);
    }
  }
}
