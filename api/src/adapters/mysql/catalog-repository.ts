// Catalog reads: the search page query, hydration of a page in two queries, and lookups by id.
import type { Pool } from "mysql2/promise";
import { dayMask, daysFromMask, minutesToClock } from "../../catalog/model.js";
import { isCjkToken, tokenize } from "../../catalog/tokenize.js";
import type { CourseDto, SearchFilters, SectionDto } from "../../contracts/search.js";

export type SortName = "relevance" | "subject" | "credits";
/** Position after the last row of a page, in the order of the sort's columns. */
export type SortKey = (string | number)[];

export interface CoursePageQuery {
  filters: SearchFilters;
  sort: SortName;
  limit: number;
  after?: SortKey;
  /** Drop sections that overlap this calendar's sections. */
  excludeConflictsWith?: string;
}

type SqlParam = string | number;

interface Sql {
  where: string[];
  params: SqlParam[];
}

const placeholders = (n: number) => Array.from({ length: n }, () => "?").join(", ");
const escapeLike = (text: string) => text.replace(/[\\%_]/g, (char) => `\\${char}`);
const clock = (minutes: number | null) => (minutes === null ? null : minutesToClock(minutes));
const SEP = "\x1f";

/** Conditions on a section row aliased `s`; empty when the filters say nothing about sections. */
function sectionConditions(filters: SearchFilters, excludeConflictsWith: string | undefined): Sql {
  const where: string[] = [];
  const params: SqlParam[] = [];
  if (filters.openOnly) where.push("s.status = 'open'");
  if (filters.days) {
    where.push(
      "EXISTS (SELECT 1 FROM meetings m WHERE m.section_id = s.id AND m.day_mask <> 0)",
      "NOT EXISTS (SELECT 1 FROM meetings m WHERE m.section_id = s.id AND (m.day_mask & ?) <> 0)",
    );
    params.push(~dayMask(filters.days.join("")) & 0x7f);
  }
  if (filters.timeWindow) {
    const [sh, sm] = filters.timeWindow.start.split(":").map(Number);
    const [eh, em] = filters.timeWindow.end.split(":").map(Number);
    where.push(
      "EXISTS (SELECT 1 FROM meetings m WHERE m.section_id = s.id AND m.start_min IS NOT NULL)",
      "NOT EXISTS (SELECT 1 FROM meetings m WHERE m.section_id = s.id AND m.start_min IS NOT NULL AND (m.start_min < ? OR m.end_min > ?))",
    );
    params.push((sh ?? 0) * 60 + (sm ?? 0), (eh ?? 0) * 60 + (em ?? 0));
  }
  if (filters.types?.length) {
    where.push(
      `EXISTS (SELECT 1 FROM meetings m WHERE m.section_id = s.id AND m.type_code IN (${placeholders(filters.types.length)}))`,
    );
    params.push(...filters.types);
  }
  if (filters.instructor) {
    where.push(
      "EXISTS (SELECT 1 FROM section_instructors si JOIN instructors i ON i.id = si.instructor_id WHERE si.section_id = s.id AND LOWER(i.name) LIKE ?)",
    );
    params.push(`%${escapeLike(filters.instructor.toLowerCase())}%`);
  }
  if (excludeConflictsWith) {
    // Same rule as services/schedule.ts: a shared day and overlapping [start, end) times in the calendar's term.
    // Sections already saved in the calendar stay: they are the caller's own choices, marked inCalendar.
    where.push(`(EXISTS (
      SELECT 1 FROM calendars cal JOIN calendar_sections cs ON cs.calendar_id = cal.id
      WHERE cal.id = ? AND s.term_id = cal.term_id AND cs.crn = s.crn)
    OR NOT EXISTS (
      SELECT 1 FROM calendars cal
      JOIN calendar_sections cs ON cs.calendar_id = cal.id
      JOIN sections s2 ON s2.term_id = cal.term_id AND s2.crn = cs.crn
      JOIN meetings m2 ON m2.section_id = s2.id
      JOIN meetings m ON m.section_id = s.id
      WHERE cal.id = ? AND s.term_id = cal.term_id AND s2.id <> s.id
        AND (m.day_mask & m2.day_mask) <> 0 AND m.start_min < m2.end_min AND m2.start_min < m.end_min))`);
    params.push(excludeConflictsWith, excludeConflictsWith);
  }
  return { where, params };
}

