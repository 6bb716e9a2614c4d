-- Less disk per case (issue 18).
--
-- The complainant key (a keyed hash of the complainant's identifier,
-- redress_app::stored::complainant_key) is kept to its first 64 bits, 16
-- hexadecimal digits instead of 64, in the row and in `cases_pair`: it
-- only finds the earlier cases of one complainant among a respondent's,
-- where 64 bits do not collide.
UPDATE cases SET complainant_key = left(complainant_key, 16)
WHERE length(complainant_key) > 16;
--
-- The daily report counters are keyed metric first, as on SQLite and as
-- `report_months` is: every read names its metrics and a range of days
-- (redress_store::sql::rollups), which the key now answers alone, so the
-- `(metric, day)` index that did goes.
ALTER TABLE report_days DROP CONSTRAINT report_days_pkey;
ALTER TABLE report_days ADD PRIMARY KEY (metric, day, department, category, dim);
DROP INDEX report_days_metric_day;
--
-- A counter changes in place: its key never moves, only `n`. With room
-- left in each page, PostgreSQL keeps the new version in the same page
-- and adds no index entry for it (a HOT update), so the counters' keys do
-- not grow with every save.
ALTER TABLE report_days SET (fillfactor = 90);
ALTER TABLE report_months SET (fillfactor = 90);
