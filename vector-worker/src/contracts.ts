// Request and response contracts of the sidecar's search API.
import { z } from "zod";

export const searchRequestSchema = z
  .object({
    vector: z.array(z.number()).min(1).optional(),
    /** Compact form of `vector`: base64 of little-endian float32 values (1536 dims = 8 KB instead of ~30 KB of JSON). */
    vectorBase64: z.string().min(1).max(200_000).optional(),
    text: z.string().min(1).max(4000).optional(),
    /** With `text`: also return the query vector the sidecar embedded, for the caller's embedding cache. */
    returnVector: z.boolean().optional(),
    k: z.number().int().min(1).max(100).default(9),
    ids: z
      .array(
        z
          .number()
          .int()
          .min(1)
          .max(2 ** 31 - 1),
      )
      .max(200_000)
      .optional(),
    /** Compact form of `ids`: base64 of little-endian int32 values (10k ids = 53 KB instead of ~60 KB of JSON, parsed ~20x faster). */
    idsBase64: z.string().max(2_000_000).optional(),
    /** Search the allowed courses the index knows instead of refusing the others (an index older than the catalog). */
    skipUnknownIds: z.boolean().optional(),
  })
  .strict()
  .refine((r) => [r.vector, r.vectorBase64, r.text].filter((v) => v !== undefined).length === 1, {
    message: "give exactly one of vector, vectorBase64 or text",
    path: ["vector"],
  })
  .refine((r) => r.ids === undefined || r.idsBase64 === undefined, {
    message: "give ids or idsBase64, not both",
    path: ["idsBase64"],
  });

export type SearchRequest = z.infer<typeof searchRequestSchema>;

export const embedRequestSchema = z.object({ texts: z.array(z.string().max(4000)).min(1).max(64) }).strict();

export interface SearchResponse {
  results: { id: number; score: number }[];
  plan: { strategy: "exact" | "ivf"; nprobe: number; scanned: number; fellBack: boolean; ms: number };
  /** unknownIds: allowed ids left out because the index lacks them (with skipUnknownIds). */
  index: { version: string; catalogVersion: number; unknownIds: number };
  /** `text` with `returnVector`: the query vector (base64 float32), the embedder's identity and its time. */
  embedded?: { vectorBase64: string; fingerprint: string; ms: number };
}

export function encodeIds(ids: ArrayLike<number>): string {
  const array = Int32Array.from(ids as ArrayLike<number>);
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString("base64");
}
