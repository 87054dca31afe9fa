-- Reports sent upward (issue 18): a unit's periodic report on a plan that implements
-- its parent organisation's plan, frozen when submitted, acknowledged or returned by
-- the parent; a returned one is corrected and submitted again as the next version.
CREATE TABLE report_submissions (
    id                      uuid PRIMARY KEY,
    organization_id         uuid NOT NULL REFERENCES organizations (id),
    parent_organization_id  uuid NOT NULL REFERENCES organizations (id),
    plan_id                 uuid NOT NULL REFERENCES plans (id),
    period                  text NOT NULL,
    period_from             date NOT NULL,
    period_to               date NOT NULL,
    version_no              integer NOT NULL,
    status                  text NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted', 'acknowledged', 'returned')),
    due_on                  date NOT NULL,
    late                    boolean NOT NULL,
    body                    text NOT NULL,
    sha256                  text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes              bigint NOT NULL,
    note                    text,
    decision_note           text,
    submitted_by            uuid,
    submitted_at            timestamptz NOT NULL,
    decided_by              uuid,
    decided_at              timestamptz,
    version                 integer NOT NULL DEFAULT 1,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    -- Never set: a submission is not deleted (the column keeps the shared list code).
    deleted_at              timestamptz,
    UNIQUE (plan_id, period, version_no)
);
-- At most one submission of a plan and period stands (submitted or acknowledged).
CREATE UNIQUE INDEX report_submissions_standing_key ON report_submissions (plan_id, period)
    WHERE status IN ('submitted', 'acknowledged');
CREATE INDEX report_submissions_parent_idx ON report_submissions (parent_organization_id, id);
CREATE INDEX report_submissions_plan_idx ON report_submissions (plan_id, id);

-- What was submitted is never changed: only its status and the parent's note.
CREATE FUNCTION report_submissions_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.body IS DISTINCT FROM OLD.body OR NEW.sha256 IS DISTINCT FROM OLD.sha256
       OR NEW.period IS DISTINCT FROM OLD.period OR NEW.plan_id IS DISTINCT FROM OLD.plan_id
       OR NEW.version_no IS DISTINCT FROM OLD.version_no THEN
        RAISE EXCEPTION 'report submissions are frozen' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'report_submissions_frozen';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER report_submissions_frozen BEFORE UPDATE ON report_submissions
    FOR EACH ROW EXECUTE FUNCTION report_submissions_frozen();
