//! Outbound messages (table `outbound_messages`): e-mails of notices and digests to
//! staff, and messages to the senders of feedback by e-mail or SMS. Each is made once
//! per cause in the transaction of what caused it, with a job to send it; the contact
//! is read when it is sent and kept here only masked; the text is kept until it is sent
//! or given up.
use chrono::{DateTime, Utc};
use diesel::{
    OptionalExtension,
    prelude::*,
    sql_query,
    sql_types::{Array, Bool, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid},
};
use uuid::Uuid;

use crate::domain::{
    feedback::{mask_email, mask_phone},
    messages::{MessageChannel, MessageKind, render, sms_size},
};

/// The job kind that sends one e-mail.
pub const MAIL: &str = "mail.send";
/// The job kind that sends one SMS.
pub const SMS: &str = "sms.send";

/// Where the citizens' links point: `CCHC_PUBLIC_URL`.
#[derive(Clone, Debug)]
pub struct Links {
    pub base: String,
}

impl Links {
    pub fn tracking(&self, code: &str) -> String {
        format!("{}/api/v1/public/feedback/{code}/status", self.base)
    }
    pub fn public(&self, code: &str) -> String {
        format!("{}/api/v1/public/feedback/{code}", self.base)
    }
}

/// A message to the sender of `feedback` about `kind`, once per `occasion` (e.g. the
/// extension's id) and channel, on each channel they consented to with a contact.
/// `values` are the kind's own placeholders; the code, organisation and tracking link
/// are added here. What happens to a record after its receipt reaches the senders of
/// the records merged into it too, each with their own code. Returns how many
/// messages were made.
pub fn to_sender(
    conn: &mut PgConnection,
    feedback: Uuid,
    kind: MessageKind,
    occasion: &str,
    values: Vec<(&'static str, String)>,
    links: &Links,
) -> QueryResult<usize> {
    let mut made = to_one_sender(conn, feedback, kind, occasion, values.clone(), links)?;
    if kind != MessageKind::Receipt {
        for child in crate::db::triage::children_of(conn, feedback)? {
            made += to_one_sender(conn, child, kind, occasion, values.clone(), links)?;
        }
    }
    Ok(made)
}

fn to_one_sender(
    conn: &mut PgConnection,
    feedback: Uuid,
    kind: MessageKind,
    occasion: &str,
    mut values: Vec<(&'static str, String)>,
    links: &Links,
) -> QueryResult<usize> {
    #[derive(QueryableByName)]
    struct To {
        #[diesel(sql_type = Text)]
        code: String,
        #[diesel(sql_type = SqlUuid)]
        organization_id: Uuid,
        #[diesel(sql_type = Text)]
        organization: String,
        #[diesel(sql_type = Nullable<Text>)]
        email: Option<String>,
        #[diesel(sql_type = Nullable<Text>)]
        phone: Option<String>,
        #[diesel(sql_type = Array<Text>)]
        notify_by: Vec<String>,
    }
    let to: Option<To> = sql_query(
        "SELECT f.code, f.organization_id, o.name AS organization, s.email, s.phone, s.notify_by
         FROM feedback f JOIN organizations o ON o.id = f.organization_id
         JOIN feedback_senders s ON s.feedback_id = f.id
         WHERE f.id = $1 AND cardinality(s.notify_by) > 0",
    )
    .bind::<SqlUuid, _>(feedback)
    .get_result(conn)
    .optional()?;
    let Some(to) = to else { return Ok(0) };
    values.push(("code", to.code.clone()));
    values.push(("organization", to.organization.clone()));
    values.push(("tracking_url", links.tracking(&to.code)));
    let mut made = 0;
    for channel in to.notify_by.iter().filter_map(|c| MessageChannel::parse(c)) {
        let masked = match channel {
            MessageChannel::Email => to.email.as_deref().map(mask_email),
            MessageChannel::Sms => to.phone.as_deref().map(mask_phone),
        };
        let Some(masked) = masked else { continue };
        let template = crate::db::templates::effective(conn, to.organization_id, kind, channel)?;
        let subject = template.subject.as_deref().map(|s| render(s, &values));
        let body = render(&template.body, &values);
        let parts = (channel == MessageChannel::Sms).then(|| sms_size(&body).parts as i32);
        let cause = format!("feedback/{feedback}/{kind}/{occasion}/{channel}");
        made += sql_query(
            "WITH m AS (
                 INSERT INTO outbound_messages
                     (id, organization_id, feedback_id, channel, kind, cause, recipient_masked, subject, body, parts)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (cause) DO NOTHING RETURNING id)
             INSERT INTO jobs (kind, payload) SELECT $11, json_build_object('message_id', m.id) FROM m",
        )
        .bind::<SqlUuid, _>(Uuid::now_v7())
        .bind::<SqlUuid, _>(to.organization_id)
        .bind::<SqlUuid, _>(feedback)
        .bind::<Text, _>(channel.as_str())
        .bind::<Text, _>(kind.as_str())
        .bind::<Text, _>(&cause)
        .bind::<Text, _>(&masked)
        .bind::<Nullable<Text>, _>(subject)
        .bind::<Text, _>(body)
        .bind::<Nullable<Integer>, _>(parts)
        .bind::<Text, _>(if channel == MessageChannel::Sms { SMS } else { MAIL })
        .execute(conn)?;
    }
    if made > 0 {
        crate::db::jobs::mark_queued();
    }
    Ok(made)
}

/// A staff member's digest: one e-mail of `subject` and `body`, once per `day`.
pub fn digest(
    conn: &mut PgConnection,
    org: Uuid,
    user: Uuid,
    day: chrono::NaiveDate,
    subject: &str,
    body: &str,
) -> QueryResult<bool> {
    let made = sql_query(
        "WITH m AS (
             INSERT INTO outbound_messages (id, organization_id, user_id, channel, kind, cause, recipient_masked, subject, body)
             SELECT $1, $2, u.id, 'email', 'digest', 'digest/' || u.id || '/' || $4, left(u.email, 1) || '***@' || split_part(u.email, '@', 2), $5, $6
             FROM users u WHERE u.id = $3 AND u.email IS NOT NULL
             ON CONFLICT (cause) DO NOTHING RETURNING id)
         INSERT INTO jobs (kind, payload) SELECT 'mail.send', json_build_object('message_id', m.id) FROM m",
    )
    .bind::<SqlUuid, _>(Uuid::now_v7())
    .bind::<SqlUuid, _>(org)
    .bind::<SqlUuid, _>(user)
    .bind::<Text, _>(day.to_string())
    .bind::<Text, _>(subject)
    .bind::<Text, _>(body)
    .execute(conn)?;
    if made > 0 {
        crate::db::jobs::mark_queued();
    }
    Ok(made > 0)
}

