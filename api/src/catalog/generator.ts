// Deterministic synthetic catalog (seeded PRNG) for the demo and for 10k/100k-course benchmarks.
import type { CatalogCourse, CatalogFile, CatalogMeeting, CatalogSection, CatalogTerm } from "./model.js";

/** mulberry32: tiny, fast, and identical on every platform, which is all a seeded fixture needs. */
function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  return { next, int, pick };
}

const SUBJECTS: Record<string, { name: string; topics: [string, string][] }> = {
  CS: {
    name: "Computer Science",
    topics: [
      ["Data Structures", "データ構造"],
      ["Algorithms", "アルゴリズム"],
      ["Machine Learning", "機械学習"],
      ["Operating Systems", "オペレーティングシステム"],
      ["Computer Networks", "コンピュータネットワーク"],
      ["Databases", "データベース"],
      ["Computer Graphics", "コンピュータグラフィックス"],
      ["Programming Languages", "プログラミング言語"],
    ],
  },
  MATH: {
    name: "Mathematics",
    topics: [
      ["Calculus", "微分積分学"],
      ["Linear Algebra", "線形代数"],
      ["Probability", "確率論"],
      ["Number Theory", "数論"],
      ["Differential Equations", "微分方程式"],
      ["Topology", "位相幾何学"],
    ],
  },
  STAT: {
    name: "Statistics",
    topics: [
      ["Statistical Inference", "統計的推論"],
      ["Regression Analysis", "回帰分析"],
      ["Bayesian Statistics", "ベイズ統計"],
      ["Data Science", "データサイエンス"],
    ],
  },
  PHYS: {
    name: "Physics",
    topics: [
      ["Mechanics", "力学"],
      ["Electromagnetism", "電磁気学"],
      ["Quantum Physics", "量子物理学"],
      ["Thermodynamics", "熱力学"],
    ],
  },
  CHEM: {
    name: "Chemistry",
    topics: [
      ["Organic Chemistry", "有機化学"],
      ["Physical Chemistry", "物理化学"],
      ["Biochemistry", "生化学"],
    ],
  },
  ECON: {
    name: "Economics",
    topics: [
      ["Microeconomics", "ミクロ経済学"],
      ["Macroeconomics", "マクロ経済学"],
      ["Econometrics", "計量経済学"],
      ["Game Theory", "ゲーム理論"],
    ],
  },
  HIST: {
    name: "History",
    topics: [
      ["East Asian History", "東アジア史"],
      ["American History", "アメリカ史"],
      ["Medieval Europe", "中世ヨーロッパ"],
    ],
  },
  JAPN: {
    name: "Japanese",
    topics: [
      ["Elementary Japanese", "初級日本語"],
      ["Japanese Literature", "日本文学"],
      ["Japanese Culture", "日本文化"],
    ],
  },
  PSYC: {
    name: "Psychology",
    topics: [
      ["Cognitive Psychology", "認知心理学"],
      ["Social Psychology", "社会心理学"],
      ["Developmental Psychology", "発達心理学"],
    ],
  },
  MUS: {
    name: "Music",
    topics: [
      ["Music Theory", "音楽理論"],
      ["Jazz Performance", "ジャズ演奏"],
    ],
  },
  ART: {
    name: "Art",
    topics: [
      ["Drawing", "デッサン"],
      ["Digital Media", "デジタルメディア"],
    ],
  },
  ENG: {
    name: "English",
    topics: [
      ["Academic Writing", "アカデミックライティング"],
      ["Shakespeare", "シェイクスピア"],
      ["Creative Writing", "創作"],
    ],
  },
};

const PREFIXES = [
  "Introduction to",
  "Foundations of",
  "Topics in",
  "Advanced",
  "Applied",
  "Seminar in",
  "Principles of",
];
const EN_SENTENCES = [
  "A hands-on course covering the core ideas of {topic}.",
  "Students work on weekly projects applying {topic} to real problems.",
  "Emphasis on rigorous reasoning and clear communication in {field}.",
  "Includes laboratory work, team projects and a final presentation.",
  "Prerequisite: one prior course in {field} or consent of instructor.",
  "Surveys classic results and recent research in {topic}.",
];
const JA_SENTENCES = [
  "本講義では{topic}の基礎を学ぶ。",
  "演習と課題を通じて{topic}の応用力を身につける。",
  "{field}の最新の研究動向も紹介する。",
];
const GEN_EDS: { code: string; name: string }[] = [
  { code: "QR1", name: "Quantitative Reasoning I" },
  { code: "QR2", name: "Quantitative Reasoning II" },
  { code: "PS", name: "Nat Sci & Tech - Phys Sciences" },
  { code: "SS", name: "Social & Beh Sci - Soc Sci" },
  { code: "LA", name: "Humanities - Lit & Arts" },
  { code: "WCC", name: "Cultural Studies - Western" },
  { code: "NW", name: "Cultural Studies - Non-West" },
  { code: "ACP", name: "Advanced Composition" },
];
const TYPES: [string, string][] = [
  ["LEC", "Lecture"],
  ["DIS", "Discussion/Recitation"],
  ["LAB", "Laboratory"],
  ["ONL", "Online"],
  ["SEM", "Seminar"],
  ["LCD", "Lecture-Discussion"],
];
const DAY_PATTERNS = ["MWF", "TR", "MW", "T", "R", "M", "W", "F", "MTWR"];
const BUILDINGS = [
  "Siebel Center",
  "Altgeld Hall",
  "Loomis Laboratory",
  "Lincoln Hall",
  "Foreign Languages Building",
];
const SURNAMES = [
  "Tanaka",
  "Smith",
  "Garcia",
  "Kim",
  "Nguyen",
  "Müller",
  "Sato",
  "Johnson",
  "Okafor",
  "Rossi",
  "Chen",
];
const TERMS: [string, number, string][] = [
  ["2026-fa", 2026, "Fall"],
  ["2026-sp", 2026, "Spring"],
  ["2025-fa", 2025, "Fall"],
];

