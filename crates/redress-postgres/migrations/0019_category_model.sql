-- Category suggestions (GET /complaints/{id}/suggestions): a naive Bayes
-- model learnt from accepted cases, as counts only (redress_domain::suggest).
-- Per category: the cases learnt and the token occurrences counted.
CREATE TABLE category_model (
    category text PRIMARY KEY,
    cases    bigint NOT NULL DEFAULT 0,
    tokens   bigint NOT NULL DEFAULT 0
);
-- Per token, under a keyed hash (so that a word of one or two cases, such
-- as a name, is not kept readable): the number of cases it was seen in.
CREATE TABLE category_model_seen (
    token_hash text PRIMARY KEY,
    cases      bigint NOT NULL
);
-- Per (token, category), for tokens seen in at least 3 cases: occurrences
-- counted (one per case) from the third case on.
CREATE TABLE category_model_counts (
    token    text NOT NULL,
    category text NOT NULL,
    n        bigint NOT NULL,
    PRIMARY KEY (token, category)
);
-- The number of distinct tokens counted (the model's vocabulary).
CREATE TABLE category_model_vocabulary (
    id     integer PRIMARY KEY CHECK (id = 1),
    tokens bigint NOT NULL
);
INSERT INTO category_model_vocabulary (id, tokens) VALUES (1, 0);

-- Near-duplicates (GET /complaints/{id}/similar): the cases of one
-- respondent or one category filed within a window, newest first.
CREATE INDEX cases_respondent_created ON cases (respondent_key, created_at);
CREATE INDEX cases_category_created   ON cases (category, created_at);
