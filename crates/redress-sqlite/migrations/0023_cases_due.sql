-- Lists sorted by next deadline walk the open cases with a deadline in
-- deadline order, all of them or those of one status, and stop at the
-- page's last match (redress_store::filter::DuePhase), instead of sorting
-- every match. Only open cases have a deadline, so each index holds a few
-- per cent of the cases.
CREATE INDEX cases_due ON cases (next_due_at, seq) WHERE next_due_at IS NOT NULL;
CREATE INDEX cases_due_status ON cases (status, next_due_at, seq) WHERE next_due_at IS NOT NULL;
