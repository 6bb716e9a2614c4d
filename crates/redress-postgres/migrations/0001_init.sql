-- Initial schema, the PostgreSQL twin of the SQLite one: the same tables
-- and constraints, with native types (uuid, timestamptz, jsonb, boolean).

CREATE TABLE cases (
    seq             bigserial PRIMARY KEY,
    id              uuid NOT NULL UNIQUE,
    tracking_no     text NOT NULL UNIQUE,
    status          text NOT NULL CHECK (status IN
                        ('submitted','needs_info','in_progress','resolved','under_review','closed')),
    closure         text CHECK (closure IS NULL OR closure IN
                        ('rejected','lapsed','resolved','reviewed','withdrawn','merged')),
    channel         text NOT NULL CHECK (channel IN ('web','api','chat','email','phone')),
    category        text,
    department      text,
    assignee        text,
    respondent_key  text,
    respondent_name text,
    complainant_key text,
    subject         text NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    next_due_at     timestamptz,
    staff_due       boolean NOT NULL,
    sweep_at        timestamptz,
    -- A background job holds the case until then (wall clock of the server).
    claimed_until   timestamptz,
    decided_by      text,
    decider_level   integer,
    search_tokens   text NOT NULL DEFAULT '',
    search_set      text[] GENERATED ALWAYS AS (string_to_array(search_tokens, ' ')) STORED,
    report          jsonb NOT NULL,
    version         bigint NOT NULL,
    doc             text NOT NULL,
    CHECK ((status = 'closed') = (closure IS NOT NULL))
);

CREATE INDEX cases_status_seq     ON cases (status, seq);
CREATE INDEX cases_department_seq ON cases (department, seq);
CREATE INDEX cases_dept_status    ON cases (department, status, seq);
CREATE INDEX cases_category_seq   ON cases (category, seq);
CREATE INDEX cases_dept_category  ON cases (department, category, seq);
CREATE INDEX cases_respondent_seq ON cases (respondent_key, seq);
CREATE INDEX cases_assignee_seq   ON cases (assignee, seq);
CREATE INDEX cases_overdue        ON cases (next_due_at, seq) WHERE staff_due;
CREATE INDEX cases_overdue_seq    ON cases (seq, next_due_at) WHERE staff_due;
CREATE INDEX cases_sweep          ON cases (sweep_at) WHERE sweep_at IS NOT NULL;
CREATE INDEX cases_open_pair      ON cases (complainant_key, respondent_key) WHERE status <> 'closed';
CREATE INDEX cases_created_at     ON cases (created_at);
CREATE INDEX cases_overdue_dept   ON cases (department, next_due_at) WHERE staff_due;
CREATE INDEX cases_review         ON cases (decider_level, decided_by, department)
    WHERE status = 'under_review';
-- Search: every query token must be in the case's token set.
CREATE INDEX cases_search         ON cases USING gin (search_set);

-- Exact per-status counts, kept by a trigger: totals without scanning.
-- Sixteen shards per status, picked by the writing transaction, so that
-- concurrent writers do not queue on one counter row; a total is the sum.
CREATE TABLE case_counts (
    status text NOT NULL,
    shard  integer NOT NULL,
    n      bigint NOT NULL,
    PRIMARY KEY (status, shard)
);
INSERT INTO case_counts (status, shard, n)
    SELECT s, g, 0
    FROM unnest(ARRAY['submitted','needs_info','in_progress','resolved','under_review','closed']) AS s,
         generate_series(0, 15) AS g;

CREATE FUNCTION cases_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    my_shard integer := (txid_current() % 16)::integer;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE case_counts SET n = n - 1 WHERE status = OLD.status AND shard = my_shard;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        UPDATE case_counts SET n = n + 1 WHERE status = NEW.status AND shard = my_shard;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER cases_count_insert AFTER INSERT OR DELETE ON cases
    FOR EACH ROW EXECUTE FUNCTION cases_count();
CREATE TRIGGER cases_count_update AFTER UPDATE OF status ON cases
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION cases_count();

-- The journal: append-only, hash-chained. `data` stays text: it is hashed
-- byte for byte.
CREATE TABLE events (
    seq       bigint PRIMARY KEY,
    case_id   uuid,
    kind      text NOT NULL,
    actor     text NOT NULL,
    at        timestamptz NOT NULL,
    data      text NOT NULL,
    prev_hash text NOT NULL,
    hash      text NOT NULL
);
CREATE INDEX events_case ON events (case_id, seq) WHERE case_id IS NOT NULL;

-- The head of the chain. Every writing transaction locks this row first:
-- it orders the journal across instances and keeps writers from deadlocking.
CREATE TABLE journal_head (
    id   integer PRIMARY KEY CHECK (id = 1),
    seq  bigint NOT NULL,
    hash text NOT NULL
);
INSERT INTO journal_head (id, seq, hash)
    VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE idempotency_keys (
    key          text PRIMARY KEY,
    request_hash text NOT NULL,
    status       integer NOT NULL,
    body         text NOT NULL,
    created_at   timestamptz NOT NULL
);

CREATE TABLE departments (
    code   text PRIMARY KEY,
    name   text NOT NULL,
    review boolean NOT NULL,
    head   text
);

CREATE TABLE categories (
    code          text PRIMARY KEY,
    name          text NOT NULL,
    name_en       text,
    department    text NOT NULL REFERENCES departments (code),
    handling_days integer CHECK (handling_days IS NULL OR handling_days >= 0)
);
CREATE INDEX categories_department ON categories (department);

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    display_name  text NOT NULL,
    password_hash text NOT NULL,
    roles         jsonb NOT NULL,
    departments   jsonb NOT NULL,
    level         integer NOT NULL,
    active        boolean NOT NULL,
    created_at    timestamptz NOT NULL
);

CREATE TABLE sessions (
    token_hash text PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE respondents (
    id          uuid PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('user','merchant','content','order','platform')),
    external_id text NOT NULL,
    name        text NOT NULL,
    email       text,
    key_hash    text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL,
    UNIQUE (kind, external_id)
);

CREATE TABLE api_keys (
    id         uuid PRIMARY KEY,
    name       text NOT NULL,
    scopes     jsonb NOT NULL,
    key_hash   text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    revoked    boolean NOT NULL
);

CREATE TABLE calendar_days (
    date date PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name text NOT NULL
);
