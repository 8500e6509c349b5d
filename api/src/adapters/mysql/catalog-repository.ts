// Catalog reads: a search page with its courses in one statement, hydration by id, lookups.
import type { Pool } from "mysql2/promise";
import { daysFromMask, minutesToClock } from "../../catalog/model.js";
import type { CourseDto, MeetingDto, SearchFilters, SectionDto } from "../../contracts/search.js";
import {
  courseConditions,
  keysetCondition,
  keywordJoin,
  placeholders,
  type SortKey,
  type SortName,
  type SqlParam,
  sectionConditions,
  sortColumns,
} from "./catalog-search-sql.js";

export type { SortKey, SortName };

export interface CoursePageQuery {
  filters: SearchFilters;
  sort: SortName;
  limit: number;
  after?: SortKey;
  /** Drop sections that overlap this calendar's sections. */
  excludeConflictsWith?: string;
}

const clock = (minutes: number | null) => (minutes === null ? null : minutesToClock(minutes));
const SEP = "\x1f";
// Course columns of a hydrated row (`c` courses, `t` terms) and section columns (`s` sections, `m` meetings).
const COURSE_COLUMNS = `c.id, t.code AS term, c.subject, c.number, c.title, c.description, c.credit_min,
  c.credit_max, c.cross_listed,
  (SELECT GROUP_CONCAT(g.code ORDER BY g.code SEPARATOR ',') FROM course_gen_eds cg
     JOIN gen_eds g ON g.id = cg.gen_ed_id WHERE cg.course_id = c.id) AS gen_eds`;
const SECTION_COLUMNS = `s.crn, s.section_code, s.status, s.part_of_term,
  (SELECT GROUP_CONCAT(i.name ORDER BY si.seq SEPARATOR '${SEP}') FROM section_instructors si
     JOIN instructors i ON i.id = si.instructor_id WHERE si.section_id = s.id) AS instructors,
  m.type_code, m.day_mask, m.start_min, m.end_min, m.building, m.room`;

