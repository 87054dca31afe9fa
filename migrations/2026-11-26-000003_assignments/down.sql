ALTER TABLE plan_imports DROP COLUMN assignments_applied;
DROP TABLE progress_reports;
DROP TABLE assignments;
