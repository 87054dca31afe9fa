-- Citizen feedback (phản ánh, kiến nghị): categories with working-day deadlines, the
-- organisation's holidays, the records with their history, answers and publication.

CREATE TABLE feedback_categories (
    id                     uuid PRIMARY KEY,
    organization_id        uuid NOT NULL REFERENCES organizations (id),
    code                   text NOT NULL,
    name                   text NOT NULL,
    default_department_id  uuid REFERENCES departments (id),
    deadline_days          integer NOT NULL,
    version                integer NOT NULL DEFAULT 1,
    created_by             uuid,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    deleted_at             timestamptz,
    CONSTRAINT feedback_categories_deadline_check CHECK (deadline_days BETWEEN 1 AND 365)
);
CREATE UNIQUE INDEX feedback_categories_code_key ON feedback_categories (organization_id, lower(code)) WHERE deleted_at IS NULL;
CREATE INDEX feedback_categories_org_idx ON feedback_categories (organization_id, id);
CREATE INDEX feedback_categories_sync_idx ON feedback_categories (organization_id, updated_at, id);

-- Non-working days besides Saturdays and Sundays.
CREATE TABLE holidays (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL REFERENCES organizations (id),
    day              date NOT NULL,
    name             text NOT NULL,
    version          integer NOT NULL DEFAULT 1,
    created_by       uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz
);
CREATE UNIQUE INDEX holidays_day_key ON holidays (organization_id, day) WHERE deleted_at IS NULL;
CREATE INDEX holidays_sync_idx ON holidays (organization_id, updated_at, id);

-- The last number given per organisation and year; taken under the row's lock in the
-- inserting transaction, so numbers are gap-free and never reused.
CREATE TABLE feedback_counters (
    organization_id  uuid NOT NULL REFERENCES organizations (id),
    year             integer NOT NULL,
    last_number      integer NOT NULL,
    PRIMARY KEY (organization_id, year)
);

CREATE TABLE feedback (
    id                    uuid PRIMARY KEY,
    organization_id       uuid NOT NULL REFERENCES organizations (id),
    code                  text NOT NULL,
    received_at           timestamptz NOT NULL,
    channel               text NOT NULL,
    kind                  text NOT NULL,
    sender_type           text NOT NULL,
    anonymous             boolean NOT NULL DEFAULT false,
    subject               text NOT NULL,
    content               text NOT NULL,
    category_id           uuid REFERENCES feedback_categories (id),
    plan_item_id          uuid REFERENCES plan_items (id),
    department_id         uuid REFERENCES departments (id),
    deadline_on           date NOT NULL,
    deadline_reason       text,
    external_reference    text,
    source_client_id      uuid REFERENCES service_clients (id),
    status                text NOT NULL DEFAULT 'received',
    status_reason         text,
    forwarded_to          text,
    answered_at           timestamptz,
    closed_at             timestamptz,
    satisfaction          text,
    satisfaction_channel  text,
    satisfaction_at       timestamptz,
    internal_note         text,
    version               integer NOT NULL DEFAULT 1,
    created_by            uuid,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    deleted_at            timestamptz,
    search                text GENERATED ALWAYS AS (lower(f_unaccent(code || ' ' || subject || ' ' || content))) STORED,
    CONSTRAINT feedback_channel_check CHECK (channel IN ('hotline', 'email', 'website', 'letter', 'in_person', 'portal', 'press', 'other')),
    CONSTRAINT feedback_kind_check CHECK (kind IN ('feedback', 'complaint', 'recommendation', 'question')),
    CONSTRAINT feedback_sender_type_check CHECK (sender_type IN ('citizen', 'organization', 'business', 'investor')),
    CONSTRAINT feedback_status_check CHECK (status IN ('received', 'accepted', 'in_progress', 'answered', 'closed', 'rejected', 'forwarded')),
    CONSTRAINT feedback_satisfaction_check CHECK (satisfaction IN ('satisfied', 'neutral', 'dissatisfied'))
);
CREATE UNIQUE INDEX feedback_code_key ON feedback (organization_id, code);
CREATE UNIQUE INDEX feedback_external_reference_key ON feedback (source_client_id, external_reference) WHERE external_reference IS NOT NULL;
CREATE INDEX feedback_org_idx ON feedback (organization_id, id);
CREATE INDEX feedback_status_idx ON feedback (organization_id, status, id);
CREATE INDEX feedback_received_idx ON feedback (organization_id, received_at);
CREATE INDEX feedback_department_idx ON feedback (department_id);
CREATE INDEX feedback_sync_idx ON feedback (organization_id, updated_at, id);
CREATE INDEX feedback_search_idx ON feedback USING gin (search gin_trgm_ops);

-- The sender's personal data, kept apart from the record: an anonymous record has no
-- row here, and nothing else in the schema holds a name, phone, email or address.
CREATE TABLE feedback_senders (
    feedback_id  uuid PRIMARY KEY REFERENCES feedback (id),
    name         text,
    phone        text,
    email        text,
    address      text
);

-- The published result: what the public may read, written by the coordinator.
CREATE TABLE feedback_publications (
    feedback_id      uuid PRIMARY KEY REFERENCES feedback (id),
    organization_id  uuid NOT NULL REFERENCES organizations (id),
    summary          text NOT NULL,
    published_by     uuid,
    published_at     timestamptz NOT NULL
);
CREATE INDEX feedback_publications_org_idx ON feedback_publications (organization_id, feedback_id);

-- Every status change, as it happened.
CREATE TABLE feedback_history (
    id           uuid PRIMARY KEY,
    feedback_id  uuid NOT NULL REFERENCES feedback (id),
    from_status  text,
    to_status    text NOT NULL,
    note         text,
    actor_kind   text NOT NULL,
    actor_id     uuid,
    actor_name   text,
    at           timestamptz NOT NULL
);
CREATE INDEX feedback_history_feedback_idx ON feedback_history (feedback_id, at, id);

CREATE TABLE feedback_answers (
    id               uuid PRIMARY KEY,
    feedback_id      uuid NOT NULL REFERENCES feedback (id),
    organization_id  uuid NOT NULL REFERENCES organizations (id),
    text             text NOT NULL,
    attachments      text[] NOT NULL DEFAULT '{}',
    answered_by      uuid,
    answered_at      timestamptz NOT NULL,
    version          integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz
);
CREATE INDEX feedback_answers_feedback_idx ON feedback_answers (feedback_id, answered_at, id);
