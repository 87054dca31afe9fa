ALTER TABLE report_snapshots DROP COLUMN reporting_periods;
ALTER TABLE organizations DROP COLUMN reporting_periods;
