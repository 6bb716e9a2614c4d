-- A purge scrubs the case's webhook calls and held mail (SPEC §8):
-- look-ups by case.
CREATE INDEX IF NOT EXISTS webhook_calls_case ON webhook_calls (case_id)
    WHERE case_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS held_mail_case ON held_mail (case_id)
    WHERE case_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS held_mail_attached ON held_mail (attached_to)
    WHERE attached_to IS NOT NULL;
