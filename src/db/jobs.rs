//! The job queue every instance shares (table `jobs`): a job is claimed for a lease
//! with `FOR UPDATE SKIP LOCKED`, worked outside any transaction, then finished or
//! put off. A worker that dies leaves its lease to run out; the job is claimed again
//! (at least once). Jobs with one `ordering_key` run one at a time, oldest first.
use diesel::{
    prelude::*,
    sql_query,
    sql_types::{BigInt, Double, Integer, Jsonb, Nullable, Text, Uuid as SqlUuid},
};
use serde_json::Value;
use uuid::Uuid;

/// Wakes this instance's runner when a transaction that queued a job has committed
/// (`db::run` and `RequestTransaction::commit` call `committed`): it need not wait for
/// its next look at the queue. Other instances find the job when they look.
pub static WAKE: tokio::sync::Notify = tokio::sync::Notify::const_new();

thread_local! {
    /// Whether the transaction on this thread queued a job.
    static QUEUED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Notes that the work on this thread queued a job by other means than `enqueue`.
pub fn mark_queued() {
    QUEUED.with(|q| q.set(true));
}

/// Whether the work just done on this thread queued a job (and forgets it).
pub fn take_queued() -> bool {
    QUEUED.with(|q| q.replace(false))
}

/// After a commit: wakes the runner if `queued`.
pub fn committed(queued: bool) {
    if queued {
        WAKE.notify_one();
    }
}

/// Adds a job, in the caller's transaction: it exists exactly when the caller's
/// change does.
pub fn enqueue(conn: &mut PgConnection, kind: &str, ordering_key: Option<&str>, payload: &Value) -> QueryResult<()> {
    QUEUED.with(|q| q.set(true));
    sql_query("INSERT INTO jobs (kind, ordering_key, payload) VALUES ($1, $2, $3)")
        .bind::<Text, _>(kind)
        .bind::<Nullable<Text>, _>(ordering_key)
        .bind::<Jsonb, _>(payload)
        .execute(conn)
        .map(|_| ())
}

/// Makes sure the recurring job `kind` (`recurring.<name>`) exists; any instance may
/// offer, one is kept.
pub fn ensure_recurring(conn: &mut PgConnection, kind: &str) -> QueryResult<()> {
    sql_query(
        "INSERT INTO jobs (kind, ordering_key, payload) VALUES ($1, $1, '{}')
         ON CONFLICT (kind) WHERE kind LIKE 'recurring.%' DO NOTHING",
    )
    .bind::<Text, _>(kind)
    .execute(conn)
    .map(|_| ())
}

#[derive(QueryableByName, Debug, Clone)]
pub struct Job {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Jsonb)]
    pub payload: Value,
    /// How many times it has been claimed, this time included.
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
}

/// Claims up to `limit` due jobs for `lease_seconds` on behalf of `worker`. A job
/// waits while an older job of its ordering key exists (running, or put off).
pub fn claim(conn: &mut PgConnection, worker: Uuid, lease_seconds: f64, limit: i64) -> QueryResult<Vec<Job>> {
    sql_query(
        "UPDATE jobs SET locked_until = now() + make_interval(secs => $2), locked_by = $1, attempts = attempts + 1
         WHERE id IN (
             SELECT j.id FROM jobs j
             WHERE j.run_at <= now()
               AND (j.locked_until IS NULL OR j.locked_until < now())
               AND (j.ordering_key IS NULL OR NOT EXISTS (
                   SELECT 1 FROM jobs e WHERE e.ordering_key = j.ordering_key AND e.id < j.id))
             ORDER BY j.run_at, j.id
             LIMIT $3
             FOR UPDATE SKIP LOCKED)
         RETURNING id, kind, payload, attempts",
    )
    .bind::<SqlUuid, _>(worker)
    .bind::<Double, _>(lease_seconds)
    .bind::<BigInt, _>(limit)
    .load(conn)
}

