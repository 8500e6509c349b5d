// Time-overlap rules shared by calendar conflict lists and search marks (the SQL exclusion mirrors them).
import type { MeetingDto } from "../contracts/search.js";

export interface TimedSection {
  crn: string;
  meetings: Pick<MeetingDto, "days" | "start" | "end">[];
}

/** Two meetings clash when they share a day and their [start, end) times overlap; ARRANGED never clashes. */
export function meetingsOverlap(
  a: TimedSection["meetings"][number],
  b: TimedSection["meetings"][number],
): boolean {
  if (!a.start || !a.end || !b.start || !b.end) return false;
  if (![...a.days].some((day) => b.days.includes(day))) return false;
  return a.start < b.end && b.start < a.end;
}

export function sectionsOverlap(a: TimedSection, b: TimedSection): boolean {
  return a.meetings.some((ma) => b.meetings.some((mb) => meetingsOverlap(ma, mb)));
}

/** CRNs of `others` (excluding the section itself) that clash with `section`. */
export function conflictingCrns(section: TimedSection, others: TimedSection[]): string[] {
  return others
    .filter((other) => other.crn !== section.crn && sectionsOverlap(section, other))
    .map((o) => o.crn);
}
