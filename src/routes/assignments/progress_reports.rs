//! Progress reports: submitted by the department, each correction a new version,
//! accepted or returned by the coordinator.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::{
    auth::{AuthUser, Permission},
    db::{
        self, Record,
        assignments::{self as store, AssignmentRow, NewReport, ReportChanges, ReportRow},
        audit::{self, Actor, Event},
        plans,
    },
    domain::plans::period_as_kept,
    domain::{
        assignments::{Period, ReportStatus},
        time::local_date,
    },
    error::{ApiError, FieldError},
    http::{
        ApiJson, IfMatch, RequestContext,
        etag::{created, ok_with_etag},
        json::double_option,
    },
    routes::crud::{self},
    state::AppState,
};

/// A progress report: one version of a department's report for one period.
#[derive(Serialize, ToSchema, Clone)]
pub struct ProgressReport {
    pub id: Uuid,
    pub assignment_id: Uuid,
    /// E.g. `2021-Q2`.
    pub period: String,
    /// Which submission of the period's report this is: 1 for the first, each correction
    /// of an accepted report adds one. (`version` is the record's, for `If-Match`.)
    pub revision: i32,
    pub summary: String,
    pub progress_percent: Option<i32>,
    /// Activities the report refers to.
    pub activity_ids: Vec<Uuid>,
    /// `submitted`, then `accepted` (frozen) or `returned` (to change and submit again).
    pub status: ReportStatus,
    pub due_on: NaiveDate,
    /// Submitted after its due date (kept all the same).
    pub late: bool,
    pub submitted_by: Option<Uuid>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub submitted_at: DateTime<Utc>,
    pub reviewed_by: Option<Uuid>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub reviewed_at: Option<DateTime<Utc>>,
    pub review_note: Option<String>,
    pub version: i32,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub updated_at: DateTime<Utc>,
}

impl From<ReportRow> for ProgressReport {
    fn from(r: ReportRow) -> Self {
        Self {
            id: r.id,
            assignment_id: r.assignment_id,
            period: r.period,
            revision: r.version_no,
            summary: r.summary,
            progress_percent: r.progress_percent,
            activity_ids: r.activity_ids.into_iter().flatten().collect(),
            status: r.status,
            due_on: r.due_on,
            late: r.late,
            submitted_by: r.submitted_by,
            submitted_at: r.submitted_at,
            reviewed_by: r.reviewed_by,
            reviewed_at: r.reviewed_at,
            review_note: r.review_note,
            version: r.version,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"summary": "Đã phổ biến Kế hoạch tại cuộc họp phòng ngày 12/4; đăng 3 tin trên trang của Ban.", "progress_percent": 40}))]
pub struct SubmitReport {
    #[validate(length(min = 1, max = 20000), custom(function = "crate::domain::validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 20000)]
    pub summary: String,
    #[validate(range(min = 0, max = 100))]
    #[schema(minimum = 0, maximum = 100)]
    pub progress_percent: Option<i32>,
    /// Activities the report refers to.
    #[serde(default)]
    #[validate(length(max = 200))]
    #[schema(max_items = 200)]
    pub activity_ids: Vec<Uuid>,
}

/// Changes to a report that is not yet accepted; absent fields stay.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateReport {
    #[validate(length(min = 1, max = 20000), custom(function = "crate::domain::validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 20000)]
    pub summary: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(range(min = 0, max = 100))]
    #[schema(value_type = Option<i32>, minimum = 0, maximum = 100)]
    pub progress_percent: Option<Option<i32>>,
    #[validate(length(max = 200))]
    #[schema(max_items = 200)]
    pub activity_ids: Option<Vec<Uuid>>,
}

