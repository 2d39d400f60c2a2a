-- Web Push (RFC 8030/8291/8292) to staff browsers for high-priority alarms.
--
-- The installation's VAPID key pair: one row, made by the first instance that needs it
-- (unless `push.vapid_private_key` is configured). The private key is sealed with the record
-- vault (`records.master_keys`), so a copy of the database alone cannot sign for the hospital.
CREATE TABLE push_vapid_keys (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    -- base64url of the uncompressed P-256 point, what browsers pass as applicationServerKey.
    public_key   TEXT NOT NULL,
    private_key  TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

-- A browser's push subscription (its PushSubscription JSON), owned by the staff member who
-- made it. The endpoint is unique: a browser that subscribes again, or for another user,
-- replaces its row. `auth` (the subscription's secret) is sealed like the VAPID key.
CREATE TABLE push_subscriptions (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id),
    endpoint      TEXT NOT NULL UNIQUE,
    p256dh        TEXT NOT NULL,
    auth          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_sent_at  TEXT
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);

-- One row per (alarm, subscription, reason) to send, written in the alarm's own transaction
-- for the subscriptions of the ward's nurses at that moment, drained by a worker on every
-- instance (claim with a lease and fencing token, as ward_webhook_deliveries). A subscription
-- the push service calls gone (404/410) is deleted, and its rows with it.
CREATE TABLE push_deliveries (
    id               TEXT PRIMARY KEY DEFAULT (lower(hex(randomblob(16)))),
    alarm_id         TEXT NOT NULL REFERENCES alarms (id) ON DELETE CASCADE,
    subscription_id  TEXT NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    -- 'high' (raised at, or rose to, high priority) or 'escalated:N'.
    reason           TEXT NOT NULL,
    -- pending → delivered | failed
    status           TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    claim            TEXT,
    claimed_until    TEXT,
    -- Category of the last failure ("connect", "timeout", "status_500", …).
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    delivered_at     TEXT,
    CONSTRAINT push_deliveries_once UNIQUE (alarm_id, subscription_id, reason)
);
CREATE INDEX push_deliveries_due ON push_deliveries (status, next_attempt_at);
CREATE INDEX push_deliveries_subscription ON push_deliveries (subscription_id);
