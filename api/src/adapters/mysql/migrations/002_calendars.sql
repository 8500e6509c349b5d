-- Personal timetables. Entries keep the CRN (not a section row id) so a re-import never drops them.
CREATE TABLE calendars (
  id CHAR(26) NOT NULL PRIMARY KEY,
  term_id INT UNSIGNED NOT NULL,
  name VARCHAR(100) NOT NULL DEFAULT '',
  token_hash CHAR(64) NOT NULL,
  revision INT UNSIGNED NOT NULL DEFAULT 0,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT calendars_term FOREIGN KEY (term_id) REFERENCES terms (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE calendar_sections (
  calendar_id CHAR(26) NOT NULL,
  crn VARCHAR(10) NOT NULL,
  added_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (calendar_id, crn),
  CONSTRAINT calendar_sections_calendar FOREIGN KEY (calendar_id) REFERENCES calendars (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