/// A review of a report.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "accepted"}))]
pub struct ReportReview {
    /// `accepted` (frozen) or `returned` (back to the department).
    pub to: ReportStatus,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// The assignment and the duty period named in the path, checked.
fn duty_period(
    conn: &mut PgConnection,
    id: Uuid,
    org: Option<Uuid>,
    code: &str,
    due_days: i64,
) -> Result<(AssignmentRow, plans::PlanRow, Period), ApiError> {
    let assignment = AssignmentRow::lock(conn, id, org)?;
    let plan = plans::find(conn, assignment.plan_id, None)?;
    let counting = crate::db::organizations::period_counting(conn, plan.organization_id)?;
    let all = assignment.duty_periods(&plan, due_days, counting);
    if all.is_empty() {
        return Err(ApiError::unprocessable("no_reporting"));
    }
    let allowed: Vec<String> = all.iter().map(|p| p.code.clone()).collect();
    let period = all.into_iter().find(|p| p.code == code).ok_or_else(|| {
        ApiError::unprocessable("unknown_period").arg("period", code).arg("allowed", allowed.join(", "))
    })?;
    Ok((assignment, plan, period))
}

/// The activities a report refers to must be activities of the assignment's plan.
fn check_activities(conn: &mut PgConnection, plan: Uuid, ids: &[Uuid]) -> Result<Vec<Option<Uuid>>, ApiError> {
    let mut unique = ids.to_vec();
    unique.sort();
    unique.dedup();
    if crate::db::activities::of_plan(conn, plan, &unique)?.len() != unique.len() {
        return Err(ApiError::unprocessable("reference_invalid")
            .with_errors(vec![FieldError::new("activity_ids", "reference_invalid")]));
    }
    Ok(unique.into_iter().map(Some).collect())
}

fn report_location(id: Uuid, period: &str) -> String {
    format!("/api/v1/assignments/{id}/reports/{period}")
}

/// Submit a progress report for a period.
///
/// The first submission is version 1; after its due date it is kept and marked `late`.
/// While it awaits review it is changed with PATCH (409 here); once accepted it is
/// frozen, and submitting again makes a correction: a new version, the old one kept.
/// A `member` reports only for their own department (403).
#[utoipa::path(
    tag = "assignments",
    params(("id" = Uuid, Path, description = "The assignment."), ("period" = String, Path, description = "A period of its reporting duties, e.g. `2021-Q2`."), crate::http::idempotency::IdempotencyKeyHeader),
    request_body = SubmitReport,
    responses(
        (status = 201, description = "Submitted.", body = ProgressReport, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "A version awaits review (`report_pending`), or the idempotency key is in use.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a reporting period of the assignment (`unknown_period`, `no_reporting`), an activity not of the plan, or the idempotency key was used for another request.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/reports/{period}", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn submit_progress_report(
    auth: AuthUser,
    ctx: RequestContext,
    path: web::Path<(Uuid, String)>,
    body: ApiJson<SubmitReport>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ReportsSubmit)?;
    let (id, code) = path.into_inner();
    let code = period_as_kept(code);
    let body = body.0;
    let (org, now, due_days) = (principal.organization_id, state.clock.now(), state.settings.report_due_days);
    let actor = Actor::of(&principal, &ctx);
    let report = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let (assignment, _, period) = duty_period(conn, id, org, &code, due_days)?;
            principal.require_for_department(Permission::ReportsSubmit, assignment.department_id)?;
            let version_no = match store::lock_latest(conn, id, &code)? {
                None => 1,
                Some(latest) if latest.status == ReportStatus::Accepted => latest.version_no + 1,
                Some(_) => return Err(ApiError::conflict("report_pending")),
            };
            let activity_ids = check_activities(conn, assignment.plan_id, &body.activity_ids)?;
            let row = store::insert_report(
                conn,
                &NewReport {
                    id: Uuid::now_v7(),
                    organization_id: assignment.organization_id,
                    assignment_id: id,
                    period: code.clone(),
                    version_no,
                    summary: body.summary.trim().to_owned(),
                    progress_percent: body.progress_percent,
                    activity_ids,
                    due_on: period.due_on,
                    late: local_date(now) > period.due_on,
                    submitted_by: Some(principal.id),
                    submitted_at: now,
                },
            )?;
            let after = ProgressReport::from(row.clone());
            audit::record(conn, &actor, Event::created("progress_report", row.id, Some(row.organization_id), &after))?;
            Ok(row)
        })
    })
    .await?;
    let location = report_location(report.assignment_id, &report.period);
    Ok(created(location, report.version, &ProgressReport::from(report)))
}

