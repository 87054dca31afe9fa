CREATE INDEX feedback_report_idx ON feedback (organization_id, received_at)
    INCLUDE (channel, category_id, department_id, status, deadline_on, satisfaction, answered_at)
    WHERE deleted_at IS NULL;
DROP INDEX feedback_figures_idx;
