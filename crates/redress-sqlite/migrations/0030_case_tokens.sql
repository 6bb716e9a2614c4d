-- The search tokens leave the case row for a table of their own (issue 18).
--
-- A case row was about 1,620 bytes, of which the tokens about 310: two
-- rows to a 4 KiB page, with some 370 bytes a case of each page unused.
-- Without them a row is about 1,300 bytes and most pages hold three
-- (`cases` 2,051 → 1,406 B a case at 200,000 generated cases), while the
-- tokens pack a dozen to a page in `case_tokens` (342 B a case):
-- docs/benchmarks.md, "The search tokens in a table of their own".
--
-- `case_tokens` is now the search index's external content: its triggers
-- give FTS5 a case's old tokens when they change or the case goes, so a
-- purged case's words still leave the index at once (secure-delete, as
-- in 0012 and 0026). A case's row and its tokens are written in the same
-- transaction; deleting the row deletes its tokens.
CREATE TABLE case_tokens (
    seq           INTEGER PRIMARY KEY,
    search_tokens TEXT NOT NULL
);
INSERT INTO case_tokens (seq, search_tokens) SELECT seq, search_tokens FROM cases;
DROP TRIGGER cases_fts_update;
DROP TRIGGER cases_fts_delete;
DROP TABLE cases_fts;
ALTER TABLE cases DROP COLUMN search_tokens;
CREATE VIRTUAL TABLE cases_fts USING fts5(
    search_tokens,
    content = 'case_tokens',
    content_rowid = 'seq',
    detail = none,
    tokenize = 'unicode61 remove_diacritics 0'
);
INSERT INTO cases_fts (cases_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO cases_fts (cases_fts) VALUES ('rebuild');
CREATE TRIGGER case_tokens_update AFTER UPDATE OF search_tokens ON case_tokens
WHEN old.search_tokens IS NOT new.search_tokens BEGIN
    INSERT INTO cases_fts (cases_fts, rowid, search_tokens) VALUES ('delete', old.seq, old.search_tokens);
    INSERT INTO cases_fts (rowid, search_tokens) VALUES (new.seq, new.search_tokens);
END;
CREATE TRIGGER case_tokens_delete AFTER DELETE ON case_tokens BEGIN
    INSERT INTO cases_fts (cases_fts, rowid, search_tokens) VALUES ('delete', old.seq, old.search_tokens);
END;
CREATE TRIGGER cases_tokens_delete AFTER DELETE ON cases BEGIN
    DELETE FROM case_tokens WHERE seq = old.seq;
END;
