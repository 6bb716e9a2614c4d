-- Canned replies (SPEC §7): ready-made message texts that every staff
-- member may use and admins edit. `locale` is the language a text is
-- written in (NULL: any).
CREATE TABLE canned_replies (
    id         TEXT PRIMARY KEY,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    locale     TEXT CHECK (locale IS NULL OR locale IN ('zh-CN', 'en')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Defaults written once (`name` says which, e.g. 'canned_replies'): a
-- seed that ran never runs again, even when all it wrote was deleted.
CREATE TABLE seeds (
    name      TEXT PRIMARY KEY,
    seeded_at TEXT NOT NULL
);
