-- An installation's own wording of notices (SPEC §7): one row per notice
-- kind and language replaces the shipped template; without a row the
-- shipped one applies.
CREATE TABLE notice_templates (
    kind       text NOT NULL,
    locale     text NOT NULL CHECK (locale IN ('zh-CN', 'en')),
    subject    text NOT NULL,
    body       text NOT NULL,
    sms        text NOT NULL,
    updated_at timestamptz NOT NULL,
    updated_by text NOT NULL,
    PRIMARY KEY (kind, locale)
);
