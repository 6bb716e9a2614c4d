-- Where each calendar day came from (issue 19): 'builtin' (seeded from the
-- State Council's notices), 'manual' (an admin set or imported it) or
-- 'feed' (the subscribed iCalendar feed). Manual days win over the feed,
-- the feed over built-in days; a day the feed drops is removed only when
-- the feed had set it. Days written before this version are taken as
-- manual: the feed never overwrites them.
ALTER TABLE calendar_days ADD COLUMN source text NOT NULL DEFAULT 'manual'
    CHECK (source IN ('builtin', 'manual', 'feed'));

-- The calendar feed subscription: at most one row. next_fetch_at is the
-- app's clock (daily, sooner after a failure); claimed_until is the lease
-- (the database's clock) of the instance fetching it, taken with
-- FOR UPDATE SKIP LOCKED.
CREATE TABLE calendar_feed (
    id            integer PRIMARY KEY CHECK (id = 1),
    url           text NOT NULL,
    etag          text,
    last_modified text,
    fetched_at    timestamptz,
    outcome       text,
    next_fetch_at timestamptz NOT NULL,
    claimed_until timestamptz,
    set_by        text NOT NULL,
    set_at        timestamptz NOT NULL
);
