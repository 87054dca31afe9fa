//! Advisory locks of the current transaction, for what no row can be locked for yet
//! (a key or a reference about to be filed). PostgreSQL frees them when the
//! transaction ends, or at once when its connection dies.
use diesel::{
    prelude::*,
    sql_types::{BigInt, Bool},
};
use sha2::{Digest, Sha256};

/// A 64-bit advisory lock id for `parts` in the namespace `kind`.
pub fn id(kind: &[u8], parts: &[&[u8]]) -> i64 {
    let mut hasher = Sha256::new();
    hasher.update(kind);
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    let digest = hasher.finalize();
    i64::from_be_bytes(digest[..8].try_into().expect("eight bytes"))
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

/// `pg_try_advisory_xact_lock`: held until the transaction ends.
pub fn try_lock(conn: &mut PgConnection, id: i64) -> QueryResult<bool> {
    diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked")
        .bind::<BigInt, _>(id)
        .get_result::<Locked>(conn)
        .map(|row| row.locked)
}

/// `pg_advisory_xact_lock`: waits for the lock, held until the transaction ends.
pub fn lock(conn: &mut PgConnection, id: i64) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock($1)").bind::<BigInt, _>(id).execute(conn).map(|_| ())
}

/// Serialises start-up work (the first administrator, the demo data, back-fills)
/// between instances on one database.
pub const BOOTSTRAP: i64 = 0x6363_6863_0002;
/// Serialises migrations between instances.
pub const MIGRATIONS: i64 = 0x6363_6863_0001;

/// `pg_advisory_lock`: held by the session until `unlock`.
pub fn lock_session(conn: &mut PgConnection, id: i64) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_lock($1)").bind::<BigInt, _>(id).execute(conn).map(|_| ())
}

pub fn unlock_session(conn: &mut PgConnection, id: i64) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_unlock($1)").bind::<BigInt, _>(id).execute(conn).map(|_| ())
}
