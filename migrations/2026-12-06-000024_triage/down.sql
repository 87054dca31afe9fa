ALTER TABLE organizations DROP COLUMN auto_assign_min_score;
DROP TABLE feedback_triage;
DROP TABLE feedback_suggestions;
DROP TABLE feedback_merges;
UPDATE feedback SET status = 'received' WHERE status = 'merged';
ALTER TABLE feedback DROP CONSTRAINT feedback_status_check;
ALTER TABLE feedback ADD CONSTRAINT feedback_status_check
    CHECK (status IN ('received', 'accepted', 'in_progress', 'answered', 'closed', 'rejected', 'forwarded'));
DROP TABLE feedback_sender_keys;
DROP TRIGGER feedback_term_counts_delete ON feedback;
DROP TRIGGER feedback_term_counts_update ON feedback;
DROP TRIGGER feedback_term_counts_insert ON feedback;
DROP FUNCTION feedback_term_counts_apply();
DROP TABLE feedback_term_counts;
DROP INDEX feedback_open_received_idx;
ALTER TABLE feedback DROP COLUMN terms;
DROP FUNCTION feedback_terms(uuid, text);
DROP FUNCTION feedback_common_words();
