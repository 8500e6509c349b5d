// Distinct search bodies for the cache-miss scenario: no body repeats, so no request can be a cache hit.
import type { SubjectInTerm } from "./fixture.js";

type Filters = Record<string, unknown>;

/** Filter sets layered on a (term, subject) pair; each gives a different canonical cache key. */
const FILTERS: ((pair: SubjectInTerm) => Filters)[] = [
  () => ({}),
  () => ({ levels: [100] }),
  () => ({ levels: [200, 300] }),
  () => ({ levels: [400, 500] }),
  // Summer terms are mostly online (no fixed days): narrow day or time filters return empty pages.
  () => ({ days: ["M", "T", "W", "R", "F"] }),
  () => ({ days: ["M", "T", "W", "R"] }),
  () => ({ timeWindow: { start: "08:00", end: "13:00" } }),
  () => ({ timeWindow: { start: "09:00", end: "18:00" } }),
  (pair) => ({ keyword: pair.keyword }),
  (pair) => ({ keyword: pair.keyword, openOnly: true }),
  () => ({ openOnly: true }),
  () => ({ levels: [100, 200], days: ["M", "T", "W", "R", "F"] }),
  () => ({ creditHours: { min: 3 } }),
  () => ({ types: ["ONL", "LEC"] }),
];
// Sort and page size are part of the cache key too; crossing them in multiplies the distinct bodies.
const VARIANTS = FILTERS.flatMap((filters) =>
  ["relevance", "subject", "credits"].flatMap((sort) =>
    [20, 10, 40].map((limit) => (pair: SubjectInTerm) => ({ ...filters(pair), sort, limit })),
  ),
);

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

export interface BodySource {
  /** How many distinct bodies exist; asking for more would repeat one. */
  capacity: number;
  /** Bodies handed out so far; beyond capacity they wrap around (and the X-Cache tally would show hits). */
  used: number;
  next(): string;
}

/**
 * Request i uses pair (i mod P) and variant (i mod V). With P and V coprime the Chinese remainder
 * theorem makes the first P*V requests all different, while neighbours still differ in both subject
 * and filter shape (so the run is not 2,000 plain subject lists followed by 2,000 level filters).
 */
export function missBodies(pairs: SubjectInTerm[]): BodySource {
  const usable = [...pairs];
  while (usable.length > 1 && gcd(usable.length, VARIANTS.length) !== 1) usable.pop();
  if (usable.length === 0) throw new Error("no (term, subject) pairs in the catalog");
  const source: BodySource = {
    capacity: usable.length * VARIANTS.length,
    used: 0,
    next() {
      const i = source.used++ % source.capacity;
      const pair = usable[i % usable.length] as SubjectInTerm;
      const variant = VARIANTS[i % VARIANTS.length] as (typeof VARIANTS)[number];
      return JSON.stringify({ term: pair.term, subjects: [pair.subject], ...variant(pair) });
    },
  };
  return source;
}
