-- The same page after 10,000 records (keyset: id > the last one seen).
-- -D deep=… is that id.
SELECT f.id, f.organization_id, f.code, f.received_at, f.channel, f.kind, f.sender_type, f.anonymous, f.subject, f.content, f.category_id, f.plan_item_id, f.department_id, f.deadline_on, f.deadline_reason, f.external_reference, f.source_client_id, f.status, f.status_reason, f.forwarded_to, f.answered_at, f.closed_at, f.satisfaction, f.satisfaction_channel, f.satisfaction_at, f.internal_note, f.version, f.created_by, f.created_at, f.updated_at, f.deleted_at,
       s.name, s.phone, s.email, s.address, p.summary, p.published_by, p.published_at
FROM (SELECT * FROM feedback
      WHERE organization_id = :org AND status = 'in_progress' AND deleted_at IS NULL AND id > :deep
      ORDER BY id LIMIT 51) f
LEFT JOIN feedback_senders s ON s.feedback_id = f.id
LEFT JOIN feedback_publications p ON p.feedback_id = f.id
ORDER BY f.id;
