DROP TABLE report_snapshots;
DROP FUNCTION report_snapshots_frozen();
