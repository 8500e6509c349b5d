// Video jobs, their leases and callbacks, and uploads in MySQL: the store of record for every video.
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from "mysql2/promise";

export type VideoStatus =
  | "queued"
  | "submitting"
  | "processing"
  | "done"
  | "failed"
  | "rejected"
  | "canceled";
export const ACTIVE_STATUSES: readonly VideoStatus[] = ["queued", "submitting", "processing"];
export const VIDEO_STATUSES: readonly VideoStatus[] = [
  ...ACTIVE_STATUSES,
  "done",
  "failed",
  "rejected",
  "canceled",
];

/** What the caller asked for, normalised; stored as JSON text (MariaDB's JSON is text, MySQL's is not). */
export interface VideoRequest {
  source: { url: string; uploadId?: string };
  script: { type: "text"; text: string; voice?: string } | { type: "audio"; url: string; uploadId?: string };
  config?: Record<string, unknown>;
}

export interface VideoJobRow {
  id: string;
  owner: string;
  status: VideoStatus;
  /** 0 high, 1 normal, 2 low. */
  priority: number;
  request: VideoRequest;
  webhookUrl: string | null;
  talkId: string | null;
  talkStatus: string | null;
  resultUrl: string | null;
  resultExpiresAt: Date | null;
  durationSeconds: number | null;
  errorCode: string | null;
  errorDetail: string | null;
  attempts: number;
  leaseOwner: string | null;
  createdAt: Date;
  updatedAt: Date;
  submittedAt: Date | null;
  finishedAt: Date | null;
  notifyState: "none" | "pending" | "sent" | "failed";
  notifyAttempts: number;
}

export interface Finish {
  status: "done" | "failed" | "rejected";
  talkStatus?: string;
  resultUrl?: string;
  resultExpiresAt?: Date;
  durationSeconds?: number;
  errorCode?: string;
  errorDetail?: string;
}

export interface UploadRow {
  id: string;
  kind: "image" | "audio";
  url: string;
  mimeType: string;
  sizeBytes: number;
}

const COLUMNS = `id, owner, status, priority, request, webhook_url, talk_id, talk_status, result_url,
  result_expires_at, duration_seconds, error_code, error_detail, attempts, lease_owner, created_at,
  updated_at, submitted_at, finished_at, notify_state, notify_attempts`;

const NOW = "UTC_TIMESTAMP(3)";
const later = (param = "?") => `DATE_ADD(UTC_TIMESTAMP(3), INTERVAL ${param} MICROSECOND)`;

function toJob(row: RowDataPacket): VideoJobRow {
  return {
    id: row.id,
    owner: row.owner,
    status: row.status,
    priority: row.priority,
    request: JSON.parse(row.request),
    webhookUrl: row.webhook_url,
    talkId: row.talk_id,
    talkStatus: row.talk_status,
    resultUrl: row.result_url,
    resultExpiresAt: row.result_expires_at,
    durationSeconds: row.duration_seconds,
    errorCode: row.error_code,
    errorDetail: row.error_detail,
    attempts: row.attempts,
    leaseOwner: row.lease_owner,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    submittedAt: row.submitted_at,
    finishedAt: row.finished_at,
    notifyState: row.notify_state,
    notifyAttempts: row.notify_attempts,
  };
}

export class VideoRepository {
  constructor(private readonly pool: Pool) {}

  /** Inserts a queued job; `conn` lets the idempotency record commit in the same transaction. */
  async insert(
    job: { id: string; owner: string; priority: number; request: VideoRequest; webhookUrl?: string },
    conn: Pool | PoolConnection = this.pool,
  ): Promise<void> {
    await conn.execute(
      `INSERT INTO video_jobs (id, owner, status, priority, request, webhook_url, created_at, updated_at)
       VALUES (?, ?, 'queued', ?, ?, ?, ${NOW}, ${NOW})`,
      [job.id, job.owner, job.priority, JSON.stringify(job.request), job.webhookUrl ?? null],
    );
  }

