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
-- existing rows are merged under the category ''. The monthly rows are
-- filled here from the daily ones, once.
CREATE TEMPORARY TABLE report_days_0022 AS
SELECT day, metric, department, ''::text AS category, dim, SUM(n)::bigint AS n
FROM report_days
WHERE metric IN ('filed_respondent', 'respondent_repeat', 'respondent_decided',
                 'respondent_upheld', 'respondent_partially_upheld',
                 'respondent_reply_due', 'respondent_reply_on_time')
GROUP BY day, metric, department, dim;
DELETE FROM report_days
WHERE metric IN ('filed_respondent', 'respondent_repeat', 'respondent_decided',
                 'respondent_upheld', 'respondent_partially_upheld',
                 'respondent_reply_due', 'respondent_reply_on_time');
INSERT INTO report_days (day, metric, department, category, dim, n)
SELECT day, metric, department, category, dim, n FROM report_days_0022 WHERE n <> 0;
DROP TABLE report_days_0022;

-- day: the first day of the local month.
CREATE TABLE report_months (
    metric     text NOT NULL,
    day        date NOT NULL,
    department text NOT NULL,
    category   text NOT NULL,
    dim        text NOT NULL,
    n          bigint NOT NULL,
    PRIMARY KEY (metric, day, department, category, dim)
);
INSERT INTO report_months (metric, day, department, category, dim, n)
SELECT metric, date_trunc('month', day)::date, department, category, dim, SUM(n)::bigint
FROM report_days
GROUP BY 1, 2, 3, 4, 5
HAVING SUM(n) <> 0;
