// Keyword tokens shared by the importer (what is indexed) and search (what is looked up).
// Words are lower-cased NFKC runs of letters/digits; CJK runs become overlapping bigrams, since
// Japanese has no spaces and MariaDB ships no ngram parser.
const WORD = /[\p{L}\p{N}]+/gu;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;
const MAX_TOKEN = 64;

export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const [word] of text.normalize("NFKC").toLowerCase().matchAll(WORD)) {
    // Most words hold no CJK at all: one test instead of one per character.
    if (!CJK.test(word)) {
      tokens.push(word.slice(0, MAX_TOKEN));
      continue;
    }
    let latin = "";
    const flushLatin = () => {
      if (latin) tokens.push(latin.slice(0, MAX_TOKEN));
      latin = "";
    };
    const chars = [...word];
    let cjkRun: string[] = [];
    const flushCjk = () => {
      if (cjkRun.length === 1) tokens.push(cjkRun[0] as string);
      for (let i = 0; i + 1 < cjkRun.length; i++) tokens.push(`${cjkRun[i]}${cjkRun[i + 1]}`);
      cjkRun = [];
    };
    for (const char of chars) {
      if (CJK.test(char)) {
        flushLatin();
        cjkRun.push(char);
      } else {
        flushCjk();
        latin += char;
      }
    }
    flushLatin();
    flushCjk();
  }
  return tokens;
}

export function isCjkToken(token: string): boolean {
  return CJK.test(token);
}

/** token -> weight for one course: the strongest field it appears in wins. */
export function courseTokenWeights(course: {
  subject: string;
  number: string;
  title: string;
  description: string;
}): Map<string, number> {
  const weights = new Map<string, number>();
  const add = (text: string, weight: number) => {
    for (const token of tokenize(text)) weights.set(token, Math.max(weights.get(token) ?? 0, weight));
  };
  add(course.description, 1);
  add(course.title, 3);
  add(`${course.subject} ${course.number}`, 5);
  return weights;
}
