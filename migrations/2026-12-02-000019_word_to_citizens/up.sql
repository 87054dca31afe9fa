-- Word to citizens (issue 17): the sender's consent to be told, the organisation's
-- message templates, and one outbound table for every message: notices to staff (by
-- e-mail, one each or a daily digest) and messages to senders (e-mail or SMS).

-- What the sender consented to be told by (`email`, `sms`), with the contact given.
ALTER TABLE feedback_senders ADD COLUMN notify_by text[] NOT NULL DEFAULT '{}'
    CONSTRAINT feedback_senders_notify_by_check CHECK (notify_by <@ ARRAY['email', 'sms']);

-- A template per organisation, kind and channel; the built-in one when there is none.
CREATE TABLE message_templates (
    organization_id  uuid NOT NULL REFERENCES organizations (id),
    kind             text NOT NULL CHECK (kind IN ('receipt', 'extension', 'answer', 'publication', 'reopening')),
    channel          text NOT NULL CHECK (channel IN ('email', 'sms')),
    subject          text,
    body             text NOT NULL,
    version          integer NOT NULL DEFAULT 1,
    updated_by       uuid,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, kind, channel),
    CHECK ((channel = 'email') = (subject IS NOT NULL))
);

-- Every outbound message. `cause` makes each one once: a notice's e-mail, a sender's
-- message for one occasion and channel, a person's digest of one day. The text is
-- rendered when the message is made (a receipt's PIN exists only then) and kept only
-- until it is sent or given up; the contact is looked up when it is sent (a consent
-- withdrawn meanwhile stops it) and kept here only masked.
ALTER TABLE outbound_messages
    ALTER COLUMN notification_id DROP NOT NULL,
    ADD COLUMN kind        text,
    ADD COLUMN cause       text,
    ADD COLUMN user_id     uuid REFERENCES users (id),
    ADD COLUMN feedback_id uuid REFERENCES feedback (id),
    ADD COLUMN subject     text,
    ADD COLUMN body        text,
    ADD COLUMN parts       integer,
    DROP CONSTRAINT outbound_messages_channel_check,
    ADD CONSTRAINT outbound_messages_channel_check CHECK (channel IN ('email', 'sms'));
UPDATE outbound_messages m SET kind = n.kind, user_id = n.user_id, cause = 'notice/' || n.id
FROM notifications n WHERE n.id = m.notification_id;
ALTER TABLE outbound_messages
    ALTER COLUMN kind SET NOT NULL,
    ALTER COLUMN cause SET NOT NULL,
    ADD CONSTRAINT outbound_messages_cause_key UNIQUE (cause),
    ADD CONSTRAINT outbound_messages_to_check CHECK (num_nonnulls(user_id, feedback_id) = 1);
CREATE INDEX outbound_messages_feedback_idx ON outbound_messages (feedback_id, id) WHERE feedback_id IS NOT NULL;

-- A person's language for notices and e-mails, and whether they want one daily digest
-- instead of an e-mail per notice.
ALTER TABLE notification_preferences
    ADD COLUMN language text NOT NULL DEFAULT 'vi' CHECK (language IN ('vi', 'en')),
    ADD COLUMN digest boolean NOT NULL DEFAULT false;
-- The English title of a notice, beside the Vietnamese one.
ALTER TABLE notifications ADD COLUMN title_en text;
