-- GET /api/v1/feedback/{id}: one of KDPM's records with its sender and publication, in
-- one statement (the service sends three). -D org=… from bench/run.
\set k random(1, 200000)
SELECT f.id, f.organization_id, f.code, f.received_at, f.channel, f.kind, f.sender_type, f.anonymous, f.subject, f.content, f.category_id, f.plan_item_id, f.department_id, f.deadline_on, f.deadline_reason, f.external_reference, f.source_client_id, f.status, f.status_reason, f.forwarded_to, f.answered_at, f.closed_at, f.satisfaction, f.satisfaction_channel, f.satisfaction_at, f.internal_note, f.version, f.created_by, f.created_at, f.updated_at, f.deleted_at,
       s.name, s.phone, s.email, s.address, p.summary, p.published_by, p.published_at
FROM feedback f
LEFT JOIN feedback_senders s ON s.feedback_id = f.id
LEFT JOIN feedback_publications p ON p.feedback_id = f.id
WHERE f.id = bench_id('fb', :k) AND f.deleted_at IS NULL AND f.organization_id = :org;
