DROP INDEX feedback_external_reference_key;
CREATE UNIQUE INDEX feedback_external_reference_key ON feedback (source_client_id, external_reference) WHERE external_reference IS NOT NULL;

ALTER TABLE idempotency_keys
    ALTER COLUMN response_status DROP NOT NULL,
    ALTER COLUMN response_headers DROP NOT NULL,
    ALTER COLUMN response_body DROP NOT NULL,
    ADD COLUMN state text NOT NULL DEFAULT 'completed',
    ADD COLUMN locked_at timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT idempotency_keys_state_check CHECK (state IN ('in_progress', 'completed'));
ALTER TABLE idempotency_keys ALTER COLUMN state SET DEFAULT 'in_progress';
