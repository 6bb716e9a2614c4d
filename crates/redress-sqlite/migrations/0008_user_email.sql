-- A staff member's e-mail address: reminders and escalations go there as
-- well as in-app (NULL: in-app only).
ALTER TABLE users ADD COLUMN email TEXT;
