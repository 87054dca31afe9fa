//! Department assignments (who leads, co-ordinates or carries out what), their
//! reporting duties, and the progress reports departments submit.
use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::{
    auth::{AuthUser, Permission},
    db::{
        self, Record,
        assignments::{
            self as store, AssignmentChanges, AssignmentRow, NewAssignment, NewReport, ReportChanges, ReportRow,
        },
        audit::{self, Actor, Event},
        departments, plan_items, plans,
    },
    domain::{
        assignments::{
            AssignmentRole, AssignmentStatus, DutyState, Period, ReportStatus, Reporting, duty_state, is_overdue,
        },
        time::local_date,
    },
    error::{ApiError, FieldError},
    http::{
        ApiJson, IfMatch, Page, RequestContext,
        etag::{created, ok_with_etag},
        json::double_option,
        pagination::PageParams,
        query::{ApiQuery, ListQuery},
    },
    routes::{
        crud::{self, Resource},
        plans::ensure_open,
    },
    state::AppState,
};

/// A department's part in a plan item — or, without an item, in the plan as a whole.
#[derive(Serialize, ToSchema, Clone)]
pub struct Assignment {
    pub id: Uuid,
    pub plan_id: Uuid,
    /// `null`: the plan as a whole (as the decision's articles assign it).
    pub plan_item_id: Option<Uuid>,
    pub department_id: Uuid,
    /// `lead` (chủ trì: at most one per item), `coordinate` (phối hợp) or `execute`.
    pub role: AssignmentRole,
    pub duty: Option<String>,
    pub start_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
    /// How often the department reports; see `GET /api/v1/assignments/{id}/reports`.
    pub reporting: Reporting,
    /// Changed only through `POST /api/v1/assignments/{id}/transitions`.
    pub status: AssignmentStatus,
    /// The due date has passed (in Vietnam's time zone) and it is neither done nor cancelled.
    pub overdue: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<AssignmentRow> for Assignment {
    fn from(r: AssignmentRow) -> Self {
        Self {
            id: r.id,
            plan_id: r.plan_id,
            plan_item_id: r.plan_item_id,
            department_id: r.department_id,
            role: r.role,
            duty: r.duty,
            start_on: r.start_on,
            due_on: r.due_on,
            reporting: r.reporting,
            status: r.status,
            overdue: false,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Resource for Assignment {
    type Row = AssignmentRow;
    const COLLECTION: &'static str = "/api/v1/assignments";

    fn finish(&mut self, state: &AppState) {
        self.overdue = is_overdue(self.due_on, self.status, state.clock.today());
    }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"plan_item_id": "01938f6e-7d3c-7b1a-9c55-3f1f0b6f1a2e", "department_id": "01938f6e-7d3c-7b1a-9c55-3f1f0b6f1a2f",
    "role": "execute", "reporting": "quarterly", "due_on": "2021-12-31"}))]
pub struct CreateAssignment {
    /// The item; absent for an assignment on the plan as a whole (then `plan_id`).
    pub plan_item_id: Option<Uuid>,
    /// Required without `plan_item_id`; with it, must be the item's plan.
    pub plan_id: Option<Uuid>,
    /// A department of the plan's organisation.
    pub department_id: Uuid,
    pub role: AssignmentRole,
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub duty: Option<String>,
    /// Default: the plan's period start.
    pub start_on: Option<NaiveDate>,
    /// Default: the plan's period end.
    pub due_on: Option<NaiveDate>,
    /// Default `none`.
    pub reporting: Option<Reporting>,
}

/// Fields to change; absent fields stay, `null` clears an optional one. The status
/// changes only through transitions.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAssignment {
    pub department_id: Option<Uuid>,
    pub role: Option<AssignmentRole>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 5000))]
    #[schema(value_type = Option<String>, max_length = 5000)]
    pub duty: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub start_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub due_on: Option<Option<NaiveDate>>,
    pub reporting: Option<Reporting>,
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssignmentFilter {
    /// System administrator only: assignments of this organisation.
    pub organization_id: Option<Uuid>,
    pub plan_id: Option<Uuid>,
    pub plan_item_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub role: Option<AssignmentRole>,
    pub status: Option<AssignmentStatus>,
    /// `true`: only overdue ones (due date passed in Vietnam, neither done nor
    /// cancelled); `false`: only those not overdue.
    pub overdue: Option<bool>,
    /// Due before this date.
    pub due_before: Option<NaiveDate>,
    /// Due after this date.
    pub due_after: Option<NaiveDate>,
}

