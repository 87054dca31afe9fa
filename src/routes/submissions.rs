//! Reports sent upward: a unit submits its report on a plan that implements its parent
//! organisation's plan, for a period (frozen when sent); the parent acknowledges it or
//! returns it with a note; a returned report is corrected and submitted again as the
//! next version. Each quarter of the plan is a duty to the parent (due
//! `CCHC_REPORT_DUE_DAYS` after it ends), with its state and the deadline scan's
//! reminders.
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::{
    auth::{AuthUser, Permission},
    db::{
        self,
        audit::{self, Actor, Event},
        plans::{self, PlanRow},
        submissions::{self as store, InboxFilter, NewSubmission, SubmissionRow},
    },
    domain::{
        assignments::{DutyState, Period, duty_state, submission_duties},
        reports::ReportPeriod,
        time::local_date,
        validate,
    },
    error::ApiError,
    http::{ApiJson, RequestContext, pagination::PageParams, query::ListQuery},
    reports,
    routes::crud::{self, Resource},
    state::AppState,
};

/// A report a unit sent to its parent organisation.
#[derive(Serialize, ToSchema)]
pub struct ReportSubmission {
    pub id: Uuid,
    /// The unit that sent it.
    pub organization_id: Uuid,
    /// Where it went.
    pub parent_organization_id: Uuid,
    pub plan_id: Uuid,
    #[schema(example = "2021-Q1")]
    pub period: String,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    /// 1, then one more for each submission after a return.
    pub version_no: i32,
    /// `submitted`, `acknowledged` or `returned`.
    #[schema(pattern = "^(submitted|acknowledged|returned)$")]
    pub status: String,
    pub due_on: NaiveDate,
    /// Sent after `due_on`.
    pub late: bool,
    /// Of the frozen report (`GET …/content`).
    pub sha256: String,
    pub size_bytes: i64,
    /// The unit's covering note.
    pub note: Option<String>,
    /// The parent's note when acknowledging or returning it.
    pub decision_note: Option<String>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub submitted_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub decided_at: Option<DateTime<Utc>>,
    pub version: i32,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub updated_at: DateTime<Utc>,
}

impl From<SubmissionRow> for ReportSubmission {
    fn from(r: SubmissionRow) -> Self {
        Self {
            id: r.id,
            organization_id: r.organization_id,
            parent_organization_id: r.parent_organization_id,
            plan_id: r.plan_id,
            period: r.period,
            period_from: r.period_from,
            period_to: r.period_to,
            version_no: r.version_no,
            status: r.status,
            due_on: r.due_on,
            late: r.late,
            sha256: r.sha256,
            size_bytes: r.size_bytes,
            note: r.note,
            decision_note: r.decision_note,
            submitted_at: r.submitted_at,
            decided_at: r.decided_at,
            version: r.version,
            updated_at: r.updated_at,
        }
    }
}

impl Resource for ReportSubmission {
    type Row = SubmissionRow;
    const COLLECTION: &'static str = "/api/v1/report-submissions";
}

#[derive(Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"period": "2021-Q1", "note": "Báo cáo quý I kèm theo."}))]
pub struct CreateSubmission {
    /// `2021`, `2021-H1`, `2021-Q2` or `2021-M07`: a period that has ended.
    #[validate(length(min = 4, max = 8), custom(function = "validate::period"))]
    #[schema(min_length = 4, max_length = 8, pattern = "^[1-9][0-9]{3}(-(H[12]|Q[1-4]|M?(0[1-9]|1[0-2])))?$")]
    pub period: String,
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub note: Option<String>,
}

/// The quarters of `plan` as duties to the parent, counted as `counting` counts them.
fn duties(plan: &PlanRow, due_days: i64, counting: crate::domain::assignments::PeriodCounting) -> Vec<Period> {
    submission_duties((plan.period_from, plan.period_to), plan.year, due_days, counting)
}

/// The organisation above `org`, if any.
fn parent_of(conn: &mut PgConnection, org: Uuid) -> Result<Option<Uuid>, ApiError> {
    Ok(db::organizations::find(conn, org, None)?.parent_id)
}

