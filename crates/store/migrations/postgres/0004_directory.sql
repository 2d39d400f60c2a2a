-- The hospital directory: what patients search. Extends the hospitals created for accounts.

ALTER TABLE hospitals ADD COLUMN latin_name TEXT;
ALTER TABLE hospitals ADD COLUMN hospital_type TEXT NOT NULL DEFAULT 'clinic'
    CHECK (hospital_type IN ('clinic', 'hospital', 'general_hospital', 'tertiary_hospital',
                             'dental_clinic', 'korean_medicine_clinic', 'nursing_hospital'));
-- 시도 and 시군구 as written in road addresses (서울특별시, 종로구).
ALTER TABLE hospitals ADD COLUMN sido TEXT;
ALTER TABLE hospitals ADD COLUMN sigungu TEXT;
ALTER TABLE hospitals ADD COLUMN road_address TEXT;
ALTER TABLE hospitals ADD COLUMN phone TEXT;
ALTER TABLE hospitals ADD COLUMN lat DOUBLE PRECISION CHECK (lat BETWEEN -90 AND 90);
ALTER TABLE hospitals ADD COLUMN lon DOUBLE PRECISION CHECK (lon BETWEEN -180 AND 180);
ALTER TABLE hospitals ADD COLUMN announcement TEXT;
ALTER TABLE hospitals ADD COLUMN updated_at TIMESTAMPTZ;

-- Opening hours per weekday (0 = Monday … 6 = Sunday) and 7 = public holidays; a missing row
-- means closed that day. Minutes after local midnight.
CREATE TABLE hospital_hours (
    hospital_id  TEXT NOT NULL REFERENCES hospitals (id),
    day          SMALLINT NOT NULL CHECK (day BETWEEN 0 AND 7),
    open_min     SMALLINT NOT NULL CHECK (open_min BETWEEN 0 AND 1440),
    close_min    SMALLINT NOT NULL CHECK (close_min BETWEEN 0 AND 1440),
    lunch_start  SMALLINT,
    lunch_end    SMALLINT,
    PRIMARY KEY (hospital_id, day),
    CHECK (close_min > open_min),
    CHECK ((lunch_start IS NULL) = (lunch_end IS NULL)),
    CHECK (lunch_start IS NULL OR (lunch_start > open_min AND lunch_end > lunch_start AND lunch_end < close_min))
);

-- Department codes from the fixed list in docde-domain (checked by the API).
CREATE TABLE hospital_departments (
    hospital_id  TEXT NOT NULL REFERENCES hospitals (id),
    department   TEXT NOT NULL,
    PRIMARY KEY (hospital_id, department)
);

-- Doctors as the directory shows them. A doctor may also have an account (user_id).
CREATE TABLE doctors (
    id                      TEXT PRIMARY KEY,
    hospital_id             TEXT NOT NULL REFERENCES hospitals (id),
    user_id                 TEXT UNIQUE REFERENCES users (id),
    name                    TEXT NOT NULL,
    bio                     TEXT,
    accepts_online_booking  BOOLEAN NOT NULL DEFAULT TRUE,
    created_at              TIMESTAMPTZ NOT NULL,
    deleted_at              TIMESTAMPTZ
);
CREATE INDEX doctors_hospital ON doctors (hospital_id);

CREATE TABLE doctor_departments (
    doctor_id   TEXT NOT NULL REFERENCES doctors (id),
    department  TEXT NOT NULL,
    PRIMARY KEY (doctor_id, department)
);
