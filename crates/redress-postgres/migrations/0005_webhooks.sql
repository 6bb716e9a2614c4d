-- Webhooks: URLs subscribed to case events, the calls owed to them (one per
-- subscription and journal event, delivered in journal order) and every
-- attempt made. A subscription's cursor is the last journal seq it has
-- dealt with; claimed_until is the lease (the database's clock) of the
-- instance that delivers its calls.
CREATE TABLE webhook_subscriptions (
    id            uuid PRIMARY KEY,
    url           text NOT NULL,
    events        jsonb NOT NULL,
    secret        text NOT NULL,
    active        boolean NOT NULL,
    cursor        bigint NOT NULL CHECK (cursor >= 0),
    claimed_until timestamptz,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

CREATE TABLE webhook_calls (
    id               uuid PRIMARY KEY,
    subscription_id  uuid NOT NULL REFERENCES webhook_subscriptions (id),
    event_seq        bigint NOT NULL,
    case_id          uuid,
    event_kind       text NOT NULL,
    state            text NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL CHECK (attempts >= 0),
    last_status      integer,
    last_error       text,
    created_at       timestamptz NOT NULL,
    first_attempt_at timestamptz,
    last_attempt_at  timestamptz,
    next_attempt_at  timestamptz,
    payload          text NOT NULL,
    UNIQUE (subscription_id, event_seq)
);
CREATE INDEX webhook_calls_pending ON webhook_calls (subscription_id, next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX webhook_calls_state ON webhook_calls (subscription_id, state, event_seq);

CREATE TABLE webhook_attempts (
    call_id     uuid NOT NULL REFERENCES webhook_calls (id),
    n           integer NOT NULL CHECK (n >= 1),
    at          timestamptz NOT NULL,
    status      integer,
    error       text,
    duration_ms bigint NOT NULL,
    replay      boolean NOT NULL,
    PRIMARY KEY (call_id, n)
);
