DROP TABLE data_requests;
DROP TABLE erasures;
DROP TABLE feedback_holds;
DROP TABLE feedback_consents;
ALTER TABLE feedback_senders DROP COLUMN restricted_at, DROP COLUMN erased_at;
ALTER TABLE feedback_categories DROP CONSTRAINT feedback_categories_retention_years_check, DROP COLUMN retention_years;
ALTER TABLE organizations DROP CONSTRAINT organizations_retention_years_check,
    DROP COLUMN privacy_notice_version, DROP COLUMN retention_years;