function courseConditions(filters: SearchFilters, sections: Sql): Sql {
  const where: string[] = [];
  const params: SqlParam[] = [];
  if (filters.term) {
    where.push("c.term_id = (SELECT id FROM terms WHERE code = ?)");
    params.push(filters.term);
  }
  if (filters.subjects?.length) {
    where.push(`c.subject IN (${placeholders(filters.subjects.length)})`);
    params.push(...filters.subjects);
  }
  if (filters.levels?.length) {
    where.push(`c.level IN (${placeholders(filters.levels.length)})`);
    params.push(...filters.levels);
  }
  if (filters.creditHours?.min !== undefined) {
    where.push("c.credit_max >= ?");
    params.push(filters.creditHours.min);
  }
  if (filters.creditHours?.max !== undefined) {
    where.push("c.credit_min <= ?");
    params.push(filters.creditHours.max);
  }
  if (filters.genEd?.length) {
    where.push(
      `EXISTS (SELECT 1 FROM course_gen_eds cg JOIN gen_eds g ON g.id = cg.gen_ed_id WHERE cg.course_id = c.id AND g.code IN (${placeholders(filters.genEd.length)}))`,
    );
    params.push(...filters.genEd);
  }
  if (sections.where.length) {
    where.push(
      `EXISTS (SELECT 1 FROM sections s WHERE s.course_id = c.id AND ${sections.where.join(" AND ")})`,
    );
    params.push(...sections.params);
  }
  return { where, params };
}

/** Every keyword token must match (prefix for words, exact for CJK bigrams); relevance sums field weights. */
function keywordJoin(keyword: string | undefined): { sql: string; params: SqlParam[] } | undefined {
  const tokens = [...new Set(tokenize(keyword ?? ""))].slice(0, 16);
  if (tokens.length === 0) return undefined;
  const parts = tokens.map((token) =>
    isCjkToken(token) && [...token].length > 1
      ? "SELECT course_id, MAX(weight) AS w FROM course_tokens WHERE token = ? GROUP BY course_id"
      : "SELECT course_id, MAX(weight) AS w FROM course_tokens WHERE token LIKE ? GROUP BY course_id",
  );
  return {
    sql: `JOIN (SELECT course_id, SUM(w) AS relevance FROM (${parts.join(" UNION ALL ")}) matched
           GROUP BY course_id HAVING COUNT(*) = ${tokens.length}) kw ON kw.course_id = c.id`,
    params: tokens.map((token) => (isCjkToken(token) && [...token].length > 1 ? token : `${token}%`)),
  };
}

type Column = { expr: string; alias: string; desc?: boolean };

function sortColumns(sort: SortName, hasKeyword: boolean): Column[] {
  const tail: Column[] = [
    { expr: "c.subject", alias: "k_subject" },
    { expr: "c.number", alias: "k_number" },
    { expr: "c.id", alias: "k_id" },
  ];
  if (sort === "credits") return [{ expr: "c.credit_min", alias: "k_credits" }, ...tail];
  if (sort === "relevance" && hasKeyword)
    return [{ expr: "kw.relevance", alias: "k_relevance", desc: true }, ...tail];
  return tail;
}

/** (a, b, c) strictly after (x, y, z) in the sort order, spelled out so both MySQL and MariaDB use indexes. */
function keysetCondition(columns: Column[], after: SortKey): Sql {
  const params: SqlParam[] = [];
  const build = (i: number): string => {
    const col = columns[i] as Column;
    const op = col.desc ? "<" : ">";
    params.push(after[i] as SqlParam);
    if (i === columns.length - 1) return `${col.expr} ${op} ?`;
    const head = `${col.expr} ${op} ?`;
    params.push(after[i] as SqlParam);
    return `(${head} OR (${col.expr} = ? AND ${build(i + 1)}))`;
  };
  return { where: [build(0)], params };
}

export class CatalogRepository {
  constructor(private readonly pool: Pool) {}