  async get(
    id: string,
    owner?: string,
    conn: Pool | PoolConnection = this.pool,
  ): Promise<VideoJobRow | undefined> {
    const [rows] = await conn.execute<RowDataPacket[]>(
      `SELECT ${COLUMNS} FROM video_jobs WHERE id = ?${owner ? " AND owner = ?" : ""}`,
      owner ? [id, owner] : [id],
    );
    return rows[0] ? toJob(rows[0]) : undefined;
  }

  async findByTalk(talkId: string, owner?: string): Promise<VideoJobRow | undefined> {
    const [rows] = await this.pool.execute<RowDataPacket[]>(
      `SELECT ${COLUMNS} FROM video_jobs WHERE talk_id = ?${owner ? " AND owner = ?" : ""}`,
      owner ? [talkId, owner] : [talkId],
    );
    return rows[0] ? toJob(rows[0]) : undefined;
  }

  /** Newest first; `before` is the (created_at, id) of the last job of the previous page. */
  async list(
    owner: string,
    options: { status?: VideoStatus; before?: { createdAt: Date; id: string }; limit: number },
  ): Promise<VideoJobRow[]> {
    const where = ["owner = ?"];
    const params: (string | Date)[] = [owner];
    if (options.status) {
      where.push("status = ?");
      params.push(options.status);
    }
    if (options.before) {
      where.push("(created_at < ? OR (created_at = ? AND id < ?))");
      params.push(options.before.createdAt, options.before.createdAt, options.before.id);
    }
    const limit = Math.max(1, Math.min(101, Math.floor(options.limit)));
    const [rows] = await this.pool.execute<RowDataPacket[]>(
      `SELECT ${COLUMNS} FROM video_jobs WHERE ${where.join(" AND ")}
       ORDER BY created_at DESC, id DESC LIMIT ${limit}`,
      params,
    );
    return rows.map(toJob);
  }

  /** Only a queued job can be canceled: once submitted, D-ID is rendering (and billing) it. */
  async cancelQueued(id: string, owner: string): Promise<boolean> {
    const [result] = await this.pool.execute<ResultSetHeader>(
      `UPDATE video_jobs SET status = 'canceled', finished_at = ${NOW}, updated_at = ${NOW},
         notify_state = IF(webhook_url IS NULL, 'none', 'pending'), notify_next_at = ${NOW}
       WHERE id = ? AND owner = ? AND status = 'queued'`,
      [id, owner],
    );
    return result.affectedRows === 1;
  }