/// A status change.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "in_progress"}))]
pub struct AssignmentTransition {
    pub to: AssignmentStatus,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

fn check_dates(start: Option<NaiveDate>, due: Option<NaiveDate>) -> Result<(), ApiError> {
    match (start, due) {
        (Some(s), Some(d)) if s > d => {
            Err(ApiError::rules(vec![FieldError::new("due_on", "invalid_value").arg("reason", "before start_on")]))
        }
        _ => Ok(()),
    }
}

fn check_department(conn: &mut PgConnection, department: Uuid, org: Uuid) -> Result<(), ApiError> {
    match departments::find(conn, department, Some(org)) {
        Ok(_) => Ok(()),
        Err(diesel::result::Error::NotFound) => Err(ApiError::unprocessable("department_not_found")
            .with_errors(vec![FieldError::new("department_id", "department_not_found")])),
        Err(e) => Err(e.into()),
    }
}

/// List assignments.
#[utoipa::path(
    tag = "assignments",
    params(PageParams, AssignmentFilter),
    responses((status = 200, description = "A page of assignments.", body = Page<Assignment>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("/assignments")]
pub async fn list_assignments(
    auth: AuthUser,
    query: ListQuery<AssignmentFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::AssignmentsRead)?;
    let ListQuery { page, filter } = query;
    let today = state.clock.today();
    let filter = store::Filter {
        organization_id: principal.read_scope(filter.organization_id)?,
        plan_id: filter.plan_id,
        plan_item_id: filter.plan_item_id,
        department_id: filter.department_id,
        role: filter.role,
        status: filter.status,
        overdue: filter.overdue.map(|o| (o, today)),
        due_before: filter.due_before,
        due_after: filter.due_after,
    };
    crud::list::<Assignment, _>(&req, &state, page, move |conn, page| store::list(conn, &filter, page)).await
}

/// Read an assignment.
#[utoipa::path(
    tag = "assignments",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The assignment.", body = Assignment, headers(("ETag" = String))))
)]
#[get("/assignments/{id}")]
pub async fn get_assignment(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::AssignmentsRead)?;
    crud::get::<Assignment>(&state, id.into_inner(), auth.0.organization_id).await
}

/// Assign a department to a plan item (or to the plan as a whole).
///
/// An item has at most one `lead`, and a department at most one assignment per item
/// (409). Dates default to the plan's period.
#[utoipa::path(
    tag = "assignments",
    params(crate::http::idempotency::IdempotencyKeyHeader),
    request_body = CreateAssignment,
    responses(
        (status = 201, description = "Assigned.", body = Assignment, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The item already has a lead (`lead_taken`), the department is already assigned (`already_assigned`), the plan is closed, or the idempotency key is in use.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The plan, item or department is not the organisation's, or the idempotency key was used for another request.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/assignments", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn create_assignment(
    auth: AuthUser,
    ctx: RequestContext,
    body: ApiJson<CreateAssignment>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::AssignmentsWrite)?;
    let body = body.0;
    check_dates(body.start_on, body.due_on)?;
    let (org, author) = (principal.organization_id, principal.id);
    crud::create::<Assignment, _>(&state, Actor::of(&principal, &ctx), move |conn| {
        let plan_id = match body.plan_item_id {
            Some(item) => {
                let item = plan_items::find(conn, item, org).map_err(|_| reference_invalid("plan_item_id"))?;
                if body.plan_id.is_some_and(|p| p != item.plan_id) {
                    return Err(reference_invalid("plan_id"));
                }
                item.plan_id
            }
            None => body.plan_id.expect("checked above"),
        };
        let plan = plans::find(conn, plan_id, org).map_err(|_| reference_invalid("plan_id"))?;
        ensure_open(plan.status)?;
        check_department(conn, body.department_id, plan.organization_id)?;
        let (start_on, due_on) = (body.start_on.or(plan.period_from), body.due_on.or(plan.period_to));
        check_dates(start_on, due_on)?;
        Ok(store::insert(
            conn,
            &NewAssignment {
                id: Uuid::now_v7(),
                organization_id: plan.organization_id,
                plan_id,
                plan_item_id: body.plan_item_id,
                department_id: body.department_id,
                role: body.role,
                duty: body.duty,
                start_on,
                due_on,
                reporting: body.reporting.unwrap_or(Reporting::None),
                created_by: Some(author),
            },
        )?)
    })
    .await
}

fn reference_invalid(field: &'static str) -> ApiError {
    ApiError::unprocessable("reference_invalid").with_errors(vec![FieldError::new(field, "reference_invalid")])
}

