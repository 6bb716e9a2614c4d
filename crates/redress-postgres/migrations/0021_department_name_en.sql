-- A department's English name, shown on the pages in English mode (issue
-- 15 item 6); without one the Chinese name is shown.
ALTER TABLE departments ADD COLUMN name_en text;
