-- Background jobs claim due cases for a lease (wall clock), so that a
-- second sweep skips what the first holds; saving a case ends its claim.
ALTER TABLE cases ADD COLUMN claimed_until TEXT;