/// Change an assignment.
#[utoipa::path(
    tag = "assignments",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"` from the `ETag`; a stale one is a 412.")),
    request_body = UpdateAssignment,
    responses(
        (status = 200, description = "Changed.", body = Assignment, headers(("ETag" = String))),
        (status = 409, description = "The item already has a lead, the department is already assigned, or the plan is closed.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The department is not the organisation's.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/assignments/{id}")]
pub async fn update_assignment(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<UpdateAssignment>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::AssignmentsWrite)?;
    let body = body.0;
    let changes = AssignmentChanges {
        department_id: body.department_id,
        role: body.role,
        duty: body.duty,
        start_on: body.start_on,
        due_on: body.due_on,
        reporting: body.reporting,
        status: None,
    };
    let actor = Actor::of(&principal, &ctx);
    crud::update::<Assignment, _>(
        &state,
        actor,
        id.into_inner(),
        principal.organization_id,
        if_match,
        move |conn, current| {
            ensure_open(plans::find(conn, current.plan_id, None)?.status)?;
            if let Some(dept) = changes.department_id {
                check_department(conn, dept, current.organization_id)?;
            }
            check_dates(changes.start_on.unwrap_or(current.start_on), changes.due_on.unwrap_or(current.due_on))?;
            Ok(store::update(conn, current.id, &changes)?)
        },
    )
    .await
}

/// Delete an assignment; refused (409) once progress reports were submitted for it.
#[utoipa::path(
    tag = "assignments",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 409, description = "Progress reports exist (`has_dependents`; cancel it instead), or the plan is closed.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/assignments/{id}")]
pub async fn delete_assignment(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::AssignmentsWrite)?;
    let actor = Actor::of(&principal, &ctx);
    crud::delete::<Assignment, _>(
        &state,
        actor,
        id.into_inner(),
        principal.organization_id,
        if_match,
        |conn, current| {
            ensure_open(plans::find(conn, current.plan_id, None)?.status)?;
            if store::has_reports(conn, current.id)? {
                return Err(ApiError::conflict("has_dependents").arg("what", "progress_reports"));
            }
            Ok(())
        },
    )
    .await
}

/// Move an assignment to another status.
///
/// `assigned → in_progress → done`, `cancelled` from either open status; a done one
/// may be reopened (`in_progress`), a cancelled one restored (`assigned`). Anything
/// else is a 409 naming the allowed ones.
#[utoipa::path(
    tag = "assignments",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    request_body = AssignmentTransition,
    responses(
        (status = 200, description = "Moved.", body = Assignment, headers(("ETag" = String))),
        (status = 409, description = "Not allowed from the current status (`transition_not_allowed`), or restoring it would break the one-lead rule.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/assignments/{id}/transitions")]
pub async fn transition_assignment(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<AssignmentTransition>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::AssignmentsWrite)?;
    let AssignmentTransition { to, note } = body.0;
    let (id, org) = (id.into_inner(), principal.organization_id);
    crud::transition(
        &state,
        Actor::of(&principal, &ctx),
        if_match,
        crud::Move { to, detail: ("note", note) },
        move |conn| Ok(AssignmentRow::lock(conn, id, org)?),
        move |conn, _, _| Ok(store::update(conn, id, &AssignmentChanges { status: Some(to), ..Default::default() })?),
        |row| crud::present::<Assignment>(row, &state),
    )
    .await
}

impl crud::Moves for AssignmentRow {
    type Status = AssignmentStatus;
    const ENTITY: &'static str = "assignment";
    fn id(&self) -> Uuid {
        self.id
    }
    fn organization_id(&self) -> Uuid {
        self.organization_id
    }
    fn version(&self) -> i32 {
        self.version
    }
    fn status(&self) -> AssignmentStatus {
        self.status
    }
}

/// An assignment in a department's work list, with its item inline.
#[derive(Serialize, ToSchema)]
pub struct WorkItem {
    #[serde(flatten)]
    pub assignment: Assignment,
    /// `null` for a plan-wide assignment.
    pub item_reference: Option<String>,
    pub item_title: Option<String>,
}

