-- Terms of the generated demo catalog are marked, so that importing a real catalog can remove them and
-- clients can tell them apart (GET /v1/terms says `synthetic`).
ALTER TABLE terms ADD COLUMN synthetic TINYINT(1) NOT NULL DEFAULT 0;
