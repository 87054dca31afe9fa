DROP TABLE report_submissions;
DROP FUNCTION report_submissions_frozen();
