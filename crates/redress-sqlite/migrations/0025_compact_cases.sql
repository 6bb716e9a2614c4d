-- Cases stored compact (issue 18). From this version on, a case's `doc`
-- is a blob (the document packed with zstd and sealed as raw bytes, see
-- redress_app::stored) and `report` a blob (the report facts packed, see
-- redress_store::pack); the columns keep their declared type, as SQLite
-- stores a blob in any column, and rows written before keep their JSON
-- text until their next save.
--
-- The list filters `outcome` and `missed` read the report facts; packed,
-- SQL cannot look into them, so the two get columns of their own: the
-- outcome in force, and the missed stages between commas
-- (`,acceptance,handling,`). Filled here from the JSON of the rows so far.
ALTER TABLE cases ADD COLUMN outcome TEXT;
ALTER TABLE cases ADD COLUMN missed TEXT;
UPDATE cases
SET outcome = json_extract(report, '$.outcome_in_force'),
    missed = (SELECT ',' || group_concat(value, ',') || ','
              FROM json_each(report, '$.missed'))
WHERE json_valid(report)
  AND (json_extract(report, '$.outcome_in_force') IS NOT NULL
       OR json_array_length(report, '$.missed') > 0);
--
-- cases_open_pair (complainant, respondent) over open cases only is
-- covered by cases_pair (0020), which indexes the same pair over every
-- case: the open cases between a pair are found through it, among the
-- pair's few cases.
DROP INDEX cases_open_pair;
