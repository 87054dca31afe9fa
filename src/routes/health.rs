use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{db, error::ApiError, state::AppState};

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(tag = "health", responses((status = 200, description = "The process is alive.", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// The shared job queue (webhook deliveries), for monitoring.
#[derive(Serialize, ToSchema)]
pub struct Queue {
    /// Jobs due now: waiting for a worker of any instance, or being worked.
    pub due: i64,
    /// Jobs put off until later (retries).
    pub scheduled: i64,
    /// How long the oldest due job has waited, in seconds (0 when none): a number that
    /// keeps growing means the runners cannot keep up, or none runs.
    pub oldest_due_seconds: f64,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    #[schema(example = "ready")]
    pub status: &'static str,
    pub jobs: Queue,
}

/// The service's metrics, in the Prometheus text format.
///
/// Requests by route template and status (`cchc_http_requests_total`) and their latency
/// (`cchc_http_request_duration_seconds`), rate-limit refusals, this instance's
/// database pool (`cchc_db_pool_connections{state}`), the shared job queue's depth and
/// oldest age, webhook deliveries and messages by outcome. Not public: a scraper signs
/// in as a service client with `metrics:read`.
#[utoipa::path(
    tag = "health",
    responses((status = 200, description = "The metrics.", content_type = "text/plain; version=0.0.4", body = String))
)]
#[get("/metrics")]
pub async fn metrics(auth: crate::auth::AuthUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    auth.0.require(crate::auth::Permission::MetricsRead)?;
    render_metrics(&state).await
}

/// The metrics as text: the gauges read now, then everything gathered.
pub async fn render_metrics(state: &AppState) -> Result<HttpResponse, ApiError> {
    let pool = state.pool.state();
    let m = &*crate::metrics::METRICS;
    m.pool_connections.with_label_values(&["in_use"]).set(i64::from(pool.connections - pool.idle_connections));
    m.pool_connections.with_label_values(&["idle"]).set(i64::from(pool.idle_connections));
    let cache = state.accounts.stats();
    for (what, n) in [
        ("hit", cache.hits as i64),
        ("miss", cache.misses as i64),
        ("bypassed", cache.bypassed as i64),
        ("entries", cache.entries as i64),
        ("live", i64::from(cache.live)),
    ] {
        m.account_cache.with_label_values(&[what]).set(n);
    }
    let (stats, deliveries, messages) = db::run(&state.pool, |conn| {
        Ok((db::jobs::stats(conn)?, db::jobs::deliveries_by_status(conn)?, db::jobs::messages_by_outcome(conn)?))
    })
    .await?;
    m.jobs_due.set(stats.due);
    m.jobs_scheduled.set(stats.scheduled);
    m.jobs_oldest_due.set(stats.oldest_due_seconds);
    // Outcomes no row has any more read 0, not their last value.
    m.deliveries.reset();
    m.messages.reset();
    for (status, n) in deliveries {
        m.deliveries.with_label_values(&[&status]).set(n);
    }
    for (channel, status, n) in messages {
        m.messages.with_label_values(&[&channel, &status]).set(n);
    }
    let text = crate::metrics::text().map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text))
}

/// Readiness: the database is reachable; and how the job queue stands.
///
/// A load balancer should send traffic only while this answers 200.
#[utoipa::path(tag = "health", responses((status = 200, description = "The database answers.", body = Readiness)))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let stats = db::run(&state.pool, |conn| Ok(db::jobs::stats(conn)?)).await?;
    let jobs = Queue { due: stats.due, scheduled: stats.scheduled, oldest_due_seconds: stats.oldest_due_seconds };
    Ok(HttpResponse::Ok().json(Readiness { status: "ready", jobs }))
}
