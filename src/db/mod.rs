//! Database access: the pool, the generated schema and one module per table. SQL lives
//! here and nowhere else; handlers call these functions inside `run`.

pub mod activities;
pub mod assignments;
pub mod attachments;
pub mod audit;
pub mod budget;
pub mod deadlines;
pub mod demo;
pub mod departments;
pub mod documents;
pub mod events;
pub mod exports;
pub mod feedback;
pub mod idempotency;
pub mod imports;
pub mod indicators;
pub mod jobs;
pub mod locks;
pub mod login_throttle;
pub mod notifications;
pub mod organizations;
pub mod outbound;
pub mod page;
pub mod plan_items;
pub mod plans;
pub mod privacy;
pub mod reports;
pub mod rollup;
pub mod schema;
pub mod service_clients;
pub mod submissions;
pub mod templates;
pub mod tracking;
pub mod triage;
pub mod users;
pub mod webhooks;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use actix_web::ResponseError;
use diesel::{
    Connection, PgConnection,
    connection::{AnsiTransactionManager, SimpleConnection, TransactionManager},
    r2d2::{CustomizeConnection, Pool},
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::ApiError;

pub type PgPool = Pool<Manager>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// A pooled connection idle this long is asked a round trip (`SELECT 1`) before it is
/// handed out.
const PING_IDLE_AFTER: Duration = Duration::from_secs(1);

/// A pool that does not connect until asked, so the service starts (and `/healthz`
/// answers) while the database is down; a checkout waits at most `timeout`.
///
/// A checkout costs no round trip of its own while the pool is busy: a connection is
/// tested (`SELECT 1`) only if it has been idle for `PING_IDLE_AFTER`, or if since it
/// was last tested some pooled connection broke (`Manager`). A connection that died
/// with its server fails its first statement — libpq then reports its transaction
/// status as unknown and diesel marks it broken; `run` also marks one whose request
/// failed on the server's side — and the pool drops it when it comes back, and has
/// every other one tested before its next use: they most likely died with it. So after
/// a restart of PostgreSQL one request per instance answers 503 (with `Retry-After`),
/// not one per pooled connection.
///
/// (A test on every checkout cost a round trip per request. It was kept for a while
/// because the outage test did not recover without it; the cause was the private
/// server's restart, which took the killed, not yet reaped postmaster for a running
/// one — see `pgserver::PrivatePostgres::pg_ctl_start`.)
pub fn pool(url: &str, size: u32, timeout: Duration) -> PgPool {
    Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .test_on_check_out(true)
        .connection_timeout(timeout)
        .connection_customizer(Box::new(SessionSettings))
        .build_unchecked(Manager { url: url.to_owned(), breakages: AtomicU64::new(0) })
}

/// Makes the pool's connections and decides which to test before use.
#[derive(Debug)]
pub struct Manager {
    url: String,
    /// How many pooled connections have broken; a connection tested before the last
    /// breakage is tested again.
    breakages: AtomicU64,
}

/// A pooled connection, with what `Manager` knows of it.
pub struct Pooled {
    conn: PgConnection,
    /// `Manager::breakages` when it was last known to work.
    tested_at_breakage: u64,
    /// When it last came back to the pool.
    returned: std::time::Instant,
}

impl std::ops::Deref for Pooled {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}

impl diesel::r2d2::ManageConnection for Manager {
    type Connection = Pooled;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Pooled, Self::Error> {
        let conn = PgConnection::establish(&self.url).map_err(diesel::r2d2::Error::ConnectionError)?;
        Ok(Pooled {
            conn,
            tested_at_breakage: self.breakages.load(Ordering::Acquire),
            returned: std::time::Instant::now(),
        })
    }

    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), Self::Error> {
        let breakages = self.breakages.load(Ordering::Acquire);
        if pooled.tested_at_breakage == breakages && pooled.returned.elapsed() < PING_IDLE_AFTER {
            return Ok(());
        }
        pooled.conn.batch_execute("SELECT 1").map_err(diesel::r2d2::Error::QueryError)?;
        pooled.tested_at_breakage = breakages;
        Ok(())
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        use diesel::r2d2::R2D2Connection;
        pooled.returned = std::time::Instant::now();
        let broken = std::thread::panicking() || pooled.conn.is_broken();
        if broken {
            self.breakages.fetch_add(1, Ordering::AcqRel);
        }
        broken
    }
}

