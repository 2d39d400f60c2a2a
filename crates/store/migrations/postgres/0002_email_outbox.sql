-- Outgoing e-mail, written in the same transaction as the change that causes it (a new
-- account and its verification code), so a committed change always gets its message and a
-- rolled-back one never does. A background worker on any instance claims due rows, sends
-- them and records the outcome.
CREATE TABLE email_outbox (
    -- UUIDv7 as text (the same representation as on SQLite): unique without coordination,
    -- and ordered by creation time.
    id              TEXT        NOT NULL PRIMARY KEY,
    recipient       TEXT        NOT NULL,
    subject         TEXT        NOT NULL,
    -- NULL once the message is sent or given up, so verification codes do not linger in
    -- the database (and its backups) after they are no longer needed here.
    body            TEXT,
    -- pending → sent | failed; only pending rows are ever claimed.
    status          TEXT        NOT NULL DEFAULT 'pending'
                                CHECK (status IN ('pending', 'sent', 'failed')),
    -- Delivery attempts made so far; the worker gives up after a fixed number.
    attempts        INTEGER     NOT NULL DEFAULT 0,
    -- Not before this time: retries back off by moving it forward.
    next_attempt_at TIMESTAMPTZ NOT NULL,
    -- A worker holds the row until then; a crashed worker's claim simply expires, and
    -- another instance sends the message.
    claimed_until   TIMESTAMPTZ,
    -- Category of the last failure ("connection", "smtp_550", …), never a server message,
    -- which may echo the address or the content.
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ,
    -- A message still to be sent must have something to send.
    CONSTRAINT email_outbox_pending_has_body CHECK (status <> 'pending' OR body IS NOT NULL)
);
-- The worker's query: due pending rows, oldest first.
CREATE INDEX email_outbox_due ON email_outbox (status, next_attempt_at);
