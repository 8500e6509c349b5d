// Query sets and filters for the vector benchmark: short title-like questions and seeded allowed-id subsets.
import type { LocalEmbedder } from "@kogi/shared/embedding/local";
import type { CourseText } from "./vector-catalogs.js";

/** mulberry32, as the api's catalog generator uses: deterministic on every platform. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The phrasings vector-worker/test/search.test.ts uses: how users type a course they are after.
const ASKS = ["a course on ", "intro to ", "", "classes about "];

/** Query i of a titleQueries() set is phrased like this (for recall by phrasing). */
export const phrasingOf = (i: number) => (ASKS[i % ASKS.length] as string).trim() || "bare title";

export interface QuerySet {
  texts: string[];
  vectors: Float32Array[];
}

/**
 * `count` questions built from course titles spread over the catalog, skipping every title the build
 * calibrated nprobe with (calibrationTitles takes every floor(n/200)-th course) and repeating none, so
 * the recall measured here is not the calibration's own sample.
 */
export async function titleQueries(
  courses: CourseText[],
  calibration: Set<string>,
  embedder: LocalEmbedder,
  count = 200,
  seed = 7,
): Promise<QuerySet> {
  const random = prng(seed);
  const seen = new Set(calibration);
  const texts: string[] = [];
  // A random permutation visits the whole catalog, so queries are not all from its first terms.
  const order = shuffled(Int32Array.from(courses.keys()), random);
  for (const index of order) {
    const title = (courses[index] as CourseText).title.toLowerCase();
    if (seen.has(title)) continue;
    seen.add(title);
    texts.push(`${ASKS[texts.length % ASKS.length]}${title}`);
    if (texts.length === count) break;
  }
  return { texts, vectors: await embedder.embed(texts) };
}

function shuffled(values: Int32Array, random: () => number): Int32Array {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = values[i] as number;
    values[i] = values[j] as number;
    values[j] = tmp;
  }
  return values;
}

/** A seeded random subset of `fraction` of the ids, ascending (as the api would send them). */
export function randomSubset(ids: Int32Array, size: number, seed: number): Int32Array {
  const picked = shuffled(Int32Array.from(ids), prng(seed)).slice(0, Math.min(size, ids.length));
  return picked.sort();
}

export interface FilterScenario {
  name: string;
  /** Allowed ids, or undefined for an unfiltered search. */
  allowed?: Int32Array;
}

export function filterScenarios(ids: Int32Array): FilterScenario[] {
  return [
    { name: "unfiltered" },
    ...[0.01, 0.1, 0.5].map((fraction, i) => ({
      name: `${fraction * 100}% filter`,
      allowed: randomSubset(ids, Math.round(ids.length * fraction), 100 + i),
    })),
  ];
}
