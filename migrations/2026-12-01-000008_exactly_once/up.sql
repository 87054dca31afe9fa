-- Idempotency keys are written in the transaction of the request's own effects, with
-- its answer, and held while the request runs by an advisory lock of that transaction:
-- a key row is always a completed answer, and there is no reservation to go stale.
DELETE FROM idempotency_keys WHERE state <> 'completed' OR response_status IS NULL;
ALTER TABLE idempotency_keys
    DROP CONSTRAINT idempotency_keys_state_check,
    DROP COLUMN state,
    DROP COLUMN locked_at,
    ALTER COLUMN response_status SET NOT NULL,
    ALTER COLUMN response_headers SET NOT NULL,
    ALTER COLUMN response_body SET NOT NULL;

-- An external reference is filed once per organisation and source: the service client
-- that sent it, or the organisation's own staff (no client). Deleted records keep it.
DROP INDEX feedback_external_reference_key;
CREATE UNIQUE INDEX feedback_external_reference_key
    ON feedback (organization_id, coalesce(source_client_id, '00000000-0000-0000-0000-000000000000'::uuid), external_reference)
    WHERE external_reference IS NOT NULL;
