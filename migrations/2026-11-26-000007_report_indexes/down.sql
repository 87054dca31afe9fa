DROP INDEX evidence_live_activity_idx;
CREATE INDEX feedback_received_idx ON feedback (organization_id, received_at);
DROP INDEX feedback_report_idx;
