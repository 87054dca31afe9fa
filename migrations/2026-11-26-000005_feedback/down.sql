DROP TABLE feedback_answers;
DROP TABLE feedback_history;
DROP TABLE feedback_publications;
DROP TABLE feedback_senders;
DROP TABLE feedback;
DROP TABLE feedback_counters;
DROP TABLE holidays;
DROP TABLE feedback_categories;