/// Settings of every pooled session. JIT compilation off: the service's queries are
/// short or, for reports, aggregate a few hundred thousand rows at most, and compiling
/// them cost more than it saved (about 90 ms of a yearly feedback report).
#[derive(Debug)]
struct SessionSettings;

impl CustomizeConnection<Pooled, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, pooled: &mut Pooled) -> Result<(), diesel::r2d2::Error> {
        pooled.conn.set_instrumentation(StatementSpans::default());
        pooled.conn.batch_execute("SET jit = off").map_err(diesel::r2d2::Error::QueryError)
    }
}

/// A span per statement (traces, see `telemetry`), under the span current where the
/// statement runs (`run` carries the request's into the blocking thread): from the
/// statement's start to its end, with its SQL but never the values bound to it.
#[derive(Default)]
struct StatementSpans {
    open: Option<tracing::Span>,
}

impl diesel::connection::Instrumentation for StatementSpans {
    fn on_connection_event(&mut self, event: diesel::connection::InstrumentationEvent<'_>) {
        use diesel::connection::InstrumentationEvent;
        match event {
            // Only when something records them (the traces' layer): never in the logs,
            // and no cost per statement without it.
            InstrumentationEvent::StartQuery { query, .. } if tracing::enabled!(target: crate::telemetry::SPANS, tracing::Level::DEBUG) =>
            {
                let debug = query.to_string();
                let text = crate::telemetry::statement_text(&debug);
                let verb = text.split_whitespace().next().unwrap_or("SQL").to_ascii_uppercase();
                self.open = Some(tracing::debug_span!(
                    target: crate::telemetry::SPANS,
                    "statement",
                    otel.name = %verb,
                    otel.kind = "client",
                    db.system = "postgresql",
                    db.query.text = %text,
                    otel.status_code = tracing::field::Empty,
                ));
            }
            InstrumentationEvent::FinishQuery { error, .. } => {
                // That it failed, not the message: PostgreSQL's may quote the values.
                if let (Some(span), Some(_)) = (&self.open, error) {
                    span.record("otel.status_code", "ERROR");
                }
                self.open = None;
            }
            _ => {}
        }
    }
}

/// Applies pending migrations, one instance at a time.
pub fn migrate(conn: &mut PgConnection) -> anyhow::Result<usize> {
    locks::lock_session(conn, locks::MIGRATIONS)?;
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|done| done.len())
        .map_err(|e| anyhow::anyhow!("migrations failed: {e}"));
    locks::unlock_session(conn, locks::MIGRATIONS)?;
    applied
}

/// One round trip to the server.
pub fn ping(conn: &mut PgConnection) -> diesel::QueryResult<()> {
    conn.batch_execute("SELECT 1")
}

/// Creates database `name` on the server unless it exists (the private server's).
pub fn ensure_database(conn: &mut PgConnection, name: &str) -> diesel::QueryResult<()> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        found: bool,
    }
    let exists = diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS found")
        .bind::<diesel::sql_types::Text, _>(name)
        .get_result::<Found>(conn)?;
    if !exists.found {
        // A name cannot be a bound parameter; this one is the service's own constant.
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(conn)?;
    }
    Ok(())
}

pub type PooledConn = diesel::r2d2::PooledConnection<Manager>;

/// The connection of a request's transaction, and whether anything in it queued a job.
struct Shared {
    conn: tokio::sync::Mutex<PooledConn>,
    queued: std::sync::atomic::AtomicBool,
}

tokio::task_local! {
    /// The request's transaction, while `RequestTransaction::scope` runs.
    static REQUEST_CONN: Arc<Shared>;
}

