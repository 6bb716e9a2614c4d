-- Spike alerts and respondent scorecards (issue 16, docs/reports.md).
-- Repeat complainants: any earlier case (open or closed) between a
-- complainant and a respondent, looked up at registration.
CREATE INDEX cases_pair ON cases (complainant_key, respondent_key);
-- Spike alerts mailed to supervisors: one row per subject and local day,
-- inserted before the mail leaves, so that each alert is mailed once across
-- restarts and instances. Codes only (a respondent key or a category code).
CREATE TABLE alerts_sent (
    kind    text NOT NULL,
    subject text NOT NULL,
    day     date NOT NULL,
    sent_at timestamptz NOT NULL,
    PRIMARY KEY (kind, subject, day)
);
