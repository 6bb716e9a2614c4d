-- Installation settings that admins change at run time (issue 14: the
-- published channels, 公示渠道). One row per key; the value is JSON. The
-- change itself is an admin event in the journal, written in the same
-- transaction.
CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL
);