/// Send a plan's report for a period to the parent organisation.
///
/// The plan's report for the period (as `GET /reports/plans/{id}` gives it) is frozen
/// with its SHA-256 and goes to the parent's inbox (`GET /report-submissions`). A period
/// that has not ended is a 409 (`period_not_closed`); one already submitted and not
/// returned a 409 (`submission_exists`); an organisation with none above it a 422
/// (`no_parent_organization`). After a return, the next submission is the next version.
#[utoipa::path(
    tag = "reports",
    params(("plan_id" = Uuid, Path), crate::http::idempotency::IdempotencyKeyHeader),
    request_body = CreateSubmission,
    responses(
        (status = 201, description = "Sent.", body = ReportSubmission, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The period has not ended, or a submission of it stands.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "No organisation above, or the idempotency key was used for another request.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/plans/{plan_id}/submissions", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn submit_report(
    auth: AuthUser,
    ctx: RequestContext,
    plan_id: web::Path<Uuid>,
    body: ApiJson<CreateSubmission>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ReportsSnapshot)?;
    let body = body.0;
    let period = ReportPeriod::parse(Some(&body.period), None, None)?;
    let report_ctx = reports::Context {
        today: state.clock.today(),
        now: state.clock.now(),
        report_due_days: state.settings.report_due_days,
        department: None,
    };
    let (id, org, by) = (plan_id.into_inner(), principal.organization_id, principal.id);
    let due_days = state.settings.report_due_days;
    crud::create::<ReportSubmission, _>(&state, Actor::of(&principal, &ctx), move |conn| {
        let plan = plans::lock(conn, id, org)?;
        let Some(parent) = parent_of(conn, plan.organization_id)? else {
            return Err(ApiError::unprocessable("no_parent_organization"));
        };
        let counting = db::organizations::period_counting(conn, plan.organization_id)?;
        let label = period.clone().counted(counting).label();
        if store::standing(conn, plan.id, &label)?.is_some() {
            return Err(ApiError::conflict("submission_exists").arg("period", &label));
        }
        let frozen = reports::freeze(conn, plan.clone(), period, report_ctx)?;
        let period = frozen.period.clone();
        let due_on = duties(&plan, due_days, counting)
            .into_iter()
            .find(|p| p.code == label)
            .map_or(period.to + chrono::Duration::days(due_days), |p| p.due_on);
        let version_no = store::next_version(conn, plan.id, &label)?;
        let row = store::insert(
            conn,
            &NewSubmission {
                id: Uuid::now_v7(),
                organization_id: plan.organization_id,
                parent_organization_id: parent,
                plan_id: plan.id,
                version_no,
                period: label,
                period_from: period.from,
                period_to: period.to,
                due_on,
                late: report_ctx.today > due_on,
                sha256: frozen.sha256,
                size_bytes: frozen.size_bytes,
                body: frozen.body,
                note: body.note.map(|n| n.trim().to_owned()),
                submitted_by: Some(by),
                submitted_at: report_ctx.now,
            },
        )?;
        tell_parent(conn, &row, &plan)?;
        Ok(row)
    })
    .await
}

/// The parent's people who receive reports hear of one in their inbox.
fn tell_parent(conn: &mut PgConnection, row: &SubmissionRow, plan: &PlanRow) -> Result<(), ApiError> {
    let unit = db::organizations::find(conn, row.organization_id, None)?;
    let people = db::users::with_roles(conn, row.parent_organization_id, &["org_admin", "leader"])?;
    let cause = format!("submission/{}", row.id);
    let notice = db::notifications::Notice {
        organization_id: row.parent_organization_id,
        kind: "report_submission.received",
        cause: &cause,
        subject_type: "report_submission",
        subject_id: Some(row.id),
        title: &format!(
            "{} gửi báo cáo kỳ {} về kế hoạch {} (lần {})",
            unit.name, row.period, plan.code, row.version_no
        ),
        title_en: &format!(
            "{} sent its {} report on plan {} (version {})",
            unit.name, row.period, plan.code, row.version_no
        ),
    };
    db::notifications::notify(conn, &people, &notice)?;
    Ok(())
}

/// The submissions of a plan, oldest first.
#[utoipa::path(
    tag = "reports",
    params(("plan_id" = Uuid, Path), PageParams),
    responses((status = 200, description = "A page of submissions.", body = crate::http::Page<ReportSubmission>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("/plans/{plan_id}/submissions")]
pub async fn list_plan_submissions(
    auth: AuthUser,
    plan_id: web::Path<Uuid>,
    query: ListQuery<crate::http::query::NoFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ReportsRead)?;
    let (id, org) = (plan_id.into_inner(), principal.organization_id);
    db::run(&state.pool, move |conn| Ok(plans::find(conn, id, org)?)).await?;
    crud::list::<ReportSubmission, _>(&req, &state, query.page, move |conn, page| store::of_plan(conn, id, page)).await
}

/// A quarter's report owed to the parent organisation, and where it stands.
#[derive(Serialize, ToSchema)]
pub struct SubmissionDuty {
    #[schema(example = "2021-Q1")]
    pub period: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub due_on: NaiveDate,
    /// `submitted` (by the due date), `late`, `missing`, `due` (the quarter has ended,
    /// the due date not yet) or `upcoming`.
    pub state: DutyState,
    /// When the report that counts (the first not returned) was sent.
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub submitted_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct SubmissionDuties {
    pub plan_id: Uuid,
    /// `null` when the organisation has none above it (then nothing is owed).
    pub parent_organization_id: Option<Uuid>,
    pub items: Vec<SubmissionDuty>,
    /// Always `null`: every quarter is on this page.
    pub next_cursor: Option<String>,
}

/// The reports a plan owes the parent organisation: one per quarter.
#[utoipa::path(
    tag = "reports",
    params(("plan_id" = Uuid, Path)),
    responses((status = 200, description = "Each quarter of the plan.", body = SubmissionDuties))
)]
#[get("/plans/{plan_id}/submission-duties")]
pub async fn list_submission_duties(
    auth: AuthUser,
    plan_id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ReportsRead)?;
    let (id, org) = (plan_id.into_inner(), principal.organization_id);
    let (today, due_days) = (state.clock.today(), state.settings.report_due_days);
    let body = db::run(&state.pool, move |conn| {
        let plan = plans::find(conn, id, org)?;
        let parent = parent_of(conn, plan.organization_id)?;
        let counting = db::organizations::period_counting(conn, plan.organization_id)?;
        let sent: std::collections::HashMap<String, DateTime<Utc>> =
            store::first_submitted(conn, &[plan.id])?.into_iter().map(|(_, period, at)| (period, at)).collect();
        let items = match parent {
            None => Vec::new(),
            Some(_) => duties(&plan, due_days, counting)
                .into_iter()
                .map(|p| {
                    let at = sent.get(&p.code).copied();
                    SubmissionDuty {
                        state: duty_state(today, &p, at.map(local_date)),
                        period: p.code,
                        starts_on: p.starts_on,
                        ends_on: p.ends_on,
                        due_on: p.due_on,
                        submitted_at: at,
                    }
                })
                .collect(),
        };
        Ok(SubmissionDuties { plan_id: plan.id, parent_organization_id: parent, items, next_cursor: None })
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InboxParams {
    /// `2021`, `2021-H1`, `2021-Q2` or `2021-M07`.
    #[validate(length(min = 4, max = 8), custom(function = "validate::period"))]
    #[param(min_length = 4, max_length = 8, pattern = "^[1-9][0-9]{3}(-(H[12]|Q[1-4]|M?(0[1-9]|1[0-2])))?$")]
    pub period: Option<String>,
    /// The unit that sent them.
    pub unit_id: Option<Uuid>,
    #[param(inline)]
    pub status: Option<SubmissionStatus>,
}

#[derive(Deserialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionStatus {
    Submitted,
    Acknowledged,
    Returned,
}

impl SubmissionStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::Acknowledged => "acknowledged",
            Self::Returned => "returned",
        }
    }
}