/// A department's whole work list.
#[derive(Serialize, ToSchema)]
pub struct WorkList {
    pub department_id: Uuid,
    pub items: Vec<WorkItem>,
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WorkListFilter {
    pub plan_id: Option<Uuid>,
    pub status: Option<AssignmentStatus>,
    /// `true`: only overdue ones.
    pub overdue: Option<bool>,
}

/// A department's work list.
///
/// All its live assignments in one answer, by due date (undated last), each with the
/// reference and title of its item.
#[utoipa::path(
    tag = "assignments",
    params(("id" = Uuid, Path, description = "The department."), WorkListFilter),
    responses((status = 200, description = "The department's assignments.", body = WorkList))
)]
#[get("/departments/{id}/assignments")]
pub async fn list_department_assignments(
    auth: AuthUser,
    id: web::Path<Uuid>,
    query: ApiQuery<WorkListFilter>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::AssignmentsRead)?;
    let (department, org) = (id.into_inner(), principal.organization_id);
    let filter = query.0;
    let today = state.clock.today();
    let filter = store::Filter {
        plan_id: filter.plan_id,
        status: filter.status,
        overdue: filter.overdue.filter(|o| *o).map(|o| (o, today)),
        ..Default::default()
    };
    let rows = db::run(&state.pool, move |conn| {
        departments::find(conn, department, org)?;
        Ok(store::of_department(conn, department, &filter)?)
    })
    .await?;
    let items = rows
        .into_iter()
        .map(|(row, item_reference, item_title)| WorkItem {
            assignment: crud::present::<Assignment>(row, &state),
            item_reference,
            item_title,
        })
        .collect();
    Ok(HttpResponse::Ok().json(WorkList { department_id: department, items }))
}

