DROP TABLE feedback_filings;
