-- Citizens' personal data as Decree 13/2023/NĐ-CP asks (issue 22): consent recorded with
-- each sender, retention after a record is closed, legal holds, and a log of every
-- erasure and every request a data subject made.

-- How long senders are kept after their record is closed (years), and the notice a
-- channel shows (or the hotline reads) by default.
ALTER TABLE organizations
    ADD COLUMN retention_years integer NOT NULL DEFAULT 5,
    ADD COLUMN privacy_notice_version text NOT NULL DEFAULT 'NĐ13-2023/1',
    ADD CONSTRAINT organizations_retention_years_check CHECK (retention_years BETWEEN 1 AND 100);
ALTER TABLE feedback_categories
    ADD COLUMN retention_years integer,
    ADD CONSTRAINT feedback_categories_retention_years_check CHECK (retention_years BETWEEN 1 AND 100);

-- A sender anonymised (the fields emptied), or whose processing is restricted.
ALTER TABLE feedback_senders
    ADD COLUMN erased_at timestamptz,
    ADD COLUMN restricted_at timestamptz;

-- What the sender was told and agreed to, when, and through which channel or client.
CREATE TABLE feedback_consents (
    feedback_id          uuid PRIMARY KEY REFERENCES feedback (id),
    organization_id      uuid NOT NULL REFERENCES organizations (id),
    notice_version       text NOT NULL,
    handling             boolean NOT NULL DEFAULT true,
    notify               boolean NOT NULL,
    publish              boolean NOT NULL,
    given_at             timestamptz NOT NULL,
    channel              text NOT NULL,
    client_id            uuid,
    recorded_by          uuid,
    notify_withdrawn_at  timestamptz,
    publish_withdrawn_at timestamptz
);

-- A record under legal hold (e.g. a complaint under investigation) is not erased.
CREATE TABLE feedback_holds (
    feedback_id     uuid PRIMARY KEY REFERENCES feedback (id),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    reason          text NOT NULL,
    set_by          uuid,
    set_at          timestamptz NOT NULL DEFAULT now()
);

-- Every erasure, kept so that a restore from a backup can apply it again.
CREATE TABLE erasures (
    id                uuid PRIMARY KEY,
    organization_id   uuid NOT NULL REFERENCES organizations (id),
    feedback_id       uuid NOT NULL REFERENCES feedback (id),
    reason            text NOT NULL,
    legal_basis       text,
    request_reference text,
    performed_by      uuid,
    performed_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT erasures_reason_check CHECK (reason IN ('retention', 'request', 'reapplied'))
);
CREATE INDEX erasures_org_idx ON erasures (organization_id, performed_at, id);
CREATE INDEX erasures_feedback_idx ON erasures (feedback_id);

-- Each request of a data subject acted on: access, restriction, erasure.
CREATE TABLE data_requests (
    id                uuid PRIMARY KEY,
    organization_id   uuid NOT NULL REFERENCES organizations (id),
    action            text NOT NULL,
    legal_basis       text NOT NULL,
    request_reference text NOT NULL,
    records           integer NOT NULL,
    held              integer NOT NULL DEFAULT 0,
    performed_by      uuid,
    performed_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT data_requests_action_check CHECK (action IN ('access', 'restrict', 'erase'))
);
CREATE INDEX data_requests_org_idx ON data_requests (organization_id, performed_at, id);
