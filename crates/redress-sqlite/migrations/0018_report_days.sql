-- Report rollups (issue 16, SPEC §10, docs/reports.md): daily counters
-- kept as cases change. Each row is one counter: the local day of an event,
-- a metric (`filed`, `accepted`, `due`, `hours_to_decide`, …), the case's
-- department and category codes ('' for none) and the metric's own
-- dimension ('' for none). A case save adds `contributions(new) −
-- contributions(old)` (redress_store::rollup) in the same transaction as the
-- case row; `redress report rebuild` recomputes the table. Codes only: no
-- row names a case or a person, so a purge leaves nothing here to erase.
CREATE TABLE report_days (
    day        TEXT NOT NULL,
    metric     TEXT NOT NULL,
    department TEXT NOT NULL,
    category   TEXT NOT NULL,
    dim        TEXT NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (day, metric, department, category, dim)
) WITHOUT ROWID;
CREATE INDEX report_days_metric_day ON report_days (metric, day);
