-- Ward monitoring: rooms, beds, admissions, device binding, vital samples, alarms and the ward
-- event log. The ward invariants live here, not in callers:
--   * a bed label is unique per ward; a bed holds at most one open admission and a patient at
--     most one (partial unique indexes);
--   * a device is bound to at most one bed at a time (partial unique index);
--   * a sample is stored once per (device, kind, measured_at) (primary key; ingest is
--     INSERT … ON CONFLICT DO NOTHING, so a retried batch is harmless);
--   * at most one open alarm per (admission, kind), or per (bed, kind) when nobody is
--     admitted (partial unique indexes), and an alarm only moves active → acknowledged →
--     resolved or active → resolved (trigger below);
--   * a medicine is `done` exactly when it has a delivery time (CHECK).
-- Sample times are Unix microseconds (BIGINT): compact, exact on both backends, and
-- bucketable by integer division. Other times are TIMESTAMPTZ, as elsewhere.

-- Isolation kind of a ward (NULL: not an isolation ward), and the last medicine round reset
-- applied to it (claimed with a conditional UPDATE so N instances reset once).
ALTER TABLE wards ADD COLUMN isolation TEXT
    CHECK (isolation IN ('standard', 'negative_pressure', 'positive_pressure'));
ALTER TABLE wards ADD COLUMN medication_reset_at TIMESTAMPTZ;

CREATE TABLE rooms (
    id          TEXT PRIMARY KEY,
    ward_id     TEXT NOT NULL REFERENCES wards (id),
    number      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT rooms_number_per_ward UNIQUE (ward_id, number)
);

-- `label` is docde_domain::ward::BedLabel's text (`101-1`); its room part is the room's number.
CREATE TABLE beds (
    id          TEXT PRIMARY KEY,
    ward_id     TEXT NOT NULL REFERENCES wards (id),
    room_id     TEXT NOT NULL REFERENCES rooms (id),
    label       TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT beds_label_per_ward UNIQUE (ward_id, label)
);

-- A patient's stay in one bed. A transfer closes one row and opens another in the same
-- transaction (`transferred_from` links them). `urgency`: 0 routine … 3 most urgent.
CREATE TABLE admissions (
    id                TEXT PRIMARY KEY,
    ward_id           TEXT NOT NULL REFERENCES wards (id),
    bed_id            TEXT NOT NULL REFERENCES beds (id),
    patient_id        TEXT NOT NULL REFERENCES users (id),
    admitted_at       TIMESTAMPTZ NOT NULL,
    discharged_at     TIMESTAMPTZ,
    discharge_reason  TEXT CHECK (discharge_reason IN ('discharged', 'transferred')),
    transferred_from  TEXT REFERENCES admissions (id),
    urgency           INTEGER NOT NULL DEFAULT 0 CHECK (urgency BETWEEN 0 AND 3),
    -- Free text; never logged.
    notes             TEXT NOT NULL DEFAULT '',
    CONSTRAINT admissions_discharge_after_admission
        CHECK (discharged_at IS NULL OR discharged_at >= admitted_at),
    CHECK ((discharged_at IS NULL) = (discharge_reason IS NULL))
);
CREATE UNIQUE INDEX admissions_one_open_per_bed ON admissions (bed_id)
    WHERE discharged_at IS NULL;
CREATE UNIQUE INDEX admissions_one_open_per_patient ON admissions (patient_id)
    WHERE discharged_at IS NULL;
CREATE INDEX admissions_bed_time ON admissions (bed_id, admitted_at);
CREATE INDEX admissions_ward_open ON admissions (ward_id) WHERE discharged_at IS NULL;
CREATE INDEX admissions_patient ON admissions (patient_id, admitted_at);

