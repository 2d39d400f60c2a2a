-- Ward vitals, second tier: 1-minute rollups kept long after the raw samples are swept.
--
--   * vital_rollups: one row per (admission, kind, minute) with the minute's min, max, sum and
--     count over every device of that admission. Always a recomputation from the raw samples
--     of that minute (an upsert that replaces), never an increment, so writing it twice is
--     harmless. Samples without an admission (unbound device, empty bed) are not rolled up.
--   * vital_rollup_pending: the minutes whose rollup is out of date. Ingest adds (admission,
--     kind, minute) for every new sample in the same transaction as the sample; the rollup
--     worker recomputes a pending minute and deletes its row in one transaction. A minute is
--     therefore never skipped (its row stays until a commit covers it) and a late sample for a
--     rolled-up minute simply makes it pending again.
--   * vital_rollup_state.raw_kept_from: raw samples from this instant on are all kept. The
--     retention sweep moves it forward (never past a pending minute) before deleting below it;
--     a pending minute older than it can no longer be recomputed and is dropped.
-- Minutes are Unix microseconds of the minute's start, like vital_samples.measured_at.
CREATE TABLE vital_rollups (
    admission_id  TEXT NOT NULL,
    kind          TEXT NOT NULL,
    minute        INTEGER NOT NULL,
    min_value     REAL NOT NULL,
    max_value     REAL NOT NULL,
    sum_value     REAL NOT NULL,
    sample_count  INTEGER NOT NULL CHECK (sample_count > 0),
    PRIMARY KEY (admission_id, kind, minute)
) WITHOUT ROWID;
-- Retention deletes from the old end.
CREATE INDEX vital_rollups_time ON vital_rollups (minute);

CREATE TABLE vital_rollup_pending (
    admission_id  TEXT NOT NULL,
    kind          TEXT NOT NULL,
    minute        INTEGER NOT NULL,
    PRIMARY KEY (admission_id, kind, minute)
) WITHOUT ROWID;
-- The worker takes the oldest settled minutes; the sweep and history read the oldest one.
CREATE INDEX vital_rollup_pending_time ON vital_rollup_pending (minute);

CREATE TABLE vital_rollup_state (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    raw_kept_from  INTEGER NOT NULL
);
INSERT INTO vital_rollup_state (id, raw_kept_from) VALUES (1, 0);

-- Samples stored before this migration: every minute of theirs is pending.
INSERT INTO vital_rollup_pending (admission_id, kind, minute)
SELECT DISTINCT admission_id, kind, (measured_at / 60000000) * 60000000
FROM vital_samples WHERE admission_id IS NOT NULL;
