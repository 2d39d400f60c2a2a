-- Accounts: people, devices, sessions and the audit trail.
-- Timestamps are RFC 3339 text (SQLite has no timestamp type); ids are UUIDv7 text.

-- Hospitals as far as accounts need them (staff belong to one); the directory adds the rest.
CREATE TABLE hospitals (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    time_zone   TEXT NOT NULL DEFAULT 'Asia/Seoul',
    created_at  TEXT NOT NULL,
    deleted_at  TEXT
);

-- Wards as far as accounts need them (nurses are assigned to wards); ward monitoring adds the rest.
CREATE TABLE wards (
    id           TEXT PRIMARY KEY,
    hospital_id  TEXT NOT NULL REFERENCES hospitals (id),
    name         TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX wards_hospital ON wards (hospital_id);

CREATE TABLE users (
    id               TEXT PRIMARY KEY,
    -- As typed, for display; email_key (lower-cased) is what is unique and looked up.
    email            TEXT NOT NULL,
    email_key        TEXT NOT NULL,
    -- argon2id PHC string; NULL until an invited staff member sets a password.
    password_hash    TEXT,
    role             TEXT NOT NULL CHECK (role IN ('patient', 'doctor', 'nurse', 'reception', 'hospital_admin', 'admin')),
    hospital_id      TEXT REFERENCES hospitals (id),
    employee_number  TEXT,
    name             TEXT NOT NULL,
    phone            TEXT,
    birth_date       TEXT,
    gender           TEXT CHECK (gender IN ('female', 'male', 'other')),
    address          TEXT,
    -- pending: e-mail not yet verified (patients) or invitation not yet accepted (staff).
    status           TEXT NOT NULL CHECK (status IN ('pending', 'active', 'deleted')),
    created_at       TEXT NOT NULL,
    verified_at      TEXT,
    deleted_at       TEXT,
    -- Staff belong to exactly one hospital; patients and installation admins to none.
    CONSTRAINT users_staff_hospital CHECK ((role IN ('patient', 'admin')) = (hospital_id IS NULL))
);
-- A deleted account frees its e-mail address and employee number for re-use.
CREATE UNIQUE INDEX users_email_key ON users (email_key) WHERE status <> 'deleted';
CREATE UNIQUE INDEX users_employee_number ON users (hospital_id, employee_number)
    WHERE status <> 'deleted' AND employee_number IS NOT NULL;
CREATE INDEX users_hospital ON users (hospital_id);

CREATE TABLE ward_nurses (
    ward_id  TEXT NOT NULL REFERENCES wards (id),
    user_id  TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (ward_id, user_id)
);
CREATE INDEX ward_nurses_user ON ward_nurses (user_id);

-- E-mail verification, password reset and invitation codes. Only a keyed hash is stored.
CREATE TABLE one_time_codes (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    purpose      TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password', 'invitation')),
    code_hash    TEXT NOT NULL,
    -- Wrong guesses so far; the code dies at the limit.
    attempts     INTEGER NOT NULL DEFAULT 0,
    expires_at   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    -- Set when used, or when superseded by a newer code of the same purpose.
    consumed_at  TEXT
);
CREATE INDEX one_time_codes_user ON one_time_codes (user_id, purpose);

-- One sign-in (a refresh-token family). Access tokens name their session, so revoking it
-- (logout, password change, refresh-token re-use) makes them fail at once.
CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id),
    created_at      TEXT NOT NULL,
    revoked_at      TEXT,
    revoked_reason  TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Refresh tokens are `<id>.<secret>`; only SHA-256 of the secret is stored. Each is used once:
-- refreshing marks it used and issues the next one in the same session.
CREATE TABLE refresh_tokens (
    id          TEXT PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions (id),
    token_hash  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Bedside monitors, gateways, the delivery robot. The secret is shown once; its SHA-256 is
-- kept (it is 256 random bits, so a slow hash adds nothing but ingest latency).
CREATE TABLE devices (
    id               TEXT PRIMARY KEY,
    hospital_id      TEXT NOT NULL REFERENCES hospitals (id),
    ward_id          TEXT REFERENCES wards (id),
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('bedside_monitor', 'gateway', 'delivery_robot', 'other')),
    secret_hash      TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    revoked_at       TEXT,
    last_seen_at     TEXT,
    battery_percent  INTEGER CHECK (battery_percent BETWEEN 0 AND 100)
);
CREATE INDEX devices_hospital ON devices (hospital_id);

-- Who read or changed whose data, when, from where. Rows are only ever inserted.
CREATE TABLE audit_log (
    id             TEXT PRIMARY KEY,
    at             TEXT NOT NULL,
    actor_kind     TEXT NOT NULL CHECK (actor_kind IN ('user', 'device', 'system')),
    actor_id       TEXT,
    actor_role     TEXT,
    action         TEXT NOT NULL,
    resource_type  TEXT NOT NULL,
    resource_id    TEXT,
    -- The patient whose data was touched, if any: the question "who saw my data?" is by patient.
    patient_id     TEXT,
    hospital_id    TEXT,
    client_ip      TEXT,
    request_id     TEXT
);
CREATE INDEX audit_log_patient ON audit_log (patient_id, id);
CREATE INDEX audit_log_hospital ON audit_log (hospital_id, id);
