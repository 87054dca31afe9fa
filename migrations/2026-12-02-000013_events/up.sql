-- Domain events: one per change the audit trail records, written in the same
-- transaction (db::audit::record), so the two cannot disagree. `txid` is the writing
-- transaction's id: the feed hands out, in (txid, seq) order, only the events of
-- transactions older than every one still running (pg_snapshot_xmin), so an event that
-- commits late is never behind a cursor that has moved on. Never personal data.
CREATE TABLE events (
    seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txid            xid8 NOT NULL DEFAULT pg_current_xact_id(),
    id              uuid NOT NULL UNIQUE,
    type            text NOT NULL,
    occurred_at     timestamptz NOT NULL DEFAULT now(),
    organization_id uuid,
    subject_type    text NOT NULL,
    subject_id      uuid,
    data            jsonb NOT NULL
);
CREATE INDEX events_feed_idx ON events (txid, seq);
CREATE INDEX events_org_feed_idx ON events (organization_id, txid, seq);
