ALTER TABLE holidays DROP COLUMN kind;
DROP TABLE national_days;