/// Removes a finished job, if `worker` still holds it; false when its lease ran out
/// and another worker took it (then that worker's outcome counts).
pub fn finish(conn: &mut PgConnection, id: i64, worker: Uuid) -> QueryResult<bool> {
    sql_query("DELETE FROM jobs WHERE id = $1 AND locked_by = $2")
        .bind::<BigInt, _>(id)
        .bind::<SqlUuid, _>(worker)
        .execute(conn)
        .map(|n| n == 1)
}

/// Puts a job off for `seconds`, if `worker` still holds it.
pub fn put_off(conn: &mut PgConnection, id: i64, worker: Uuid, seconds: f64) -> QueryResult<bool> {
    sql_query(
        "UPDATE jobs SET run_at = now() + make_interval(secs => $3), locked_until = NULL, locked_by = NULL
         WHERE id = $1 AND locked_by = $2",
    )
    .bind::<BigInt, _>(id)
    .bind::<SqlUuid, _>(worker)
    .bind::<Double, _>(seconds)
    .execute(conn)
    .map(|n| n == 1)
}

/// Removes the jobs of `kind` whose payload has `field` = `value` (e.g. the deliveries
/// of a subscription that was turned off); returns how many.
pub fn cancel(conn: &mut PgConnection, kind: &str, field: &str, value: &str) -> QueryResult<usize> {
    sql_query("DELETE FROM jobs WHERE kind = $1 AND payload ->> $2 = $3")
        .bind::<Text, _>(kind)
        .bind::<Text, _>(field)
        .bind::<Text, _>(value)
        .execute(conn)
}

/// Makes a put-off job of `kind` with `field` = `value` due now; false if there is none.
pub fn hasten(conn: &mut PgConnection, kind: &str, field: &str, value: &str) -> QueryResult<bool> {
    sql_query("UPDATE jobs SET run_at = now() WHERE kind = $1 AND payload ->> $2 = $3 AND locked_by IS NULL")
        .bind::<Text, _>(kind)
        .bind::<Text, _>(field)
        .bind::<Text, _>(value)
        .execute(conn)
        .map(|n| n > 0)
}

/// The queue at a glance, for `/readyz`.
#[derive(QueryableByName, Debug)]
pub struct QueueStats {
    #[diesel(sql_type = BigInt)]
    pub due: i64,
    #[diesel(sql_type = BigInt)]
    pub scheduled: i64,
    #[diesel(sql_type = Double)]
    pub oldest_due_seconds: f64,
}

pub fn stats(conn: &mut PgConnection) -> QueryResult<QueueStats> {
    sql_query(
        "SELECT count(*) FILTER (WHERE run_at <= now()) AS due,
                count(*) FILTER (WHERE run_at > now()) AS scheduled,
                coalesce(extract(epoch FROM now() - min(run_at) FILTER (WHERE run_at <= now())), 0)::float8
                    AS oldest_due_seconds
         FROM jobs",
    )
    .get_result(conn)
}

/// Webhook deliveries by status, for `/metrics`.
pub fn deliveries_by_status(conn: &mut PgConnection) -> QueryResult<Vec<(String, i64)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        status: String,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let rows: Vec<Row> =
        sql_query("SELECT status, count(*) AS n FROM webhook_deliveries GROUP BY status ORDER BY status").load(conn)?;
    Ok(rows.into_iter().map(|r| (r.status, r.n)).collect())
}

/// Outbound messages (to senders and staff) by channel and status, for `/metrics`.
pub fn messages_by_outcome(conn: &mut PgConnection) -> QueryResult<Vec<(String, String, i64)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        channel: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        status: String,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let rows: Vec<Row> = sql_query(
        "SELECT channel, status, count(*) AS n FROM outbound_messages GROUP BY channel, status ORDER BY 1, 2",
    )
    .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.channel, r.status, r.n)).collect())
}
