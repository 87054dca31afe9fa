ALTER TABLE assignments RENAME COLUMN starts_on TO start_on;
