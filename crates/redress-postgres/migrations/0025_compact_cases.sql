-- Cases stored compact (issue 18): a case's `doc` holds bytes (the
-- document packed with zstd and sealed as raw bytes, see
-- redress_app::stored) and `report` the report facts packed (see
-- redress_store::pack). Rows written before keep their JSON as UTF-8
-- bytes, which both readers still accept, until their next save.
ALTER TABLE cases
    ALTER COLUMN doc TYPE bytea USING convert_to(doc, 'UTF8'),
    ALTER COLUMN report TYPE bytea USING convert_to(report::text, 'UTF8');

-- cases_open_pair (complainant, respondent) over open cases only is
-- covered by cases_pair (0020), which indexes the same pair over every
-- case: the open cases between a pair are found through it, among the
-- pair's few cases.
DROP INDEX cases_open_pair;
