//! Idempotency keys, kept in PostgreSQL so that every instance of the service honours
//! them. A key is reserved before the request runs and completed with its response.
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use crate::db::schema::idempotency_keys;

/// Keys are honoured for 24 hours.
pub const RETENTION_HOURS: i64 = 24;
/// A reservation older than this is presumed abandoned (its instance died) and may be taken over.
pub const STALE_LOCK_SECS: i64 = 60;

#[derive(Queryable, Selectable, Debug)]
#[diesel(table_name = idempotency_keys)]
pub struct KeyRow {
    pub request_hash: Vec<u8>,
    pub state: String,
    pub response_status: Option<i16>,
    pub response_headers: Option<Value>,
    pub response_body: Option<Vec<u8>>,
    pub created_at: DateTime<Utc>,
    pub locked_at: DateTime<Utc>,
}

pub enum Reservation {
    /// This request holds the key now: run it.
    Reserved,
    /// The key is taken: compare, wait or replay.
    Existing(KeyRow),
}

pub fn reserve(conn: &mut PgConnection, principal: Uuid, key: &str, hash: &[u8]) -> QueryResult<Reservation> {
    conn.transaction(|conn| {
        let now = Utc::now();
        // An expired key is forgotten; a stale reservation of the same request is taken over.
        diesel::delete(
            idempotency_keys::table
                .find((principal, key))
                .filter(idempotency_keys::created_at.lt(now - chrono::Duration::hours(RETENTION_HOURS))),
        )
        .execute(conn)?;
        // The key's row may be released (deleted) by a failing request between our
        // attempt to insert and our read: then try again.
        for _ in 0..5 {
            let inserted = diesel::insert_into(idempotency_keys::table)
                .values((
                    idempotency_keys::principal_id.eq(principal),
                    idempotency_keys::key.eq(key),
                    idempotency_keys::request_hash.eq(hash),
                ))
                .on_conflict_do_nothing()
                .execute(conn)?;
            if inserted == 1 {
                return Ok(Reservation::Reserved);
            }
            let Some(row) = idempotency_keys::table
                .find((principal, key))
                .select(KeyRow::as_select())
                .for_update()
                .first::<KeyRow>(conn)
                .optional()?
            else {
                continue;
            };
            let stale = now - row.locked_at > chrono::Duration::seconds(STALE_LOCK_SECS);
            if row.state == "in_progress" && stale && row.request_hash == hash {
                diesel::update(idempotency_keys::table.find((principal, key)))
                    .set(idempotency_keys::locked_at.eq(now))
                    .execute(conn)?;
                return Ok(Reservation::Reserved);
            }
            return Ok(Reservation::Existing(row));
        }
        Err(diesel::result::Error::RollbackTransaction)
    })
}

pub fn complete(
    conn: &mut PgConnection,
    principal: Uuid,
    key: &str,
    status: i16,
    headers: &Value,
    body: &[u8],
) -> QueryResult<()> {
    diesel::update(idempotency_keys::table.find((principal, key)))
        .set((
            idempotency_keys::state.eq("completed"),
            idempotency_keys::response_status.eq(status),
            idempotency_keys::response_headers.eq(headers),
            idempotency_keys::response_body.eq(body),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Frees the key after a failed request, so the client may retry with it.
pub fn release(conn: &mut PgConnection, principal: Uuid, key: &str) -> QueryResult<()> {
    diesel::delete(idempotency_keys::table.find((principal, key)).filter(idempotency_keys::state.eq("in_progress")))
        .execute(conn)
        .map(|_| ())
}

/// Deletes keys past their retention; run periodically.
pub fn purge_expired(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::created_at.lt(Utc::now() - chrono::Duration::hours(RETENTION_HOURS))),
    )
    .execute(conn)
}
