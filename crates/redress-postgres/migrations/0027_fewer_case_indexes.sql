-- Fewer index entries per registration (issue 18): every new case went
-- into each full index of `cases` and into each partial index whose
-- condition it met; these three held entries no query reads.
--
-- `cases_overdue` (staff deadlines, in deadline order) kept the same key
-- as `cases_due` (every deadline, in deadline order): every query it
-- served compares `next_due_at`, which `cases_due` answers too, now with
-- `staff_due` in its entries so that the check needs no row. Its extra
-- entries (a staff duty with no deadline) were never read.
DROP INDEX cases_overdue;
DROP INDEX cases_due;
CREATE INDEX cases_due ON cases (next_due_at, seq, staff_due) WHERE next_due_at IS NOT NULL;
-- Lists by assignee always name one (`assignee = ?`); a new case has
-- none, and its entry under NULL was never read.
DROP INDEX cases_assignee_seq;
CREATE INDEX cases_assignee_seq ON cases (assignee, seq) WHERE assignee IS NOT NULL;
DROP INDEX cases_overdue_assignee;
CREATE INDEX cases_overdue_assignee ON cases (assignee, next_due_at)
    WHERE staff_due AND assignee IS NOT NULL;
-- `cases_overdue_seq` (seq, next_due_at) WHERE staff_due stays: the
-- newest overdue cases are a backward walk of it that stops at the page's
-- last (`cases_due` would give every overdue case to sort; measured 2x
-- slower at 200,000 cases, docs/benchmarks.md).