/// A progress report: one version of a department's report for one period.
#[derive(Serialize, ToSchema, Clone)]
pub struct ProgressReport {
    pub id: Uuid,
    pub assignment_id: Uuid,
    /// E.g. `2021-Q2`.
    pub period: String,
    /// 1 for the first submission; each correction of an accepted report adds one.
    pub version_no: i32,
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
    pub submitted_at: DateTime<Utc>,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub review_note: Option<String>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

impl From<ReportRow> for ProgressReport {
    fn from(r: ReportRow) -> Self {
        Self {
            id: r.id,
            assignment_id: r.assignment_id,
            period: r.period,
            version_no: r.version_no,
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

/// One expected report of an assignment.
#[derive(Serialize, ToSchema)]
pub struct ReportingDuty {
    pub assignment_id: Uuid,
    pub department_id: Uuid,
    pub plan_item_id: Option<Uuid>,
    /// E.g. `2021-Q1`.
    pub period: String,
    /// The calendar period…
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// …and the part of it the duty covers (inside the plan and the assignment).
    pub covers_from: NaiveDate,
    pub covers_to: NaiveDate,
    /// Only part of the calendar period is covered; the report is still due with the
    /// full period's.
    pub partial: bool,
    /// The cut-off: the report covers up to the end of the calendar period.
    pub cutoff_on: NaiveDate,
    pub due_on: NaiveDate,
    /// `upcoming`, `due`, `submitted`, `late` or `missing`, on today's date in Vietnam.
    pub state: DutyState,
    /// The latest version of the report, if any.
    pub report: Option<ProgressReport>,
}

/// The reporting duties of one assignment.
#[derive(Serialize, ToSchema)]
pub struct Duties {
    pub assignment_id: Uuid,
    pub reporting: Reporting,
    pub duties: Vec<ReportingDuty>,
}

/// Duties of `assignments`, with their reports (all versions, any order).
fn duties(
    assignments: &[AssignmentRow],
    plan: &plans::PlanRow,
    reports: Vec<ReportRow>,
    today: NaiveDate,
    due_days: i64,
) -> Vec<ReportingDuty> {
    let mut by_period: HashMap<(Uuid, String), Vec<ReportRow>> = HashMap::new();
    for report in reports {
        by_period.entry((report.assignment_id, report.period.clone())).or_default().push(report);
    }
    let mut out = Vec::new();
    for assignment in assignments {
        for period in assignment.duty_periods(plan, due_days) {
            let mut versions = by_period.remove(&(assignment.id, period.code.clone())).unwrap_or_default();
            versions.sort_by_key(|r| r.version_no);
            let first_submitted = versions.first().map(|r| local_date(r.submitted_at));
            let state = duty_state(today, &period, first_submitted);
            out.push(ReportingDuty {
                assignment_id: assignment.id,
                department_id: assignment.department_id,
                plan_item_id: assignment.plan_item_id,
                partial: period.partial(),
                period: period.code,
                starts_on: period.starts_on,
                ends_on: period.ends_on,
                covers_from: period.covers_from,
                covers_to: period.covers_to,
                cutoff_on: period.ends_on,
                due_on: period.due_on,
                state,
                report: versions.pop().map(ProgressReport::from),
            });
        }
    }
    out
}

/// An assignment's reporting duties.
///
/// From its reporting frequency, over its dates (by default the plan's period): each
/// period with its cut-off, due date (`CCHC_REPORT_DUE_DAYS` after the period ends),
/// state and latest report. A period the plan covers only in part — the 2021 plan
/// starts on 24 March, so its first quarter is 24–31 March — is a duty too, marked
/// `partial`, due with the full period.
#[utoipa::path(
    tag = "assignments",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The duties, oldest first.", body = Duties))
)]
#[get("/assignments/{id}/reports")]
pub async fn list_reporting_duties(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::AssignmentsRead)?;
    let (id, org) = (id.into_inner(), principal.organization_id);
    let (today, due_days) = (state.clock.today(), state.settings.report_due_days);
    let (assignment, list) = db::run(&state.pool, move |conn| {
        let assignment = store::find(conn, id, org)?;
        let plan = plans::find(conn, assignment.plan_id, None)?;
        let reports = store::reports_of(conn, &[id])?;
        let list = duties(std::slice::from_ref(&assignment), &plan, reports, today, due_days);
        Ok((assignment, list))
    })
    .await?;
    Ok(HttpResponse::Ok().json(Duties { assignment_id: assignment.id, reporting: assignment.reporting, duties: list }))
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DutyFilter {
    pub state: Option<DutyState>,
    pub department_id: Option<Uuid>,
    /// E.g. `2021-Q2`.
    #[validate(custom(function = "crate::domain::validate::period"))]
    pub period: Option<String>,
}

/// The reporting duties of a whole plan.
#[derive(Serialize, ToSchema)]
pub struct PlanDuties {
    pub plan_id: Uuid,
    /// The day the states are reckoned on (Vietnam).
    pub as_of: NaiveDate,
    pub duties: Vec<ReportingDuty>,
}

/// Every reporting duty of a plan: who has reported, who is late, who is missing.
///
/// All in one answer, by assignment then period; filter by `state` (e.g. `missing`),
/// department or period.
#[utoipa::path(
    tag = "assignments",
    params(("plan_id" = Uuid, Path), DutyFilter),
    responses((status = 200, description = "The plan's duties.", body = PlanDuties))
)]
#[get("/plans/{plan_id}/reporting-duties")]
pub async fn list_plan_reporting_duties(
    auth: AuthUser,
    plan_id: web::Path<Uuid>,
    query: ApiQuery<DutyFilter>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::AssignmentsRead)?;
    let (plan_id, org) = (plan_id.into_inner(), principal.organization_id);
    let filter = query.0;
    let (today, due_days) = (state.clock.today(), state.settings.report_due_days);
    let list = db::run(&state.pool, move |conn| {
        let plan = plans::find(conn, plan_id, org)?;
        let assignments = store::reporting_of_plan(conn, plan_id)?;
        let ids: Vec<Uuid> = assignments.iter().map(|a| a.id).collect();
        let reports = store::reports_of(conn, &ids)?;
        Ok(duties(&assignments, &plan, reports, today, due_days))
    })
    .await?;
    let duties = list
        .into_iter()
        .filter(|d| filter.state.is_none_or(|s| s == d.state))
        .filter(|d| filter.department_id.is_none_or(|dept| dept == d.department_id))
        .filter(|d| filter.period.as_deref().is_none_or(|p| p == d.period))
        .collect();
    Ok(HttpResponse::Ok().json(PlanDuties { plan_id, as_of: today, duties }))
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
    let all = assignment.duty_periods(&plan, due_days);
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
#[post(
    "/assignments/{id}/reports/{period}",
    wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)"
)]
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
#[get("/assignments/{id}/reports/{period}")]
pub async fn get_progress_report(
    auth: AuthUser,
    path: web::Path<(Uuid, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::AssignmentsRead)?;
    let (id, code) = path.into_inner();
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
    /// Oldest first.
    pub versions: Vec<ProgressReport>,
}

/// Every version of a period's report: the accepted ones and their corrections.
#[utoipa::path(
    tag = "assignments",
    params(("id" = Uuid, Path, description = "The assignment."), ("period" = String, Path, description = "A period of its reporting duties, e.g. `2021-Q2`.")),
    responses((status = 200, description = "The versions, oldest first.", body = ReportVersions))
)]
#[get("/assignments/{id}/reports/{period}/versions")]
pub async fn list_progress_report_versions(
    auth: AuthUser,
    path: web::Path<(Uuid, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::AssignmentsRead)?;
    let (id, code) = path.into_inner();
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
    Ok(HttpResponse::Ok().json(ReportVersions { assignment_id: id, period: code, versions }))
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
#[patch("/assignments/{id}/reports/{period}")]
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
#[post("/assignments/{id}/reports/{period}/transitions")]
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
