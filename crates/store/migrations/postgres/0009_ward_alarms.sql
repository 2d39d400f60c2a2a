-- Ward alarms, second part: threshold overrides per ward and patient, and the last NEWS2
-- announced per admission.
--
-- Alarm threshold overrides per ward and per admission (docde_domain::ward::alarm::
-- ThresholdOverrides as JSON text: only the fields that differ; absent fields inherit from the
-- ward, then from the defaults). One row per ward or admission; a PUT replaces the row, and
-- `{}` means "inherit everything". The server checks the merged limits before writing, so
-- what is stored never crosses a low limit over its high partner for the ward's defaults.
-- A transfer copies the patient's row to the new admission in its own transaction.
CREATE TABLE ward_thresholds (
    ward_id     TEXT PRIMARY KEY REFERENCES wards (id),
    overrides   TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    updated_by  TEXT REFERENCES users (id)
);

CREATE TABLE admission_thresholds (
    admission_id  TEXT PRIMARY KEY REFERENCES admissions (id),
    overrides     TEXT NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    updated_by    TEXT REFERENCES users (id)
);

-- The newest NEWS2 of each admission as last announced on the ward stream: the server writes
-- a `news2` event only when this row's total or band changes (a conditional upsert in the
-- event's own transaction), so N instances scoring the same vitals announce a change once,
-- and an older score arriving late never overwrites a newer one.
CREATE TABLE admission_news2 (
    admission_id  TEXT PRIMARY KEY REFERENCES admissions (id),
    total         INTEGER NOT NULL CHECK (total BETWEEN 0 AND 20),
    band          TEXT NOT NULL CHECK (band IN ('low', 'low_medium', 'medium', 'high')),
    scored_at     TIMESTAMPTZ NOT NULL
);
