// What the vector ranking embeds for a question: its typos corrected against the catalog, and (beside a
// lexical ranking) the words the best lexical matches' titles share, which the question lacks.
import { isCjkToken, tokenize } from "../../catalog/tokenize.js";
import { fieldTerms, isStopToken, stem } from "./text-analysis.js";

/**
 * The text with each Latin word the catalog does not have replaced by the catalog word it was most
 * likely meant as ("machne lerning" -> "machine learning"): a hashing embedder reads a misspelt word
 * as an unknown feature, not as the word. Stopwords and words without a correction stay as written.
 */
export function correctTypos(text: string, correction: (word: string) => string | undefined): string {
  return text.replace(/\b[a-z]+\b/g, (word) => (isStopToken(word) ? word : (correction(word) ?? word)));
}

/** How many of the best lexical matches' titles are read, and in how many a word must appear. */
export const FEEDBACK_TITLES = 3;
export const FEEDBACK_MIN_TITLES = 2;

const isFeedbackWord = (token: string) => !isCjkToken(token) && !/\d/.test(token) && !isStopToken(token);

/**
 * Pseudo-relevance feedback from titles: the words that at least FEEDBACK_MIN_TITLES of `titles`
 * share besides every term of the question (titles lacking one are not read), in order of first
 * appearance. A Japanese question whose best matches are "... Machine Learning (機械学習)" gains
 * "machine learning", which the hashing embedder cannot get from 機械学習; titles that say only part
 * of the question would pull the vector ranking towards their other words.
 */
export function feedbackWords(question: string, titles: string[]): string[] {
  const asked = new Set(fieldTerms(question));
  if (asked.size === 0) return [];
  const counts = new Map<string, number>();
  for (const title of titles.slice(0, FEEDBACK_TITLES)) {
    const tokens = tokenize(title);
    const terms = new Set(fieldTerms(tokens));
    if (![...asked].every((term) => terms.has(term))) continue;
    const words = new Set(tokens.filter((t) => isFeedbackWord(t) && !asked.has(stem(t))));
    for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return [...counts].filter(([, n]) => n >= FEEDBACK_MIN_TITLES).map(([word]) => word);
}
