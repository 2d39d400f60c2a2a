-- Walk-in reception and the waiting room. The reception invariants live here, not in callers:
--   * waiting numbers are 1, 2, 3 … per (hospital, department, local day), unique and gapless:
--     each check-in takes the next one from its counter row with an upsert … RETURNING in its
--     own transaction, so a check-in that rolls back gives its number back, and concurrent
--     check-ins queue on the counter row's lock (unique index as the last line of defence);
--   * the local day is part of every key, so numbering starts again at local midnight without
--     any reset job;
--   * a patient holds at most one active visit (waiting, called, in consultation) per hospital
--     and day (partial unique index);
--   * a visit's status only moves along the legal transitions (trigger below);
--   * a waiting-room ticket is processed exactly once: its work and its outcome are written in
--     one transaction by whichever worker claimed it (FOR UPDATE SKIP LOCKED).

-- Per hospital: an optional prefix per department (`IM` gives `IM-007`).
CREATE TABLE reception_prefixes (
    hospital_id  TEXT NOT NULL REFERENCES hospitals (id),
    department   TEXT NOT NULL,
    prefix       TEXT NOT NULL CHECK (length(prefix) BETWEEN 1 AND 8),
    PRIMARY KEY (hospital_id, department)
);

-- The number and queue-order counters of one department's day. `last_order` also moves when
-- a visit is re-queued (it goes to the back of the line with a fresh order).
CREATE TABLE reception_counters (
    hospital_id  TEXT NOT NULL,
    department   TEXT NOT NULL,
    day          TEXT NOT NULL,
    last_number  BIGINT NOT NULL CHECK (last_number >= 1),
    last_order   BIGINT NOT NULL CHECK (last_order >= 1),
    PRIMARY KEY (hospital_id, department, day)
);

CREATE TABLE reception_visits (
    id              TEXT PRIMARY KEY,
    hospital_id     TEXT NOT NULL REFERENCES hospitals (id),
    department      TEXT NOT NULL,
    -- The hospital's local date of the check-in, YYYY-MM-DD.
    day             TEXT NOT NULL,
    number          BIGINT NOT NULL,
    -- The number as shown (`IM-007`), fixed at check-in.
    label           TEXT NOT NULL,
    queue_order     BIGINT NOT NULL,
    patient_id      TEXT NOT NULL REFERENCES users (id),
    doctor_id       TEXT REFERENCES doctors (id),
    appointment_id  TEXT REFERENCES appointments (id),
    status          TEXT NOT NULL CHECK (status IN ('waiting', 'called', 'in_consultation',
                                                    'completed', 'cancelled', 'no_show')),
    calls           INTEGER NOT NULL DEFAULT 0 CHECK (calls >= 0),
    checked_in_by   TEXT NOT NULL REFERENCES users (id),
    changed_by      TEXT REFERENCES users (id),
    called_by       TEXT REFERENCES doctors (id),
    created_at      TEXT NOT NULL,
    called_at       TEXT,
    started_at      TEXT,
    finished_at     TEXT,
    updated_at      TEXT NOT NULL,
    CONSTRAINT reception_visits_number UNIQUE (hospital_id, department, day, number),
    CONSTRAINT reception_visits_order UNIQUE (hospital_id, department, day, queue_order)
);
CREATE UNIQUE INDEX reception_visits_one_active ON reception_visits (patient_id, hospital_id, day)
    WHERE status IN ('waiting', 'called', 'in_consultation');
CREATE INDEX reception_visits_waiting ON reception_visits (hospital_id, department, day, queue_order)
    WHERE status = 'waiting';
CREATE INDEX reception_visits_patient ON reception_visits (patient_id, day);
CREATE INDEX reception_visits_finished ON reception_visits (hospital_id, department, finished_at)
    WHERE status = 'completed';

-- Only the legal transitions (docde_domain::reception::VisitStatus::can_move_to).
CREATE TRIGGER reception_visits_status_transition BEFORE UPDATE OF status ON reception_visits
WHEN OLD.status <> NEW.status AND (OLD.status || '>' || NEW.status) NOT IN (
    'waiting>called', 'waiting>cancelled',
    'called>in_consultation', 'called>waiting', 'called>no_show', 'called>cancelled',
    'in_consultation>completed', 'in_consultation>waiting',
    'no_show>waiting')
BEGIN
    SELECT RAISE(ABORT, 'reception_illegal_transition');
END;

-- SQLite names no index in a unique violation; these triggers name the rule (one writer, so
-- a check inside the writing statement cannot race; the unique index stays as the backstop).
CREATE TRIGGER reception_visits_one_active_insert BEFORE INSERT ON reception_visits
WHEN NEW.status IN ('waiting', 'called', 'in_consultation')
BEGIN
    SELECT RAISE(ABORT, 'reception_visits_one_active')
    WHERE EXISTS (SELECT 1 FROM reception_visits v
                  WHERE v.patient_id = NEW.patient_id AND v.hospital_id = NEW.hospital_id
                    AND v.day = NEW.day AND v.status IN ('waiting', 'called', 'in_consultation'));
END;
CREATE TRIGGER reception_visits_one_active_update BEFORE UPDATE OF status ON reception_visits
WHEN OLD.status NOT IN ('waiting', 'called', 'in_consultation')
     AND NEW.status IN ('waiting', 'called', 'in_consultation')
BEGIN
    SELECT RAISE(ABORT, 'reception_visits_one_active')
    WHERE EXISTS (SELECT 1 FROM reception_visits v
                  WHERE v.patient_id = NEW.patient_id AND v.hospital_id = NEW.hospital_id
                    AND v.day = NEW.day AND v.id <> NEW.id
                    AND v.status IN ('waiting', 'called', 'in_consultation'));
END;

-- What happened in one department's queue, in order: the lobby board and the patients' live
-- views replay from here (SSE `Last-Event-ID` = id). Numbers only: no patient id, no name.
CREATE TABLE reception_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    hospital_id  TEXT NOT NULL,
    department   TEXT NOT NULL,
    day          TEXT NOT NULL,
    visit_id     TEXT NOT NULL,
    label        TEXT NOT NULL,
    status       TEXT NOT NULL,
    doctor_id    TEXT,
    calls        INTEGER NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX reception_events_queue ON reception_events (hospital_id, department, id);

-- The waiting room: work (a check-in) stored durably and answered 202 with a ticket, done
-- later by a worker in `seq` order; the work and the outcome commit together.
CREATE TABLE admission_tickets (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    operation       TEXT NOT NULL,
    hospital_id     TEXT NOT NULL REFERENCES hospitals (id),
    owner_id        TEXT NOT NULL REFERENCES users (id),
    request         TEXT NOT NULL,
    idempotency_key TEXT,
    status          TEXT NOT NULL CHECK (status IN ('queued', 'done')),
    outcome_status  INTEGER,
    outcome_code    TEXT,
    outcome_body    TEXT,
    created_at      TEXT NOT NULL,
    done_at         TEXT
);
CREATE INDEX admission_tickets_queued ON admission_tickets (operation, seq) WHERE status = 'queued';
CREATE UNIQUE INDEX admission_tickets_idempotency ON admission_tickets (owner_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- How far each operation's line has been served: a ticket's position is its seq minus this
-- (minus the done tickets of other operations interleaved, which position() accounts for).
CREATE TABLE admission_lines (
    operation  TEXT PRIMARY KEY,
    served     BIGINT NOT NULL
);
