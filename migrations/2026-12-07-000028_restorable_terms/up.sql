-- feedback_terms() names f_unaccent() and feedback_common_words() unqualified, so a
-- restore (pg_restore runs with an empty search_path) could not compute the generated
-- column `feedback.terms` and failed. The function now carries the search_path it was
-- created with, as feedback_earth() does (found by the backup-and-restore test).
ALTER FUNCTION feedback_terms(uuid, text) SET search_path FROM CURRENT;
