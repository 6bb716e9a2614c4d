-- Canned replies (SPEC §7): ready-made message texts that every staff
-- member may use and admins edit. `locale` is the language a text is
-- written in (NULL: any).
CREATE TABLE canned_replies (
    id         uuid PRIMARY KEY,
    title      text NOT NULL,
    body       text NOT NULL,
    locale     text CHECK (locale IS NULL OR locale IN ('zh-CN', 'en')),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Defaults written once (`name` says which, e.g. 'canned_replies'): a
-- seed that ran never runs again, even when all it wrote was deleted.
CREATE TABLE seeds (
    name      text PRIMARY KEY,
    seeded_at timestamptz NOT NULL
);
