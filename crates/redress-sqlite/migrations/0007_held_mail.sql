-- Held mail (SPEC §5): e-mail the receiver took but could not put on a case
-- by itself, waiting for an agent to attach it to a case or discard it.
-- Sender, subject and raw message are sealed by the application. mail_key
-- (hash of the Message-ID) makes a mail delivered twice held once.
CREATE TABLE held_mail (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    mail_key    TEXT NOT NULL UNIQUE,
    received_at TEXT NOT NULL,
    sender      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    tracking_no TEXT,
    case_id     TEXT,
    raw         TEXT NOT NULL,
    size        INTEGER NOT NULL CHECK (size >= 0),
    state       TEXT NOT NULL CHECK (state IN ('held', 'attached', 'discarded')),
    settled_by  TEXT,
    settled_at  TEXT,
    attached_to TEXT
);
CREATE INDEX held_mail_state ON held_mail (state, seq);
