-- Webhooks: URLs subscribed to case events, the calls owed to them (one per
-- subscription and journal event, delivered in journal order) and every
-- attempt made. A subscription's cursor is the last journal seq it has
-- dealt with; claimed_until is the lease (wall clock) of the instance that
-- delivers its calls.
CREATE TABLE webhook_subscriptions (
    id            TEXT PRIMARY KEY,
    url           TEXT NOT NULL,
    events        TEXT NOT NULL,
    secret        TEXT NOT NULL,
    active        INTEGER NOT NULL CHECK (active IN (0, 1)),
    cursor        INTEGER NOT NULL CHECK (cursor >= 0),
    claimed_until TEXT,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE webhook_calls (
    id               TEXT PRIMARY KEY,
    subscription_id  TEXT NOT NULL REFERENCES webhook_subscriptions (id),
    event_seq        INTEGER NOT NULL,
    case_id          TEXT,
    event_kind       TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL CHECK (attempts >= 0),
    last_status      INTEGER,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    first_attempt_at TEXT,
    last_attempt_at  TEXT,
    next_attempt_at  TEXT,
    payload          TEXT NOT NULL,
    UNIQUE (subscription_id, event_seq)
);
CREATE INDEX webhook_calls_pending ON webhook_calls (subscription_id, next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX webhook_calls_state ON webhook_calls (subscription_id, state, event_seq);

CREATE TABLE webhook_attempts (
    call_id     TEXT NOT NULL REFERENCES webhook_calls (id),
    n           INTEGER NOT NULL CHECK (n >= 1),
    at          TEXT NOT NULL,
    status      INTEGER,
    error       TEXT,
    duration_ms INTEGER NOT NULL,
    replay      INTEGER NOT NULL CHECK (replay IN (0, 1)),
    PRIMARY KEY (call_id, n)
);
