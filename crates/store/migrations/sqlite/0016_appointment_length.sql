-- An appointment lasts at most 240 minutes, the longest slot a schedule may have
-- (docde_domain::schedule::SLOT_MINUTES; `booking::MAX_APPOINTMENT_SECONDS`). With that
-- bound in the database, an appointment that overlaps [s, e) must start after s - 14,400, so
-- the overlap check reads only the patient's appointments starting in (s - 14,400, e) through
-- appointments_patient (patient, start). Before, it read every appointment of the patient
-- starting before e, past ones included, each a table lookup for its status and end: the
-- check, on the single writer's path, cost more with every appointment a patient had ever
-- held (BENCHMARKS.md, session 22). Appointments already stored came from schedules, whose
-- slots have never been longer.
CREATE TRIGGER appointments_length_insert BEFORE INSERT ON appointments
WHEN NEW.ends_at - NEW.starts_at > 14400
BEGIN
    SELECT RAISE(ABORT, 'appointments_length');
END;

CREATE TRIGGER appointments_length_update BEFORE UPDATE OF starts_at, ends_at ON appointments
WHEN NEW.ends_at - NEW.starts_at > 14400
BEGIN
    SELECT RAISE(ABORT, 'appointments_length');
END;

DROP TRIGGER appointments_patient_overlap_insert;
CREATE TRIGGER appointments_patient_overlap_insert BEFORE INSERT ON appointments
WHEN NEW.status IN ('requested', 'booked', 'checked_in')
BEGIN
    SELECT RAISE(ABORT, 'appointments_patient_overlap')
    WHERE EXISTS (SELECT 1 FROM appointments a
                  WHERE a.patient_id = NEW.patient_id
                    AND a.starts_at > NEW.starts_at - 14400 AND a.starts_at < NEW.ends_at
                    AND a.ends_at > NEW.starts_at
                    AND a.status IN ('requested', 'booked', 'checked_in'));
END;