const clock = (minutes: number) =>
  `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;

export interface GenerateOptions {
  courses: number;
  seed: number;
  terms?: number;
}

export function generateCatalog({ courses, seed, terms = 1 }: GenerateOptions): CatalogFile {
  const random = prng(seed);
  const baseSubjects = Object.keys(SUBJECTS);
  // ~700 usable numbers per subject code: derive more codes (CSA, CSB, ...) for very large catalogs.
  const codesNeeded = Math.ceil(courses / terms / 700 / baseSubjects.length);
  const subjectCodes = baseSubjects.flatMap((code) =>
    Array.from({ length: codesNeeded }, (_, i) => (i === 0 ? code : `${code}${String.fromCharCode(64 + i)}`)),
  );
  let crn = 10000;
  const result: CatalogTerm[] = [];
  for (let t = 0; t < Math.min(terms, TERMS.length); t++) {
    const [code, year, season] = TERMS[t] as [string, number, string];
    const used = new Set<string>();
    const termCourses: CatalogCourse[] = [];
    const perTerm = Math.floor(courses / terms) + (t < courses % terms ? 1 : 0);
    for (let i = 0; i < perTerm; i++) {
      const subject = subjectCodes[i % subjectCodes.length] as string;
      const info = SUBJECTS[subject.slice(0, subject.length - (subject in SUBJECTS ? 0 : 1))] ?? SUBJECTS.CS;
      const level = random.pick([100, 100, 200, 200, 300, 400, 400, 500]);
      let number = level + random.int(0, 99);
      while (used.has(`${subject}${number}`)) number = number >= 899 ? 100 : number + 1;
      used.add(`${subject}${number}`);
      const [topic, topicJa] = random.pick(info?.topics ?? [["General Studies", "総合科目"]]);
      const japanese = random.next() < 0.15;
      const fill = (s: string) =>
        s.replace("{topic}", japanese ? topicJa : topic).replace("{field}", info?.name ?? "");
      const sentences = japanese ? JA_SENTENCES : EN_SENTENCES;
      const description = Array.from({ length: random.int(2, 4) }, () => fill(random.pick(sentences))).join(
        japanese ? "" : " ",
      );
      const creditMin = random.pick([1, 2, 3, 3, 3, 4, 4]);
      const creditMax = random.next() < 0.2 ? creditMin + random.int(1, 3) : creditMin;
      const genEds = level <= 200 && random.next() < 0.3 ? [random.pick(GEN_EDS)] : [];
      const sections: CatalogSection[] = Array.from({ length: random.int(1, 4) }, (_, s) => {
        const [typeCode, typeName] = s === 0 ? random.pick(TYPES.slice(0, 5)) : random.pick(TYPES);
        const online = typeCode === "ONL";
        const start = random.int(16, 38) * 30; // 08:00 .. 19:00
        const meeting: CatalogMeeting = {
          typeCode,
          typeName,
          days: online ? "" : random.pick(DAY_PATTERNS),
          start: online ? null : clock(start),
          end: online ? null : clock(start + random.pick([50, 80, 110])),
          building: online ? "" : random.pick(BUILDINGS),
          room: online ? "" : String(random.int(100, 4999)),
        };
        const roll = random.next();
        return {
          crn: String(crn++),
          section: `${String.fromCharCode(65 + s)}${random.int(1, 9)}`,
          status: roll < 0.8 ? "open" : roll < 0.95 ? "closed" : "inactive",
          partOfTerm: "1",
          instructors: [`${random.pick(SURNAMES)}, ${String.fromCharCode(65 + random.int(0, 25))}`],
          meetings: [meeting],
        };
      });
      termCourses.push({
        subject,
        number: String(number),
        title: `${random.pick(PREFIXES)} ${japanese ? `${topic} (${topicJa})` : topic}`,
        description,
        creditMin,
        creditMax,
        genEds,
        crossListed: [],
        sections,
      });
    }
    result.push({ code, year, season, courses: termCourses });
  }
  return { terms: result };
}
