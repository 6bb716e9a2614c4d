-- Monthly report rollups and respondents apart (issue 16, docs/reports.md
-- "The rollup table").
--
-- `report_months` holds the same counters as `report_days` with the day
-- replaced by the first day of its local month; every save adds its delta
-- to both in the same transaction, so that a period is answered from its
-- whole months plus the daily counters of its partial edge months.
--
-- The counters keyed by respondent (`filed_respondent`, `respondent_*`)
-- are kept per respondent and department, no longer per category: their
-- existing rows are merged under the category ''.
--
-- Both tables are keyed metric first, so that a report reads each metric's
-- days or months as one range of the table (the daily table is rebuilt in
-- that order; its old `(metric, day)` index goes with it). The monthly
-- rows are filled here from the daily ones, once.
CREATE TABLE report_days_0022 (
    metric     TEXT NOT NULL,
    day        TEXT NOT NULL,
    department TEXT NOT NULL,
    category   TEXT NOT NULL,
    dim        TEXT NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (metric, day, department, category, dim)
) WITHOUT ROWID;
INSERT INTO report_days_0022 (metric, day, department, category, dim, n)
SELECT metric, day, department,
       CASE WHEN metric IN ('filed_respondent', 'respondent_repeat', 'respondent_decided',
                            'respondent_upheld', 'respondent_partially_upheld',
                            'respondent_reply_due', 'respondent_reply_on_time')
            THEN '' ELSE category END,
       dim, SUM(n)
FROM report_days
GROUP BY 1, 2, 3, 4, 5
HAVING SUM(n) <> 0;
DROP TABLE report_days;
ALTER TABLE report_days_0022 RENAME TO report_days;

-- day: the first day of the local month (YYYY-MM-01).
CREATE TABLE report_months (
    metric     TEXT NOT NULL,
    day        TEXT NOT NULL,
    department TEXT NOT NULL,
    category   TEXT NOT NULL,
    dim        TEXT NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (metric, day, department, category, dim)
) WITHOUT ROWID;
INSERT INTO report_months (metric, day, department, category, dim, n)
SELECT metric, substr(day, 1, 8) || '01', department, category, dim, SUM(n)
FROM report_days
GROUP BY 1, 2, 3, 4, 5
HAVING SUM(n) <> 0;
