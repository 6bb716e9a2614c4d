-- Less disk per case (issue 18).
--
-- The search index keeps no token positions (`detail = none`): a search
-- asks for the rows holding every one of its tokens, each a word, a CJK
-- character or a CJK bigram (redress_store::filter::match_query), never a
-- phrase, and ranks what it finds by the subject (redress_domain::text),
-- not by FTS5; positions were most of the index. The table is made again
-- with the same external content (`cases.search_tokens`), triggers and
-- secure-delete (0012), and filled from the rows.
--
-- (The tokens stay in the row: FTS5 forgets a deleted row's tokens for
-- good only when it is told them, and the rows tell it. A contentless
-- table with `contentless_delete` would drop 360 bytes a case, but it
-- marks deleted rows with tombstones and keeps their tokens until a merge
-- rewrites the segment: a purged case's words would stay readable.)
DROP TRIGGER cases_fts_update;
DROP TRIGGER cases_fts_delete;
DROP TABLE cases_fts;
CREATE VIRTUAL TABLE cases_fts USING fts5(
    search_tokens,
    content = 'cases',
    content_rowid = 'seq',
    detail = none,
    tokenize = 'unicode61 remove_diacritics 0'
);
INSERT INTO cases_fts (cases_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO cases_fts (cases_fts) VALUES ('rebuild');
CREATE TRIGGER cases_fts_update AFTER UPDATE OF search_tokens ON cases
WHEN old.search_tokens IS NOT new.search_tokens BEGIN
    INSERT INTO cases_fts (cases_fts, rowid, search_tokens) VALUES ('delete', old.seq, old.search_tokens);
    INSERT INTO cases_fts (rowid, search_tokens) VALUES (new.seq, new.search_tokens);
END;
CREATE TRIGGER cases_fts_delete AFTER DELETE ON cases BEGIN
    INSERT INTO cases_fts (cases_fts, rowid, search_tokens) VALUES ('delete', old.seq, old.search_tokens);
END;
--
-- The complainant key (a keyed hash of the complainant's identifier,
-- redress_app::stored::complainant_key) is kept to its first 64 bits, 16
-- hexadecimal digits instead of 64, in the row and in `cases_pair`: it
-- only finds the earlier cases of one complainant among a respondent's,
-- where 64 bits do not collide.
UPDATE cases SET complainant_key = substr(complainant_key, 1, 16)
WHERE length(complainant_key) > 16;