  /** One page of matching course ids in sort order, plus the key of the last one. */
  async findCoursePage(
    query: CoursePageQuery,
  ): Promise<{ ids: number[]; last: SortKey | undefined; more: boolean }> {
    const sections = sectionConditions(query.filters, query.excludeConflictsWith);
    const courses = courseConditions(query.filters, sections);
    const keyword = keywordJoin(query.filters.keyword);
    const columns = sortColumns(query.sort, keyword !== undefined);
    if (query.after) {
      if (query.after.length !== columns.length) throw new RangeError("cursor does not fit this sort");
      const keyset = keysetCondition(columns, query.after);
      courses.where.push(...keyset.where);
      courses.params.push(...keyset.params);
    }
    const sql = `SELECT ${columns.map((col) => `${col.expr} AS ${col.alias}`).join(", ")}
      FROM courses c ${keyword?.sql ?? ""}
      ${courses.where.length ? `WHERE ${courses.where.join(" AND ")}` : ""}
      ORDER BY ${columns.map((col) => `${col.expr}${col.desc ? " DESC" : ""}`).join(", ")}
      LIMIT ${query.limit + 1}`;
    const [rows] = (await this.pool.execute(sql, [
      ...(keyword?.params ?? []),
      ...courses.params,
    ])) as unknown as [Record<string, string | number>[]];
    const page = rows.slice(0, query.limit);
    const lastRow = page.at(-1);
    return {
      ids: page.map((row) => Number(row.k_id)),
      last: lastRow ? columns.map((col) => lastRow[col.alias] as string | number) : undefined,
      more: rows.length > query.limit,
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
        `SELECT c.id, t.code AS term, c.subject, c.number, c.title, c.description, c.credit_min, c.credit_max,
           c.cross_listed,
           (SELECT GROUP_CONCAT(g.code ORDER BY g.code SEPARATOR ',') FROM course_gen_eds cg
              JOIN gen_eds g ON g.id = cg.gen_ed_id WHERE cg.course_id = c.id) AS gen_eds
         FROM courses c JOIN terms t ON t.id = c.term_id WHERE c.id IN (${inList})`,
        ids,
      ),
      this.pool.execute(
        `SELECT s.id, s.course_id, s.crn, s.section_code, s.status, s.part_of_term,
           (SELECT GROUP_CONCAT(i.name ORDER BY si.seq SEPARATOR '${SEP}') FROM section_instructors si
              JOIN instructors i ON i.id = si.instructor_id WHERE si.section_id = s.id) AS instructors,
           m.type_code, m.day_mask, m.start_min, m.end_min, m.building, m.room
         FROM sections s JOIN meetings m ON m.section_id = s.id
         WHERE s.course_id IN (${inList}) ${sections.where.map((w) => `AND ${w}`).join(" ")}
         ORDER BY s.course_id, s.section_code, s.crn, m.seq`,
        [...ids, ...sections.params],
      ),
    ])) as unknown as [[CourseRow[]], [SectionRow[]]];

    const byCourse = new Map<number, SectionDto[]>();
    let current: SectionDto | undefined;
    let currentId = -1;
    for (const row of sectionRows) {
      const meeting = {
        type: row.type_code,
        days: daysFromMask(row.day_mask),
        start: clock(row.start_min),
        end: clock(row.end_min),
        building: row.building,
        room: row.room,
      };
      if (row.id !== currentId) {
        currentId = row.id;
        current = {
          crn: row.crn,
          section: row.section_code,
          ...meeting,
          instructors: row.instructors ? row.instructors.split(SEP) : [],
          status: row.status,
          partOfTerm: row.part_of_term,
          meetings: [],
          inCalendar: false,
          conflicts: [],
        };
        const list = byCourse.get(row.course_id) ?? [];
        list.push(current);
        byCourse.set(row.course_id, list);
      }
      current?.meetings.push(meeting);
    }
    const courses = new Map(
      courseRows.map((row) => [
        row.id,
        {
          id: row.id,
          term: row.term,
          subject: row.subject,
          number: row.number,
          title: row.title,
          description: row.description,
          creditHours: { min: row.credit_min, max: row.credit_max },
          genEd: row.gen_eds ? row.gen_eds.split(",") : [],
          crossListed: row.cross_listed ? row.cross_listed.split(",") : [],
          sections: byCourse.get(row.id) ?? [],
        } satisfies CourseDto,
      ]),
    );
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
    { code: string; year: number; season: string; courses: number; sections: number }[]
  > {
    const [rows] = (await this.pool.execute(
      `SELECT t.code, t.year, t.season,
         (SELECT COUNT(*) FROM courses c WHERE c.term_id = t.id) AS courses,
         (SELECT COUNT(*) FROM sections s WHERE s.term_id = t.id) AS sections
       FROM terms t ORDER BY t.code DESC`,
    )) as unknown as [{ code: string; year: number; season: string; courses: number; sections: number }[]];
    return rows.map((row) => ({ ...row, courses: Number(row.courses), sections: Number(row.sections) }));
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

interface CourseRow {
  id: number;
  term: string;
  subject: string;
  number: string;
  title: string;
  description: string;
  credit_min: number;
  credit_max: number;
  cross_listed: string;
  gen_eds: string | null;
}

interface SectionRow {
  id: number;
  course_id: number;
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
}
