-- Retention of what is kept beside the cases (SPEC §8): settled webhook
-- calls (with their attempts), held mail and idempotency records each
-- expire on a setting of their own; the hourly housekeeping deletes them
-- oldest first, in batches, through these indexes.
CREATE INDEX IF NOT EXISTS webhook_calls_settled ON webhook_calls (created_at)
    WHERE state <> 'pending';
CREATE INDEX IF NOT EXISTS held_mail_unsettled ON held_mail (received_at)
    WHERE state = 'held';
CREATE INDEX IF NOT EXISTS held_mail_settled ON held_mail (settled_at)
    WHERE state <> 'held';
CREATE INDEX IF NOT EXISTS idempotency_keys_age ON idempotency_keys (created_at);
