// The search filters as SQL: conditions on courses and sections, the keyword join, sort columns and the
// keyset after a cursor. Shared by every catalog read that filters (search pages, vector allow-lists).
import { dayMask } from "../../catalog/model.js";
import { isCjkToken, tokenize } from "../../catalog/tokenize.js";
import type { SearchFilters } from "../../contracts/search.js";

export type SortName = "relevance" | "subject" | "credits";
/** Position after the last row of a page, in the order of the sort's columns. */
export type SortKey = (string | number)[];

export type SqlParam = string | number;

export interface Sql {
  where: string[];
  params: SqlParam[];
}

export const placeholders = (n: number) => Array.from({ length: n }, () => "?").join(", ");
const escapeLike = (text: string) => text.replace(/[\\%_]/g, (char) => `\\${char}`);

/** Conditions on a section row aliased `s`; empty when the filters say nothing about sections. */
export function sectionConditions(filters: SearchFilters, excludeConflictsWith: string | undefined): Sql {
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

export function courseConditions(filters: SearchFilters, sections: Sql): Sql {
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
export function keywordJoin(keyword: string | undefined): { sql: string; params: SqlParam[] } | undefined {
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

export type Column = { expr: string; alias: string; desc?: boolean };

export function sortColumns(sort: SortName, hasKeyword: boolean): Column[] {
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
export function keysetCondition(columns: Column[], after: SortKey): Sql {
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
