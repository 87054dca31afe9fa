-- The plan's money and paperwork (issue 21): budget lines with allocations, spending
-- and settlement; documents posted on the website on time; what the official report
-- document needs of its organisation.

-- The official report's heading and signature, and who keeps the books.
ALTER TABLE organizations
    ADD COLUMN abbreviation          text,
    ADD COLUMN place_name            text,
    ADD COLUMN signer_name           text,
    ADD COLUMN signer_title          text,
    ADD COLUMN finance_department_id uuid REFERENCES departments (id),
    ADD COLUMN publication_days      integer NOT NULL DEFAULT 2,
    ADD CONSTRAINT organizations_publication_days_check CHECK (publication_days BETWEEN 0 AND 60);

-- A document the organisation must post on its website after issue (plan II.3.c).
ALTER TABLE documents ADD COLUMN post_required boolean NOT NULL DEFAULT false;

-- The document a website post publishes.
ALTER TABLE activities ADD COLUMN document_id uuid REFERENCES documents (id),
    ADD CONSTRAINT activities_document_check CHECK (document_id IS NULL OR channel = 'website_post');
CREATE INDEX activities_document_idx ON activities (document_id, held_from)
    WHERE document_id IS NOT NULL AND deleted_at IS NULL;

-- Amounts are whole đồng (VND has no minor unit in use), in bigint, never floating point.
CREATE TABLE budget_lines (
    id                 uuid PRIMARY KEY,
    organization_id    uuid NOT NULL REFERENCES organizations (id),
    plan_id            uuid NOT NULL REFERENCES plans (id),
    plan_item_id       uuid REFERENCES plan_items (id),
    activity_id        uuid REFERENCES activities (id),
    department_id      uuid REFERENCES departments (id),
    basis_document_id  uuid REFERENCES documents (id),
    code               text NOT NULL,
    title              text NOT NULL,
    estimate           bigint NOT NULL,
    -- Kept by the triggers below from the live allocations and spending.
    allocated          bigint NOT NULL DEFAULT 0,
    spent              bigint NOT NULL DEFAULT 0,
    settled_on         date,
    settled_amount     bigint,
    settlement_note    text,
    note               text,
    version            integer NOT NULL DEFAULT 1,
    created_by         uuid,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    deleted_at         timestamptz,
    CONSTRAINT budget_lines_estimate_check CHECK (estimate >= 0),
    CONSTRAINT budget_lines_settled_check CHECK (settled_amount >= 0),
    CONSTRAINT budget_lines_settlement_check CHECK ((settled_on IS NULL) = (settled_amount IS NULL))
);
CREATE UNIQUE INDEX budget_lines_code_key ON budget_lines (plan_id, lower(code)) WHERE deleted_at IS NULL;
CREATE INDEX budget_lines_plan_idx ON budget_lines (plan_id, id);
CREATE INDEX budget_lines_org_idx ON budget_lines (organization_id, id);
CREATE INDEX budget_lines_sync_idx ON budget_lines (organization_id, updated_at, id);

CREATE TABLE budget_allocations (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL REFERENCES organizations (id),
    line_id          uuid NOT NULL REFERENCES budget_lines (id),
    allocated_on     date NOT NULL,
    amount           bigint NOT NULL,
    decision_number  text NOT NULL,
    note             text,
    version          integer NOT NULL DEFAULT 1,
    created_by       uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz,
    CONSTRAINT budget_allocations_amount_check CHECK (amount > 0)
);
CREATE INDEX budget_allocations_line_idx ON budget_allocations (line_id, id);
CREATE INDEX budget_allocations_sync_idx ON budget_allocations (organization_id, updated_at, id);

CREATE TABLE budget_spendings (
    id                    uuid PRIMARY KEY,
    organization_id       uuid NOT NULL REFERENCES organizations (id),
    line_id               uuid NOT NULL REFERENCES budget_lines (id),
    spent_on              date NOT NULL,
    amount                bigint NOT NULL,
    payee_kind            text NOT NULL,
    description           text NOT NULL,
    -- The invoice or receipt, stored like evidence (by SHA-256, type from the content).
    receipt_sha256        text,
    receipt_size_bytes    bigint,
    receipt_content_type  text,
    receipt_file_name     text,
    version               integer NOT NULL DEFAULT 1,
    created_by            uuid,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    deleted_at            timestamptz,
    CONSTRAINT budget_spendings_amount_check CHECK (amount > 0),
    CONSTRAINT budget_spendings_payee_check CHECK (payee_kind IN ('organization', 'individual', 'staff', 'press', 'other')),
    CONSTRAINT budget_spendings_receipt_check CHECK (receipt_sha256 IS NULL OR receipt_sha256 ~ '^[0-9a-f]{64}$')
);
CREATE INDEX budget_spendings_line_idx ON budget_spendings (line_id, id);
CREATE INDEX budget_spendings_sync_idx ON budget_spendings (organization_id, updated_at, id);

-- A line's totals follow its entries in the same transaction; the line's version moves
-- with them, so its ETag and the updated_since feed see the change.
CREATE FUNCTION budget_line_totals() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    line uuid;
BEGIN
    FOR line IN SELECT DISTINCT l FROM unnest(ARRAY[
        CASE WHEN TG_OP <> 'INSERT' THEN OLD.line_id END,
        CASE WHEN TG_OP <> 'DELETE' THEN NEW.line_id END]) AS l WHERE l IS NOT NULL
    LOOP
        UPDATE budget_lines SET
            allocated = (SELECT coalesce(sum(amount), 0) FROM budget_allocations
                         WHERE line_id = line AND deleted_at IS NULL),
            spent = (SELECT coalesce(sum(amount), 0) FROM budget_spendings
                     WHERE line_id = line AND deleted_at IS NULL),
            version = version + 1,
            updated_at = now()
        WHERE id = line;
    END LOOP;
    RETURN NULL;
END $$;
CREATE TRIGGER budget_allocations_totals AFTER INSERT OR DELETE OR UPDATE OF amount, deleted_at, line_id
    ON budget_allocations FOR EACH ROW EXECUTE FUNCTION budget_line_totals();
CREATE TRIGGER budget_spendings_totals AFTER INSERT OR DELETE OR UPDATE OF amount, deleted_at, line_id
    ON budget_spendings FOR EACH ROW EXECUTE FUNCTION budget_line_totals();
