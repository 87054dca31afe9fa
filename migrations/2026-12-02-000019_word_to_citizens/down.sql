ALTER TABLE notifications DROP COLUMN title_en;
ALTER TABLE notification_preferences DROP COLUMN digest, DROP COLUMN language;
DROP INDEX outbound_messages_feedback_idx;
DELETE FROM outbound_messages WHERE notification_id IS NULL;
ALTER TABLE outbound_messages
    DROP CONSTRAINT outbound_messages_to_check,
    DROP CONSTRAINT outbound_messages_cause_key,
    DROP CONSTRAINT outbound_messages_channel_check,
    ADD CONSTRAINT outbound_messages_channel_check CHECK (channel IN ('email')),
    DROP COLUMN parts, DROP COLUMN body, DROP COLUMN subject, DROP COLUMN feedback_id,
    DROP COLUMN user_id, DROP COLUMN cause, DROP COLUMN kind,
    ALTER COLUMN notification_id SET NOT NULL;
DROP TABLE message_templates;
ALTER TABLE feedback_senders DROP COLUMN notify_by;
