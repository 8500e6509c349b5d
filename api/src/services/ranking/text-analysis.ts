// How questions and course texts become lexical terms: the shared tokenizer, stopwords, question filler
// and a light English stemmer, the same on both sides so a question's words meet the catalog's.
import { isCjkToken, tokenize } from "../../catalog/tokenize.js";

// Function words and words that only say "a course, please". Content words that often sit in filler
// ("learn", "introduction") are kept: they are also words of titles ("Machine Learning").
const STOPWORDS = new Set(
  `a about above after again against all also am an and any are as at be because been before being below
  between both but by can could did do does doing down during each either etc few for from further get got
  had has have having he her here hers him his how i i'd i'll i'm i've if in into is it it's its itself just
  me more most my myself no nor not now of off on once only or other our ours out over own per please
  same she should so some such than that the their theirs them then there these they this those through
  thus to too under until up upon us very via was we were what when where which while who whom whose why
  will with within without would you your yours
  course courses class classes subject subjects want wanted wanting wanna like looking look seeking
  interested interest something anything someone recommend recommended suggest hello hi thanks thank
  offer offered offers offering taking take semester student students
  s t m d ll ve re don`
    .split(/\s+/)
    .filter(Boolean),
);

// Japanese: particles and endings are hiragana runs; these bigrams name "class", "course", "want to learn".
const CJK_STOP_TOKENS = new Set([
  "授業",
  "講義",
  "コー",
  "ース",
  "クラ",
  "ラス",
  "科目",
  "学び",
  "びた",
  "たい",
]);
const HIRAGANA_ONLY = /^[\p{Script=Hiragana}ー]+$/u;

