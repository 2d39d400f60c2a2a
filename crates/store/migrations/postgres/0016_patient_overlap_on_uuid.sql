-- The patient-overlap exclusion constraint compares patient ids as uuid rather than text.
-- Every patient id is a UUID written by the server (users.id), so the cast cannot fail and
-- equality means the same thing. A GiST index over text keys (btree_gist) was more than half
-- the cost of inserting an appointment: each insert's penalty and split functions compare
-- variable-length strings under the database's collation; uuid keys are 16 bytes compared as
-- such. bench/overlap-constraint measures both on a scratch schema. The constraint keeps its
-- name, which the server maps to the `patient_overlap` conflict.
ALTER TABLE appointments DROP CONSTRAINT appointments_patient_overlap;
ALTER TABLE appointments ADD CONSTRAINT appointments_patient_overlap EXCLUDE USING gist
    ((patient_id::uuid) WITH =, int8range(starts_at, ends_at) WITH &&)
    WHERE (status IN ('requested', 'booked', 'checked_in'));
