-- Foundation: organisations, departments, people, service clients, audit trail,
-- idempotency keys and sign-in throttling.
--
-- Every mutable table carries `version` (the ETag), `created_at`/`updated_at` and
-- `deleted_at` (soft delete). Uniqueness holds among live rows only, so a code can be
-- reused after the record that held it was deleted. `(updated_at, id)` indexes serve
-- the `updated_since` sync feeds, which also return deleted rows as tombstones.

CREATE TABLE organizations (
    id          uuid PRIMARY KEY,
    code        text NOT NULL,
    name        text NOT NULL,
    name_en     text,
    parent_id   uuid REFERENCES organizations (id),
    website     text,
    version     integer NOT NULL DEFAULT 1,
    created_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz,
    CONSTRAINT organizations_not_own_parent CHECK (parent_id IS DISTINCT FROM id)
);
CREATE UNIQUE INDEX organizations_code_key ON organizations (lower(code)) WHERE deleted_at IS NULL;
CREATE INDEX organizations_parent_idx ON organizations (parent_id);
CREATE INDEX organizations_sync_idx ON organizations (updated_at, id);

CREATE TABLE departments (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL REFERENCES organizations (id),
    code             text NOT NULL,
    name             text NOT NULL,
    name_en          text,
    version          integer NOT NULL DEFAULT 1,
    created_by       uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz
);
CREATE UNIQUE INDEX departments_code_key ON departments (organization_id, lower(code)) WHERE deleted_at IS NULL;
CREATE INDEX departments_org_idx ON departments (organization_id, id);
CREATE INDEX departments_sync_idx ON departments (organization_id, updated_at, id);

CREATE TABLE users (
    id                   uuid PRIMARY KEY,
    organization_id      uuid REFERENCES organizations (id),
    department_id        uuid REFERENCES departments (id),
    username             text NOT NULL,
    full_name            text NOT NULL,
    email                text,
    role                 text NOT NULL,
    active               boolean NOT NULL DEFAULT true,
    password_hash        text NOT NULL,
    password_changed_at  timestamptz NOT NULL DEFAULT now(),
    version              integer NOT NULL DEFAULT 1,
    created_by           uuid,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    deleted_at           timestamptz,
    CONSTRAINT users_role_check CHECK (role IN ('admin', 'org_admin', 'leader', 'coordinator', 'member', 'viewer')),
    -- The system administrator belongs to no organisation; everybody else to exactly one.
    CONSTRAINT users_admin_has_no_org CHECK ((role = 'admin') = (organization_id IS NULL)),
    CONSTRAINT users_department_needs_org CHECK (department_id IS NULL OR organization_id IS NOT NULL)
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username)) WHERE deleted_at IS NULL;
CREATE INDEX users_org_idx ON users (organization_id, id);
CREATE INDEX users_department_idx ON users (department_id);
CREATE INDEX users_sync_idx ON users (organization_id, updated_at, id);

CREATE TABLE service_clients (
    id                 uuid PRIMARY KEY,
    organization_id    uuid NOT NULL REFERENCES organizations (id),
    name               text NOT NULL,
    description        text,
    scopes             text[] NOT NULL,
    active             boolean NOT NULL DEFAULT true,
    secret_hash        text NOT NULL,
    secret_rotated_at  timestamptz NOT NULL DEFAULT now(),
    version            integer NOT NULL DEFAULT 1,
    created_by         uuid,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    deleted_at         timestamptz
);
CREATE INDEX service_clients_org_idx ON service_clients (organization_id, id);
CREATE INDEX service_clients_sync_idx ON service_clients (organization_id, updated_at, id);

-- Append-only: the trigger below refuses updates and deletes, whoever asks.
CREATE TABLE audit_events (
    id               uuid PRIMARY KEY,
    occurred_at      timestamptz NOT NULL DEFAULT now(),
    actor_kind       text NOT NULL,
    actor_id         uuid,
    actor_name       text,
    organization_id  uuid,
    action           text NOT NULL,
    entity_type      text NOT NULL,
    entity_id        uuid,
    changes          jsonb NOT NULL DEFAULT '{}'::jsonb,
    request_id       text,
    client_addr      text,
    CONSTRAINT audit_events_actor_kind_check CHECK (actor_kind IN ('user', 'client', 'system', 'anonymous'))
);
CREATE INDEX audit_events_org_idx ON audit_events (organization_id, id);
CREATE INDEX audit_events_entity_idx ON audit_events (entity_type, entity_id);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_id);

CREATE FUNCTION audit_events_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_immutable();

-- Idempotency-Key records: one per principal and key, replayed for 24 hours.
CREATE TABLE idempotency_keys (
    principal_id      uuid NOT NULL,
    key               text NOT NULL,
    request_hash      bytea NOT NULL,
    state             text NOT NULL DEFAULT 'in_progress',
    response_status   smallint,
    response_headers  jsonb,
    response_body     bytea,
    created_at        timestamptz NOT NULL DEFAULT now(),
    locked_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal_id, key),
    CONSTRAINT idempotency_keys_state_check CHECK (state IN ('in_progress', 'completed'))
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Failed sign-ins per account name (or client id), for throttling and lock-out.
CREATE TABLE login_throttle (
    subject           text PRIMARY KEY,
    failures          integer NOT NULL,
    window_started_at timestamptz NOT NULL,
    locked_until      timestamptz
);
