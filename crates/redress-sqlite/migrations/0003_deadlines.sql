-- Per-category deadline lengths (SPEC §4) beside handling_days, and an
-- index for the per-person overdue and due-soon queues.
ALTER TABLE categories ADD COLUMN appeal_days INTEGER CHECK (appeal_days IS NULL OR appeal_days >= 0);
ALTER TABLE categories ADD COLUMN review_days INTEGER CHECK (review_days IS NULL OR review_days >= 0);
CREATE INDEX cases_overdue_assignee ON cases (assignee, next_due_at) WHERE staff_due = 1;
