-- The search tokens as a `tsvector` (issue 16 item 10): a search for a
-- term in every case walks the newest cases and tests each row, and the
-- test was most of its time. `string_to_array(search_tokens, ' ') @>`
-- split the text into a fresh array for every row (about 4 µs); a
-- `tsvector` holds its lexemes sorted, and `@@` looks each query token up
-- by binary search. The GIN index covers the column itself.
--
-- The column keeps its name and its meaning, the case's search tokens;
-- the store writes `array_to_tsvector` of the application's tokens and
-- reads `tsvector_to_array` back, in byte order, each token once, which is
-- how the application writes them from now on
-- (`redress_domain::text::stored_tokens`). Rows written before keep
-- their tokens as a set. Tokens over 255 bytes are left out, as the
-- application now does: `tsvector` refuses lexemes over 2,047 bytes.
--
-- The type change rewrites the table once (the time of a full copy of
-- `cases`), and the statistics of the new column are gathered at once:
-- without them the planner cannot tell a common term (walk the newest
-- cases) from a rare one (ask the index). Not on an empty table (a new
-- installation): statistics saying "no rows" would stay until the next
-- ANALYZE, and plans made on them (the complainant-and-respondent look-up
-- of every registration read the whole pair's cases) would stay with
-- them.
DROP INDEX cases_search_tokens;
CREATE FUNCTION pg_temp.search_vector(t text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE AS $$
    SELECT array_to_tsvector(ARRAY(
        SELECT DISTINCT w FROM unnest(string_to_array(t, ' ')) AS w
        WHERE w <> '' AND octet_length(w) <= 255))
$$;
ALTER TABLE cases ALTER COLUMN search_tokens DROP DEFAULT;
ALTER TABLE cases ALTER COLUMN search_tokens TYPE tsvector
    USING pg_temp.search_vector(search_tokens);
ALTER TABLE cases ALTER COLUMN search_tokens SET DEFAULT ''::tsvector;
CREATE INDEX cases_search_tokens ON cases USING gin (search_tokens);
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM cases) THEN
        ANALYZE cases;
    END IF;
END
$$;