-- Notes and case-history entries written during an admission; only ever inserted.
CREATE TABLE admission_entries (
    id            TEXT PRIMARY KEY,
    admission_id  TEXT NOT NULL REFERENCES admissions (id),
    patient_id    TEXT NOT NULL REFERENCES users (id),
    kind          TEXT NOT NULL CHECK (kind IN ('note', 'case_history')),
    author_id     TEXT REFERENCES users (id),
    body          TEXT NOT NULL CHECK (length(trim(body)) > 0),
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX admission_entries_patient ON admission_entries (patient_id, created_at);

-- The medication plan. The delivery robot scans `qr_code`; a reset puts `done` back to `to_do`.
-- `delivered_by` is the robot (a device) or a nurse (a user): an id, not a foreign key.
CREATE TABLE medications (
    id            TEXT PRIMARY KEY,
    admission_id  TEXT NOT NULL REFERENCES admissions (id),
    ward_id       TEXT NOT NULL REFERENCES wards (id),
    name          TEXT NOT NULL,
    dose          TEXT NOT NULL,
    qr_code       TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'to_do' CHECK (status IN ('to_do', 'done')),
    delivered_at  TIMESTAMPTZ,
    delivered_by  TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT medications_qr_code_unique UNIQUE (qr_code),
    CONSTRAINT medications_done_has_time CHECK ((status = 'done') = (delivered_at IS NOT NULL))
);
CREATE INDEX medications_admission ON medications (admission_id);
CREATE INDEX medications_ward_done ON medications (ward_id) WHERE status = 'done';

-- Which bed a device served, when. Samples are attributed through this history, so a late
-- batch lands on the bed (and patient) of its measurement time, not of its arrival.
CREATE TABLE device_beds (
    id          TEXT PRIMARY KEY,
    device_id   TEXT NOT NULL REFERENCES devices (id),
    bed_id      TEXT NOT NULL REFERENCES beds (id),
    bound_at    TIMESTAMPTZ NOT NULL,
    unbound_at  TIMESTAMPTZ,
    CHECK (unbound_at IS NULL OR unbound_at >= bound_at)
);
CREATE UNIQUE INDEX device_beds_one_open_per_device ON device_beds (device_id)
    WHERE unbound_at IS NULL;
CREATE INDEX device_beds_device_time ON device_beds (device_id, bound_at);
CREATE INDEX device_beds_bed_open ON device_beds (bed_id) WHERE unbound_at IS NULL;

-- Raw samples. `value` is SampleValue::as_f64 (ACVPU as its rank, on/off as 1/0), `unit` the
-- UCUM code or NULL for unitless kinds. bed/admission/patient: who was in the device's bed at
-- `measured_at` (NULL when the device was unbound or the bed empty).
CREATE TABLE vital_samples (
    device_id     TEXT NOT NULL,
    kind          TEXT NOT NULL,
    measured_at   BIGINT NOT NULL,
    value         DOUBLE PRECISION NOT NULL,
    unit          TEXT,
    bed_id        TEXT,
    admission_id  TEXT,
    patient_id    TEXT,
    PRIMARY KEY (device_id, kind, measured_at)
);
CREATE INDEX vital_samples_patient ON vital_samples (patient_id, kind, measured_at)
    WHERE patient_id IS NOT NULL;
CREATE INDEX vital_samples_admission ON vital_samples (admission_id, kind, measured_at)
    WHERE admission_id IS NOT NULL;
CREATE INDEX vital_samples_time ON vital_samples (measured_at);

-- The newest sample per (patient, kind): the nurse-station grid and NEWS2 read this instead of
-- scanning history. Only moves forward in time (conditional upsert).
CREATE TABLE latest_vitals (
    patient_id    TEXT NOT NULL,
    kind          TEXT NOT NULL,
    measured_at   BIGINT NOT NULL,
    value         DOUBLE PRECISION NOT NULL,
    unit          TEXT,
    device_id     TEXT NOT NULL,
    admission_id  TEXT,
    bed_id        TEXT,
    PRIMARY KEY (patient_id, kind)
);

CREATE TABLE alarms (
    id                        TEXT PRIMARY KEY,
    ward_id                   TEXT NOT NULL REFERENCES wards (id),
    bed_id                    TEXT NOT NULL REFERENCES beds (id),
    admission_id              TEXT REFERENCES admissions (id),
    patient_id                TEXT REFERENCES users (id),
    device_id                 TEXT,
    kind                      TEXT NOT NULL,
    priority                  TEXT NOT NULL CHECK (priority IN ('low', 'medium', 'high')),
    status                    TEXT NOT NULL CHECK (status IN ('active', 'acknowledged', 'resolved')),
    value                     DOUBLE PRECISION,
    raised_at                 TIMESTAMPTZ NOT NULL,
    acknowledged_at           TIMESTAMPTZ,
    acknowledged_by           TEXT REFERENCES users (id),
    acknowledge_note          TEXT,
    resolved_at               TIMESTAMPTZ,
    -- NULL with a resolved_at: resolved by the system (condition cleared, discharge).
    resolved_by               TEXT REFERENCES users (id),
    -- The nurse's record of the action taken ("urgent care"); never logged.
    resolution_note           TEXT,
    escalation_level          INTEGER NOT NULL DEFAULT 0 CHECK (escalation_level BETWEEN 0 AND 255),
    next_escalation_at        TIMESTAMPTZ,
    -- Fencing token and lease of the escalation worker that claimed the alarm.
    escalation_claim          TEXT,
    escalation_claimed_until  TIMESTAMPTZ,
    updated_at                TIMESTAMPTZ NOT NULL,
    CONSTRAINT alarms_acknowledged_has_who
        CHECK (status <> 'acknowledged' OR (acknowledged_at IS NOT NULL AND acknowledged_by IS NOT NULL)),
    CONSTRAINT alarms_resolved_has_time CHECK ((status = 'resolved') = (resolved_at IS NOT NULL)),
    CONSTRAINT alarms_resolution_note_required
        CHECK (resolved_by IS NULL OR (resolution_note IS NOT NULL AND length(trim(resolution_note)) > 0)),
    -- docde_domain::ward::alarm::MAX_NOTE_CHARS.
    CONSTRAINT alarms_note_length
        CHECK (length(resolution_note) <= 2000 AND length(acknowledge_note) <= 2000)
);
CREATE UNIQUE INDEX alarms_open_per_admission ON alarms (admission_id, kind)
    WHERE status IN ('active', 'acknowledged') AND admission_id IS NOT NULL;
CREATE UNIQUE INDEX alarms_open_per_bed ON alarms (bed_id, kind)
    WHERE status IN ('active', 'acknowledged') AND admission_id IS NULL;
CREATE INDEX alarms_ward_open ON alarms (ward_id, raised_at) WHERE status IN ('active', 'acknowledged');
CREATE INDEX alarms_escalation_due ON alarms (next_escalation_at)
    WHERE status = 'active' AND next_escalation_at IS NOT NULL;
CREATE INDEX alarms_patient ON alarms (patient_id, raised_at);

-- The alarm state machine (docde_domain::ward::alarm::transition): resolved is final, and a
-- resolved alarm is the audit record of what happened, so nothing about it changes afterwards.
CREATE FUNCTION alarms_check_transition() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'resolved' OR (OLD.status <> NEW.status
        AND (OLD.status || '>' || NEW.status) NOT IN
            ('active>acknowledged', 'active>resolved', 'acknowledged>resolved')) THEN
        RAISE EXCEPTION 'alarms_illegal_transition' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'alarms_illegal_transition';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER alarms_status_transition BEFORE UPDATE ON alarms
    FOR EACH ROW EXECUTE FUNCTION alarms_check_transition();

-- What happened in a ward, in order: live streams replay from here (SSE `Last-Event-ID` = id).
-- Written in the same transaction as the change it reports. Only ever inserted (and, by
-- retention, deleted from the old end). Sequence values are taken at insert but commits may
-- finish out of order, so writers take pg_advisory_xact_lock(<ward key>) before appending
-- (docde-store's ward::events): per ward, ids then become visible in increasing order and a
-- replay after `Last-Event-ID` cannot skip a late-committing event.
CREATE TABLE ward_events (
    id            BIGSERIAL PRIMARY KEY,
    ward_id       TEXT NOT NULL,
    patient_id    TEXT,
    kind          TEXT NOT NULL CHECK (kind IN ('vitals', 'alarm', 'alarm_update', 'news2', 'device',
                                                'admission', 'medication')),
    payload       TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX ward_events_ward ON ward_events (ward_id, id);
CREATE INDEX ward_events_patient ON ward_events (patient_id, id) WHERE patient_id IS NOT NULL;

CREATE FUNCTION ward_events_refuse_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ward_events_append_only' USING ERRCODE = 'check_violation',
        CONSTRAINT = 'ward_events_append_only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ward_events_append_only BEFORE UPDATE ON ward_events
    FOR EACH ROW EXECUTE FUNCTION ward_events_refuse_update();
