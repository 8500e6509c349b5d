// Writes parsed catalog terms into MySQL: an idempotent upsert of each file's terms in one transaction.
import { createHash } from "node:crypto";
import type { Pool, PoolConnection } from "mysql2/promise";
import { type CatalogTerm, clockToMinutes, dayMask } from "./model.js";
import { courseTokenWeights } from "./tokenize.js";

export interface TermImportResult {
  term: string;
  courses: number;
  sections: number;
  changed: boolean;
  /** A synthetic demo term this import removed (a real catalog replaces the demo). */
  removedSynthetic?: true;
  /** A synthetic demo term kept because calendars use it (users' data is never deleted by an import). */
  keptSynthetic?: { calendars: number };
}

export type ImportProgress = (event: { term: string; step: string; done: number; total: number }) => void;

const BATCH = 2000;

function checksum(term: CatalogTerm): string {
  return createHash("sha256").update(JSON.stringify(term)).digest("hex");
}

async function insertBatches(
  conn: PoolConnection,
  sql: string,
  rows: unknown[][],
  onBatch?: (n: number) => void,
) {
  for (let i = 0; i < rows.length; i += BATCH) {
    const batch = rows.slice(i, i + BATCH);
    // `query` (not `execute`): mysql2 expands the nested array into a multi-row VALUES list.
    await conn.query(sql, [batch]);
    onBatch?.(batch.length);
  }
}

async function deleteIds(conn: PoolConnection, table: string, ids: number[]) {
  for (let i = 0; i < ids.length; i += BATCH)
    await conn.query(`DELETE FROM ${table} WHERE id IN (?)`, [ids.slice(i, i + BATCH)]);
}

async function idMap(conn: PoolConnection, sql: string, params: unknown[]): Promise<Map<string, number>> {
  const [rows] = (await conn.query(sql, params)) as unknown as [{ id: number; k: string }[]];
  return new Map(rows.map((row) => [row.k, row.id]));
}