/// One message to send, with where it goes.
#[derive(QueryableByName, Debug)]
pub struct Outgoing {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Text)]
    pub channel: String,
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// Rendered when made (messages to senders, digests); `None` for a notice's e-mail,
    /// written from the notice when sent.
    #[diesel(sql_type = Nullable<Text>)]
    pub subject: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub body: Option<String>,
    /// The address or phone, as it is now.
    #[diesel(sql_type = Nullable<Text>)]
    pub contact: Option<String>,
    /// For a sender: the consent to this channel still holds.
    #[diesel(sql_type = Bool)]
    pub consented: bool,
    #[diesel(sql_type = Nullable<Text>)]
    pub title: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub title_en: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub subject_type: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub subject_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub full_name: Option<String>,
    #[diesel(sql_type = Text)]
    pub language: String,
}

pub fn outgoing(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Outgoing>> {
    sql_query(
        "SELECT m.id, m.status, m.channel, m.kind, m.subject, m.body,
                CASE WHEN m.feedback_id IS NULL THEN u.email WHEN m.channel = 'email' THEN s.email ELSE s.phone END AS contact,
                (m.feedback_id IS NULL OR coalesce(m.channel = ANY (s.notify_by), false)) AS consented,
                n.title, n.title_en, n.subject_type, n.subject_id, u.full_name, coalesce(p.language, 'vi') AS language
         FROM outbound_messages m
         LEFT JOIN feedback_senders s ON s.feedback_id = m.feedback_id
         LEFT JOIN notifications n ON n.id = m.notification_id
         LEFT JOIN users u ON u.id = m.user_id AND u.active AND u.deleted_at IS NULL
         LEFT JOIN notification_preferences p ON p.user_id = m.user_id
         WHERE m.id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .get_result(conn)
    .optional()
}

/// What an attempt to send `id` came to: `sent`, `pending` (tried again later),
/// `failed` or `skipped`; the text goes once it is no longer pending.
pub fn outcome(conn: &mut PgConnection, id: Uuid, status: &str, error: Option<&str>) -> QueryResult<()> {
    sql_query(
        "UPDATE outbound_messages SET status = $2, attempts = attempts + 1, last_error = $3,
             sent_at = CASE WHEN $2 = 'sent' THEN now() ELSE sent_at END,
             body = CASE WHEN $2 = 'pending' THEN body END
         WHERE id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(status)
    .bind::<Nullable<Text>, _>(error)
    .execute(conn)
    .map(|_| ())
}

/// A message to a sender, as staff see it: never its text or the contact in full.
#[derive(QueryableByName, Debug)]
pub struct Delivery {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub channel: String,
    #[diesel(sql_type = Text)]
    pub recipient_masked: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Nullable<Integer>)]
    pub parts: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    pub last_error: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub sent_at: Option<DateTime<Utc>>,
}

pub fn of_feedback(conn: &mut PgConnection, feedback: Uuid) -> QueryResult<Vec<Delivery>> {
    sql_query(
        "SELECT id, kind, channel, recipient_masked, status, attempts, parts, last_error, created_at, sent_at
         FROM outbound_messages WHERE feedback_id = $1 ORDER BY id",
    )
    .bind::<SqlUuid, _>(feedback)
    .load(conn)
}
