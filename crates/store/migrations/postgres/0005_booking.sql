-- Doctor schedules and appointments. The booking invariants live here, not in callers:
--   * a slot never holds more active appointments than its capacity (slot_seats.taken <= capacity,
--     changed only by the conditional upsert in docde-store's booking module);
--   * a patient never holds two active appointments overlapping in time (exclusion constraint);
--   * an appointment's status only moves along the legal transitions (trigger below).
-- Slot times are Unix seconds (UTC) on both backends, so ranges compare as integers.

-- For the exclusion constraint (equality on text inside a GiST index). A trusted extension:
-- the database owner may create it. Installed in public so per-test schemas can share it.
CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;

ALTER TABLE hospitals ADD COLUMN booking_mode TEXT NOT NULL DEFAULT 'auto_confirm'
    CHECK (booking_mode IN ('auto_confirm', 'doctor_approval'));

CREATE TABLE doctor_schedules (
    doctor_id   TEXT PRIMARY KEY REFERENCES doctors (id),
    definition  TEXT NOT NULL,
    version     BIGINT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    updated_by  TEXT REFERENCES users (id)
);

CREATE TABLE slot_seats (
    doctor_id  TEXT NOT NULL REFERENCES doctors (id),
    starts_at  BIGINT NOT NULL,
    ends_at    BIGINT NOT NULL,
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
    starts_at         BIGINT NOT NULL,
    ends_at           BIGINT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('requested', 'booked', 'denied', 'cancelled',
                                                      'checked_in', 'completed', 'no_show')),
    reason            TEXT NOT NULL,
    status_reason     TEXT,
    changed_by        TEXT REFERENCES users (id),
    idempotency_key   TEXT,
    request_hash      TEXT,
    rescheduled_from  TEXT REFERENCES appointments (id),
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    CHECK (ends_at > starts_at),
    CONSTRAINT appointments_patient_overlap EXCLUDE USING gist
        (patient_id WITH =, int8range(starts_at, ends_at) WITH &&)
        WHERE (status IN ('requested', 'booked', 'checked_in'))
);
CREATE UNIQUE INDEX appointments_idempotency ON appointments (patient_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX appointments_patient ON appointments (patient_id, starts_at);
CREATE INDEX appointments_doctor ON appointments (doctor_id, starts_at);

-- Only the legal transitions (docde_domain::schedule::ALL_TRANSITIONS).
CREATE FUNCTION appointments_check_transition() RETURNS trigger AS $$
BEGIN
    IF OLD.status <> NEW.status AND (OLD.status || '>' || NEW.status) NOT IN (
        'requested>booked', 'requested>denied', 'requested>cancelled',
        'booked>checked_in', 'booked>cancelled', 'booked>no_show',
        'checked_in>completed', 'checked_in>no_show') THEN
        RAISE EXCEPTION 'appointments_illegal_transition' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'appointments_illegal_transition';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER appointments_status_transition BEFORE UPDATE OF status ON appointments
    FOR EACH ROW EXECUTE FUNCTION appointments_check_transition();

CREATE TABLE appointment_events (
    id              BIGSERIAL PRIMARY KEY,
    patient_id      TEXT NOT NULL,
    appointment_id  TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX appointment_events_patient ON appointment_events (patient_id, id);

-- The rush admission queue: a booking request stored durably and answered 202 with a ticket,
-- booked later by a worker in `seq` order. The booking and the ticket's outcome are written
-- in one transaction, so a ticket is processed exactly once even if an instance dies.
CREATE TABLE booking_tickets (
    seq              BIGSERIAL PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    patient_id       TEXT NOT NULL REFERENCES users (id),
    appointment_id   TEXT NOT NULL,
    hospital_id      TEXT NOT NULL,
    doctor_id        TEXT NOT NULL,
    starts_at        BIGINT NOT NULL,
    ends_at          BIGINT NOT NULL,
    capacity         INTEGER NOT NULL,
    booking_status   TEXT NOT NULL,
    reason           TEXT NOT NULL,
    idempotency_key  TEXT,
    request_hash     TEXT,
    email_to         TEXT,
    email_subject    TEXT,
    email_body       TEXT,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'done')),
    outcome_status   INTEGER,
    outcome_code     TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    done_at          TIMESTAMPTZ
);
CREATE INDEX booking_tickets_queued ON booking_tickets (seq) WHERE status = 'queued';
CREATE UNIQUE INDEX booking_tickets_idempotency ON booking_tickets (patient_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TABLE booking_queue (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    served  BIGINT NOT NULL
);
INSERT INTO booking_queue (id, served) VALUES (1, 0);