async function writeTerm(
  conn: PoolConnection,
  term: CatalogTerm,
  sum: string,
  synthetic: boolean,
  progress?: ImportProgress,
) {
  const report = (step: string, done: number, total: number) =>
    progress?.({ term: term.code, step, done, total });
  await conn.query(
    `INSERT INTO terms (code, year, season, synthetic) VALUES (?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE year = VALUES(year), season = VALUES(season), synthetic = VALUES(synthetic)`,
    [term.code, term.year, term.season, synthetic],
  );
  const [[{ id: termId }]] = (await conn.query("SELECT id FROM terms WHERE code = ?", [
    term.code,
  ])) as unknown as [[{ id: number }]];

  const courseKey = (subject: string, number: string) => `${subject} ${number}`;
  report("courses", 0, term.courses.length);
  await insertBatches(
    conn,
    `INSERT INTO courses (term_id, subject, number, level, title, description, credit_min, credit_max, cross_listed)
     VALUES ? ON DUPLICATE KEY UPDATE level = VALUES(level), title = VALUES(title), description = VALUES(description),
       credit_min = VALUES(credit_min), credit_max = VALUES(credit_max), cross_listed = VALUES(cross_listed)`,
    term.courses.map((c) => [
      termId,
      c.subject,
      c.number,
      Math.floor(Number.parseInt(c.number, 10) / 100) * 100,
      c.title,
      c.description,
      c.creditMin,
      c.creditMax,
      c.crossListed.join(",").slice(0, 255),
    ]),
  );
  const courseIds = await idMap(
    conn,
    "SELECT id, CONCAT(subject, ' ', number) AS k FROM courses WHERE term_id = ?",
    [termId],
  );
  const wantedCourses = new Set(term.courses.map((c) => courseKey(c.subject, c.number)));
  await deleteIds(
    conn,
    "courses",
    [...courseIds].filter(([key]) => !wantedCourses.has(key)).map(([, id]) => id),
  );
  const courseId = (c: { subject: string; number: string }) =>
    courseIds.get(courseKey(c.subject, c.number)) as number;

  const sections = term.courses.flatMap((course) => course.sections.map((section) => ({ course, section })));
  report("sections", 0, sections.length);
  await insertBatches(
    conn,
    `INSERT INTO sections (term_id, course_id, crn, section_code, status, part_of_term) VALUES ?
     ON DUPLICATE KEY UPDATE course_id = VALUES(course_id), section_code = VALUES(section_code),
       status = VALUES(status), part_of_term = VALUES(part_of_term)`,
    sections.map(({ course, section }) => [
      termId,
      courseId(course),
      section.crn,
      section.section,
      section.status,
      section.partOfTerm,
    ]),
  );
  const sectionIds = await idMap(conn, "SELECT id, crn AS k FROM sections WHERE term_id = ?", [termId]);
  const wantedCrns = new Set(sections.map(({ section }) => section.crn));
  await deleteIds(
    conn,
    "sections",
    [...sectionIds].filter(([crn]) => !wantedCrns.has(crn)).map(([, id]) => id),
  );
  const sectionId = (crn: string) => sectionIds.get(crn) as number;

  // Child rows carry no identity of their own: replace them wholesale for the term.
  await conn.query("DELETE m FROM meetings m JOIN sections s ON s.id = m.section_id WHERE s.term_id = ?", [
    termId,
  ]);
  await insertBatches(
    conn,
    "INSERT INTO meetings (section_id, seq, type_code, type_name, day_mask, start_min, end_min, building, room) VALUES ?",
    sections.flatMap(({ section }) =>
      section.meetings.map((m, seq) => [
        sectionId(section.crn),
        seq,
        m.typeCode,
        m.typeName,
        m.start === null ? 0 : dayMask(m.days),
        m.start === null ? null : clockToMinutes(m.start),
        m.end === null ? null : clockToMinutes(m.end),
        m.building,
        m.room,
      ]),
    ),
  );

  const names = [...new Set(sections.flatMap(({ section }) => section.instructors))];
  if (names.length)
    await insertBatches(
      conn,
      "INSERT IGNORE INTO instructors (name) VALUES ?",
      names.map((n) => [n]),
    );
  const instructorIds = new Map<string, number>();
  for (let i = 0; i < names.length; i += BATCH) {
    const ids = await idMap(conn, "SELECT id, name AS k FROM instructors WHERE name IN (?)", [
      names.slice(i, i + BATCH),
    ]);
    for (const [name, id] of ids) instructorIds.set(name, id);
  }
  await conn.query(
    "DELETE si FROM section_instructors si JOIN sections s ON s.id = si.section_id WHERE s.term_id = ?",
    [termId],
  );
  await insertBatches(
    conn,
    "INSERT IGNORE INTO section_instructors (section_id, instructor_id, seq) VALUES ?",
    sections.flatMap(({ section }) =>
      section.instructors.map((name, seq) => [sectionId(section.crn), instructorIds.get(name), seq]),
    ),
  );

  const genEds = new Map(term.courses.flatMap((c) => c.genEds.map((g) => [g.code, g.name] as const)));
  if (genEds.size)
    await insertBatches(
      conn,
      "INSERT INTO gen_eds (code, name) VALUES ? ON DUPLICATE KEY UPDATE name = VALUES(name)",
      [...genEds],
    );
  const genEdIds = genEds.size
    ? await idMap(conn, "SELECT id, code AS k FROM gen_eds WHERE code IN (?)", [[...genEds.keys()]])
    : new Map<string, number>();
  await conn.query(
    "DELETE cg FROM course_gen_eds cg JOIN courses c ON c.id = cg.course_id WHERE c.term_id = ?",
    [termId],
  );
  await insertBatches(
    conn,
    "INSERT IGNORE INTO course_gen_eds (course_id, gen_ed_id) VALUES ?",
    term.courses.flatMap((c) => c.genEds.map((g) => [courseId(c), genEdIds.get(g.code)])),
  );

  await conn.query("DELETE t FROM course_tokens t JOIN courses c ON c.id = t.course_id WHERE c.term_id = ?", [
    termId,
  ]);
  const tokenRows = term.courses.flatMap((c) =>
    [...courseTokenWeights(c)].map(([token, weight]) => [token, courseId(c), weight]),
  );
  report("keywords", 0, tokenRows.length);
  let indexed = 0;
  await insertBatches(
    conn,
    "INSERT INTO course_tokens (token, course_id, weight) VALUES ?",
    tokenRows,
    (n) => {
      indexed += n;
      report("keywords", indexed, tokenRows.length);
    },
  );
  await conn.query("UPDATE terms SET checksum = ? WHERE id = ?", [sum, termId]);
}