/// Runs `f` with a pooled connection on the blocking thread pool. The checkout is
/// inside too: waiting for a connection blocks.
///
/// Within `RequestTransaction::scope`, `f` runs on that transaction's connection
/// instead, under a savepoint: its effects commit or roll back with the request's, and
/// an error undoes just its own.
pub async fn run<T, F>(pool: &PgPool, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let span = tracing::Span::current();
    if let Ok(shared) = REQUEST_CONN.try_with(Arc::clone) {
        return actix_web::web::block(move || {
            let _span = span.enter();
            let mut conn = shared.conn.blocking_lock();
            let conn: &mut PgConnection = &mut conn;
            let result = conn.transaction(f);
            // Queued jobs wait for the request's commit.
            if jobs::take_queued() && result.is_ok() {
                shared.queued.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            result
        })
        .await?;
    }
    let pool = pool.clone();
    actix_web::web::block(move || {
        let _span = span.enter();
        let mut conn = pool.get()?;
        let result = f(&mut conn);
        jobs::committed(jobs::take_queued() && result.is_ok());
        // A server-side failure (the database gone, or an error not recognised as
        // that): do not pool this connection again.
        if let Err(err) = &result
            && err.status_code().is_server_error()
        {
            AnsiTransactionManager::transaction_manager_status_mut(&mut **conn).set_in_error();
        }
        result
    })
    .await?
}

/// One transaction around a whole request, so that what the request did and what is
/// recorded about it (its idempotent answer) commit together or not at all. Dropped
/// without `commit`, the connection leaves the pool and PostgreSQL rolls back.
pub struct RequestTransaction {
    shared: Arc<Shared>,
}

impl RequestTransaction {
    pub async fn begin(pool: &PgPool) -> Result<Self, ApiError> {
        let pool = pool.clone();
        let conn = actix_web::web::block(move || {
            let mut conn = pool.get()?;
            AnsiTransactionManager::begin_transaction(&mut **conn)?;
            Ok::<_, ApiError>(conn)
        })
        .await??;
        Ok(Self {
            shared: Arc::new(Shared {
                conn: tokio::sync::Mutex::new(conn),
                queued: std::sync::atomic::AtomicBool::new(false),
            }),
        })
    }

    /// Runs `f` in the transaction itself (no savepoint).
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let (shared, span) = (self.shared.clone(), tracing::Span::current());
        actix_web::web::block(move || {
            let _span = span.enter();
            let mut conn = shared.conn.blocking_lock();
            let result = f(&mut conn);
            if jobs::take_queued() && result.is_ok() {
                shared.queued.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            result
        })
        .await?
    }

    /// Runs `future` so that every `db::run` within it uses this transaction.
    pub async fn scope<F: std::future::Future>(&self, future: F) -> F::Output {
        REQUEST_CONN.scope(self.shared.clone(), future).await
    }

    pub async fn commit(self) -> Result<(), ApiError> {
        let queued = self.shared.queued.load(std::sync::atomic::Ordering::Relaxed);
        self.end(AnsiTransactionManager::commit_transaction).await?;
        jobs::committed(queued);
        Ok(())
    }

    pub async fn rollback(self) {
        let _ = self.end(AnsiTransactionManager::rollback_transaction).await;
    }

    async fn end(self, finish: fn(&mut PgConnection) -> diesel::QueryResult<()>) -> Result<(), ApiError> {
        let shared = self.shared.clone();
        actix_web::web::block(move || {
            let mut conn = shared.conn.blocking_lock();
            let result = finish(&mut conn).map_err(ApiError::from);
            if result.is_err() {
                // Whatever state it is in, this connection is not pooled again.
                AnsiTransactionManager::transaction_manager_status_mut(&mut ***conn).set_in_error();
            }
            result
        })
        .await?
    }
}

diesel::define_sql_function! {
    /// SQL `lower(text)`.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Applies keyset pagination to a boxed query on `$table`: live rows by `id`, or with
/// `updated_since` all rows (tombstones too) by `(updated_at, id)`.
#[macro_export]
macro_rules! keyset {
    ($query:expr, $table:ident, $page:expr) => {{
        use diesel::prelude::*;
        use $crate::db::page::Position;
        let page: &$crate::db::page::PageRequest = $page;
        let mut query = $query;
        query = match page.updated_since {
            None => {
                query = query.filter($table::deleted_at.is_null());
                if let Some(Position::Id(id)) = page.after {
                    query = query.filter($table::id.gt(id));
                }
                query.order($table::id.asc())
            }
            Some(since) => {
                query = query.filter($table::updated_at.ge(since));
                if let Some(Position::Sync(at, id)) = page.after {
                    query =
                        query.filter($table::updated_at.gt(at).or($table::updated_at.eq(at).and($table::id.gt(id))));
                }
                query.order(($table::updated_at.asc(), $table::id.asc()))
            }
        };
        query.limit(page.fetch())
    }};
}

/// Implements `pagination::Row` for a row struct with `id`, `updated_at`, `deleted_at`.
#[macro_export]
macro_rules! impl_row {
    ($row:ty) => {
        impl $crate::db::page::Row for $row {
            fn id(&self) -> uuid::Uuid {
                self.id
            }
            fn updated_at(&self) -> chrono::DateTime<chrono::Utc> {
                self.updated_at
            }
            fn deleted_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
                self.deleted_at
            }
        }
    };
}

/// A versioned, soft-deletable record that belongs to an organisation: what the
/// shared read, update and delete flows (`routes::crud`) need of a table's row.
pub trait Record: crate::db::page::Row + Clone + Send + 'static {
    /// The `entity_type` of its audit events.
    const ENTITY: &'static str;
    fn version(&self) -> i32;
    /// The organisation it belongs to.
    fn organization(&self) -> Option<uuid::Uuid>;
    /// The live record, within `org` unless `None` (the system administrator).
    fn find(conn: &mut PgConnection, id: uuid::Uuid, org: Option<uuid::Uuid>) -> diesel::QueryResult<Self>;
    /// Like `find`, and locks the row until the transaction ends.
    fn lock(conn: &mut PgConnection, id: uuid::Uuid, org: Option<uuid::Uuid>) -> diesel::QueryResult<Self>;
    fn soft_delete(conn: &mut PgConnection, id: uuid::Uuid) -> diesel::QueryResult<Self>;
}

