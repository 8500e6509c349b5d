// Parses UIUC Course Explorer CSV (one row per meeting of a section) into catalog terms.
import { parse } from "csv-parse/sync";
import { decodeHTML } from "entities";
import {
  type CatalogCourse,
  type CatalogMeeting,
  type CatalogSection,
  type CatalogTerm,
  genEdCode,
  minutesToClock,
  type SkippedRow,
} from "./model.js";

type Row = Record<string, string>;

const REQUIRED_COLUMNS = [
  "Year",
  "Term",
  "YearTerm",
  "Subject",
  "Number",
  "Name",
  "Description",
  "Credit Hours",
  "Degree Attributes",
  "CRN",
  "Section",
  "Status Code",
  "Part of Term",
  "Enrollment Status",
  "Type",
  "Type Code",
  "Start Time",
  "End Time",
  "Days of Week",
  "Room",
  "Building",
  "Instructors",
];

export class CatalogFileError extends Error {}

class RowError extends Error {}

const CREDITS = /^(\d*\.?\d+)\s*(?:(?:TO|OR)\s*(\d*\.?\d+))?\s*hours?\.?$/i;
const TIME = /^(\d{1,2}):(\d{2})\s*([AP]M)$/i;

export function parseCredits(text: string): { min: number; max: number } {
  const match = CREDITS.exec(text.trim());
  if (!match) throw new RowError(`unreadable credit hours "${text}"`);
  const min = Number(match[1]);
  const max = match[2] === undefined ? min : Number(match[2]);
  if (max < min) throw new RowError(`credit range "${text}" runs backwards`);
  return { min, max };
}

/** "09:00 AM" -> minutes after midnight; ARRANGED or empty -> null. */
export function parseClock(text: string): number | null {
  const value = text.trim();
  if (value === "" || value.toUpperCase() === "ARRANGED") return null;
  const match = TIME.exec(value);
  if (!match) throw new RowError(`unreadable time "${text}"`);
  const hour = Number(match[1]);
  const minute = Number(match[2]);
  if (hour < 1 || hour > 12 || minute > 59) throw new RowError(`unreadable time "${text}"`);
  return ((hour % 12) + (match[3]?.toUpperCase() === "PM" ? 12 : 0)) * 60 + minute;
}

/** "Humanities - Lit & Arts, and Cultural Studies - Western course." -> two categories. */
export function parseGenEds(text: string): { code: string; name: string }[] {
  const body = text
    .replace(/\u2013/g, "-")
    .replace(/\s*course\.?\s*$/i, "")
    .trim();
  if (!body) return [];
  return body
    .split(/,\s*(?:and\s+)?/)
    .map((name) => name.trim())
    .filter(Boolean)
    .map((name) => ({ code: genEdCode(name), name }));
}

/** "Same as AFRO 310, EPS 310, and LLS 310. See EPS 310." -> ["AFRO 310", "EPS 310", "LLS 310"]. */
export function parseCrossListed(description: string): string[] {
  const match = /^Same as (.+?)\.(?:\s|$)/.exec(description);
  if (!match?.[1]) return [];
  return [...match[1].matchAll(/\b([A-Z]{2,12}) (\d{3}[A-Z]?)\b/g)].map((m) => `${m[1]} ${m[2]}`);
}

function parseStatus(row: Row): CatalogSection["status"] {
  if (/closed|full/i.test(row["Enrollment Status"] ?? "")) return "closed";
  return row["Status Code"] === "A" ? "open" : "inactive";
}

function parseMeeting(row: Row): CatalogMeeting {
  const days = (row["Days of Week"] ?? "").trim().toUpperCase();
  if (!/^M?T?W?R?F?S?U?$/.test(days)) throw new RowError(`unreadable days "${row["Days of Week"]}"`);
  const start = parseClock(row["Start Time"] ?? "");
  const end = parseClock(row["End Time"] ?? "");
  if ((start === null) !== (end === null)) throw new RowError("start time without end time");
  if (start !== null && end !== null && end <= start) throw new RowError("end time is not after start time");
  const typeCode = (row["Type Code"] ?? "").trim();
  if (!typeCode || typeCode.length > 8) throw new RowError(`unreadable section type "${typeCode}"`);
  return {
    typeCode,
    typeName: decodeHTML(row.Type ?? "").slice(0, 64),
    days: start === null ? "" : days,
    start: start === null ? null : minutesToClock(start),
    end: end === null ? null : minutesToClock(end),
    building: decodeHTML(row.Building ?? "").slice(0, 128),
    room: decodeHTML(row.Room ?? "").slice(0, 32),
  };
}

