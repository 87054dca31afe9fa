-- POST /api/v1/feedback with an Idempotency-Key: the statements the service needs for a
-- safe, audited write, in the one transaction it runs them in (take the key under an
-- advisory lock; number, file, sender, history, PIN, audit and event; keep the answer for
-- replays with the change). -D org=… -D user=… from bench/run.
BEGIN;
SELECT pg_try_advisory_xact_lock(hashtextextended('pgbench-' || :user || random()::text, 0));
SELECT response_status FROM idempotency_keys WHERE principal_id = :user AND key = 'pgbench-none';
INSERT INTO feedback_counters (organization_id, year, last_number) VALUES (:org, 2026, 1)
ON CONFLICT (organization_id, year) DO UPDATE SET last_number = feedback_counters.last_number + 1
RETURNING last_number \gset
INSERT INTO feedback (id, organization_id, code, received_at, channel, kind, sender_type, anonymous, subject, content,
                      deadline_on, created_by)
VALUES (gen_random_uuid(), :org, 'PAKN-2026-' || lpad(:last_number::text, 6, '0'), now(), 'hotline', 'question',
        'citizen', false, 'Hỏi về tiến độ giải phóng mặt bằng', 'Đề nghị Ban cho biết tiến độ.', current_date + 14, :user)
RETURNING id AS feedback_id \gset
INSERT INTO feedback_senders (feedback_id, name, phone) VALUES (:feedback_id, 'Nguyễn Văn An', '0912345678');
INSERT INTO feedback_history (id, feedback_id, to_status, actor_kind, actor_id, actor_name, at)
VALUES (gen_random_uuid(), :feedback_id, 'received', 'user', :user, 'bench.coordinator', now());
INSERT INTO feedback_tracking (feedback_id, pin_hash) VALUES (:feedback_id, repeat('0', 64));
INSERT INTO audit_events (id, actor_kind, actor_id, actor_name, organization_id, action, entity_type, entity_id, changes)
VALUES (gen_random_uuid(), 'user', :user, 'bench.coordinator', :org, 'create', 'feedback', :feedback_id,
        '{"code": {"after": "PAKN", "before": null}, "status": {"after": "received", "before": null}}');
INSERT INTO events (id, type, organization_id, subject_type, subject_id, data)
VALUES (gen_random_uuid(), 'feedback.received', :org, 'feedback', :feedback_id, '{"status": "received"}');
INSERT INTO idempotency_keys (principal_id, key, request_hash, response_status, response_headers, response_body)
VALUES (:user, 'pgbench-' || gen_random_uuid(), '\x00', 201, '{}', convert_to(repeat('x', 900), 'UTF8'));
COMMIT;
