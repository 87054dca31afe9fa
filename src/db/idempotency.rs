//! Idempotency keys, kept in PostgreSQL so that every instance of the service honours
//! them. A key's row is written with the request's answer in the request's own
//! transaction (see `db::RequestTransaction`), so it exists exactly when the request's
//! effects do; while the request runs, the key is held by an advisory lock of that
//! transaction, which PostgreSQL frees the moment the transaction ends or its
//! connection dies.
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use crate::db::{locks, schema::idempotency_keys};

/// Keys are honoured for 24 hours.
pub const RETENTION_HOURS: i64 = 24;

#[derive(Queryable, Selectable, Debug)]
#[diesel(table_name = idempotency_keys)]
pub struct KeyRow {
    pub request_hash: Vec<u8>,
    pub response_status: i16,
    pub response_headers: Value,
    pub response_body: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

/// What a request with a key finds when it starts.
pub enum Prior {
    /// Nothing: this request holds the key now, until its transaction ends.
    Free,
    /// Another request with the key is running.
    Running,
    /// A request with the key completed within the retention period.
    Done(KeyRow),
}

/// Takes the key for the current transaction, or says why not.
pub fn take(conn: &mut PgConnection, principal: Uuid, key: &str) -> QueryResult<Prior> {
    if !locks::try_lock(conn, locks::id(b"idempotency", &[principal.as_bytes(), key.as_bytes()]))? {
        return Ok(Prior::Running);
    }
    let cutoff = Utc::now() - chrono::Duration::hours(RETENTION_HOURS);
    let row = idempotency_keys::table
        .find((principal, key))
        .filter(idempotency_keys::created_at.ge(cutoff))
        .select(KeyRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map_or(Prior::Free, Prior::Done))
}

/// Stores the answer of the request that holds the key, in its transaction.
pub fn save(
    conn: &mut PgConnection,
    principal: Uuid,
    key: &str,
    hash: &[u8],
    status: i16,
    headers: &Value,
    body: &[u8],
) -> QueryResult<()> {
    // A row past its retention may still be there; the key is ours to reuse.
    diesel::delete(idempotency_keys::table.find((principal, key))).execute(conn)?;
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::principal_id.eq(principal),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(hash),
            idempotency_keys::response_status.eq(status),
            idempotency_keys::response_headers.eq(headers),
            idempotency_keys::response_body.eq(body),
        ))
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