function checkKeys(row: Row) {
  if (!/^\d{4}-[a-z]{2}$/.test(row.YearTerm ?? ""))
    throw new RowError(`unreadable YearTerm "${row.YearTerm}"`);
  if (!/^[A-Z]{2,12}$/.test(row.Subject ?? "")) throw new RowError(`unreadable Subject "${row.Subject}"`);
  if (!/^\d{3}[A-Z]?$/.test(row.Number ?? "")) throw new RowError(`unreadable Number "${row.Number}"`);
  if (!/^\d{1,10}$/.test(row.CRN ?? "")) throw new RowError(`unreadable CRN "${row.CRN}"`);
  if (!(row.Name ?? "").trim()) throw new RowError("empty course Name");
  // Some real sections have no section code; only an absurd one is refused.
  if ((row.Section ?? "").trim().length > 12) throw new RowError("unreadable Section");
}

const sameMeeting = (a: CatalogMeeting, b: CatalogMeeting) =>
  a.typeCode === b.typeCode &&
  a.days === b.days &&
  a.start === b.start &&
  a.end === b.end &&
  a.building === b.building &&
  a.room === b.room;

/**
 * Parses a whole file before anything is written: a structural CSV error throws CatalogFileError
 * (the file is refused), a row whose values cannot be used is skipped and reported with its line.
 */
export function parseUiucCsv(text: string, file: string): { terms: CatalogTerm[]; skipped: SkippedRow[] } {
  let records: { record: Row; info: { lines: number } }[];
  try {
    records = parse(text, {
      columns: true,
      info: true,
      bom: true,
      skip_empty_lines: true,
      relax_column_count: false,
    });
  } catch (error) {
    throw new CatalogFileError(`${file}: ${(error as Error).message}`);
  }
  const header = Object.keys(records[0]?.record ?? {});
  const missing = REQUIRED_COLUMNS.filter((column) => records.length > 0 && !header.includes(column));
  if (missing.length) throw new CatalogFileError(`${file}: missing columns ${missing.join(", ")}`);

  const terms = new Map<string, CatalogTerm>();
  const courses = new Map<string, CatalogCourse>();
  const sections = new Map<string, { section: CatalogSection; course: string }>();
  const skipped: SkippedRow[] = [];
  let previousEnd = 1;
  for (const { record: row, info } of records) {
    const line = previousEnd + 1;
    previousEnd = info.lines;
    try {
      checkKeys(row);
      const meeting = parseMeeting(row);
      const termCode = row.YearTerm as string;
      const courseKey = `${termCode} ${row.Subject} ${row.Number}`;
      const sectionKey = `${termCode} ${row.CRN}`;
      const known = sections.get(sectionKey);
      if (known && known.course !== courseKey)
        throw new RowError(`CRN ${row.CRN} already belongs to ${known.course}`);
      let course = courses.get(courseKey);
      if (!course) {
        const credits = parseCredits(row["Credit Hours"] ?? "");
        const description = decodeHTML(row.Description ?? "").trim();
        course = {
          subject: row.Subject as string,
          number: row.Number as string,
          title: decodeHTML(row.Name as string)
            .trim()
            .slice(0, 255),
          description,
          creditMin: credits.min,
          creditMax: credits.max,
          genEds: parseGenEds(decodeHTML(row["Degree Attributes"] ?? "")),
          crossListed: parseCrossListed(description),
          sections: [],
        };
        courses.set(courseKey, course);
        let term = terms.get(termCode);
        if (!term) {
          term = { code: termCode, year: Number(row.Year), season: (row.Term ?? "").trim(), courses: [] };
          terms.set(termCode, term);
        }
        term.courses.push(course);
      }
      const instructors = (row.Instructors ?? "")
        .split(";")
        .map((name) => decodeHTML(name).trim().slice(0, 128))
        .filter(Boolean);
      if (known) {
        const section = known.section;
        if (!section.meetings.some((m) => sameMeeting(m, meeting))) section.meetings.push(meeting);
        for (const name of instructors)
          if (!section.instructors.includes(name)) section.instructors.push(name);
      } else {
        const section: CatalogSection = {
          crn: row.CRN as string,
          section: (row.Section as string).trim(),
          status: parseStatus(row),
          partOfTerm: (row["Part of Term"] ?? "").trim().slice(0, 8),
          instructors: [...new Set(instructors)],
          meetings: [meeting],
        };
        sections.set(sectionKey, { section, course: courseKey });
        course.sections.push(section);
      }
    } catch (error) {
      if (!(error instanceof RowError)) throw error;
      skipped.push({ file, line, reason: error.message });
    }
  }
  return { terms: [...terms.values()], skipped };
}
