// Hand-made catalog data for tests: a tiny term whose conflicts are known by construction, and written courses.
import type { CatalogTerm } from "../catalog/model.js";
import type { CourseRow } from "../services/ranking/course-groups.js";

const meeting = (days: string, start: string | null, end: string | null, typeCode = "LEC") => ({
  typeCode,
  typeName: typeCode,
  days,
  start,
  end,
  building: start ? "Hall" : "",
  room: start ? "101" : "",
});
const section = (crn: string, meetings: ReturnType<typeof meeting>[]) => ({
  crn,
  section: `S${crn}`,
  status: "open" as const,
  partOfTerm: "1",
  instructors: ["Doe, J"],
  meetings,
});
const course = (subject: string, number: string, title: string, sections: ReturnType<typeof section>[]) => ({
  subject,
  number,
  title,
  description: `${title} description`,
  creditMin: 3,
  creditMax: 3,
  genEds: [],
  crossListed: [],
  sections,
});

export const scheduleTerm: CatalogTerm = {
  code: "2030-fa",
  year: 2030,
  season: "Fall",
  courses: [
    course("CS", "101", "Intro Programming", [section("1001", [meeting("MWF", "09:00", "09:50")])]),
    course("CS", "102", "Data Structures", [
      section("2001", [meeting("MW", "09:30", "10:20")]),
      section("2002", [meeting("TR", "09:00", "10:15")]),
    ]),
    course("MATH", "201", "Online Algebra", [section("3001", [meeting("", null, null, "ONL")])]),
    course("MATH", "202", "Friday Seminar", [section("4001", [meeting("F", "09:45", "10:00", "SEM")])]),
    // Touching end-to-start is not a conflict: [09:50, 10:40) on Friday starts when 1001 ends.
    course("MATH", "203", "Back to Back", [section("5001", [meeting("F", "09:50", "10:40")])]),
  ],
};

let nextCrn = 10_000;
/** A course written out for ranking tests: "SUBJ 123", its title and description, one lecture section. */
export const writtenCourse = (
  code: string,
  title: string,
  description: string,
  crossListed: string[] = [],
) => {
  const [subject = "", number = ""] = code.split(" ");
  return {
    ...course(subject, number, title, [section(String(nextCrn++), [meeting("MW", "09:00", "09:50")])]),
    description,
    crossListed,
  };
};

let nextRowId = 1;
/** The same written course as the ranking snapshot reads it from MySQL (a row with a fresh id), for unit tests. */
export function writtenCourseRow(code: string, title: string, description: string): CourseRow {
  const [subject = "", number = ""] = code.split(" ");
  return { id: nextRowId++, term: "2025-su", subject, number, title, description, crossListed: [] };
}