/// For a table whose rows belong to an organisation through `organization_id`:
/// `Record` and `pagination::Row` for the row type, and the free functions `find`,
/// `lock`, `soft_delete` and, given a changeset type, `update` (bumping `version` and
/// `updated_at`).
#[macro_export]
macro_rules! org_scoped_fns {
    ($table:ident, $row:ty, $changes:ty, $entity:literal) => {
        $crate::org_scoped_fns!($table, $row, $entity);

        pub fn update(conn: &mut PgConnection, id: Uuid, changes: &$changes) -> QueryResult<$row> {
            diesel::update($table::table.find(id))
                .set((changes, $table::version.eq($table::version + 1), $table::updated_at.eq(diesel::dsl::now)))
                .returning(<$row>::as_returning())
                .get_result(conn)
        }
    };
    ($table:ident, $row:ty, $entity:literal) => {
        $crate::impl_row!($row);

        impl $crate::db::Record for $row {
            const ENTITY: &'static str = $entity;
            fn version(&self) -> i32 {
                self.version
            }
            fn organization(&self) -> Option<Uuid> {
                self.organization_id.into()
            }
            fn find(conn: &mut PgConnection, id: Uuid, org: Option<Uuid>) -> QueryResult<Self> {
                find(conn, id, org)
            }
            fn lock(conn: &mut PgConnection, id: Uuid, org: Option<Uuid>) -> QueryResult<Self> {
                lock(conn, id, org)
            }
            fn soft_delete(conn: &mut PgConnection, id: Uuid) -> QueryResult<Self> {
                soft_delete(conn, id)
            }
        }

        pub fn find(conn: &mut PgConnection, id: Uuid, org: Option<Uuid>) -> QueryResult<$row> {
            let mut q = $table::table.filter($table::id.eq(id)).filter($table::deleted_at.is_null()).into_boxed();
            if let Some(org) = org {
                q = q.filter($table::organization_id.eq(org));
            }
            q.select(<$row>::as_select()).first(conn)
        }

        pub fn lock(conn: &mut PgConnection, id: Uuid, org: Option<Uuid>) -> QueryResult<$row> {
            let q = $table::table.filter($table::id.eq(id)).filter($table::deleted_at.is_null());
            match org {
                Some(org) => {
                    q.filter($table::organization_id.eq(org)).select(<$row>::as_select()).for_update().first(conn)
                }
                None => q.select(<$row>::as_select()).for_update().first(conn),
            }
        }

        pub fn soft_delete(conn: &mut PgConnection, id: Uuid) -> QueryResult<$row> {
            diesel::update($table::table.find(id))
                .set((
                    $table::deleted_at.eq(diesel::dsl::now),
                    $table::updated_at.eq(diesel::dsl::now),
                    $table::version.eq($table::version + 1),
                ))
                .returning(<$row>::as_returning())
                .get_result(conn)
        }
    };
}

