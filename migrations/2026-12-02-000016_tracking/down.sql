DROP TABLE feedback_reopenings;
DROP TABLE feedback_tracking;
