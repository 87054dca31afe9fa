-- Department assignments (who leads, co-ordinates or carries out a plan item — or the
-- plan as a whole), and the progress reports departments submit for each period.

CREATE TABLE assignments (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL REFERENCES organizations (id),
    plan_id          uuid NOT NULL REFERENCES plans (id),
    -- NULL: the plan as a whole (e.g. the decision's articles).
    plan_item_id     uuid REFERENCES plan_items (id),
    department_id    uuid NOT NULL REFERENCES departments (id),
    role             text NOT NULL,
    duty             text,
    start_on         date,
    due_on           date,
    reporting        text NOT NULL DEFAULT 'none',
    status           text NOT NULL DEFAULT 'assigned',
    version          integer NOT NULL DEFAULT 1,
    created_by       uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz,
    CONSTRAINT assignments_role_check CHECK (role IN ('lead', 'coordinate', 'execute')),
    CONSTRAINT assignments_reporting_check CHECK (reporting IN ('none', 'monthly', 'quarterly', 'half_yearly', 'yearly')),
    CONSTRAINT assignments_status_check CHECK (status IN ('assigned', 'in_progress', 'done', 'cancelled')),
    CONSTRAINT assignments_dates_check CHECK (start_on IS NULL OR due_on IS NULL OR start_on <= due_on)
);
-- One lead per item (or per plan, for plan-wide assignments), and one assignment per
-- department and item, among assignments that are not deleted or cancelled.
CREATE UNIQUE INDEX assignments_one_lead ON assignments (plan_id, coalesce(plan_item_id, '00000000-0000-0000-0000-000000000000'))
    WHERE role = 'lead' AND deleted_at IS NULL AND status <> 'cancelled';
CREATE UNIQUE INDEX assignments_department_key ON assignments (plan_id, coalesce(plan_item_id, '00000000-0000-0000-0000-000000000000'), department_id)
    WHERE deleted_at IS NULL AND status <> 'cancelled';
CREATE INDEX assignments_org_idx ON assignments (organization_id, id);
CREATE INDEX assignments_department_idx ON assignments (department_id, due_on);
CREATE INDEX assignments_item_idx ON assignments (plan_item_id);
CREATE INDEX assignments_plan_idx ON assignments (plan_id, id);
CREATE INDEX assignments_sync_idx ON assignments (organization_id, updated_at, id);

-- A department's report for one period. Each correction of an accepted report is a
-- new version; earlier versions stay readable.
CREATE TABLE progress_reports (
    id                uuid PRIMARY KEY,
    organization_id   uuid NOT NULL REFERENCES organizations (id),
    assignment_id     uuid NOT NULL REFERENCES assignments (id),
    period            text NOT NULL,
    version_no        integer NOT NULL,
    summary           text NOT NULL,
    progress_percent  integer,
    activity_ids      uuid[] NOT NULL DEFAULT '{}',
    status            text NOT NULL DEFAULT 'submitted',
    due_on            date NOT NULL,
    late              boolean NOT NULL,
    submitted_by      uuid,
    submitted_at      timestamptz NOT NULL,
    reviewed_by       uuid,
    reviewed_at       timestamptz,
    review_note       text,
    version           integer NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    deleted_at        timestamptz,
    CONSTRAINT progress_reports_status_check CHECK (status IN ('submitted', 'accepted', 'returned')),
    CONSTRAINT progress_reports_percent_check CHECK (progress_percent BETWEEN 0 AND 100)
);
CREATE UNIQUE INDEX progress_reports_version_key ON progress_reports (assignment_id, period, version_no);
CREATE INDEX progress_reports_assignment_idx ON progress_reports (assignment_id, period, version_no DESC);

-- Whether the department assignments a kept file names have been created; files
-- imported before assignments existed are read again at start-up.
ALTER TABLE plan_imports ADD COLUMN assignments_applied boolean NOT NULL DEFAULT false;
