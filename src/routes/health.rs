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
