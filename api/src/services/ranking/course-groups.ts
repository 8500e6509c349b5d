// One course, many rows: the same subject + number in every term it was offered, and cross-listed
// copies ("Same as EIL 460, ... See EIL 460.") in each term. Rankings score and return courses, not rows.
import type { CourseText } from "../../adapters/mysql/catalog-repository.js";

/** One catalog row as the rankings read it (see CatalogRepository.courseTexts). */
export type CourseRow = CourseText;

export type CourseKey = Pick<CourseRow, "id" | "term" | "subject" | "number">;

export interface CourseGroup {
  /** Course ids, best offering first: newest term, then the copy with the real description, then code. */
  members: number[];
  /** The row whose text stands for the course when it is scored: the newest with a real description. */
  canonical: number;
}

export interface Offerings {
  /** The same course code in other terms, newest first. */
  otherTerms: { id: number; term: string }[];
  /** The cross-listed copies in the same term. */
  crossListings: { id: number; subject: string; number: string }[];
}

const code = (row: { subject: string; number: string }) => `${row.subject} ${row.number}`;
/** A cross-listed copy whose description only points at the main one. */
export const isStub = (row: CourseRow) => row.crossListed.length > 0 && /^same as /i.test(row.description);

class DisjointSets {
  readonly #parent: Int32Array;
  constructor(size: number) {
    this.#parent = Int32Array.from({ length: size }, (_, i) => i);
  }
  find(i: number): number {
    let root = i;
    while (this.#parent[root] !== root) root = this.#parent[root] as number;
    let at = i;
    while (this.#parent[at] !== root) {
      const next = this.#parent[at] as number;
      this.#parent[at] = root;
      at = next;
    }
    return root;
  }
  union(a: number, b: number) {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.#parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}

export class CourseGroups {
  readonly groups: CourseGroup[];
  /** course id -> group index (-1: not in this snapshot). */
  readonly #groupOf: Int32Array;
  /** Only what offerings need: texts stay with the caller, which indexes them once. */
  readonly #rows = new Map<number, CourseKey>();

  constructor(rows: CourseRow[]) {
    const sorted = [...rows].sort((a, b) => a.id - b.id);
    for (const { id, term, subject, number } of sorted) this.#rows.set(id, { id, term, subject, number });
    const sets = new DisjointSets(sorted.length);
    const firstOfCode = new Map<string, number>();
    const inTerm = new Map<string, number>();
    for (const [i, row] of sorted.entries()) {
      const key = code(row);
      const first = firstOfCode.get(key);
      if (first === undefined) firstOfCode.set(key, i);
      else sets.union(first, i);
      inTerm.set(`${row.term}|${key}`, i);
    }
    for (const [i, row] of sorted.entries())
      for (const other of row.crossListed) {
        const j = inTerm.get(`${row.term}|${other.replace(/\s+/g, " ").trim()}`);
        if (j !== undefined) sets.union(i, j);
      }
    const byRoot = new Map<number, CourseRow[]>();
    for (const [i, row] of sorted.entries()) {
      const root = sets.find(i);
      const list = byRoot.get(root);
      if (list) list.push(row);
      else byRoot.set(root, [row]);
    }
    const better = (a: CourseRow, b: CourseRow) =>
      (a.term < b.term ? 1 : a.term > b.term ? -1 : 0) ||
      Number(isStub(a)) - Number(isStub(b)) ||
      code(a).localeCompare(code(b)) ||
      a.id - b.id;
    // Groups in the order of their first row id: deterministic, and stable across equal catalogs.
    this.groups = [...byRoot.values()].map((members) => {
      members.sort(better);
      const canonical = members.find((row) => !isStub(row)) ?? (members[0] as CourseRow);
      return { members: members.map((row) => row.id), canonical: canonical.id };
    });
    const maxId = sorted.at(-1)?.id ?? 0;
    this.#groupOf = new Int32Array(maxId + 1).fill(-1);
    for (const [g, group] of this.groups.entries()) for (const id of group.members) this.#groupOf[id] = g;
  }

  row(id: number): CourseKey | undefined {
    return this.#rows.get(id);
  }

  groupOf(id: number): number {
    return id >= 0 && id < this.#groupOf.length ? (this.#groupOf[id] as number) : -1;
  }

  /**
   * Groups with at least one allowed row (all groups without a filter), each with the offering to
   * show: the best allowed member (the filtered term, or the newest).
   */
  allowed(ids: readonly number[] | undefined): { mask: Uint8Array; representative: Int32Array } {
    const mask = new Uint8Array(this.groups.length);
    const representative = new Int32Array(this.groups.length).fill(-1);
    if (!ids) {
      mask.fill(1);
      for (const [g, group] of this.groups.entries()) representative[g] = group.members[0] as number;
      return { mask, representative };
    }
    const allowedIds = new Set(ids);
    for (const id of ids) {
      const g = this.groupOf(id);
      if (g < 0 || mask[g] === 1) continue;
      mask[g] = 1;
      const members = (this.groups[g] as CourseGroup).members;
      representative[g] = members.find((m) => allowedIds.has(m)) as number;
    }
    return { mask, representative };
  }

  /** The other offerings of the course that `id` (a member of group `g`) stands for. */
  offerings(g: number, id: number): Offerings {
    const shown = this.#rows.get(id);
    const group = this.groups[g];
    if (!shown || !group) return { otherTerms: [], crossListings: [] };
    const otherTerms: Offerings["otherTerms"] = [];
    const crossListings: Offerings["crossListings"] = [];
    for (const member of group.members) {
      const row = this.#rows.get(member) as CourseKey;
      if (row.id === id) continue;
      if (code(row) === code(shown)) otherTerms.push({ id: row.id, term: row.term });
      else if (row.term === shown.term)
        crossListings.push({ id: row.id, subject: row.subject, number: row.number });
    }
    return { otherTerms, crossListings };
  }

  /** Every distinct code of a group ("EIL 460", "GER 460", ...), for matching codes in questions. */
  codes(g: number): string[] {
    const group = this.groups[g];
    if (!group) return [];
    return [...new Set(group.members.map((id) => code(this.#rows.get(id) as CourseKey)))];
  }
}
