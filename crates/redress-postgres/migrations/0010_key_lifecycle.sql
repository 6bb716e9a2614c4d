-- Keys that end: API keys and respondent portal keys may expire, portal
-- keys can be revoked (SPEC §9); a password reset by an admin must be
-- changed at the next login.
ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;
ALTER TABLE respondents ADD COLUMN key_revoked boolean NOT NULL DEFAULT false;
ALTER TABLE respondents ADD COLUMN key_expires_at timestamptz;
ALTER TABLE users ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;
CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expires_at);
-- Events that belong to no case (admin changes, security notices), newest
-- first for the supervisors' console.
CREATE INDEX events_global ON events (seq) WHERE case_id IS NULL;
