-- A check-in answered at once (201) remembers the caller's Idempotency-Key, so a retry of the
-- same request (a lost answer, a double tap) gets that visit back instead of 409
-- already_checked_in. Keys are scoped to the caller (patient or reception staff), like the
-- waiting room's tickets; the unique index makes two first attempts on two instances resolve
-- to one visit.
ALTER TABLE reception_visits ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX reception_visits_idempotency ON reception_visits (checked_in_by, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
