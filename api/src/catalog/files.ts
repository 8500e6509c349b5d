// Reads a catalog file of either supported form (UIUC CSV or the JSON form) into terms.
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { type CatalogTerm, catalogFileSchema, type SkippedRow } from "./model.js";
import { CatalogFileError, parseUiucCsv } from "./uiuc-csv.js";

export { CatalogFileError };

export function parseCatalogJson(text: string, file: string): CatalogTerm[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new CatalogFileError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = catalogFileSchema.safeParse(data);
  if (!parsed.success) {
    const first = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new CatalogFileError(`${file}: ${first.join("; ")}`);
  }
  return parsed.data.terms;
}

export async function readCatalogFile(
  path: string,
): Promise<{ terms: CatalogTerm[]; skipped: SkippedRow[] }> {
  const text = await readFile(path, "utf8");
  const file = basename(path);
  if (path.endsWith(".json")) return { terms: parseCatalogJson(text, file), skipped: [] };
  if (path.endsWith(".csv")) return parseUiucCsv(text, file);
  throw new CatalogFileError(`${file}: unknown catalog format (expected .csv or .json)`);
}
