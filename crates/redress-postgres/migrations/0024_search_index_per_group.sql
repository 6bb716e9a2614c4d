-- Nothing on PostgreSQL: the SQLite store adds new cases to its search
-- index once per group commit (issue 18); the GIN index here is kept by
-- PostgreSQL itself. The migration exists so both backends keep the same
-- numbers.
SELECT 1;
