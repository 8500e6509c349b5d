// Abbreviated title words read as the word they stand for: UIUC titles are cut to 30 characters
// ("Elementary Organic Chem II", "Human Anat & Physiol Lab I"), while the description spells it out.
import { isCjkToken, tokenize } from "../../catalog/tokenize.js";
import { hasAbbreviation } from "./text-analysis.js";

/** A title word used as a word in more descriptions than this is a word, not an abbreviation. */
const MAX_WORD_DESCRIPTIONS = 2;
const MIN_LENGTH = 3;
const isDigits = (token: string) => /^\d+$/.test(token);
const isLatinWord = (token: string) => /^[a-z]+$/.test(token) && !isCjkToken(token);

/**
 * Word -> number of descriptions using it as a word. "chem" in "Prerequisite: CHEM 232" is a course
 * code, not a word, so a token followed by a number is not counted.
 */
function descriptionWordCounts(descriptions: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const description of descriptions) {
    const tokens = tokenize(description);
    const words = new Set<string>();
    for (const [i, token] of tokens.entries()) if (!isDigits(tokens[i + 1] ?? "")) words.add(token);
    for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return counts;
}

export class TitleAbbreviations {
  readonly #wordCounts: Map<string, number>;

  /** `descriptions`: the catalog's descriptions, one per course. */
  constructor(descriptions: string[]) {
    this.#wordCounts = descriptionWordCounts(descriptions);
  }

  /**
   * The title's tokens, each abbreviation replaced by the longer word of the course's own description
   * that starts with it (the most frequent there): a title word almost no description uses as a word.
   */
  expandTitle(title: string, description: string): string[] {
    const tokens = tokenize(title);
    let longer: Map<string, number> | undefined;
    return tokens.map((token) => {
      if (token.length < MIN_LENGTH || !isLatinWord(token) || hasAbbreviation(token)) return token;
      if ((this.#wordCounts.get(token) ?? 0) > MAX_WORD_DESCRIPTIONS) return token;
      longer ??= countWords(description);
      let best: string | undefined;
      let bestCount = 0;
      for (const [word, count] of longer)
        if (word.length > token.length && word.startsWith(token) && count > bestCount) {
          best = word;
          bestCount = count;
        }
      return best ?? token;
    });
  }
}

function countWords(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const token of tokenize(text)) counts.set(token, (counts.get(token) ?? 0) + 1);
  return counts;
}
