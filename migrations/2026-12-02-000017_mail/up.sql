-- Notices by e-mail (issue 17): one message per notice to a person with an address,
-- sent by the job runner. `id` is also its Message-ID, the same on every attempt.
-- The address is kept masked here (the person's own record holds it).
CREATE TABLE outbound_messages (
    id               uuid PRIMARY KEY,
    notification_id  uuid NOT NULL UNIQUE REFERENCES notifications (id),
    organization_id  uuid NOT NULL,
    channel          text NOT NULL CHECK (channel IN ('email')),
    recipient_masked text NOT NULL,
    -- pending → sent | failed (the retry schedule ran out) | skipped (no SMTP configured)
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz
);
