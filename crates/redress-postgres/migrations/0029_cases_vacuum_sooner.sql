-- VACUUM and ANALYZE `cases` after 1 % of its rows changed, not 20 % and
-- 10 % (PostgreSQL's defaults).
--
-- The counts of the case lists (overdue, due soon, per status) are
-- index-only scans: they read index entries, and visit a row only on a
-- page the visibility map does not mark all-visible. A changed row clears
-- its page's mark until VACUUM sets it again. With the defaults, at a
-- million cases that is after 200,000 saves, and the planner's estimates
-- wait for 100,000. Measured at a million (docs/benchmarks.md): the
-- first start after an upgrade or an import ran the deadline sweep over
-- 82,000 due cases; the overdue count then visited 93,162 rows for its
-- 32,425 entries and took 240 ms (155–420 ms p50 over later starts),
-- against 4 ms after a VACUUM.
--
-- After 1 % (10,000 saves at a million) the work of each VACUUM is small:
-- it reads only the pages not marked all-visible. New rows (inserts) keep
-- the default; a list of new cases reads their rows anyway.
ALTER TABLE cases SET (autovacuum_vacuum_scale_factor = 0.01,
                       autovacuum_analyze_scale_factor = 0.01);