/// `pagination::Row` and `Record` for a record loaded together with what belongs to it:
/// a struct with the table's `row` and an associated `load_all(conn, rows)`, in a module
/// that has the table's `find`, `lock` and `soft_delete` (from `org_scoped_fns!`).
#[macro_export]
macro_rules! composite_record {
    ($record:ty, $entity:literal) => {
        $crate::composite_record!($record, $entity, |conn, id, org| {
            let row = find(conn, id, org)?;
            Ok(<$record>::load_all(conn, vec![row])?.pop().expect("one row in, one out"))
        });
    };
    // With the record's own way of finding one (e.g. in one joined query).
    ($record:ty, $entity:literal, |$conn:ident, $id:ident, $org:ident| $find:block) => {
        impl $crate::db::page::Row for $record {
            fn id(&self) -> uuid::Uuid {
                self.row.id
            }
            fn updated_at(&self) -> chrono::DateTime<chrono::Utc> {
                self.row.updated_at
            }
            fn deleted_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
                self.row.deleted_at
            }
        }

        impl $crate::db::Record for $record {
            const ENTITY: &'static str = $entity;
            fn version(&self) -> i32 {
                self.row.version
            }
            fn organization(&self) -> Option<uuid::Uuid> {
                Some(self.row.organization_id)
            }
            fn find($conn: &mut PgConnection, $id: uuid::Uuid, $org: Option<uuid::Uuid>) -> diesel::QueryResult<Self> {
                $find
            }
            fn lock(conn: &mut PgConnection, id: uuid::Uuid, org: Option<uuid::Uuid>) -> diesel::QueryResult<Self> {
                let row = lock(conn, id, org)?;
                Ok(Self::load_all(conn, vec![row])?.pop().expect("one row in, one out"))
            }
            fn soft_delete(conn: &mut PgConnection, id: uuid::Uuid) -> diesel::QueryResult<Self> {
                let row = soft_delete(conn, id)?;
                Ok(Self::load_all(conn, vec![row])?.pop().expect("one row in, one out"))
            }
        }
    };
}

/// A record with the documents it cites, in order (a plan's legal bases, an item's
/// cited documents), loaded together so the API shows them inline.
#[derive(Clone, Debug)]
pub struct Cited<R> {
    pub row: R,
    pub documents: Vec<uuid::Uuid>,
}

/// A record type whose citations live in a link table.
pub trait CitesDocuments: Record {
    /// `(record id, document id)` pairs for `ids`, each record's in citation order.
    fn citations(conn: &mut PgConnection, ids: &[uuid::Uuid]) -> diesel::QueryResult<Vec<(uuid::Uuid, uuid::Uuid)>>;
}

impl<R: CitesDocuments> Cited<R> {
    /// Attaches citations to many rows with one query.
    pub fn load_all(conn: &mut PgConnection, rows: Vec<R>) -> diesel::QueryResult<Vec<Self>> {
        use crate::db::page::Row;
        let ids: Vec<uuid::Uuid> = rows.iter().map(Row::id).collect();
        let links = if ids.is_empty() { Vec::new() } else { R::citations(conn, &ids)? };
        Ok(rows
            .into_iter()
            .map(|row| {
                let id = row.id();
                let documents = links.iter().filter(|(owner, _)| *owner == id).map(|(_, doc)| *doc).collect();
                Self { row, documents }
            })
            .collect())
    }

    fn load(conn: &mut PgConnection, row: R) -> diesel::QueryResult<Self> {
        Ok(Self::load_all(conn, vec![row])?.pop().expect("one row in, one out"))
    }
}

impl<R: CitesDocuments> crate::db::page::Row for Cited<R> {
    fn id(&self) -> uuid::Uuid {
        self.row.id()
    }
    fn updated_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.row.updated_at()
    }
    fn deleted_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.row.deleted_at()
    }
}

