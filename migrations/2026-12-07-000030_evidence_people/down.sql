DROP INDEX evidence_people_idx;
ALTER TABLE evidence DROP COLUMN erased_at, DROP COLUMN shows_person;
