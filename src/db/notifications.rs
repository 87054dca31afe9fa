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
    pub title_en: Option<String>,
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
    /// In Vietnamese, and in English for those who read notices in English.
    pub title: &'a str,
    pub title_en: &'a str,
}

/// Gives `notice` to each of `people` who has not had it yet, and queues an e-mail of
/// it to those of them with an address who want notices of its kind one by one
/// (`outbound_messages`, a `mail.send` job each; a digest takes the others); returns
/// how many got it.
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
             INSERT INTO notifications (id, organization_id, user_id, kind, cause, subject_type, subject_id, title, title_en)
             SELECT n.id, $3, n.user_id, $4, $5, $6, $7, $8, $9 FROM unnest($1::uuid[], $2::uuid[]) AS n(id, user_id)
             ON CONFLICT (user_id, cause) DO NOTHING
             RETURNING id, user_id, organization_id),
         m AS (
             INSERT INTO outbound_messages (id, notification_id, user_id, organization_id, channel, kind, cause, recipient_masked)
             SELECT gen_random_uuid(), n.id, n.user_id, n.organization_id, 'email', $4, 'notice/' || n.id,
                    left(u.email, 1) || '***@' || split_part(u.email, '@', 2)
             FROM n JOIN users u ON u.id = n.user_id
             WHERE u.email IS NOT NULL AND u.active AND u.deleted_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM notification_preferences p
                               WHERE p.user_id = n.user_id
                                 AND (p.digest OR $4 = ANY (p.email_off) OR '*' = ANY (p.email_off)))
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
    .bind::<Text, _>(notice.title_en)
    .get_result(conn)?;
    if made.mails > 0 {
        crate::db::jobs::mark_queued();
    }
    Ok(usize::try_from(made.notices).unwrap_or(0))
}

/// How a person wants notices: which kinds not by e-mail (`*`: none), whether one
/// daily digest instead of an e-mail each, and in which language.
#[derive(QueryableByName, Clone, Debug, Default)]
pub struct Preferences {
    #[diesel(sql_type = Array<Text>)]
    pub email_off: Vec<String>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub digest: bool,
    #[diesel(sql_type = Text)]
    pub language: String,
}

pub fn preferences(conn: &mut PgConnection, user: Uuid) -> QueryResult<Preferences> {
    let row: Option<Preferences> =
        sql_query("SELECT email_off, digest, language FROM notification_preferences WHERE user_id = $1")
            .bind::<SqlUuid, _>(user)
            .get_result(conn)
            .optional()?;
    Ok(row.unwrap_or_else(|| Preferences { language: "vi".to_owned(), ..Preferences::default() }))
}

pub fn set_preferences(conn: &mut PgConnection, user: Uuid, p: &Preferences) -> QueryResult<()> {
    sql_query(
        "INSERT INTO notification_preferences (user_id, email_off, digest, language) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id) DO UPDATE SET email_off = excluded.email_off, digest = excluded.digest,
             language = excluded.language, updated_at = now()",
    )
    .bind::<SqlUuid, _>(user)
    .bind::<Array<Text>, _>(&p.email_off)
    .bind::<diesel::sql_types::Bool, _>(p.digest)
    .bind::<Text, _>(&p.language)
    .execute(conn)
    .map(|_| ())
}

/// Makes the day's digest of each person who asked for one: the notices they got
/// since their last digest (a day back the first time), in one e-mail; once per person
/// and day, none when there were no notices.
pub fn digests(conn: &mut PgConnection, day: chrono::NaiveDate, now: DateTime<Utc>) -> QueryResult<usize> {
    #[derive(QueryableByName)]
    struct Due {
        #[diesel(sql_type = SqlUuid)]
        user_id: Uuid,
        #[diesel(sql_type = SqlUuid)]
        organization_id: Uuid,
        #[diesel(sql_type = Text)]
        full_name: String,
        #[diesel(sql_type = Text)]
        language: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
        since: Option<DateTime<Utc>>,
    }
    let due: Vec<Due> = sql_query(
        "SELECT u.id AS user_id, u.organization_id, u.full_name, p.language,
                (SELECT max(m.created_at) FROM outbound_messages m WHERE m.user_id = u.id AND m.kind = 'digest') AS since
         FROM notification_preferences p JOIN users u ON u.id = p.user_id
         WHERE p.digest AND u.email IS NOT NULL AND u.active AND u.deleted_at IS NULL AND u.organization_id IS NOT NULL
           AND NOT ('*' = ANY (p.email_off))
           AND NOT EXISTS (SELECT 1 FROM outbound_messages m WHERE m.cause = 'digest/' || u.id || '/' || $1)
         ORDER BY u.id",
    )
    .bind::<Text, _>(day.to_string())
    .load(conn)?;
    let mut made = 0;
    for person in due {
        let since = person.since.unwrap_or(now - chrono::Duration::days(1));
        let notices: Vec<NotificationRow> = notifications::table
            .filter(notifications::user_id.eq(person.user_id))
            .filter(notifications::created_at.gt(since))
            .order(notifications::id.asc())
            .select(NotificationRow::as_select())
            .load(conn)?;
        if notices.is_empty() {
            continue;
        }
        let english = person.language == "en";
        let titles: Vec<&str> = notices
            .iter()
            .map(|n| if english { n.title_en.as_deref().unwrap_or(&n.title) } else { &n.title })
            .collect();
        let (subject, body) = crate::domain::notices::digest(&person.full_name, english, day, &titles);
        if crate::db::outbound::digest(conn, person.organization_id, person.user_id, day, &subject, &body)? {
            made += 1;
        }
    }
    Ok(made)
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