// Leading and trailing filler of a question ("I am looking for a course about ...", "...を学びたい").
const LEADING_FILLER = [
  /^(?:hi|hello|hey)[,!.\s]+/,
  /^(?:please\s+)?(?:can|could)\s+you\s+(?:recommend|suggest|find|show)(?:\s+me)?\s+/,
  /^(?:i\s*(?:am|'m)|im)\s+(?:looking|searching)\s+for\s+/,
  /^(?:i\s*(?:am|'m)|im)\s+interested\s+in\s+/,
  /^(?:i\s+)?(?:would\s+like|want|need|wish|hope|plan)\s+to\s+(?:learn|study|take|find|understand|know)(?:\s+(?:more\s+)?about)?\s+/,
  /^(?:i\s+)?(?:would\s+like|want|need)\s+/,
  /^(?:teach\s+me|show\s+me|find\s+me|give\s+me)\s+/,
  /^(?:something|anything)\s+(?:about|on|in|covering|with)\s+/,
  /^(?:an?|any|some|the)\s+/,
  /^(?:(?:good|easy|online)\s+)?(?:course|class|seminar|lecture)s?\s+(?:about|on|in|covering|that\s+covers|that\s+teaches|teaching|where\s+i\s+(?:can\s+)?learn|for|of|with)\s+/,
  /^(?:where|how)\s+(?:can|do)\s+i\s+(?:learn|study)(?:\s+about)?\s+/,
];
const TRAILING_FILLER = [
  /\s+(?:course|class)e?s?$/,
  /(?:について|に関する|を|の)?(?:学びたい|勉強したい|知りたい|学べる|探しています|探してる|受けたい|履修したい)(?:です)?[。!！?？]*$/u,
  /(?:の|を扱う|について)?(?:授業|講義|科目|コース|クラス)(?:は|を)?(?:ありますか|を探しています|はどれ)?[。!！?？]*$/u,
];

/**
 * The question without its conversational wrapper: what the user asks about. Only whole leading or
 * trailing phrases go; words inside the topic stay (so "introduction to statistics" keeps its "to").
 */
export function focusQuestion(question: string): string {
  let text = question.normalize("NFKC").toLowerCase().trim().replace(/\s+/g, " ");
  text = text.replace(/[?!.。！？]+$/u, "").trim();
  for (let pass = 0; pass < 3; pass++) {
    const before = text;
    for (const pattern of LEADING_FILLER) text = text.replace(pattern, "");
    for (const pattern of TRAILING_FILLER) text = text.replace(pattern, "");
    text = text.trim();
    if (text === before) break;
  }
  // Stripping everything would leave nothing to rank on: then the whole question is the topic.
  return text.length > 0 ? text : question.normalize("NFKC").toLowerCase().trim();
}

// Abbreviations of the catalog's own titles ("Intro to ...", "Finance for Engineering Mgmt"), read
// as the word on both sides. Subject codes (STAT, ECON) are left alone: they match course codes.
const ABBREVIATIONS = new Map([
  ["intro", "introduction"],
  ["introductory", "introduction"],
  ["mgmt", "management"],
  ["engrg", "engineering"],
  ["atg", "accounting"],
  ["psych", "psychology"],
  ["lab", "laboratory"],
  ["labs", "laboratory"],
]);

/** The word is one of the abbreviations above (already read as its word by `stem`). */
export const hasAbbreviation = (word: string) => ABBREVIATIONS.has(word);

/**
 * Plurals and common inflections only (Porter would also merge organ/organization and
 * general/generate); looser morphology is the vector ranking's job.
 */
export function stem(word: string): string {
  const full = ABBREVIATIONS.get(word);
  if (full) return stem(full);
  if (word.length <= 3 || isCjkToken(word) || /\d/.test(word)) return word;
  let w = word;
  if (w.endsWith("ies") && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith("sses")) w = w.slice(0, -2);
  else if (w.endsWith("s") && !/(?:ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.endsWith("ied") && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (/[aeiouy].*[^aeiou](?:ing|ed)$/.test(w) && w.length > 5) {
    w = w.replace(/(?:ing|ed)$/, "");
    if (/([bdfgklmnprt])\1$/.test(w)) w = w.slice(0, -1);
  }
  if (w.endsWith("ical")) w = w.slice(0, -2);
  // environmental/environment, behavioral/behavior, structural/structure; not general, animal, total.
  else if (/(?:ment|tion|sion|ior|ur)al$/.test(w)) w = w.slice(0, -2);
  if (w.length > 4 && w.endsWith("e")) w = w.slice(0, -1);
  return w;
}

export interface QueryTerm {
  /** The stemmed term looked up in the index. */
  term: string;
  /** The word as the user wrote it (first occurrence). */
  word: string;
  /** Two neighbouring terms ("business plan"), matched only where the text has them side by side. */
  phrase?: boolean;
}

/** Neighbouring Latin terms of a field, as phrase terms ("business plan"); CJK bigrams already are. */
export function phraseTerms(terms: string[]): string[] {
  const phrases: string[] = [];
  for (let i = 0; i + 1 < terms.length; i++) {
    const a = terms[i] as string;
    const b = terms[i + 1] as string;
    if (!isCjkToken(a) && !isCjkToken(b)) phrases.push(`${a} ${b}`);
  }
  return phrases;
}

export function isStopToken(token: string): boolean {
  if (STOPWORDS.has(token)) return true;
  if (!isCjkToken(token)) return false;
  return CJK_STOP_TOKENS.has(token) || HIRAGANA_ONLY.test(token);
}

/**
 * Index side: every token of a field (its text, or tokens already read), stemmed; stopwords are kept
 * out of the index too. `words` collects the words seen (word -> term), against which typos are
 * corrected.
 */
export function fieldTerms(text: string | string[], words?: Map<string, string>): string[] {
  const terms: string[] = [];
  for (const token of typeof text === "string" ? tokenize(text) : text) {
    if (isStopToken(token)) continue;
    const term = stem(token);
    terms.push(term);
    words?.set(token, term);
  }
  return terms;
}

/**
 * Query side: the focused question's distinct terms, in order, with the words they came from, then
 * the phrases of neighbouring terms.
 */
export function queryTerms(question: string, max = 16): QueryTerm[] {
  const seen = new Set<string>();
  const terms: QueryTerm[] = [];
  const sequence: string[] = [];
  for (const token of tokenize(focusQuestion(question))) {
    if (isStopToken(token)) continue;
    const term = stem(token);
    sequence.push(term);
    if (seen.has(term) || terms.length === max) continue;
    seen.add(term);
    terms.push({ term, word: token });
  }
  const phrases = [...new Set(phraseTerms(sequence))].slice(0, 30 - terms.length);
  return [...terms, ...phrases.map((phrase) => ({ term: phrase, word: phrase, phrase: true }))];
}
