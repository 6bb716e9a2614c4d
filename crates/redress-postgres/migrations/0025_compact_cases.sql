-- Cases stored compact (issue 18): a case's `doc` holds bytes (the
-- document packed with zstd and sealed as raw bytes, see
-- redress_app::stored) and `report` the report facts packed (see
-- redress_store::pack). Rows written before keep their JSON as UTF-8
-- bytes, which both readers still accept, until their next save.
--
-- The list filters `outcome` and `missed` read the report facts; packed,
-- SQL cannot look into them, so the two get columns of their own: the
-- outcome in force, and the missed stages between commas
-- (`,acceptance,handling,`). Filled here from the JSON of the rows so far.
ALTER TABLE cases ADD COLUMN outcome text, ADD COLUMN missed text;
UPDATE cases
SET outcome = report->>'outcome_in_force',
    missed = (SELECT ',' || string_agg(m, ',') || ','
              FROM jsonb_array_elements_text(report->'missed') AS m)
WHERE report ? 'outcome_in_force' OR jsonb_array_length(COALESCE(report->'missed', '[]')) > 0;
--
-- The search tokens were stored twice: as text (`search_tokens`) and as the
-- generated array `search_set` the GIN index covered. The index now covers
-- the array computed from the text, and the array column goes; a search
-- names the index's expression (redress_store::filter).
DROP INDEX cases_search;
ALTER TABLE cases
    DROP COLUMN search_set,
    ALTER COLUMN doc TYPE bytea USING convert_to(doc, 'UTF8'),
    ALTER COLUMN report TYPE bytea USING convert_to(report::text, 'UTF8');
CREATE INDEX cases_search_tokens ON cases USING gin (string_to_array(search_tokens, ' '));

-- cases_open_pair (complainant, respondent) over open cases only is
-- covered by cases_pair (0020), which indexes the same pair over every
-- case: the open cases between a pair are found through it, among the
-- pair's few cases.
DROP INDEX cases_open_pair;