/// The reports the units below sent to the caller's organisation.
#[utoipa::path(
    tag = "reports",
    params(PageParams, InboxParams),
    responses((status = 200, description = "A page of submissions, oldest first.", body = crate::http::Page<ReportSubmission>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("")]
pub async fn list_report_submissions(
    auth: AuthUser,
    query: ListQuery<InboxParams>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::Oversee)?;
    let ListQuery { page, filter } = query;
    let filter = InboxFilter {
        period: filter.period.as_deref().and_then(crate::domain::plans::canonical_period),
        unit: filter.unit_id,
        status: filter.status.map(|s| s.as_str().to_owned()),
    };
    let parent = principal.organization_id;
    crud::list::<ReportSubmission, _>(&req, &state, page, move |conn, page| store::inbox(conn, parent, &filter, page))
        .await
}

/// One submission, for its unit or its parent.
#[utoipa::path(
    tag = "reports",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The submission.", body = ReportSubmission, headers(("ETag" = String))))
)]
#[get("/{id}")]
pub async fn get_report_submission(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::SubmissionsRead)?;
    let (id, org) = (id.into_inner(), principal.organization_id);
    let row = db::run(&state.pool, move |conn| Ok(store::find_for(conn, id, org)?)).await?;
    let version = row.version;
    Ok(crate::http::etag::ok_with_etag(version, &ReportSubmission::from(row)))
}

