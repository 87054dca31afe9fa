-- One name for the first day of a span, as reporting duties have it (`starts_on`).
ALTER TABLE assignments RENAME COLUMN start_on TO starts_on;
