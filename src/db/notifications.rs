//! A person's inbox (table `notifications`): notices made by the deadline scan, once
//! per person and cause.
use chrono::{DateTime, Utc};
use diesel::{
    OptionalExtension,
    prelude::*,
    sql_query,
    sql_types::{Array, Text, Uuid as SqlUuid},
};
use uuid::Uuid;

use crate::db::schema::notifications;

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = notifications)]
pub struct NotificationRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub cause: String,
    pub subject_type: String,
    pub subject_id: Option<Uuid>,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// One notice to be made.
pub struct Notice<'a> {
    pub organization_id: Uuid,
    pub kind: &'a str,
    /// What it is about, e.g. `feedback/<id>/overdue/2021-03-29`: a person gets one
    /// notice per cause.
    pub cause: &'a str,
    pub subject_type: &'a str,
    pub subject_id: Option<Uuid>,
    pub title: &'a str,
}

/// The job kind that e-mails one notice.
pub const MAIL: &str = "mail.send";

/// Gives `notice` to each of `people` who has not had it yet, and queues an e-mail of
/// it to those of them with an address (`outbound_messages`, a `mail.send` job each);
/// returns how many got it.
pub fn notify(conn: &mut PgConnection, people: &[Uuid], notice: &Notice<'_>) -> QueryResult<usize> {
    #[derive(QueryableByName)]
    struct Made {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        notices: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        mails: i64,
    }
    if people.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = people.iter().map(|_| Uuid::now_v7()).collect();
    let made: Made = sql_query(
        "WITH n AS (
             INSERT INTO notifications (id, organization_id, user_id, kind, cause, subject_type, subject_id, title)
             SELECT n.id, $3, n.user_id, $4, $5, $6, $7, $8 FROM unnest($1::uuid[], $2::uuid[]) AS n(id, user_id)
             ON CONFLICT (user_id, cause) DO NOTHING
             RETURNING id, user_id, organization_id),
         m AS (
             INSERT INTO outbound_messages (id, notification_id, organization_id, channel, recipient_masked)
             SELECT gen_random_uuid(), n.id, n.organization_id, 'email',
                    left(u.email, 1) || '***@' || split_part(u.email, '@', 2)
             FROM n JOIN users u ON u.id = n.user_id
             WHERE u.email IS NOT NULL AND u.active AND u.deleted_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM notification_preferences p
                               WHERE p.user_id = n.user_id AND ($4 = ANY (p.email_off) OR '*' = ANY (p.email_off)))
             RETURNING id),
         j AS (
             INSERT INTO jobs (kind, payload) SELECT 'mail.send', json_build_object('message_id', m.id) FROM m
             RETURNING 1)
         SELECT (SELECT count(*) FROM n) AS notices, (SELECT count(*) FROM j) AS mails",
    )
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Array<SqlUuid>, _>(people)
    .bind::<SqlUuid, _>(notice.organization_id)
    .bind::<Text, _>(notice.kind)
    .bind::<Text, _>(notice.cause)
    .bind::<Text, _>(notice.subject_type)
    .bind::<diesel::sql_types::Nullable<SqlUuid>, _>(notice.subject_id)
    .bind::<Text, _>(notice.title)
    .get_result(conn)?;
    if made.mails > 0 {
        crate::db::jobs::mark_queued();
    }
    Ok(usize::try_from(made.notices).unwrap_or(0))
}

/// The kinds of notice `user` does not want by e-mail (`*`: none at all).
pub fn email_off(conn: &mut PgConnection, user: Uuid) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Off {
        #[diesel(sql_type = Array<Text>)]
        email_off: Vec<String>,
    }
    let row: Option<Off> = sql_query("SELECT email_off FROM notification_preferences WHERE user_id = $1")
        .bind::<SqlUuid, _>(user)
        .get_result(conn)
        .optional()?;
    Ok(row.map(|r| r.email_off).unwrap_or_default())
}

pub fn set_email_off(conn: &mut PgConnection, user: Uuid, kinds: &[String]) -> QueryResult<()> {
    sql_query(
        "INSERT INTO notification_preferences (user_id, email_off) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET email_off = excluded.email_off, updated_at = now()",
    )
    .bind::<SqlUuid, _>(user)
    .bind::<Array<Text>, _>(kinds)
    .execute(conn)
    .map(|_| ())
}

/// One e-mail to send, with what it says.
#[derive(QueryableByName, Debug)]
pub struct Mail {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Text)]
    pub subject_type: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<SqlUuid>)]
    pub subject_id: Option<Uuid>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub email: Option<String>,
    #[diesel(sql_type = Text)]
    pub full_name: String,
}

pub fn mail(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Mail>> {
    sql_query(
        "SELECT m.id, m.status, n.title, n.subject_type, n.subject_id, u.email, u.full_name
         FROM outbound_messages m JOIN notifications n ON n.id = m.notification_id JOIN users u ON u.id = n.user_id
         WHERE m.id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .get_result(conn)
    .optional()
}

/// What an attempt to send `id` came to: `sent`, `pending` (tried again later),
/// `failed` or `skipped`.
pub fn mail_outcome(conn: &mut PgConnection, id: Uuid, status: &str, error: Option<&str>) -> QueryResult<()> {
    sql_query(
        "UPDATE outbound_messages SET status = $2, attempts = attempts + 1, last_error = $3,
             sent_at = CASE WHEN $2 = 'sent' THEN now() ELSE sent_at END
         WHERE id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(status)
    .bind::<diesel::sql_types::Nullable<Text>, _>(error)
    .execute(conn)
    .map(|_| ())
}

/// Where a page of the inbox ended: unread first, then read; newest first in each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InboxPosition {
    pub read: bool,
    pub id: Uuid,
}

pub fn inbox(
    conn: &mut PgConnection,
    user: Uuid,
    after: Option<InboxPosition>,
    unread_only: bool,
    limit: i64,
) -> QueryResult<Vec<NotificationRow>> {
    use diesel::dsl::sql;
    let mut q = notifications::table.filter(notifications::user_id.eq(user)).into_boxed();
    if unread_only {
        q = q.filter(notifications::read_at.is_null());
    }
    if let Some(p) = after {
        q = if p.read {
            q.filter(notifications::read_at.is_not_null().and(notifications::id.lt(p.id)))
        } else {
            q.filter(notifications::read_at.is_not_null().or(notifications::id.lt(p.id)))
        };
    }
    q.order((sql::<diesel::sql_types::Bool>("(read_at IS NOT NULL)").asc(), notifications::id.desc()))
        .limit(limit)
        .select(NotificationRow::as_select())
        .load(conn)
}

/// Marks one of `user`'s notices read (once); the notice, or `NotFound`.
pub fn mark_read(conn: &mut PgConnection, user: Uuid, id: Uuid) -> QueryResult<NotificationRow> {
    diesel::update(notifications::table.find(id).filter(notifications::user_id.eq(user)))
        .set(notifications::read_at.eq(
            diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>>("coalesce(read_at, now())"),
        ))
        .returning(NotificationRow::as_returning())
        .get_result(conn)
}

pub fn mark_all_read(conn: &mut PgConnection, user: Uuid) -> QueryResult<usize> {
    diesel::update(
        notifications::table.filter(notifications::user_id.eq(user)).filter(notifications::read_at.is_null()),
    )
    .set(notifications::read_at.eq(diesel::dsl::now))
    .execute(conn)
}

pub fn unread(conn: &mut PgConnection, user: Uuid) -> QueryResult<i64> {
    notifications::table
        .filter(notifications::user_id.eq(user))
        .filter(notifications::read_at.is_null())
        .count()
        .get_result(conn)
}
