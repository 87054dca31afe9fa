-- Deadlines that act (issue 17, first part): a person's inbox, what the deadline scan
-- has already done (each cause once), progress notes and extensions of feedback.

-- One notice to one person. `cause` says what it is about, so that a notice is made
-- once per person and cause however often the scan runs (UNIQUE).
CREATE TABLE notifications (
    id              uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    user_id         uuid NOT NULL REFERENCES users (id),
    kind            text NOT NULL,
    cause           text NOT NULL,
    subject_type    text NOT NULL,
    subject_id      uuid,
    title           text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    read_at         timestamptz,
    UNIQUE (user_id, cause)
);
CREATE INDEX notifications_inbox_idx ON notifications (user_id, (read_at IS NOT NULL), id DESC);

-- What the scan has done that must happen once: an escalation (and its event).
CREATE TABLE deadline_causes (
    cause      text PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- When a record's deadline passed unanswered (set once per deadline by the scan).
ALTER TABLE feedback ADD COLUMN escalated_at timestamptz;

-- What the department says it is doing about a record, and by when.
CREATE TABLE feedback_progress_notes (
    id              uuid PRIMARY KEY,
    feedback_id     uuid NOT NULL REFERENCES feedback (id),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    text            text NOT NULL,
    committed_on    date NOT NULL,
    written_by      uuid,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX feedback_progress_notes_idx ON feedback_progress_notes (feedback_id, id);

-- Extensions (gia hạn): the deadline before and after, in working days, and why.
CREATE TABLE feedback_extensions (
    id                uuid PRIMARY KEY,
    feedback_id       uuid NOT NULL REFERENCES feedback (id),
    organization_id   uuid NOT NULL REFERENCES organizations (id),
    working_days      integer NOT NULL CHECK (working_days BETWEEN 1 AND 60),
    reason            text NOT NULL,
    previous_deadline date NOT NULL,
    new_deadline      date NOT NULL,
    granted_by        uuid,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX feedback_extensions_idx ON feedback_extensions (feedback_id, id);

-- Jobs that recur (`recurring.<name>`) exist once; each instance offers to create them.
CREATE UNIQUE INDEX jobs_recurring_idx ON jobs (kind) WHERE kind LIKE 'recurring.%';