/** The tables an import writes, whose optimizer statistics it changes. */
const CATALOG_TABLES = [
  "terms",
  "courses",
  "gen_eds",
  "course_gen_eds",
  "sections",
  "meetings",
  "instructors",
  "section_instructors",
  "course_tokens",
];

/**
 * InnoDB recalculates the statistics of a table that has grown from empty only in the background; until
 * then the optimizer plans for the empty table (the first UIUC-wide instructor search after an import
 * took 13 s instead of 90 ms). ANALYZE TABLE settles them at once (~20 ms for UIUC).
 */
async function refreshCatalogStatistics(conn: PoolConnection): Promise<void> {
  const [rows] = (await conn.query(`ANALYZE TABLE ${CATALOG_TABLES.join(", ")}`)) as unknown as [
    { Table: string; Msg_type: string; Msg_text: string }[],
  ];
  const failed = rows.filter((row) => row.Msg_type.toLowerCase() === "error");
  if (failed.length > 0)
    throw new Error(`ANALYZE TABLE failed: ${failed.map((r) => `${r.Table}: ${r.Msg_text}`).join("; ")}`);
}

/**
 * Upserts the given terms in ONE transaction: either every term is written or none is.
 * A term whose content checksum matches the stored one is left untouched, so re-importing
 * the same file changes nothing, not even the catalog version. `synthetic` marks the generated demo
 * catalog; importing a real one removes the demo's terms in the same transaction (they are reported).
 */
export async function importTerms(
  pool: Pool,
  terms: CatalogTerm[],
  progress?: ImportProgress,
  options: { synthetic?: boolean } = {},
) {
  const synthetic = options.synthetic ?? false;
  const conn = await pool.getConnection();
  try {
    const [stored] = (await conn.query("SELECT code, checksum, synthetic FROM terms")) as unknown as [
      { code: string; checksum: string; synthetic: number }[],
    ];
    const storedSums = new Map(stored.map((row) => [row.code, `${row.checksum}/${Number(row.synthetic)}`]));
    const results: TermImportResult[] = [];
    await conn.beginTransaction();
    try {
      if (!synthetic) {
        const imported = new Set(terms.map((t) => t.code));
        for (const demo of stored.filter((row) => Number(row.synthetic) === 1 && !imported.has(row.code))) {
          const [[size]] = (await conn.query(
            `SELECT (SELECT COUNT(*) FROM courses c WHERE c.term_id = t.id) AS courses,
               (SELECT COUNT(*) FROM sections s WHERE s.term_id = t.id) AS sections,
               (SELECT COUNT(*) FROM calendars k WHERE k.term_id = t.id) AS calendars
             FROM terms t WHERE t.code = ?`,
            [demo.code],
          )) as unknown as [[{ courses: number; sections: number; calendars: number }]];
          const counts = { term: demo.code, courses: Number(size.courses), sections: Number(size.sections) };
          if (Number(size.calendars) > 0) {
            results.push({ ...counts, changed: false, keptSynthetic: { calendars: Number(size.calendars) } });
            continue;
          }
          await conn.query("DELETE FROM terms WHERE code = ?", [demo.code]);
          results.push({ ...counts, changed: true, removedSynthetic: true });
        }
      }
      for (const term of terms) {
        const sum = checksum(term);
        const changed = storedSums.get(term.code) !== `${sum}/${synthetic ? 1 : 0}`;
        if (changed) await writeTerm(conn, term, sum, synthetic, progress);
        results.push({
          term: term.code,
          courses: term.courses.length,
          sections: term.courses.reduce((n, c) => n + c.sections.length, 0),
          changed,
        });
      }
      if (results.some((r) => r.changed))
        await conn.query("UPDATE catalog_meta SET version = version + 1 WHERE id = 1");
      await conn.commit();
    } catch (error) {
      await conn.rollback();
      throw error;
    }
    // Also after an import that changed nothing: retrying an import settles the statistics.
    await refreshCatalogStatistics(conn);
    return results;
  } finally {
    conn.release();
  }
}

export async function readCatalogVersion(pool: Pool): Promise<number> {
  const [[row]] = (await pool.query("SELECT version FROM catalog_meta WHERE id = 1")) as unknown as [
    [{ version: number }],
  ];
  return Number(row?.version ?? 0);
}
