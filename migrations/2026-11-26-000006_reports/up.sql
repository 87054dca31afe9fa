-- Frozen reports: the JSON document of a plan's report for a closed period, kept byte
-- for byte with its SHA-256, so it never changes when the data later does.
CREATE TABLE report_snapshots (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL REFERENCES organizations (id),
    plan_id          uuid NOT NULL REFERENCES plans (id),
    period           text NOT NULL,
    period_from      date NOT NULL,
    period_to        date NOT NULL,
    body             text NOT NULL,
    sha256           text NOT NULL,
    size_bytes       bigint NOT NULL,
    version          integer NOT NULL DEFAULT 1,
    created_by       uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz,
    CONSTRAINT report_snapshots_period_check CHECK (period_from <= period_to),
    CONSTRAINT report_snapshots_sha256_check CHECK (sha256 ~ '^[0-9a-f]{64}$')
);
CREATE UNIQUE INDEX report_snapshots_period_key ON report_snapshots (plan_id, period) WHERE deleted_at IS NULL;
CREATE INDEX report_snapshots_org_idx ON report_snapshots (organization_id, id);
CREATE INDEX report_snapshots_sync_idx ON report_snapshots (organization_id, updated_at, id);

-- A snapshot is never changed: only its soft deletion is allowed.
CREATE FUNCTION report_snapshots_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.body IS DISTINCT FROM OLD.body OR NEW.sha256 IS DISTINCT FROM OLD.sha256
       OR NEW.period IS DISTINCT FROM OLD.period OR NEW.plan_id IS DISTINCT FROM OLD.plan_id THEN
        RAISE EXCEPTION 'report snapshots are frozen' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'report_snapshots_frozen';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER report_snapshots_frozen BEFORE UPDATE ON report_snapshots
    FOR EACH ROW EXECUTE FUNCTION report_snapshots_frozen();
