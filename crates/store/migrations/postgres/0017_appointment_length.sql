-- An appointment lasts at most 240 minutes, the longest slot a schedule may have
-- (docde_domain::schedule::SLOT_MINUTES; `booking::MAX_APPOINTMENT_SECONDS`). With that
-- bound in the database, an appointment that overlaps [s, e) must start after s - 14,400, so
-- the booking group's read of its patients' appointments looks up only those starting in
-- (s - 14,400, e) through appointments_patient (patient, start), not every appointment the
-- patient ever held (BENCHMARKS.md, session 22). The overlap itself stays the exclusion
-- constraint's to judge. Adding the constraint checks the rows already stored.
ALTER TABLE appointments ADD CONSTRAINT appointments_length
    CHECK (ends_at - starts_at <= 14400);
