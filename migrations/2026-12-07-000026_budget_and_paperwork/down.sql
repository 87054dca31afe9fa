DROP TRIGGER budget_spendings_totals ON budget_spendings;
DROP TRIGGER budget_allocations_totals ON budget_allocations;
DROP FUNCTION budget_line_totals();
DROP TABLE budget_spendings;
DROP TABLE budget_allocations;
DROP TABLE budget_lines;
DROP INDEX activities_document_idx;
ALTER TABLE activities DROP CONSTRAINT activities_document_check, DROP COLUMN document_id;
ALTER TABLE documents DROP COLUMN post_required;
ALTER TABLE organizations DROP CONSTRAINT organizations_publication_days_check,
    DROP COLUMN publication_days, DROP COLUMN finance_department_id, DROP COLUMN signer_title,
    DROP COLUMN signer_name, DROP COLUMN place_name, DROP COLUMN abbreviation;
