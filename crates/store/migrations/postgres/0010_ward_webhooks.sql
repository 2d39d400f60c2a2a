-- Escalation webhooks: where a ward's escalations are posted, and the durable deliveries.
--
-- The URL a hospital admin set for the ward (a Mattermost/Slack incoming webhook). Its path
-- is a secret (the hook's token): the API only ever shows scheme and host, and nothing logs
-- it. A ward without a row uses the configured default (`ward.escalation_webhook_url`), if
-- any.
CREATE TABLE ward_webhooks (
    ward_id     TEXT PRIMARY KEY REFERENCES wards (id),
    url         TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    updated_by  TEXT REFERENCES users (id)
);

-- One row per escalation to post, written in the escalation's own transaction (so an
-- escalation that committed is always posted, and a rolled-back one never), drained by a
-- worker on every instance that claims due rows with a lease and a fencing token (SKIP
-- LOCKED on PostgreSQL; SQLite's single writer serialises claims). The message is built
-- when it is sent, from the alarm, bed and ward (bed label and alarm kind, no patient data),
-- and goes to the ward's URL of that moment, so fixing a broken URL rescues what waits.
-- Delivery is at-least-once: `id` travels as the `X-DocDe-Delivery` header for receivers
-- that drop duplicates.
CREATE TABLE ward_webhook_deliveries (
    -- UUIDv7 as text.
    id                TEXT PRIMARY KEY,
    ward_id           TEXT NOT NULL REFERENCES wards (id),
    alarm_id          TEXT NOT NULL REFERENCES alarms (id) ON DELETE CASCADE,
    escalation_level  INTEGER NOT NULL CHECK (escalation_level BETWEEN 1 AND 255),
    escalated_at      TIMESTAMPTZ NOT NULL,
    -- pending → delivered | failed; only pending rows are claimed.
    status            TEXT NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'delivered', 'failed')),
    -- Attempts made so far; retries back off by moving next_attempt_at forward.
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TIMESTAMPTZ NOT NULL,
    -- The claiming worker's fencing token and lease: outcomes are recorded only under the
    -- token, and a crashed worker's lease runs out so another instance takes the row.
    claim             TEXT,
    claimed_until     TIMESTAMPTZ,
    -- Category of the last failure ("connect", "timeout", "status_500", …), never the
    -- receiver's answer or the URL.
    last_error        TEXT,
    created_at        TIMESTAMPTZ NOT NULL,
    delivered_at      TIMESTAMPTZ,
    -- Each level of an alarm is posted once, whichever instance escalated it.
    CONSTRAINT ward_webhook_deliveries_once UNIQUE (alarm_id, escalation_level)
);
-- The worker's query: due pending rows, oldest first.
CREATE INDEX ward_webhook_deliveries_due ON ward_webhook_deliveries (status, next_attempt_at);
