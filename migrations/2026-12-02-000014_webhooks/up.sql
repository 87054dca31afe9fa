-- Webhook subscriptions of an organisation. `secret` (and, for a while after a
-- rotation, `previous_secret`) signs deliveries as Standard Webhooks does: HMAC-SHA256
-- needs the key itself, so the database holds it; the API shows it once.
CREATE TABLE webhooks (
    id                         uuid PRIMARY KEY,
    organization_id            uuid NOT NULL REFERENCES organizations (id),
    url                        text NOT NULL,
    event_types                text[] NOT NULL,
    description                text,
    active                     boolean NOT NULL DEFAULT true,
    secret                     text NOT NULL,
    previous_secret            text,
    previous_secret_expires_at timestamptz,
    secret_rotated_at          timestamptz NOT NULL DEFAULT now(),
    -- Why the service turned it off: `gone` (the receiver answered 410) or `failing`.
    disabled_reason            text CHECK (disabled_reason IN ('gone', 'failing')),
    disabled_at                timestamptz,
    version                    integer NOT NULL DEFAULT 1,
    created_by                 uuid,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    deleted_at                 timestamptz
);
CREATE INDEX webhooks_org_idx ON webhooks (organization_id, id);
CREATE INDEX webhooks_active_idx ON webhooks (organization_id) WHERE active AND deleted_at IS NULL;
CREATE INDEX webhooks_sync_idx ON webhooks (updated_at, id);

-- One event for one subscription. Written in the transaction of the change (so nothing
-- committed goes unsent), with the exact body every attempt sends.
CREATE TABLE webhook_deliveries (
    id               uuid PRIMARY KEY,
    webhook_id       uuid NOT NULL REFERENCES webhooks (id),
    organization_id  uuid NOT NULL,
    event_id         uuid NOT NULL,
    event_type       text NOT NULL,
    -- `<subject type>/<subject id>`: deliveries with one key go in order
    subject_key      text NOT NULL,
    payload          text NOT NULL,
    -- pending → delivered | failed (the schedule ran out, or 410) | cancelled (the
    -- subscription was turned off or deleted first)
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts         integer NOT NULL DEFAULT 0,
    last_status_code integer,
    last_latency_ms  integer,
    last_error       text,
    next_attempt_at  timestamptz DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz
);
CREATE INDEX webhook_deliveries_list_idx ON webhook_deliveries (webhook_id, id DESC);

-- The job queue every instance shares. A job is claimed for a lease (`locked_until`)
-- with FOR UPDATE SKIP LOCKED, worked outside any transaction, and then deleted or
-- rescheduled; one whose worker died is claimed again when the lease runs out (at
-- least once). Jobs with the same `ordering_key` run one at a time in `id` order.
CREATE TABLE jobs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL,
    ordering_key text,
    payload      jsonb NOT NULL,
    run_at       timestamptz NOT NULL DEFAULT now(),
    attempts     integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    locked_by    uuid,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_due_idx ON jobs (run_at, id);
CREATE INDEX jobs_ordering_idx ON jobs (ordering_key, id) WHERE ordering_key IS NOT NULL;
