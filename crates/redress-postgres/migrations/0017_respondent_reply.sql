-- The respondent's reply deadline after acceptance, per category (SPEC §4:
-- "respondent's reply after acceptance", default 3 working days). NULL:
-- the installation's `policy.respondent_reply_days`.
ALTER TABLE categories ADD COLUMN respondent_reply_days integer
    CHECK (respondent_reply_days IS NULL OR respondent_reply_days >= 1);
