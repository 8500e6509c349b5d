// Idempotency-Key with Stripe's semantics: the first response to a key is stored (>= 24 h) and replayed;
// the same key with other parameters is refused (422), and so is one whose first request still runs (409).
import { createHash } from "node:crypto";
import type { Pool, PoolConnection, RowDataPacket } from "mysql2/promise";
import { ProblemError } from "../errors.js";

export interface StoredResponse {
  status: number;
  body: string;
  location?: string;
}

// A request that died between claiming a key and committing its work frees the key after this.
const RUNNING_LOCK_MS = 60_000;

/** Canonical JSON (sorted keys) so that the same parameters in another order are the same request. */
export function requestHash(route: string, body: unknown): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value && typeof value === "object"
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
          )
        : value;
  return createHash("sha256")
    .update(`${route}\n${JSON.stringify(canonical(body))}`)
    .digest("hex");
}

export function checkIdempotencyKey(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  if (key.length === 0 || key.length > 255 || !/^[\x21-\x7e]+$/.test(key))
    throw new ProblemError(400, "validation_failed", "Invalid header: Idempotency-Key", [
      { field: "Idempotency-Key", message: "must be 1 to 255 visible ASCII characters" },
    ]);
  return key;
}

/**
 * Runs `work` once per (owner, key): inside one transaction with the stored response, so a crash
 * leaves either nothing (the key is free again after a minute) or the work and its response together.
 */
export async function idempotent(
  pool: Pool,
  scope: { owner: string; key: string; hash: string; ttlHours: number },
  work: (conn: PoolConnection) => Promise<StoredResponse>,
): Promise<{ response: StoredResponse; replayed: boolean }> {
  const { owner, key, hash, ttlHours } = scope;
  const claimed = await claimKey(pool, owner, key, hash, ttlHours);
  if (claimed) return { response: claimed, replayed: true };
  const conn = await pool.getConnection();
  try {
    await conn.beginTransaction();
    const response = await work(conn);
    await conn.execute(
      `UPDATE idempotency_keys SET state = 'done', response_status = ?, response_body = ?, response_location = ?
       WHERE owner = ? AND idempotency_key = ?`,
      [response.status, response.body, response.location ?? null, owner, key],
    );
    await conn.commit();
    return { response, replayed: false };
  } catch (error) {
    await conn.rollback().catch(() => undefined);
    // Nothing happened: free the key so the client's retry runs (Stripe does not store such failures).
    await pool
      .execute("DELETE FROM idempotency_keys WHERE owner = ? AND idempotency_key = ? AND state = 'running'", [
        owner,
        key,
      ])
      .catch(() => undefined);
    throw error;
  } finally {
    conn.release();
  }
}

/** Takes the key for this request (undefined), or returns the stored response to replay, or refuses. */
async function claimKey(pool: Pool, owner: string, key: string, hash: string, ttlHours: number) {
  for (let round = 0; round < 3; round++) {
    try {
      await pool.execute(
        `INSERT INTO idempotency_keys (owner, idempotency_key, request_hash, state, locked_until, created_at)
         VALUES (?, ?, ?, 'running', DATE_ADD(UTC_TIMESTAMP(3), INTERVAL ? MICROSECOND), UTC_TIMESTAMP(3))`,
        [owner, key, hash, RUNNING_LOCK_MS * 1000],
      );
      return undefined;
    } catch (error) {
      if ((error as { code?: string }).code !== "ER_DUP_ENTRY") throw error;
    }
    const [rows] = await pool.execute<RowDataPacket[]>(
      `SELECT request_hash, state, response_status, response_body, response_location,
         locked_until < UTC_TIMESTAMP(3) AS abandoned,
         created_at < DATE_SUB(UTC_TIMESTAMP(3), INTERVAL ? HOUR) AS expired
       FROM idempotency_keys WHERE owner = ? AND idempotency_key = ?`,
      [ttlHours, owner, key],
    );
    const row = rows[0];
    if (!row) continue; // freed meanwhile: try to take it again
    if (Number(row.expired) === 1) {
      // Past its retention a key is new again, as with Stripe's pruning.
      await pool.execute(
        "DELETE FROM idempotency_keys WHERE owner = ? AND idempotency_key = ? AND state = 'done'",
        [owner, key],
      );
      continue;
    }
    if (row.request_hash !== hash)
      throw new ProblemError(
        422,
        "idempotency_key_reused",
        "This Idempotency-Key was used with different parameters; use a new key for a new request",
      );
    if (row.state === "done")
      return {
        status: row.response_status as number,
        body: row.response_body as string,
        location: (row.response_location as string | null) ?? undefined,
      };
    if (Number(row.abandoned) === 1) {
      await pool.execute(
        "DELETE FROM idempotency_keys WHERE owner = ? AND idempotency_key = ? AND state = 'running' AND locked_until < UTC_TIMESTAMP(3)",
        [owner, key],
      );
      continue;
    }
    throw new ProblemError(
      409,
      "idempotency_key_in_use",
      "A request with this Idempotency-Key is still being processed; retry shortly",
      undefined,
      { "Retry-After": "1" },
    );
  }
  throw new ProblemError(
    409,
    "idempotency_key_in_use",
    "This Idempotency-Key is contended; retry shortly",
    undefined,
    {
      "Retry-After": "1",
    },
  );
}

/** Housekeeping: forget keys past their retention. */
export async function pruneIdempotencyKeys(pool: Pool, ttlHours: number): Promise<number> {
  const [result] = (await pool.execute(
    "DELETE FROM idempotency_keys WHERE created_at < DATE_SUB(UTC_TIMESTAMP(3), INTERVAL ? HOUR) LIMIT 1000",
    [ttlHours],
  )) as unknown as [{ affectedRows: number }];
  return result.affectedRows;
}
