-- Tracking without an account (issue 17): the PIN a sender gets when filing, kept
-- hashed, with the failures counted and a lock like sign-ins'; and reopenings.
CREATE TABLE feedback_tracking (
    feedback_id  uuid PRIMARY KEY REFERENCES feedback (id),
    pin_hash     text NOT NULL, -- HMAC-SHA256 under a key the database does not hold
    failures     integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE feedback_reopenings (
    id                uuid PRIMARY KEY,
    feedback_id       uuid NOT NULL REFERENCES feedback (id),
    organization_id   uuid NOT NULL REFERENCES organizations (id),
    reason            text NOT NULL,
    previous_deadline date NOT NULL,
    new_deadline      date NOT NULL,
    reopened_at       timestamptz NOT NULL
);
CREATE INDEX feedback_reopenings_idx ON feedback_reopenings (feedback_id, id);
