//! Tracking a feedback record without an account: the sender's PIN (hashed), its
//! failures and lock, and reopenings.
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{
    feedback::FeedbackRow,
    schema::{feedback, feedback_reopenings, feedback_tracking},
};

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = feedback_tracking)]
pub struct TrackingRow {
    pub feedback_id: Uuid,
    pub pin_hash: String,
    pub failures: i32,
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub fn set_pin(conn: &mut PgConnection, feedback_id: Uuid, pin_hash: &str) -> QueryResult<()> {
    diesel::insert_into(feedback_tracking::table)
        .values((feedback_tracking::feedback_id.eq(feedback_id), feedback_tracking::pin_hash.eq(pin_hash)))
        .execute(conn)
        .map(|_| ())
}

/// The live records with `code` (one per organisation at most) that have a PIN, locked
/// for the check.
pub fn by_code(conn: &mut PgConnection, code: &str) -> QueryResult<Vec<(TrackingRow, FeedbackRow)>> {
    feedback_tracking::table
        .inner_join(feedback::table)
        .filter(feedback::code.eq(code))
        .filter(feedback::deleted_at.is_null())
        .select((TrackingRow::as_select(), FeedbackRow::as_select()))
        .for_update()
        .load(conn)
}

/// A wrong PIN for `row` (locked by `by_code`): counted, and the record locked until
/// `until` once `max` are reached.
pub fn failed(conn: &mut PgConnection, row: &TrackingRow, max: i32, until: DateTime<Utc>) -> QueryResult<()> {
    let failures = row.failures + 1;
    let locked_until = if failures >= max { Some(until) } else { row.locked_until };
    diesel::update(feedback_tracking::table.find(row.feedback_id))
        .set((feedback_tracking::failures.eq(failures), feedback_tracking::locked_until.eq(locked_until)))
        .execute(conn)
        .map(|_| ())
}

/// The right PIN: the failures are forgotten.
pub fn succeeded(conn: &mut PgConnection, feedback_id: Uuid) -> QueryResult<()> {
    diesel::update(feedback_tracking::table.find(feedback_id))
        .set((feedback_tracking::failures.eq(0), feedback_tracking::locked_until.eq(None::<DateTime<Utc>>)))
        .execute(conn)
        .map(|_| ())
}

pub fn add_reopening(
    conn: &mut PgConnection,
    record: &FeedbackRow,
    reason: &str,
    new_deadline: NaiveDate,
    at: DateTime<Utc>,
) -> QueryResult<Uuid> {
    let id = Uuid::now_v7();
    diesel::insert_into(feedback_reopenings::table)
        .values((
            feedback_reopenings::id.eq(id),
            feedback_reopenings::feedback_id.eq(record.id),
            feedback_reopenings::organization_id.eq(record.organization_id),
            feedback_reopenings::reason.eq(reason),
            feedback_reopenings::previous_deadline.eq(record.deadline_on),
            feedback_reopenings::new_deadline.eq(new_deadline),
            feedback_reopenings::reopened_at.eq(at),
        ))
        .execute(conn)
        .map(|_| id)
}

/// What the sender of `feedback` consented to be told by (none without a sender).
pub fn notify_by(conn: &mut PgConnection, feedback: Uuid) -> QueryResult<Vec<String>> {
    use crate::db::schema::feedback_senders;
    use diesel::OptionalExtension;
    Ok(feedback_senders::table
        .find(feedback)
        .select(feedback_senders::notify_by)
        .get_result(conn)
        .optional()?
        .unwrap_or_default())
}

pub fn set_notify_by(conn: &mut PgConnection, feedback: Uuid, channels: &[String]) -> QueryResult<()> {
    use crate::db::schema::feedback_senders;
    diesel::update(feedback_senders::table.find(feedback))
        .set(feedback_senders::notify_by.eq(channels))
        .execute(conn)
        .map(|_| ())
}
