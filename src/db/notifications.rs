//! A person's inbox (table `notifications`): notices made by the deadline scan, once
//! per person and cause.
use chrono::{DateTime, Utc};
use diesel::{
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

/// Gives `notice` to each of `people` who has not had it yet; returns how many got it.
pub fn notify(conn: &mut PgConnection, people: &[Uuid], notice: &Notice<'_>) -> QueryResult<usize> {
    if people.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = people.iter().map(|_| Uuid::now_v7()).collect();
    sql_query(
        "INSERT INTO notifications (id, organization_id, user_id, kind, cause, subject_type, subject_id, title)
         SELECT n.id, $3, n.user_id, $4, $5, $6, $7, $8 FROM unnest($1::uuid[], $2::uuid[]) AS n(id, user_id)
         ON CONFLICT (user_id, cause) DO NOTHING",
    )
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Array<SqlUuid>, _>(people)
    .bind::<SqlUuid, _>(notice.organization_id)
    .bind::<Text, _>(notice.kind)
    .bind::<Text, _>(notice.cause)
    .bind::<Text, _>(notice.subject_type)
    .bind::<diesel::sql_types::Nullable<SqlUuid>, _>(notice.subject_id)
    .bind::<Text, _>(notice.title)
    .execute(conn)
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
