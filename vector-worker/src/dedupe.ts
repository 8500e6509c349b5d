// A course offered term after term has the same text, hence the same vector (the UIUC catalog:
// 10,805 courses, 2,496 distinct vectors). Each distinct vector is kept and scanned once, and lists
// the courses that share it; searches rank vectors, then expand each to its courses.

export interface DistinctRows {
  /** Distinct vectors, in file order (so still grouped by IVF list). */
  rows: number;
  /** Source row of each distinct row. */
  sourceOf: Int32Array;
  /** rows + 1 offsets into memberIds: the courses of row r are memberIds[members[r] .. members[r + 1]). */
  members: Uint32Array;
  /** Course ids grouped by distinct row, in file order within a row. */
  memberIds: Int32Array;
  /** nlist + 1 offsets over the distinct rows. */
  lists: Uint32Array;
}

function hashRow(words: Int32Array, from: number, to: number): number {
  let hash = 0x811c9dc5;
  for (let i = from; i < to; i++) hash = Math.imul(hash ^ (words[i] as number), 0x01000193);
  return hash;
}

function sameRow(words: Int32Array, a: number, b: number, dims: number): boolean {
  for (let j = 0; j < dims; j++) if (words[a * dims + j] !== words[b * dims + j]) return false;
  return true;
}

/**
 * Finds identical rows (bit for bit). Identical vectors are always assigned to the same IVF list,
 * so rows are compared within their list only.
 */
export function distinctRows(
  vectors: Float32Array,
  dims: number,
  ids: Int32Array,
  lists: Uint32Array,
): DistinctRows {
  const words = new Int32Array(vectors.buffer, vectors.byteOffset, vectors.length);
  const count = ids.length;
  const distinctOf = new Int32Array(count);
  const sourceOf: number[] = [];
  const listOffsets = new Uint32Array(lists.length);
  for (let list = 0; list + 1 < lists.length; list++) {
    listOffsets[list] = sourceOf.length;
    const seen = new Map<number, number[]>();
    for (let row = lists[list] as number; row < (lists[list + 1] as number); row++) {
      const hash = hashRow(words, row * dims, (row + 1) * dims);
      const candidates = seen.get(hash);
      const match = candidates?.find((d) => sameRow(words, sourceOf[d] as number, row, dims));
      if (match !== undefined) {
        distinctOf[row] = match;
        continue;
      }
      distinctOf[row] = sourceOf.length;
      if (candidates) candidates.push(sourceOf.length);
      else seen.set(hash, [sourceOf.length]);
      sourceOf.push(row);
    }
  }
  listOffsets[lists.length - 1] = sourceOf.length;

  const rows = sourceOf.length;
  const members = new Uint32Array(rows + 1);
  for (const d of distinctOf) (members[d + 1] as number)++;
  for (let r = 0; r < rows; r++) members[r + 1] = (members[r + 1] as number) + (members[r] as number);
  const cursor = members.slice(0, rows);
  const memberIds = new Int32Array(count);
  distinctOf.forEach((d, row) => {
    memberIds[(cursor[d] as number)++] = ids[row] as number;
  });
  return { rows, sourceOf: Int32Array.from(sourceOf), members, memberIds, lists: listOffsets };
}
