-- Doctor schedules and appointments. The booking invariants live here, not in callers:
--   * a slot never holds more active appointments than its capacity (slot_seats.taken <= capacity,
--     changed only by the conditional upsert in docde-store's booking module);
--   * a patient never holds two active appointments overlapping in time (trigger below);
--   * an appointment's status only moves along the legal transitions (trigger below).
-- Slot times are Unix seconds (UTC) on both backends, so ranges compare as integers.

-- How a hospital confirms online bookings.
ALTER TABLE hospitals ADD COLUMN booking_mode TEXT NOT NULL DEFAULT 'auto_confirm'
    CHECK (booking_mode IN ('auto_confirm', 'doctor_approval'));

-- A doctor's whole schedule (weekly rules, breaks, exceptions, booking policy) as one JSON
-- document, validated by docde-domain before it is written; `version` guards concurrent edits.
CREATE TABLE doctor_schedules (
    doctor_id   TEXT PRIMARY KEY REFERENCES doctors (id),
    definition  TEXT NOT NULL,
    version     INTEGER NOT NULL,
    updated_at  TEXT NOT NULL,
    updated_by  TEXT REFERENCES users (id)
);

-- Seats taken per slot. A row appears with the slot's first booking; `taken` counts active
-- appointments and the CHECK is the last line of defence behind the conditional upsert.
CREATE TABLE slot_seats (
    doctor_id  TEXT NOT NULL REFERENCES doctors (id),
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    capacity   INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 100),
    taken      INTEGER NOT NULL CHECK (taken >= 0),
    PRIMARY KEY (doctor_id, starts_at),
    CONSTRAINT slot_seats_capacity CHECK (taken <= capacity)
);

CREATE TABLE appointments (
    id                TEXT PRIMARY KEY,
    hospital_id       TEXT NOT NULL REFERENCES hospitals (id),
    doctor_id         TEXT NOT NULL REFERENCES doctors (id),
    patient_id        TEXT NOT NULL REFERENCES users (id),
    starts_at         INTEGER NOT NULL,
    ends_at           INTEGER NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('requested', 'booked', 'denied', 'cancelled',
                                                      'checked_in', 'completed', 'no_show')),
    -- Free text from the patient; never logged.
    reason            TEXT NOT NULL,
    -- Denial or cancellation reason, and who cancelled (patient or staff).
    status_reason     TEXT,
    changed_by        TEXT REFERENCES users (id),
    idempotency_key   TEXT,
    -- SHA-256 of the request the key was first used with: a key re-used for another request is refused.
    request_hash      TEXT,
    rescheduled_from  TEXT REFERENCES appointments (id),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE UNIQUE INDEX appointments_idempotency ON appointments (patient_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX appointments_patient ON appointments (patient_id, starts_at);
CREATE INDEX appointments_doctor ON appointments (doctor_id, starts_at);

-- No two active appointments of one patient overlap. PostgreSQL uses an exclusion constraint;
-- SQLite has one writer, so a check inside the inserting statement cannot race.
CREATE TRIGGER appointments_patient_overlap_insert BEFORE INSERT ON appointments
WHEN NEW.status IN ('requested', 'booked', 'checked_in')
BEGIN
    SELECT RAISE(ABORT, 'appointments_patient_overlap')
    WHERE EXISTS (SELECT 1 FROM appointments a
                  WHERE a.patient_id = NEW.patient_id
                    AND a.status IN ('requested', 'booked', 'checked_in')
                    AND a.starts_at < NEW.ends_at AND a.ends_at > NEW.starts_at);
END;

-- Only the legal transitions (docde_domain::schedule::ALL_TRANSITIONS); a status never returns
-- to active, so the overlap check on insert is enough.
CREATE TRIGGER appointments_status_transition BEFORE UPDATE OF status ON appointments
WHEN OLD.status <> NEW.status AND (OLD.status || '>' || NEW.status) NOT IN (
    'requested>booked', 'requested>denied', 'requested>cancelled',
    'booked>checked_in', 'booked>cancelled', 'booked>no_show',
    'checked_in>completed', 'checked_in>no_show')
BEGIN
    SELECT RAISE(ABORT, 'appointments_illegal_transition');
END;

-- What happened to a patient's appointments, in order: the live channel replays from here
-- (SSE `Last-Event-ID` = id), so a client that was away misses nothing.
CREATE TABLE appointment_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id      TEXT NOT NULL,
    appointment_id  TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX appointment_events_patient ON appointment_events (patient_id, id);

-- The rush admission queue: a booking request stored durably and answered 202 with a ticket,
-- booked later by a worker in `seq` order. The booking and the ticket's outcome are written
-- in one transaction, so a ticket is processed exactly once even if an instance dies.
CREATE TABLE booking_tickets (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT NOT NULL UNIQUE,
    patient_id       TEXT NOT NULL REFERENCES users (id),
    appointment_id   TEXT NOT NULL,
    hospital_id      TEXT NOT NULL,
    doctor_id        TEXT NOT NULL,
    starts_at        INTEGER NOT NULL,
    ends_at          INTEGER NOT NULL,
    capacity         INTEGER NOT NULL,
    booking_status   TEXT NOT NULL,
    reason           TEXT NOT NULL,
    idempotency_key  TEXT,
    request_hash     TEXT,
    email_to         TEXT,
    email_subject    TEXT,
    email_body       TEXT,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'done')),
    -- HTTP status the booking would have had (201, 200, 409, …) and its problem code.
    outcome_status   INTEGER,
    outcome_code     TEXT,
    created_at       TEXT NOT NULL,
    done_at          TEXT
);
CREATE INDEX booking_tickets_queued ON booking_tickets (seq) WHERE status = 'queued';
CREATE UNIQUE INDEX booking_tickets_idempotency ON booking_tickets (patient_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- How far the queue has been served: a ticket's position is its seq minus this.
CREATE TABLE booking_queue (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    served  INTEGER NOT NULL
);
INSERT INTO booking_queue (id, served) VALUES (1, 0);
