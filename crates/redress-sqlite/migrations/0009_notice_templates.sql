-- An installation's own wording of notices (SPEC §7): one row per notice
-- kind and language replaces the shipped template; without a row the
-- shipped one applies.
CREATE TABLE notice_templates (
    kind       TEXT NOT NULL,
    locale     TEXT NOT NULL CHECK (locale IN ('zh-CN', 'en')),
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    sms        TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (kind, locale)
);