/// The frozen report of a submission, byte for byte as it was sent.
#[utoipa::path(
    tag = "reports",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The plan report as frozen.", body = crate::reports::PlanReport,
        headers(("Repr-Digest" = String, description = "`sha-256=:<base64>:` of the JSON document."))))
)]
#[get("/{id}/content")]
pub async fn get_report_submission_content(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::SubmissionsRead)?;
    let (id, org) = (id.into_inner(), principal.organization_id);
    let body = db::run(&state.pool, move |conn| {
        store::find_for(conn, id, org)?;
        Ok(store::body(conn, id)?)
    })
    .await?;
    Ok(super::reports::frozen_json(body))
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "Đề nghị bổ sung số liệu mục II.3."}))]
pub struct SubmissionDecision {
    /// Required to return a report.
    #[validate(length(min = 1, max = 2000), custom(function = "validate::not_blank"))]
    #[schema(min_length = 1, max_length = 2000, pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$")]
    pub note: Option<String>,
}

async fn decide(
    auth: AuthUser,
    ctx: RequestContext,
    id: Uuid,
    body: SubmissionDecision,
    state: &AppState,
    to: &'static str,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::SubmissionsReview)?;
    if to == "returned" && body.note.is_none() {
        return Err(ApiError::rule("note", "required"));
    }
    let (org, by, now) = (principal.organization_id, principal.id, state.clock.now());
    let actor = Actor::of(&principal, &ctx);
    let row = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let current = store::lock_for_parent(conn, id, org)?;
            if current.status != "submitted" {
                return Err(ApiError::conflict("submission_decided").arg("status", &current.status));
            }
            let note = body.note.as_deref().map(str::trim);
            let row = store::decide(conn, id, to, note, by, now)?;
            audit::record(
                conn,
                &actor,
                Event {
                    action: if to == "returned" { "return" } else { "acknowledge" },
                    entity_type: "report_submission",
                    entity_id: Some(id),
                    organization_id: Some(current.organization_id),
                    changes: audit::diff(
                        &serde_json::json!({"status": current.status, "decision_note": current.decision_note}),
                        &serde_json::json!({"status": row.status, "decision_note": row.decision_note}),
                    ),
                },
            )?;
            let people = db::users::with_roles(conn, row.organization_id, &["coordinator", "org_admin"])?;
            let cause = format!("submission/{id}/{to}");
            let (vi, en) = match to {
                "returned" => ("trả lại", "returned"),
                _ => ("ghi nhận", "acknowledged"),
            };
            let notice = db::notifications::Notice {
                organization_id: row.organization_id,
                kind: if to == "returned" { "report_submission.returned" } else { "report_submission.acknowledged" },
                cause: &cause,
                subject_type: "report_submission",
                subject_id: Some(id),
                title: &format!("Cấp trên đã {vi} báo cáo kỳ {} (lần {})", row.period, row.version_no),
                title_en: &format!("The level above {en} the {} report (version {})", row.period, row.version_no),
            };
            db::notifications::notify(conn, &people, &notice)?;
            Ok(row)
        })
    })
    .await?;
    let version = row.version;
    Ok(crate::http::etag::ok_with_etag(version, &ReportSubmission::from(row)))
}

/// Acknowledge a report a unit sent.
#[utoipa::path(
    tag = "reports",
    params(("id" = Uuid, Path)),
    request_body = SubmissionDecision,
    responses(
        (status = 200, description = "Acknowledged.", body = ReportSubmission, headers(("ETag" = String))),
        (status = 409, description = "Acknowledged or returned already (`submission_decided`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/acknowledge")]
pub async fn acknowledge_report_submission(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    body: ApiJson<SubmissionDecision>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    decide(auth, ctx, id.into_inner(), body.0, &state, "acknowledged").await
}

/// Return a report to the unit, with a note saying what to correct.
#[utoipa::path(
    tag = "reports",
    params(("id" = Uuid, Path)),
    request_body = SubmissionDecision,
    responses(
        (status = 200, description = "Returned: the unit may submit the period again.", body = ReportSubmission, headers(("ETag" = String))),
        (status = 409, description = "Acknowledged or returned already (`submission_decided`).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "No `note`.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/return")]
pub async fn return_report_submission(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    body: ApiJson<SubmissionDecision>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    decide(auth, ctx, id.into_inner(), body.0, &state, "returned").await
}
