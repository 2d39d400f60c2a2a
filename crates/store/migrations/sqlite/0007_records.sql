-- Medical records (encrypted), reviews, and the data keys that encrypt records.
-- The invariants live here, not in callers:
--   * a visit has at most one record (partial unique indexes); amending a record adds a
--     version and moves `medical_records.version` with a conditional UPDATE; versions are
--     never updated or deleted (triggers below), so nothing written is ever destroyed;
--   * a record belongs to exactly one visit: a completed appointment now, a reception check-in
--     later (`check_in_id`, which the check-in migration guards with a trigger);
--   * a visit has at most one live review (partial unique index: an edit updates that row,
--     it never inserts a second); stars are 1–5.

-- Data keys for envelope encryption: 256 random bits each, stored only wrapped
-- (XChaCha20-Poly1305) by a master key from configuration, named by `master_key_id`.
-- `docde rotate-keys` re-wraps these rows in place; the records themselves are never rewritten.
CREATE TABLE record_keys (
    id             TEXT PRIMARY KEY,
    master_key_id  TEXT NOT NULL,
    -- base64(nonce || ciphertext || tag), bound to the key's id.
    wrapped        TEXT NOT NULL,
    -- The data key's encryption of a fixed text, checked at start-up: a wrong key stops the
    -- process instead of serving garbage.
    canary         TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    rewrapped_at   TEXT
);

CREATE TABLE medical_records (
    id              TEXT PRIMARY KEY,
    hospital_id     TEXT NOT NULL REFERENCES hospitals (id),
    patient_id      TEXT NOT NULL REFERENCES users (id),
    -- The treating doctor (directory entry) and their account, the only one that amends.
    doctor_id       TEXT NOT NULL REFERENCES doctors (id),
    author_id       TEXT NOT NULL REFERENCES users (id),
    appointment_id  TEXT REFERENCES appointments (id),
    check_in_id     TEXT,
    -- The current version (the highest in medical_record_versions).
    version         INTEGER NOT NULL CHECK (version >= 1),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    CONSTRAINT medical_records_one_visit CHECK ((appointment_id IS NULL) <> (check_in_id IS NULL))
);
CREATE UNIQUE INDEX medical_records_appointment ON medical_records (appointment_id)
    WHERE appointment_id IS NOT NULL;
CREATE UNIQUE INDEX medical_records_check_in ON medical_records (check_in_id)
    WHERE check_in_id IS NOT NULL;
CREATE INDEX medical_records_patient ON medical_records (patient_id, id);

-- Every version of every record. Text fields are sealed: `<data key id>.<base64(nonce ||
-- ciphertext || tag)>` with a fresh random nonce per value, authenticated together with
-- (record id, version, field name) so a value cannot be moved to another row or field.
CREATE TABLE medical_record_versions (
    record_id        TEXT NOT NULL REFERENCES medical_records (id),
    version          INTEGER NOT NULL CHECK (version >= 1),
    treatment_date   TEXT NOT NULL,
    description      TEXT NOT NULL,
    -- A sealed JSON array of codes; NULL when none were given.
    diagnosis_codes  TEXT,
    treatment_plan   TEXT,
    doctor_comment   TEXT,
    written_by       TEXT NOT NULL REFERENCES users (id),
    written_at       TEXT NOT NULL,
    PRIMARY KEY (record_id, version)
);

CREATE TRIGGER medical_record_versions_no_update BEFORE UPDATE ON medical_record_versions
BEGIN
    SELECT RAISE(ABORT, 'medical_records_immutable');
END;
CREATE TRIGGER medical_record_versions_no_delete BEFORE DELETE ON medical_record_versions
BEGIN
    SELECT RAISE(ABORT, 'medical_records_immutable');
END;
CREATE TRIGGER medical_records_never_deleted BEFORE DELETE ON medical_records
BEGIN
    SELECT RAISE(ABORT, 'medical_records_immutable');
END;

CREATE TABLE reviews (
    id              TEXT PRIMARY KEY,
    appointment_id  TEXT NOT NULL REFERENCES appointments (id),
    hospital_id     TEXT NOT NULL REFERENCES hospitals (id),
    doctor_id       TEXT NOT NULL REFERENCES doctors (id),
    patient_id      TEXT NOT NULL REFERENCES users (id),
    stars           INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
    body            TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
    reply           TEXT,
    replied_by      TEXT REFERENCES users (id),
    replied_at      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    -- Deleted by its author: kept for the abuse reports that point at it, hidden everywhere.
    deleted_at      TEXT
);
CREATE UNIQUE INDEX reviews_one_per_visit ON reviews (appointment_id) WHERE deleted_at IS NULL;
-- Rating summaries (GROUP BY stars) and newest-first lists read these only.
CREATE INDEX reviews_hospital_stars ON reviews (hospital_id, stars) WHERE deleted_at IS NULL;
CREATE INDEX reviews_doctor_stars ON reviews (doctor_id, stars) WHERE deleted_at IS NULL;
CREATE INDEX reviews_hospital_id ON reviews (hospital_id, id) WHERE deleted_at IS NULL;
CREATE INDEX reviews_doctor_id ON reviews (doctor_id, id) WHERE deleted_at IS NULL;

-- Abusive-content reports, for the review's hospital admins. One per reporter and review.
CREATE TABLE review_reports (
    id           TEXT PRIMARY KEY,
    review_id    TEXT NOT NULL REFERENCES reviews (id),
    hospital_id  TEXT NOT NULL REFERENCES hospitals (id),
    reporter_id  TEXT NOT NULL REFERENCES users (id),
    reason       TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    created_at   TEXT NOT NULL,
    CONSTRAINT review_reports_once UNIQUE (review_id, reporter_id)
);
CREATE INDEX review_reports_hospital ON review_reports (hospital_id, id);