/// Read the latest version of a period's report.
#[utoipa::path(
    tag = "assignments",
    params(("id" = Uuid, Path, description = "The assignment."), ("period" = String, Path, description = "A period of its reporting duties, e.g. `2021-Q2`.")),
    responses((status = 200, description = "The latest version.", body = ProgressReport, headers(("ETag" = String))))
)]
#[get("/{id}/reports/{period}")]
pub async fn get_progress_report(
    auth: AuthUser,
    path: web::Path<(Uuid, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::AssignmentsRead)?;
    let (id, code) = path.into_inner();
    let code = period_as_kept(code);
    let org = auth.0.organization_id;
    let mut versions = db::run(&state.pool, move |conn| {
        store::find(conn, id, org)?;
        Ok(store::versions(conn, id, &code)?)
    })
    .await?;
    let latest = versions.pop().ok_or_else(ApiError::not_found)?;
    Ok(ok_with_etag(latest.version, &ProgressReport::from(latest)))
}

/// The versions of a period's report.
#[derive(Serialize, ToSchema)]
pub struct ReportVersions {
    pub assignment_id: Uuid,
    pub period: String,
    /// Oldest first (all of them).
    pub items: Vec<ProgressReport>,
    /// Always `null`: every version is in this answer.
    pub next_cursor: Option<String>,
}

/// Every version of a period's report: the accepted ones and their corrections.
#[utoipa::path(
    tag = "assignments",
    params(("id" = Uuid, Path, description = "The assignment."), ("period" = String, Path, description = "A period of its reporting duties, e.g. `2021-Q2`.")),
    responses((status = 200, description = "The versions, oldest first.", body = ReportVersions))
)]
#[get("/{id}/reports/{period}/versions")]
pub async fn list_progress_report_versions(
    auth: AuthUser,
    path: web::Path<(Uuid, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::AssignmentsRead)?;
    let (id, code) = path.into_inner();
    let code = period_as_kept(code);
    let org = auth.0.organization_id;
    let query_code = code.clone();
    let versions = db::run(&state.pool, move |conn| {
        store::find(conn, id, org)?;
        Ok(store::versions(conn, id, &query_code)?)
    })
    .await?;
    if versions.is_empty() {
        return Err(ApiError::not_found());
    }
    let versions = versions.into_iter().map(ProgressReport::from).collect();
    Ok(HttpResponse::Ok().json(ReportVersions { assignment_id: id, period: code, items: versions, next_cursor: None }))
}

/// The report's latest version, locked, for a change.
fn latest_for_change(conn: &mut PgConnection, id: Uuid, code: &str, if_match: &IfMatch) -> Result<ReportRow, ApiError> {
    let latest = store::lock_latest(conn, id, code)?.ok_or_else(ApiError::not_found)?;
    if_match.check(latest.version)?;
    Ok(latest)
}

