-- Responses to creating requests, kept so a retried request with the same
-- Idempotency-Key gets the first answer instead of doing the work twice.
-- Keys are scoped to the principal that sent them: two users may pick the same key.
CREATE TABLE idempotency_keys (
    principal     TEXT        NOT NULL,
    idem_key      TEXT        NOT NULL,
    -- Fingerprint of method, path and body: the same key with another request is refused.
    request_hash  TEXT        NOT NULL,
    -- NULL while the first request is still being processed.
    status        INTEGER,
    response      BYTEA,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (principal, idem_key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
