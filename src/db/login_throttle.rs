//! Failed sign-ins per account name or client id, kept in PostgreSQL so that every
//! instance of the service sees the same count.
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::login_throttle;

/// When the subject is locked out, until when.
pub fn locked_until(conn: &mut PgConnection, subject: &str) -> QueryResult<Option<DateTime<Utc>>> {
    let until: Option<Option<DateTime<Utc>>> =
        login_throttle::table.find(subject).select(login_throttle::locked_until).first(conn).optional()?;
    Ok(until.flatten().filter(|t| *t > Utc::now()))
}

/// Counts one failure; after `max` failures within `window` the subject is locked
/// for `window`. Returns the lock's end if this failure caused or extended it.
pub fn record_failure(
    conn: &mut PgConnection,
    subject: &str,
    max: i32,
    window: Duration,
) -> QueryResult<Option<DateTime<Utc>>> {
    let now = Utc::now();
    let window = chrono::Duration::from_std(window).unwrap_or(chrono::Duration::minutes(15));
    conn.transaction(|conn| {
        diesel::insert_into(login_throttle::table)
            .values((
                login_throttle::subject.eq(subject),
                login_throttle::failures.eq(0),
                login_throttle::window_started_at.eq(now),
            ))
            .on_conflict(login_throttle::subject)
            .do_nothing()
            .execute(conn)?;
        let (failures, started): (i32, DateTime<Utc>) = login_throttle::table
            .find(subject)
            .select((login_throttle::failures, login_throttle::window_started_at))
            .for_update()
            .first(conn)?;
        let (failures, started) = if now - started > window { (1, now) } else { (failures + 1, started) };
        let locked = (failures >= max).then(|| now + window);
        diesel::update(login_throttle::table.find(subject))
            .set((
                login_throttle::failures.eq(failures),
                login_throttle::window_started_at.eq(started),
                login_throttle::locked_until.eq(locked),
            ))
            .execute(conn)?;
        Ok(locked)
    })
}

pub fn clear(conn: &mut PgConnection, subject: &str) -> QueryResult<()> {
    diesel::delete(login_throttle::table.find(subject)).execute(conn).map(|_| ())
}
