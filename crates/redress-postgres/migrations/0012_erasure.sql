-- A purge scrubs the case's webhook calls and held mail (SPEC §8):
-- look-ups by case.
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
    id           integer PRIMARY KEY CHECK (id = 1),
    seq          bigint NOT NULL,
    old_hash     text NOT NULL,
    new_hash     text NOT NULL,
    rewritten    bigint NOT NULL,
    started_seq  bigint NOT NULL,
    started_hash text NOT NULL
);
