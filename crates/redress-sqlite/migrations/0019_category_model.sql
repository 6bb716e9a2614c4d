-- Category suggestions (GET /complaints/{id}/suggestions): a naive Bayes
-- model learnt from accepted cases, as counts only (redress_domain::suggest).
-- Per category: the cases learnt and the token occurrences counted.
CREATE TABLE category_model (
    category TEXT PRIMARY KEY,
    cases    INTEGER NOT NULL DEFAULT 0,
    tokens   INTEGER NOT NULL DEFAULT 0
);
-- Per token, under a keyed hash (so that a word of one or two cases, such
-- as a name, is not kept readable): the number of cases it was seen in.
CREATE TABLE category_model_seen (
    token_hash TEXT PRIMARY KEY,
    cases      INTEGER NOT NULL
) WITHOUT ROWID;
-- Per (token, category), for tokens seen in at least 3 cases: occurrences
-- counted (one per case) from the third case on.
CREATE TABLE category_model_counts (
    token    TEXT NOT NULL,
    category TEXT NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (token, category)
) WITHOUT ROWID;
-- The number of distinct tokens counted (the model's vocabulary).
CREATE TABLE category_model_vocabulary (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    tokens INTEGER NOT NULL
);
INSERT INTO category_model_vocabulary (id, tokens) VALUES (1, 0);

-- Near-duplicates (GET /complaints/{id}/similar): the cases of one
-- respondent or one category filed within a window, newest first.
CREATE INDEX cases_respondent_created ON cases (respondent_key, created_at);
CREATE INDEX cases_category_created   ON cases (category, created_at);
