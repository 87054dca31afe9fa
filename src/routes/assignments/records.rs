//! Department assignments: who leads, co-ordinates or carries out what, and each
//! department's work list.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::{
    auth::{AuthUser, Permission},
    db::{
        self, Record,
        assignments::{self as store, AssignmentChanges, AssignmentRow, NewAssignment},
        audit::Actor,
        departments, plan_items, plans,
    },
    domain::assignments::{AssignmentRole, AssignmentStatus, Reporting, is_overdue},
    error::{ApiError, FieldError},
    http::{
        ApiJson, IfMatch, Page, RequestContext,
        json::double_option,
        pagination::PageParams,
        query::{ApiQuery, ListQuery},
    },
    routes::{
        checks,
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
    pub starts_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
    /// How often the department reports; see `GET /api/v1/assignments/{id}/reports`.
    pub reporting: Reporting,
    /// Changed only through `POST /api/v1/assignments/{id}/transitions`.
    pub status: AssignmentStatus,
    /// The due date has passed (in Vietnam's time zone) and it is neither done nor cancelled.
    pub overdue: bool,
    pub version: i32,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
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
            starts_on: r.starts_on,
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
    pub starts_on: Option<NaiveDate>,
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
    pub starts_on: Option<Option<NaiveDate>>,
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
        (Some(s), Some(d)) if s > d => Err(ApiError::rules(vec![
            FieldError::new("due_on", "invalid_value").reason("before starts_on", "trước starts_on"),
        ])),
        _ => Ok(()),
    }
}

/// List assignments.
#[utoipa::path(
    tag = "assignments",
    params(PageParams, AssignmentFilter),
    responses((status = 200, description = "A page of assignments.", body = Page<Assignment>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("")]
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
#[get("/{id}")]
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
#[post("", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn create_assignment(
    auth: AuthUser,
    ctx: RequestContext,
    body: ApiJson<CreateAssignment>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::AssignmentsWrite)?;
    let body = body.0;
    check_dates(body.starts_on, body.due_on)?;
    let (org, author) = (principal.organization_id, principal.id);
    crud::create::<Assignment, _>(&state, Actor::of(&principal, &ctx), move |conn| {
        let plan_id = match body.plan_item_id {
            Some(item) => {
                let item = plan_items::find(conn, item, org).map_err(|_| checks::reference_invalid("plan_item_id"))?;
                if body.plan_id.is_some_and(|p| p != item.plan_id) {
                    return Err(checks::reference_invalid("plan_id"));
                }
                item.plan_id
            }
            None => body.plan_id.expect("checked above"),
        };
        let plan = plans::find(conn, plan_id, org).map_err(|_| checks::reference_invalid("plan_id"))?;
        ensure_open(plan.status)?;
        checks::department(conn, Some(body.department_id), plan.organization_id)?;
        let (starts_on, due_on) = (body.starts_on.or(plan.period_from), body.due_on.or(plan.period_to));
        check_dates(starts_on, due_on)?;
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
                starts_on,
                due_on,
                reporting: body.reporting.unwrap_or(Reporting::None),
                created_by: Some(author),
            },
        )?)
    })
    .await
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
#[patch("/{id}")]
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
        starts_on: body.starts_on,
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
                checks::department(conn, Some(dept), current.organization_id)?;
            }
            check_dates(changes.starts_on.unwrap_or(current.starts_on), changes.due_on.unwrap_or(current.due_on))?;
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
#[delete("/{id}")]
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
#[post("/{id}/transitions")]
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
    /// By due date (all of them).
    pub items: Vec<WorkItem>,
    /// Always `null`: the whole work list is in this answer.
    pub next_cursor: Option<String>,
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
#[get("/{id}/assignments")]
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
    Ok(HttpResponse::Ok().json(WorkList { department_id: department, items, next_cursor: None }))
}
