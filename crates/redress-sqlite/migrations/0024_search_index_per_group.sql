-- New cases enter the search index once per group commit instead of one
-- by one (issue 18): the writer inserts the rows of a group into cases_fts
-- in one statement before COMMIT (writer::index_cases), so FTS5 writes one
-- segment per group rather than one per registration. Updates and deletes
-- keep their triggers.
DROP TRIGGER cases_fts_insert;
