// The catalog as the importer, generator and JSON form see it: plain data, independent of storage.
import { z } from "zod";

export const DAY_CODES = ["M", "T", "W", "R", "F", "S", "U"] as const;
export type DayCode = (typeof DAY_CODES)[number];

/** "MWF" -> bit mask (bit 0 = Monday); the same encoding the meetings table stores. */
export function dayMask(days: string): number {
  let mask = 0;
  for (const day of days) {
    const bit = DAY_CODES.indexOf(day as DayCode);
    if (bit < 0) throw new Error(`unknown day "${day}"`);
    mask |= 1 << bit;
  }
  return mask;
}

export function daysFromMask(mask: number): string {
  return DAY_CODES.filter((_, bit) => mask & (1 << bit)).join("");
}

export function minutesToClock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

export function clockToMinutes(clock: string): number {
  const [hours, minutes] = clock.split(":").map(Number);
  return (hours ?? 0) * 60 + (minutes ?? 0);
}

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:MM");

export const catalogMeetingSchema = z.object({
  typeCode: z.string().min(1).max(8),
  typeName: z.string().max(64).default(""),
  days: z.string().regex(/^M?T?W?R?F?S?U?$/, "must be ordered day codes from MTWRFSU"),
  start: clock.nullable(),
  end: clock.nullable(),
  building: z.string().max(128).default(""),
  room: z.string().max(32).default(""),
});

export const catalogSectionSchema = z.object({
  crn: z.string().regex(/^\d{1,10}$/),
  section: z.string().max(12),
  status: z.enum(["open", "closed", "inactive"]),
  partOfTerm: z.string().max(8).default(""),
  instructors: z.array(z.string().min(1).max(128)).default([]),
  meetings: z.array(catalogMeetingSchema).min(1),
});

export const catalogCourseSchema = z.object({
  subject: z.string().regex(/^[A-Z]{2,12}$/),
  number: z.string().regex(/^\d{3}[A-Z]?$/),
  title: z.string().min(1).max(255),
  description: z.string().default(""),
  creditMin: z.number().min(0).max(99),
  creditMax: z.number().min(0).max(99),
  genEds: z
    .array(z.object({ code: z.string().min(1).max(64), name: z.string().min(1).max(128) }))
    .default([]),
  crossListed: z.array(z.string()).default([]),
  sections: z.array(catalogSectionSchema).default([]),
});

export const catalogTermSchema = z.object({
  code: z.string().regex(/^\d{4}-[a-z]{2}$/, "must look like 2025-fa"),
  year: z.number().int(),
  season: z.string().min(1).max(16),
  courses: z.array(catalogCourseSchema),
});

/** The JSON import form (also what the generator writes). */
export const catalogFileSchema = z.object({ terms: z.array(catalogTermSchema).min(1) });

export type CatalogMeeting = z.infer<typeof catalogMeetingSchema>;
export type CatalogSection = z.infer<typeof catalogSectionSchema>;
export type CatalogCourse = z.infer<typeof catalogCourseSchema>;
export type CatalogTerm = z.infer<typeof catalogTermSchema>;
export type CatalogFile = z.infer<typeof catalogFileSchema>;

export interface SkippedRow {
  file: string;
  line: number;
  reason: string;
}

/** UIUC's gen-ed category names -> their short codes; unknown categories get a slug. */
const GEN_ED_CODES: Record<string, string> = {
  "Advanced Composition": "ACP",
  "Composition I": "COMP1",
  "Cultural Studies - Non-West": "NW",
  "Cultural Studies - US Minority": "US",
  "Cultural Studies - Western": "WCC",
  "Humanities - Hist & Phil": "HP",
  "Humanities - Lit & Arts": "LA",
  "Nat Sci & Tech - Life Sciences": "LS",
  "Nat Sci & Tech - Phys Sciences": "PS",
  "Quantitative Reasoning I": "QR1",
  "Quantitative Reasoning II": "QR2",
  "Social & Beh Sci - Beh Sci": "BSC",
  "Social & Beh Sci - Soc Sci": "SS",
};

export function genEdCode(name: string): string {
  return (
    GEN_ED_CODES[name] ??
    name
      .toUpperCase()
      .replace(/&/g, "AND")
      .replace(/[^A-Z0-9]+/g, "-")
      .replace(/^-|-$/g, "")
      .slice(0, 64)
  );
}