  /** The priority of the next job a runner would claim, or undefined when nothing is due. */
  async peekDue(): Promise<number | undefined> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `(SELECT priority FROM video_jobs
          WHERE status IN ('submitting', 'processing') AND lease_until < ${NOW} ORDER BY lease_until LIMIT 1)
       UNION ALL
       (SELECT priority FROM video_jobs WHERE status = 'queued' ORDER BY priority, created_at LIMIT 1)
       LIMIT 1`,
    );
    return rows[0]?.priority;
  }

  /**
   * Claims the next job under a lease (FOR UPDATE SKIP LOCKED: replicas never wait for each other).
   * Jobs whose holder stopped renewing come first: D-ID may already be rendering them. A queued job
   * becomes `submitting` here, durably, before its POST /talks is sent.
   */
  async claim(leaseOwner: string, leaseMs: number): Promise<VideoJobRow | undefined> {
    const conn = await this.pool.getConnection();
    try {
      await conn.beginTransaction();
      let [rows] = await conn.query<RowDataPacket[]>(
        `SELECT id, status FROM video_jobs
         WHERE status IN ('submitting', 'processing') AND lease_until < ${NOW}
         ORDER BY lease_until LIMIT 1 FOR UPDATE SKIP LOCKED`,
      );
      if (!rows[0])
        [rows] = await conn.query<RowDataPacket[]>(
          `SELECT id, status FROM video_jobs WHERE status = 'queued'
           ORDER BY priority, created_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
        );
      const picked = rows[0];
      if (!picked) {
        await conn.commit();
        return undefined;
      }
      await conn.execute(
        // Assignments read the old status first (MySQL evaluates left to right; MariaDB too, or at once).
        `UPDATE video_jobs SET lease_owner = ?, lease_until = ${later()}, updated_at = ${NOW},
           submitted_at = IF(status = 'queued', ${NOW}, submitted_at),
           attempts = attempts + IF(status IN ('queued', 'submitting'), 1, 0),
           status = IF(status = 'queued', 'submitting', status)
         WHERE id = ?`,
        [leaseOwner, leaseMs * 1000, picked.id],
      );
      const [claimed] = await conn.execute<RowDataPacket[]>(
        `SELECT ${COLUMNS} FROM video_jobs WHERE id = ?`,
        [picked.id],
      );
      await conn.commit();
      return claimed[0] ? toJob(claimed[0]) : undefined;
    } catch (error) {
      await conn.rollback().catch(() => undefined);
      throw error;
    } finally {
      conn.release();
    }
  }

  /** Extends the leases of this runner's jobs; returns the ids it still holds. */
  async renewLeases(leaseOwner: string, ids: string[], leaseMs: number): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const marks = ids.map(() => "?").join(", ");
    await this.pool.execute(
      `UPDATE video_jobs SET lease_until = ${later()}
       WHERE lease_owner = ? AND id IN (${marks}) AND status IN ('submitting', 'processing')`,
      [leaseMs * 1000, leaseOwner, ...ids],
    );
    const [rows] = await this.pool.execute<RowDataPacket[]>(
      `SELECT id FROM video_jobs WHERE lease_owner = ? AND id IN (${marks})
         AND status IN ('submitting', 'processing')`,
      [leaseOwner, ...ids],
    );
    return new Set(rows.map((row) => row.id as string));
  }

  /** On shutdown: another process may take these jobs over at once instead of after the lease. */
  async releaseLeases(leaseOwner: string): Promise<void> {
    await this.pool.execute(
      `UPDATE video_jobs SET lease_until = ${NOW} WHERE lease_owner = ? AND status IN ('submitting', 'processing')`,
      [leaseOwner],
    );
  }

  /**
   * Gives the job back without finishing it: whoever claims it after `delayMs` reconciles with D-ID
   * first (attempts > 1), so a POST /talks whose outcome was unknown is never blindly sent again.
   */
  async defer(id: string, leaseOwner: string, delayMs: number): Promise<void> {
    await this.pool.execute(
      `UPDATE video_jobs SET lease_until = ${later()}, updated_at = ${NOW}
       WHERE id = ? AND lease_owner = ? AND status IN ('submitting', 'processing')`,
      [delayMs * 1000, id, leaseOwner],
    );
  }

  /** The POST /talks answered: the talk id is durable before anything else happens. False = lease lost. */
  async markProcessing(id: string, leaseOwner: string, talkId: string): Promise<boolean> {
    const [result] = await this.pool.execute<ResultSetHeader>(
      `UPDATE video_jobs SET status = 'processing', talk_id = ?, talk_status = 'created', updated_at = ${NOW}
       WHERE id = ? AND lease_owner = ? AND status IN ('submitting', 'processing')`,
      [talkId, id, leaseOwner],
    );
    return result.affectedRows === 1;
  }

  async recordTalkStatus(id: string, leaseOwner: string, talkStatus: string, nextPollMs: number) {
    await this.pool.execute(
      `UPDATE video_jobs SET talk_status = ?, next_poll_ms = ?,
         updated_at = IF(talk_status <=> ?, updated_at, ${NOW})
       WHERE id = ? AND lease_owner = ?`,
      [talkStatus, nextPollMs, talkStatus, id, leaseOwner],
    );
  }

  /** Ends a job; its caller's webhook (if any) becomes due. False = the lease was lost meanwhile. */
  async finish(id: string, leaseOwner: string, finish: Finish): Promise<boolean> {
    const [result] = await this.pool.execute<ResultSetHeader>(
      `UPDATE video_jobs SET status = ?, talk_status = COALESCE(?, talk_status), result_url = ?,
         result_expires_at = ?, duration_seconds = ?, error_code = ?, error_detail = ?,
         finished_at = ${NOW}, updated_at = ${NOW}, lease_owner = NULL, lease_until = NULL,
         notify_state = IF(webhook_url IS NULL, 'none', 'pending'), notify_next_at = ${NOW}
       WHERE id = ? AND lease_owner = ? AND status IN ('submitting', 'processing')`,
      [
        finish.status,
        finish.talkStatus ?? null,
        finish.resultUrl ?? null,
        finish.resultExpiresAt ?? null,
        finish.durationSeconds ?? null,
        finish.errorCode ?? null,
        finish.errorDetail?.slice(0, 1000) ?? null,
        id,
        leaseOwner,
      ],
    );
    return result.affectedRows === 1;
  }

  async refreshResult(id: string, resultUrl: string, expiresAt: Date): Promise<void> {
    await this.pool.execute(
      "UPDATE video_jobs SET result_url = ?, result_expires_at = ? WHERE id = ? AND status = 'done'",
      [resultUrl, expiresAt, id],
    );
  }

  /** Jobs whose caller webhook is due, each under a short lease so one process sends it. */
  async claimNotifications(leaseMs: number, limit: number): Promise<VideoJobRow[]> {
    const conn = await this.pool.getConnection();
    try {
      await conn.beginTransaction();
      const [rows] = await conn.query<RowDataPacket[]>(
        `SELECT ${COLUMNS} FROM video_jobs
         WHERE notify_state = 'pending' AND notify_next_at <= ${NOW}
           AND (notify_lease_until IS NULL OR notify_lease_until < ${NOW})
         ORDER BY notify_next_at LIMIT ${Math.floor(limit)} FOR UPDATE SKIP LOCKED`,
      );
      if (rows.length > 0)
        await conn.query(
          `UPDATE video_jobs SET notify_lease_until = ${later(String(leaseMs * 1000))}
           WHERE id IN (${rows.map(() => "?").join(", ")})`,
          rows.map((row) => row.id),
        );
      await conn.commit();
      return rows.map(toJob);
    } catch (error) {
      await conn.rollback().catch(() => undefined);
      throw error;
    } finally {
      conn.release();
    }
  }

  /** `retryInMs` undefined: delivered (`sent`) or given up (`failed`), per `state`. */
  async recordNotification(id: string, state: "sent" | "failed" | "pending", retryInMs = 0): Promise<void> {
    await this.pool.execute(
      `UPDATE video_jobs SET notify_state = ?, notify_attempts = notify_attempts + 1,
         notify_next_at = ${later()}, notify_lease_until = NULL WHERE id = ?`,
      [state, retryInMs * 1000, id],
    );
  }

  async countsByStatus(): Promise<Record<VideoStatus, number>> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      "SELECT status, COUNT(*) AS n FROM video_jobs GROUP BY status",
    );
    const counts = Object.fromEntries(VIDEO_STATUSES.map((status) => [status, 0])) as Record<
      VideoStatus,
      number
    >;
    for (const row of rows) counts[row.status as VideoStatus] = Number(row.n);
    return counts;
  }

  async oldestQueuedAgeSeconds(): Promise<number> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT TIMESTAMPDIFF(MICROSECOND, MIN(created_at), ${NOW}) / 1e6 AS age
       FROM video_jobs WHERE status = 'queued'`,
    );
    return Number(rows[0]?.age ?? 0);
  }

  async insertUpload(upload: UploadRow & { owner: string }): Promise<void> {
    await this.pool.execute(
      `INSERT INTO video_uploads (id, kind, owner, url, mime_type, size_bytes, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ${NOW})`,
      [upload.id, upload.kind, upload.owner, upload.url, upload.mimeType, upload.sizeBytes],
    );
  }

  async getUpload(kind: "image" | "audio", id: string, owner: string): Promise<UploadRow | undefined> {
    const [rows] = await this.pool.execute<RowDataPacket[]>(
      "SELECT id, kind, url, mime_type, size_bytes FROM video_uploads WHERE kind = ? AND id = ? AND owner = ?",
      [kind, id, owner],
    );
    const row = rows[0];
    return row
      ? { id: row.id, kind: row.kind, url: row.url, mimeType: row.mime_type, sizeBytes: row.size_bytes }
      : undefined;
  }
}