impl<R: CitesDocuments> Record for Cited<R> {
    const ENTITY: &'static str = R::ENTITY;
    fn version(&self) -> i32 {
        self.row.version()
    }
    fn organization(&self) -> Option<uuid::Uuid> {
        self.row.organization()
    }
    fn find(conn: &mut PgConnection, id: uuid::Uuid, org: Option<uuid::Uuid>) -> diesel::QueryResult<Self> {
        let row = R::find(conn, id, org)?;
        Self::load(conn, row)
    }
    fn lock(conn: &mut PgConnection, id: uuid::Uuid, org: Option<uuid::Uuid>) -> diesel::QueryResult<Self> {
        let row = R::lock(conn, id, org)?;
        Self::load(conn, row)
    }
    fn soft_delete(conn: &mut PgConnection, id: uuid::Uuid) -> diesel::QueryResult<Self> {
        let row = R::soft_delete(conn, id)?;
        Self::load(conn, row)
    }
}

/// A streaming replica (`DATABASE_REPLICA_URL`) for reads that tolerate a little lag —
/// reports, exports, the event feed — and what keeps a caller's own writes visible to
/// them there: after each write a caller makes through this instance, the primary's WAL
/// position is noted (`mark_write`); a lagging read of that caller goes to the replica
/// only once the replica has replayed up to it, else to the primary (`lagging`). A
/// replica that cannot be reached sends the reads to the primary too.
pub struct Replica {
    pool: PgPool,
    /// Per caller, the primary's WAL position after their last write, and when.
    marks: std::sync::Mutex<std::collections::HashMap<uuid::Uuid, (String, std::time::Instant)>>,
}

/// How long a caller's last write is remembered: longer than any lag the replica is
/// allowed before it is taken out of service.
const WRITE_MARK_KEPT: Duration = Duration::from_secs(300);

impl Replica {
    pub fn new(url: &str, size: u32, timeout: Duration) -> Self {
        // A replica that does not answer quickly is passed over, not waited for.
        Self { pool: pool(url, size, timeout.min(Duration::from_secs(1))), marks: Default::default() }
    }

    /// Notes the primary's WAL position after `caller`'s write.
    pub async fn mark_write(&self, primary: &PgPool, caller: uuid::Uuid) -> Result<(), ApiError> {
        #[derive(diesel::QueryableByName)]
        struct Position {
            #[diesel(sql_type = diesel::sql_types::Text)]
            lsn: String,
        }
        let lsn = run(primary, |conn| {
            use diesel::RunQueryDsl;
            Ok(diesel::sql_query("SELECT pg_current_wal_lsn()::text AS lsn").get_result::<Position>(conn)?.lsn)
        })
        .await?;
        let mut marks = self.marks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        marks.retain(|_, (_, at)| at.elapsed() < WRITE_MARK_KEPT);
        marks.insert(caller, (lsn, std::time::Instant::now()));
        Ok(())
    }

    fn mark_of(&self, caller: uuid::Uuid) -> Option<String> {
        let marks = self.marks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        marks.get(&caller).filter(|(_, at)| at.elapsed() < WRITE_MARK_KEPT).map(|(lsn, _)| lsn.clone())
    }
}

/// The pool for a read of `caller` that tolerates a little lag: the replica's when
/// there is one, it answers and it has replayed `caller`'s last write; else `primary`.
/// Within a request's transaction (`RequestTransaction`) that transaction reads.
pub async fn lagging(primary: &PgPool, replica: Option<&Replica>, caller: Option<uuid::Uuid>) -> PgPool {
    let Some(replica) = replica else { return primary.clone() };
    if REQUEST_CONN.try_with(|_| ()).is_ok() {
        return primary.clone();
    }
    #[derive(diesel::QueryableByName)]
    struct CaughtUp {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        caught_up: bool,
    }
    let (pool, mark) = (replica.pool.clone(), caller.and_then(|c| replica.mark_of(c)));
    let usable = actix_web::web::block(move || {
        use diesel::RunQueryDsl;
        let mut conn = pool.get().ok()?;
        // NULL when it is not in recovery (a primary named as replica): it has everything.
        diesel::sql_query("SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, true) AS caught_up")
            .bind::<diesel::sql_types::Text, _>(mark.unwrap_or_else(|| "0/0".to_owned()))
            .get_result::<CaughtUp>(&mut **conn)
            .ok()
            .map(|r| r.caught_up)
    })
    .await
    .ok()
    .flatten()
    .unwrap_or(false);
    if usable { replica.pool.clone() } else { primary.clone() }
}
