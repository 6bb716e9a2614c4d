-- Held mail (SPEC §5): e-mail the receiver took but could not put on a case
-- by itself, waiting for an agent to attach it to a case or discard it.
-- Sender, subject and raw message are sealed by the application. mail_key
-- (hash of the Message-ID) makes a mail delivered twice held once.
CREATE TABLE held_mail (
    seq         bigserial PRIMARY KEY,
    id          uuid NOT NULL UNIQUE,
    mail_key    text NOT NULL UNIQUE,
    received_at timestamptz NOT NULL,
    sender      text NOT NULL,
    subject     text NOT NULL,
    tracking_no text,
    case_id     uuid,
    raw         text NOT NULL,
    size        bigint NOT NULL CHECK (size >= 0),
    state       text NOT NULL CHECK (state IN ('held', 'attached', 'discarded')),
    settled_by  text,
    settled_at  timestamptz,
    attached_to uuid
);
CREATE INDEX held_mail_state ON held_mail (state, seq);
