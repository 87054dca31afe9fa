DROP INDEX jobs_recurring_idx;
DROP TABLE feedback_extensions;
DROP TABLE feedback_progress_notes;
ALTER TABLE feedback DROP COLUMN escalated_at;
DROP TABLE deadline_causes;
DROP TABLE notifications;