/// Change a report that is not yet accepted.
///
/// A returned report goes back to `submitted`. An accepted one is frozen (409): submit
/// a correction instead.
#[utoipa::path(
    tag = "assignments",
    params(("id" = Uuid, Path, description = "The assignment."), ("period" = String, Path, description = "A period of its reporting duties, e.g. `2021-Q2`."), ("If-Match" = Option<String>, Header, description = "`\"<version>\"` from the `ETag`; a stale one is a 412.")),
    request_body = UpdateReport,
    responses(
        (status = 200, description = "Changed.", body = ProgressReport, headers(("ETag" = String))),
        (status = 409, description = "The report is accepted and frozen (`report_frozen`).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "An activity is not of the assignment's plan.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/{id}/reports/{period}")]
pub async fn update_progress_report(
    auth: AuthUser,
    ctx: RequestContext,
    path: web::Path<(Uuid, String)>,
    if_match: IfMatch,
    body: ApiJson<UpdateReport>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ReportsSubmit)?;
    let (id, code) = path.into_inner();
    let code = period_as_kept(code);
    let body = body.0;
    let org = principal.organization_id;
    let actor = Actor::of(&principal, &ctx);
    let row = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let assignment = AssignmentRow::lock(conn, id, org)?;
            principal.require_for_department(Permission::ReportsSubmit, assignment.department_id)?;
            let latest = latest_for_change(conn, id, &code, &if_match)?;
            if latest.status == ReportStatus::Accepted {
                return Err(ApiError::conflict("report_frozen"));
            }
            let activity_ids = match &body.activity_ids {
                Some(ids) => Some(check_activities(conn, assignment.plan_id, ids)?),
                None => None,
            };
            let changes = ReportChanges {
                summary: body.summary.map(|s| s.trim().to_owned()),
                progress_percent: body.progress_percent,
                activity_ids,
                status: Some(ReportStatus::Submitted),
                ..Default::default()
            };
            let row = store::update_report(conn, latest.id, &changes)?;
            let (before, after) = (ProgressReport::from(latest), ProgressReport::from(row.clone()));
            audit::record(
                conn,
                &actor,
                Event::updated("progress_report", row.id, Some(row.organization_id), &before, &after),
            )?;
            Ok(row)
        })
    })
    .await?;
    Ok(ok_with_etag(row.version, &ProgressReport::from(row)))
}

/// Accept or return a report.
///
/// `submitted → accepted` freezes it; `submitted → returned` sends it back to the
/// department to change (PATCH) and so submit again.
#[utoipa::path(
    tag = "assignments",
    params(("id" = Uuid, Path, description = "The assignment."), ("period" = String, Path, description = "A period of its reporting duties, e.g. `2021-Q2`."), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    request_body = ReportReview,
    responses(
        (status = 200, description = "Reviewed.", body = ProgressReport, headers(("ETag" = String))),
        (status = 409, description = "Not allowed from the current status (`transition_not_allowed`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/reports/{period}/transitions")]
pub async fn review_progress_report(
    auth: AuthUser,
    ctx: RequestContext,
    path: web::Path<(Uuid, String)>,
    if_match: IfMatch,
    body: ApiJson<ReportReview>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ReportsReview)?;
    let (id, code) = path.into_inner();
    let code = period_as_kept(code);
    let ReportReview { to, note } = body.0;
    let (org, now, reviewer) = (principal.organization_id, state.clock.now(), principal.id);
    let review_note = note.clone();
    crud::transition(
        &state,
        Actor::of(&principal, &ctx),
        if_match,
        crud::Move { to, detail: ("note", note) },
        move |conn| {
            AssignmentRow::lock(conn, id, org)?;
            store::lock_latest(conn, id, &code)?.ok_or_else(ApiError::not_found)
        },
        move |conn, latest, _| {
            let changes = ReportChanges {
                status: Some(to),
                reviewed_by: Some(Some(reviewer)),
                reviewed_at: Some(Some(now)),
                review_note: Some(review_note),
                ..Default::default()
            };
            Ok(store::update_report(conn, latest.id, &changes)?)
        },
        ProgressReport::from,
    )
    .await
}

impl crud::Moves for ReportRow {
    type Status = ReportStatus;
    const ENTITY: &'static str = "progress_report";
    fn id(&self) -> Uuid {
        self.id
    }
    fn organization_id(&self) -> Uuid {
        self.organization_id
    }
    fn version(&self) -> i32 {
        self.version
    }
    fn status(&self) -> ReportStatus {
        self.status
    }
}
