-- Initial schema. Times are TEXT in the fixed-width UTC format
-- `YYYY-MM-DDTHH:MM:SS.ffffffZ`, so that string order is time order.

CREATE TABLE cases (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    tracking_no     TEXT NOT NULL UNIQUE,
    status          TEXT NOT NULL CHECK (status IN
                        ('submitted','needs_info','in_progress','resolved','under_review','closed')),
    closure         TEXT CHECK (closure IS NULL OR closure IN
                        ('rejected','lapsed','resolved','reviewed','withdrawn','merged')),
    channel         TEXT NOT NULL CHECK (channel IN ('web','api','chat','email','phone')),
    category        TEXT,
    department      TEXT,
    assignee        TEXT,
    respondent_key  TEXT,
    respondent_name TEXT,
    complainant_key TEXT,
    subject         TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    next_due_at     TEXT,
    staff_due       INTEGER NOT NULL CHECK (staff_due IN (0, 1)),
    sweep_at        TEXT,
    decided_by      TEXT,
    decider_level   INTEGER,
    search_tokens   TEXT NOT NULL DEFAULT '',
    report          TEXT NOT NULL,
    version         INTEGER NOT NULL,
    doc             TEXT NOT NULL,
    CHECK ((status = 'closed') = (closure IS NOT NULL))
);

CREATE INDEX cases_status_seq     ON cases (status, seq);
CREATE INDEX cases_department_seq ON cases (department, seq);
CREATE INDEX cases_dept_status    ON cases (department, status, seq);
CREATE INDEX cases_category_seq   ON cases (category, seq);
CREATE INDEX cases_dept_category  ON cases (department, category, seq);
CREATE INDEX cases_respondent_seq ON cases (respondent_key, seq);
CREATE INDEX cases_assignee_seq   ON cases (assignee, seq);
CREATE INDEX cases_overdue        ON cases (next_due_at, seq) WHERE staff_due = 1;
CREATE INDEX cases_sweep          ON cases (sweep_at) WHERE sweep_at IS NOT NULL;
CREATE INDEX cases_open_pair      ON cases (complainant_key, respondent_key) WHERE status <> 'closed';
CREATE INDEX cases_created_at     ON cases (created_at);
CREATE INDEX cases_overdue_dept   ON cases (department, next_due_at) WHERE staff_due = 1;
-- Appeals a reviewer may decide (counted without table look-ups).
CREATE INDEX cases_review         ON cases (decider_level, decided_by, department)
    WHERE status = 'under_review';

-- Full-text search over the space-separated tokens the application computes
-- (lower-case words, CJK single characters and bigrams). External content:
-- the text lives once, in cases.search_tokens; triggers keep the index in step.
CREATE VIRTUAL TABLE cases_fts USING fts5(
    search_tokens,
    content = 'cases',
    content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TRIGGER cases_fts_insert AFTER INSERT ON cases BEGIN
    INSERT INTO cases_fts (rowid, search_tokens) VALUES (new.seq, new.search_tokens);
END;

CREATE TRIGGER cases_fts_update AFTER UPDATE OF search_tokens ON cases
WHEN old.search_tokens IS NOT new.search_tokens BEGIN
    INSERT INTO cases_fts (cases_fts, rowid, search_tokens) VALUES ('delete', old.seq, old.search_tokens);
    INSERT INTO cases_fts (rowid, search_tokens) VALUES (new.seq, new.search_tokens);
END;

CREATE TRIGGER cases_fts_delete AFTER DELETE ON cases BEGIN
    INSERT INTO cases_fts (cases_fts, rowid, search_tokens) VALUES ('delete', old.seq, old.search_tokens);
END;

-- Exact per-status counts, kept by triggers: totals without scanning.
CREATE TABLE case_counts (
    status TEXT PRIMARY KEY,
    n      INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO case_counts (status, n) VALUES
    ('submitted', 0), ('needs_info', 0), ('in_progress', 0),
    ('resolved', 0), ('under_review', 0), ('closed', 0);

CREATE TRIGGER cases_count_insert AFTER INSERT ON cases BEGIN
    UPDATE case_counts SET n = n + 1 WHERE status = new.status;
END;

CREATE TRIGGER cases_count_update AFTER UPDATE OF status ON cases
WHEN old.status IS NOT new.status BEGIN
    UPDATE case_counts SET n = n - 1 WHERE status = old.status;
    UPDATE case_counts SET n = n + 1 WHERE status = new.status;
END;

CREATE TRIGGER cases_count_delete AFTER DELETE ON cases BEGIN
    UPDATE case_counts SET n = n - 1 WHERE status = old.status;
END;

-- The journal: append-only, hash-chained.
CREATE TABLE events (
    seq       INTEGER PRIMARY KEY,
    case_id   TEXT,
    kind      TEXT NOT NULL,
    actor     TEXT NOT NULL,
    at        TEXT NOT NULL,
    data      TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX events_case ON events (case_id, seq) WHERE case_id IS NOT NULL;

-- The head of the chain, kept apart so that removing the newest events is caught.
CREATE TABLE journal_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE idempotency_keys (
    key          TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

CREATE TABLE departments (
    code   TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    review INTEGER NOT NULL CHECK (review IN (0, 1)),
    head   TEXT
);

CREATE TABLE categories (
    code          TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    name_en       TEXT,
    department    TEXT NOT NULL REFERENCES departments (code),
    handling_days INTEGER CHECK (handling_days IS NULL OR handling_days >= 0)
);
CREATE INDEX categories_department ON categories (department);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    roles         TEXT NOT NULL,
    departments   TEXT NOT NULL,
    level         INTEGER NOT NULL,
    active        INTEGER NOT NULL CHECK (active IN (0, 1)),
    created_at    TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE respondents (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('user','merchant','content','order','platform')),
    external_id TEXT NOT NULL,
    name        TEXT NOT NULL,
    email       TEXT,
    key_hash    TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    UNIQUE (kind, external_id)
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked    INTEGER NOT NULL CHECK (revoked IN (0, 1))
);

CREATE TABLE calendar_days (
    date TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name TEXT NOT NULL
);
