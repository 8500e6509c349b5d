// Calendars and their entries. Tokens are stored only as SHA-256 hashes.
import type { Pool } from "mysql2/promise";

export interface CalendarRow {
  id: string;
  term: string;
  name: string;
  tokenHash: string;
  revision: number;
  createdAt: string;
}

export class CalendarRepository {
  constructor(private readonly pool: Pool) {}

  async termExists(term: string): Promise<boolean> {
    const [rows] = (await this.pool.execute("SELECT 1 FROM terms WHERE code = ?", [term])) as unknown as [
      unknown[],
    ];
    return rows.length > 0;
  }

  async create(id: string, term: string, name: string, tokenHash: string): Promise<void> {
    await this.pool.execute(
      "INSERT INTO calendars (id, term_id, name, token_hash) SELECT ?, id, ?, ? FROM terms WHERE code = ?",
      [id, name, tokenHash, term],
    );
  }

  async find(id: string): Promise<CalendarRow | undefined> {
    const [rows] = (await this.pool.execute(
      `SELECT cal.id, t.code AS term, cal.name, cal.token_hash, cal.revision, cal.created_at
       FROM calendars cal JOIN terms t ON t.id = cal.term_id WHERE cal.id = ?`,
      [id],
    )) as unknown as [
      { id: string; term: string; name: string; token_hash: string; revision: number; created_at: Date }[],
    ];
    const row = rows[0];
    return row
      ? {
          id: row.id,
          term: row.term,
          name: row.name,
          tokenHash: row.token_hash,
          revision: row.revision,
          createdAt: new Date(row.created_at).toISOString(),
        }
      : undefined;
  }

  /** Entries with the catalog's section row id when the CRN exists in the calendar's term. */
  async entries(calendarId: string): Promise<{ crn: string; courseId: number | null }[]> {
    const [rows] = (await this.pool.execute(
      `SELECT cs.crn, s.course_id FROM calendar_sections cs
       JOIN calendars cal ON cal.id = cs.calendar_id
       LEFT JOIN sections s ON s.term_id = cal.term_id AND s.crn = cs.crn
       WHERE cs.calendar_id = ? ORDER BY cs.added_at, cs.crn`,
      [calendarId],
    )) as unknown as [{ crn: string; course_id: number | null }[]];
    return rows.map((row) => ({ crn: row.crn, courseId: row.course_id }));
  }

  async sectionCourse(calendarId: string, crn: string): Promise<number | undefined> {
    const [rows] = (await this.pool.execute(
      `SELECT s.course_id FROM calendars cal JOIN sections s ON s.term_id = cal.term_id AND s.crn = ? WHERE cal.id = ?`,
      [crn, calendarId],
    )) as unknown as [{ course_id: number }[]];
    return rows[0]?.course_id;
  }

  /** Returns whether the entry was new. Bumps the revision (part of exclusion cache keys) on change. */
  async addSection(calendarId: string, crn: string): Promise<boolean> {
    const [result] = (await this.pool.execute(
      "INSERT IGNORE INTO calendar_sections (calendar_id, crn) VALUES (?, ?)",
      [calendarId, crn],
    )) as unknown as [{ affectedRows: number }];
    if (result.affectedRows > 0) await this.bump(calendarId);
    return result.affectedRows > 0;
  }

  async removeSection(calendarId: string, crn: string): Promise<boolean> {
    const [result] = (await this.pool.execute(
      "DELETE FROM calendar_sections WHERE calendar_id = ? AND crn = ?",
      [calendarId, crn],
    )) as unknown as [{ affectedRows: number }];
    if (result.affectedRows > 0) await this.bump(calendarId);
    return result.affectedRows > 0;
  }

  private async bump(calendarId: string): Promise<void> {
    await this.pool.execute("UPDATE calendars SET revision = revision + 1 WHERE id = ?", [calendarId]);
  }
}
