-- Video jobs (D-ID talks): MySQL is their store of record; Redis only coordinates slots and wake-ups.
-- Times are UTC DATETIME(3) written with UTC_TIMESTAMP(3), so leases use the database's one clock.
CREATE TABLE video_jobs (
  id CHAR(30) NOT NULL PRIMARY KEY,
  owner CHAR(64) NOT NULL,
  status VARCHAR(16) NOT NULL,
  priority TINYINT UNSIGNED NOT NULL,
  request TEXT NOT NULL,
  webhook_url VARCHAR(2048) NULL,
  talk_id VARCHAR(64) NULL,
  talk_status VARCHAR(16) NULL,
  result_url TEXT NULL,
  result_expires_at DATETIME(3) NULL,
  duration_seconds DOUBLE NULL,
  error_code VARCHAR(64) NULL,
  error_detail VARCHAR(1000) NULL,
  attempts INT UNSIGNED NOT NULL DEFAULT 0,
  lease_owner VARCHAR(64) NULL,
  lease_until DATETIME(3) NULL,
  next_poll_ms INT UNSIGNED NOT NULL DEFAULT 0,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  submitted_at DATETIME(3) NULL,
  finished_at DATETIME(3) NULL,
  notify_state VARCHAR(8) NOT NULL DEFAULT 'none',
  notify_attempts INT UNSIGNED NOT NULL DEFAULT 0,
  notify_next_at DATETIME(3) NULL,
  notify_lease_until DATETIME(3) NULL,
  UNIQUE KEY video_jobs_talk (talk_id),
  KEY video_jobs_due (status, priority, created_at),
  KEY video_jobs_owner (owner, created_at),
  KEY video_jobs_notify (notify_state, notify_next_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Idempotency-Key records (Stripe's semantics): the first response, replayed for the same key and body.
CREATE TABLE idempotency_keys (
  owner CHAR(64) NOT NULL,
  idempotency_key VARCHAR(255) NOT NULL,
  request_hash CHAR(64) NOT NULL,
  state VARCHAR(8) NOT NULL,
  locked_until DATETIME(3) NOT NULL,
  response_status SMALLINT UNSIGNED NULL,
  response_body MEDIUMTEXT NULL,
  response_location VARCHAR(255) NULL,
  created_at DATETIME(3) NOT NULL,
  PRIMARY KEY (owner, idempotency_key),
  KEY idempotency_keys_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Files uploaded to D-ID for later jobs; an id is usable only by the key that uploaded it.
CREATE TABLE video_uploads (
  id VARCHAR(64) NOT NULL,
  kind VARCHAR(8) NOT NULL,
  owner CHAR(64) NOT NULL,
  url TEXT NOT NULL,
  mime_type VARCHAR(100) NOT NULL,
  size_bytes INT UNSIGNED NOT NULL,
  created_at DATETIME(3) NOT NULL,
  PRIMARY KEY (kind, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
