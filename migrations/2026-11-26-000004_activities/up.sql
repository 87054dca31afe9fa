-- Communication activities that carried the plan out, who attended them, and the
-- evidence files that prove them.

CREATE TABLE activities (
    id                 uuid PRIMARY KEY,
    organization_id    uuid NOT NULL REFERENCES organizations (id),
    plan_id            uuid NOT NULL REFERENCES plans (id),
    assignment_id      uuid REFERENCES assignments (id),
    department_id      uuid NOT NULL REFERENCES departments (id),
    title              text NOT NULL,
    description        text,
    channel            text NOT NULL,
    audience           text NOT NULL,
    held_from          timestamptz NOT NULL,
    held_to            timestamptz,
    place              text,
    participant_count  integer,
    links              text[] NOT NULL DEFAULT '{}',
    status             text NOT NULL DEFAULT 'draft',
    return_reason      text,
    submitted_at       timestamptz,
    verified_by        uuid,
    verified_at        timestamptz,
    version            integer NOT NULL DEFAULT 1,
    created_by         uuid,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    deleted_at         timestamptz,
    search             text GENERATED ALWAYS AS (lower(f_unaccent(title || ' ' || coalesce(description, '') || ' ' || coalesce(place, '')))) STORED,
    CONSTRAINT activities_channel_check CHECK (channel IN ('meeting', 'conference', 'training', 'internal_network', 'website_post',
        'portal_news', 'press_article', 'interview', 'party_meeting', 'oral', 'banner', 'sms_email', 'contest_entry', 'other')),
    CONSTRAINT activities_audience_check CHECK (audience IN ('staff', 'public', 'all')),
    CONSTRAINT activities_status_check CHECK (status IN ('draft', 'submitted', 'verified', 'returned')),
    CONSTRAINT activities_held_check CHECK (held_to IS NULL OR held_to >= held_from),
    CONSTRAINT activities_participants_check CHECK (participant_count IS NULL OR participant_count >= 0)
);
CREATE INDEX activities_org_idx ON activities (organization_id, id);
CREATE INDEX activities_plan_idx ON activities (plan_id, held_from);
CREATE INDEX activities_department_idx ON activities (department_id);
CREATE INDEX activities_assignment_idx ON activities (assignment_id);
CREATE INDEX activities_sync_idx ON activities (organization_id, updated_at, id);
CREATE INDEX activities_search_idx ON activities USING gin (search gin_trgm_ops);

-- The plan items an activity serves (one or more, of its plan).
CREATE TABLE activity_items (
    activity_id   uuid NOT NULL REFERENCES activities (id),
    plan_item_id  uuid NOT NULL REFERENCES plan_items (id),
    position      integer NOT NULL,
    PRIMARY KEY (activity_id, plan_item_id)
);
CREATE INDEX activity_items_item_idx ON activity_items (plan_item_id);

-- The organisation's people who attended.
CREATE TABLE activity_attendees (
    activity_id  uuid NOT NULL REFERENCES activities (id),
    user_id      uuid NOT NULL REFERENCES users (id),
    PRIMARY KEY (activity_id, user_id)
);
CREATE INDEX activity_attendees_user_idx ON activity_attendees (user_id);

-- Evidence file metadata. The content lives in the object store under its SHA-256,
-- written before the row is committed; a sweep removes objects no row refers to.
CREATE TABLE evidence (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL REFERENCES organizations (id),
    activity_id      uuid NOT NULL REFERENCES activities (id),
    sha256           text NOT NULL,
    size_bytes       bigint NOT NULL,
    content_type     text NOT NULL,
    file_name        text NOT NULL,
    caption          text,
    uploaded_by      uuid,
    version          integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz,
    CONSTRAINT evidence_sha256_check CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT evidence_size_check CHECK (size_bytes >= 0)
);
CREATE INDEX evidence_activity_idx ON evidence (activity_id, id);
CREATE INDEX evidence_sha256_idx ON evidence (sha256);
CREATE INDEX evidence_sync_idx ON evidence (organization_id, updated_at, id);