export class CatalogRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * One page of matching courses in sort order, hydrated with their matching sections, plus the key of
   * the last one: one statement where a page query and two hydration queries were three round trips.
   */
  async findCoursePage(
    query: CoursePageQuery,
  ): Promise<{ courses: CourseDto[]; last: SortKey | undefined; more: boolean }> {
    const courses = courseConditions(
      query.filters,
      sectionConditions(query.filters, query.excludeConflictsWith),
    );
    const keyword = keywordJoin(query.filters.keyword);
    const columns = sortColumns(query.sort, keyword !== undefined);
    if (query.after) {
      if (query.after.length !== columns.length) throw new RangeError("cursor does not fit this sort");
      const keyset = keysetCondition(columns, query.after);
      courses.where.push(...keyset.where);
      courses.params.push(...keyset.params);
    }
    const sections = sectionConditions(query.filters, query.excludeConflictsWith);
    const order = columns.map((col) => `${col.expr}${col.desc ? " DESC" : ""}`).join(", ");
    // One course more than the page says whether another page follows. The page's own order comes back
    // as k_rank, and sections are put in order here (sectionsFromRows): an ORDER BY over the joined rows
    // would sort them in a temporary table with TEXT and GROUP_CONCAT columns, which MariaDB writes to
    // disk (an Aria table in tmpdir) for every search.
    const sql = `SELECT p.*, ${COURSE_COLUMNS}, s.id AS section_id, ${SECTION_COLUMNS}, m.seq AS meeting_seq
      FROM (SELECT ${columns.map((col) => `${col.expr} AS ${col.alias}`).join(", ")},
              ROW_NUMBER() OVER (ORDER BY ${order}) AS k_rank
            FROM courses c ${keyword?.sql ?? ""}
            ${courses.where.length ? `WHERE ${courses.where.join(" AND ")}` : ""}
            ORDER BY ${order} LIMIT ${query.limit + 1}) p
      JOIN courses c ON c.id = p.k_id
      JOIN terms t ON t.id = c.term_id
      LEFT JOIN sections s ON s.course_id = c.id ${sections.where.map((w) => `AND ${w}`).join(" ")}
      LEFT JOIN meetings m ON m.section_id = s.id`;
    const [rows] = (await this.pool.execute(sql, [
      ...(keyword?.params ?? []),
      ...courses.params,
      ...sections.params,
    ])) as unknown as [(PageRow & Record<string, string | number>)[]];

    // k_rank is 1 for the page's first course; rows of one course can come in any order.
    const ranked: { course: CourseDto; key: SortKey; rows: SectionRow[] }[] = [];
    for (const row of rows) {
      const rank = Number(row.k_rank) - 1;
      let entry = ranked[rank];
      if (!entry) {
        entry = {
          course: courseFromRow(row),
          key: columns.map((col) => row[col.alias] as SqlParam),
          rows: [],
        };
        ranked[rank] = entry;
      }
      // A section without meetings is left out, as hydrate's inner join leaves it out.
      if (row.section_id !== null && row.meeting_seq !== null) entry.rows.push(row as unknown as SectionRow);
    }
    const found = ranked.filter(Boolean);
    const page = found.slice(0, query.limit);
    for (const { course, rows: sectionRows } of page) course.sections = sectionsFromRows(sectionRows);
    return {
      courses: page.map((entry) => entry.course),
      last: page.at(-1)?.key,
      more: found.length > query.limit,
    };
  }

  /** Every course id matching the filters (the allowed set of a vector search), ascending. */
  async matchingCourseIds(filters: SearchFilters): Promise<number[]> {
    const courses = courseConditions(filters, sectionConditions(filters, undefined));
    const keyword = keywordJoin(filters.keyword);
    const [rows] = (await this.pool.execute(
      `SELECT c.id FROM courses c ${keyword?.sql ?? ""}
       ${courses.where.length ? `WHERE ${courses.where.join(" AND ")}` : ""} ORDER BY c.id`,
      [...(keyword?.params ?? []), ...courses.params],
    )) as unknown as [{ id: number }[]];
    return rows.map((row) => row.id);
  }

  /** Courses by id (in the given order) with their sections; only matching sections when filters are given. */
  async hydrate(
    ids: number[],
    filters: SearchFilters = {},
    excludeConflictsWith?: string,
  ): Promise<CourseDto[]> {
    if (ids.length === 0) return [];
    const inList = placeholders(ids.length);
    const sections = sectionConditions(filters, excludeConflictsWith);
    const [[courseRows], [sectionRows]] = (await Promise.all([
      this.pool.execute(
        `SELECT ${COURSE_COLUMNS} FROM courses c JOIN terms t ON t.id = c.term_id WHERE c.id IN (${inList})`,
        ids,
      ),
      this.pool.execute(
        `SELECT s.id AS section_id, s.course_id, ${SECTION_COLUMNS}, m.seq AS meeting_seq
         FROM sections s JOIN meetings m ON m.section_id = s.id
         WHERE s.course_id IN (${inList}) ${sections.where.map((w) => `AND ${w}`).join(" ")}`,
        [...ids, ...sections.params],
      ),
    ])) as unknown as [[CourseRow[]], [(SectionRow & { course_id: number })[]]];

    const courses = new Map(courseRows.map((row) => [row.id, courseFromRow(row)]));
    const rowsByCourse = new Map<number, SectionRow[]>();
    for (const row of sectionRows) {
      const list = rowsByCourse.get(row.course_id);
      if (list) list.push(row);
      else rowsByCourse.set(row.course_id, [row]);
    }
    for (const [id, rows] of rowsByCourse) {
      const course = courses.get(id);
      if (course) course.sections = sectionsFromRows(rows);
    }
    return ids.flatMap((id) => courses.get(id) ?? []);
  }

  /** Every course's texts and codes, in id order: the material of the in-process ranking snapshot. */
  async courseTexts(): Promise<CourseText[]> {
    const [rows] = (await this.pool.query(
      `SELECT c.id, t.code AS term, c.subject, c.number, c.title, c.description, c.cross_listed
       FROM courses c JOIN terms t ON t.id = c.term_id ORDER BY c.id`,
    )) as unknown as [(Omit<CourseText, "crossListed"> & { cross_listed: string })[]];
    return rows.map(({ cross_listed, ...row }) => ({
      ...row,
      crossListed: cross_listed ? cross_listed.split(",") : [],
    }));
  }

  async listTerms(): Promise<
    { code: string; year: number; season: string; courses: number; sections: number; synthetic: boolean }[]
  > {
    const [rows] = (await this.pool.execute(
      `SELECT t.code, t.year, t.season, t.synthetic,
         (SELECT COUNT(*) FROM courses c WHERE c.term_id = t.id) AS courses,
         (SELECT COUNT(*) FROM sections s WHERE s.term_id = t.id) AS sections
       FROM terms t ORDER BY t.synthetic, t.code DESC`,
    )) as unknown as [
      { code: string; year: number; season: string; courses: number; sections: number; synthetic: number }[],
    ];
    return rows.map((row) => ({
      ...row,
      courses: Number(row.courses),
      sections: Number(row.sections),
      synthetic: Number(row.synthetic) === 1,
    }));
  }
}

