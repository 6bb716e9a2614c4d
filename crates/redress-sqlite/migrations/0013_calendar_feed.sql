-- Where each calendar day came from (issue 19): 'builtin' (seeded from the
-- State Council's notices), 'manual' (an admin set or imported it) or
-- 'feed' (the subscribed iCalendar feed). Manual days win over the feed,
-- the feed over built-in days; a day the feed drops is removed only when
-- the feed had set it. Days written before this version are taken as
-- manual: the feed never overwrites them.
ALTER TABLE calendar_days ADD COLUMN source TEXT NOT NULL DEFAULT 'manual'
    CHECK (source IN ('builtin', 'manual', 'feed'));

-- The calendar feed subscription: at most one row. next_fetch_at is the
-- app's clock (daily, sooner after a failure); claimed_until is the lease
-- (wall clock) of the instance fetching it.
CREATE TABLE calendar_feed (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    url           TEXT NOT NULL,
    etag          TEXT,
    last_modified TEXT,
    fetched_at    TEXT,
    outcome       TEXT,
    next_fetch_at TEXT NOT NULL,
    claimed_until TEXT,
    set_by        TEXT NOT NULL,
    set_at        TEXT NOT NULL
);
