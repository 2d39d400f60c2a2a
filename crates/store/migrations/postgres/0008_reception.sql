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
    created_at      TIMESTAMPTZ NOT NULL,
    called_at       TIMESTAMPTZ,
    started_at      TIMESTAMPTZ,
    finished_at     TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ NOT NULL,
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
CREATE FUNCTION reception_visits_check_transition() RETURNS trigger AS $$
BEGIN
    IF OLD.status <> NEW.status AND (OLD.status || '>' || NEW.status) NOT IN (
        'waiting>called', 'waiting>cancelled',
        'called>in_consultation', 'called>waiting', 'called>no_show', 'called>cancelled',
        'in_consultation>completed', 'in_consultation>waiting',
        'no_show>waiting') THEN
        RAISE EXCEPTION 'reception_illegal_transition' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'reception_illegal_transition';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER reception_visits_status_transition BEFORE UPDATE OF status ON reception_visits
    FOR EACH ROW EXECUTE FUNCTION reception_visits_check_transition();

-- What happened in one department's queue, in order: the lobby board and the patients' live
-- views replay from here (SSE `Last-Event-ID` = id). Numbers only: no patient id, no name.
CREATE TABLE reception_events (
    id           BIGSERIAL PRIMARY KEY,
    hospital_id  TEXT NOT NULL,
    department   TEXT NOT NULL,
    day          TEXT NOT NULL,
    visit_id     TEXT NOT NULL,
    label        TEXT NOT NULL,
    status       TEXT NOT NULL,
    doctor_id    TEXT,
    calls        INTEGER NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX reception_events_queue ON reception_events (hospital_id, department, id);

-- The waiting room: work (a check-in) stored durably and answered 202 with a ticket, done
-- later by a worker in `seq` order; the work and the outcome commit together.
CREATE TABLE admission_tickets (
    seq             BIGSERIAL PRIMARY KEY,
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
    created_at      TIMESTAMPTZ NOT NULL,
    done_at         TIMESTAMPTZ
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