export interface CourseText {
  id: number;
  term: string;
  subject: string;
  number: string;
  title: string;
  description: string;
  /** Codes ("EIL 460") this row says it is the same course as, in its term. */
  crossListed: string[];
}

/** A course as its columns come back (the text's fields, then the rest under their SQL names). */
interface CourseRow extends Omit<CourseText, "crossListed"> {
  credit_min: number;
  credit_max: number;
  cross_listed: string;
  gen_eds: string | null;
}

interface SectionRow {
  section_id: number;
  crn: string;
  section_code: string;
  status: SectionDto["status"];
  part_of_term: string;
  instructors: string | null;
  type_code: string;
  day_mask: number;
  start_min: number | null;
  end_min: number | null;
  building: string;
  room: string;
  meeting_seq: number;
}

/** A row of the one-statement page: a course, and one meeting of one of its sections (or none: NULLs). */
type PageRow = CourseRow & Nullable<SectionRow>;
type Nullable<T> = { [K in keyof T]: T[K] | null };

function courseFromRow(row: CourseRow): CourseDto {
  return {
    id: row.id,
    term: row.term,
    subject: row.subject,
    number: row.number,
    title: row.title,
    description: row.description,
    creditHours: { min: row.credit_min, max: row.credit_max },
    genEd: row.gen_eds ? row.gen_eds.split(",") : [],
    crossListed: row.cross_listed ? row.cross_listed.split(",") : [],
    sections: [],
  };
}

// Section codes and CRNs are short ASCII codes; base sensitivity orders them as utf8mb4_unicode_ci does
// (case-insensitive, digits before letters).
const collator = new Intl.Collator("en", { sensitivity: "base" });

/** Meeting rows of one course, any order -> its sections by code, then CRN, each with meetings by seq. */
function sectionsFromRows(rows: SectionRow[]): SectionDto[] {
  rows.sort(
    (a, b) =>
      collator.compare(a.section_code, b.section_code) ||
      collator.compare(a.crn, b.crn) ||
      a.section_id - b.section_id ||
      a.meeting_seq - b.meeting_seq,
  );
  const sections: SectionDto[] = [];
  let section: SectionDto | undefined;
  let sectionId = -1;
  for (const row of rows) {
    const meeting = meetingFromRow(row);
    if (row.section_id !== sectionId) {
      sectionId = row.section_id;
      section = sectionFromRow(row, meeting);
      sections.push(section);
    }
    section?.meetings.push(meeting);
  }
  return sections;
}

function meetingFromRow(row: SectionRow): MeetingDto {
  return {
    type: row.type_code,
    days: daysFromMask(row.day_mask),
    start: clock(row.start_min),
    end: clock(row.end_min),
    building: row.building,
    room: row.room,
  };
}

/** A section from its first meeting row; the first meeting also gives the section's own type, days and times. */
function sectionFromRow(row: SectionRow, first: MeetingDto): SectionDto {
  return {
    crn: row.crn,
    section: row.section_code,
    ...first,
    instructors: row.instructors ? row.instructors.split(SEP) : [],
    status: row.status,
    partOfTerm: row.part_of_term,
    meetings: [],
    inCalendar: false,
    conflicts: [],
  };
}
