-- Catalog: terms, courses, sections, meetings, instructors, gen-ed attributes and the keyword index.
-- Written for both MySQL 8.0 and MariaDB 10.11 (explicit collations, no vendor-only types).
CREATE TABLE terms (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  code VARCHAR(16) NOT NULL,
  year SMALLINT NOT NULL,
  season VARCHAR(16) NOT NULL,
  checksum CHAR(64) NOT NULL DEFAULT '',
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY terms_code (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE courses (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  term_id INT UNSIGNED NOT NULL,
  subject VARCHAR(12) NOT NULL,
  number VARCHAR(12) NOT NULL,
  level SMALLINT NOT NULL,
  title VARCHAR(255) NOT NULL,
  description TEXT NOT NULL,
  credit_min DECIMAL(4,1) NOT NULL,
  credit_max DECIMAL(4,1) NOT NULL,
  cross_listed VARCHAR(255) NOT NULL DEFAULT '',
  UNIQUE KEY courses_term_subject_number (term_id, subject, number),
  KEY courses_subject_number (subject, number, id),
  KEY courses_level (level),
  KEY courses_credits (credit_min, credit_max),
  CONSTRAINT courses_term FOREIGN KEY (term_id) REFERENCES terms (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE gen_eds (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  code VARCHAR(64) NOT NULL,
  name VARCHAR(128) NOT NULL,
  UNIQUE KEY gen_eds_code (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE course_gen_eds (
  course_id INT UNSIGNED NOT NULL,
  gen_ed_id INT UNSIGNED NOT NULL,
  PRIMARY KEY (course_id, gen_ed_id),
  KEY course_gen_eds_gen_ed (gen_ed_id, course_id),
  CONSTRAINT course_gen_eds_course FOREIGN KEY (course_id) REFERENCES courses (id) ON DELETE CASCADE,
  CONSTRAINT course_gen_eds_gen_ed FOREIGN KEY (gen_ed_id) REFERENCES gen_eds (id)
) ENGINE=InnoDB;

CREATE TABLE sections (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  term_id INT UNSIGNED NOT NULL,
  course_id INT UNSIGNED NOT NULL,
  crn VARCHAR(10) NOT NULL,
  section_code VARCHAR(12) NOT NULL,
  status VARCHAR(12) NOT NULL,
  part_of_term VARCHAR(8) NOT NULL DEFAULT '',
  UNIQUE KEY sections_term_crn (term_id, crn),
  KEY sections_course (course_id, status),
  CONSTRAINT sections_course FOREIGN KEY (course_id) REFERENCES courses (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per scheduled meeting; day_mask bit 0 = Monday ... bit 6 = Sunday; 0 and NULL times = ARRANGED.
CREATE TABLE meetings (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  section_id INT UNSIGNED NOT NULL,
  seq SMALLINT NOT NULL,
  type_code VARCHAR(8) NOT NULL,
  type_name VARCHAR(64) NOT NULL,
  day_mask TINYINT UNSIGNED NOT NULL,
  start_min SMALLINT NULL,
  end_min SMALLINT NULL,
  building VARCHAR(128) NOT NULL DEFAULT '',
  room VARCHAR(32) NOT NULL DEFAULT '',
  KEY meetings_section (section_id, seq),
  KEY meetings_type (type_code, section_id),
  CONSTRAINT meetings_section FOREIGN KEY (section_id) REFERENCES sections (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE instructors (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  UNIQUE KEY instructors_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE section_instructors (
  section_id INT UNSIGNED NOT NULL,
  instructor_id INT UNSIGNED NOT NULL,
  seq SMALLINT NOT NULL,
  PRIMARY KEY (section_id, instructor_id),
  KEY section_instructors_instructor (instructor_id, section_id),
  CONSTRAINT section_instructors_section FOREIGN KEY (section_id) REFERENCES sections (id) ON DELETE CASCADE,
  CONSTRAINT section_instructors_instructor FOREIGN KEY (instructor_id) REFERENCES instructors (id)
) ENGINE=InnoDB;

-- Keyword index: our own tokens (words, CJK bigrams) so keyword search behaves the same on MySQL and
-- MariaDB, works for Japanese (MariaDB has no ngram FULLTEXT parser) and has no stopword surprises.
CREATE TABLE course_tokens (
  token VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  course_id INT UNSIGNED NOT NULL,
  weight TINYINT UNSIGNED NOT NULL,
  PRIMARY KEY (token, course_id),
  KEY course_tokens_course (course_id),
  CONSTRAINT course_tokens_course FOREIGN KEY (course_id) REFERENCES courses (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- Bumped by every import that changes data; part of every cache key.
CREATE TABLE catalog_meta (
  id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
  version BIGINT UNSIGNED NOT NULL
) ENGINE=InnoDB;
INSERT INTO catalog_meta (id, version) VALUES (1, 1);
