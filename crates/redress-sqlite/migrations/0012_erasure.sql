-- Erasure that leaves nothing readable (SPEC §8). The search index forgets
-- a purged case's words for good: with FTS5's secure-delete option a
-- deleted row's tokens are removed from the index b-trees at once instead
-- of being masked by delete markers until a merge. (The connection's
-- secure_delete pragma zeroes the pages and cells that deletes free.)
INSERT INTO cases_fts (cases_fts, rank) VALUES ('secure-delete', 1);

-- A purge scrubs the case's webhook calls and held mail: look-ups by case.
CREATE INDEX IF NOT EXISTS webhook_calls_case ON webhook_calls (case_id)
    WHERE case_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS held_mail_case ON held_mail (case_id)
    WHERE case_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS held_mail_attached ON held_mail (attached_to)
    WHERE attached_to IS NOT NULL;

-- A rewrite of the journal in progress (re-sealing payloads written in
-- the clear): the events up to seq chain with new hashes ending in
-- new_hash; the event after it still names old_hash. At most one row.
CREATE TABLE journal_splice (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    seq          INTEGER NOT NULL,
    old_hash     TEXT NOT NULL,
    new_hash     TEXT NOT NULL,
    rewritten    INTEGER NOT NULL,
    started_seq  INTEGER NOT NULL,
    started_hash TEXT NOT NULL
);
