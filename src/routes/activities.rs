//! Communication activities: what a department did to carry the plan out, who came,
//! and (in `evidence`) the files that prove it; the staff reach they add up to is in
//! `staff_reach`.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::{
    auth::{AuthUser, Permission},
    db::{
        Record,
        activities::{self as store, ActivityChanges, ActivityRecord, NewActivity},
        assignments,
        audit::Actor,
        departments, plan_items, plans,
    },
    domain::time::Bound,
    domain::{
        activities::ActivityStatus,
        plans::{Audience, Channel},
        time::local_date,
        validate,
    },
    error::{ApiError, FieldError},
    http::{ApiJson, IfMatch, Page, RequestContext, json::double_option, pagination::PageParams, query::ListQuery},
    routes::{
        checks,
        crud::{self, Resource},
        plans::ensure_open,
        staff_reach,
    },
    state::AppState,
};

/// A communication activity that happened.
#[derive(Serialize, ToSchema, Clone)]
pub struct Activity {
    pub id: Uuid,
    pub plan_id: Uuid,
    /// The plan items it serves, in order (one or more, of its plan).
    pub plan_item_ids: Vec<Uuid>,
    /// The assignment it fulfils, if any.
    pub assignment_id: Option<Uuid>,
    /// The organising department.
    pub department_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub channel: Channel,
    pub audience: Audience,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub held_from: DateTime<Utc>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub held_to: Option<DateTime<Utc>>,
    pub place: Option<String>,
    pub participant_count: Option<i32>,
    /// People of the organisation who attended (for staff audiences).
    pub attendee_ids: Vec<Uuid>,
    /// Links to the post, article or recording (http/https).
    pub links: Vec<String>,
    /// A `website_post`: the document it posts (plan II.3.c); its day counts as the
    /// document's posting once the activity is verified (`PUBLICATION_TIMELINESS`).
    pub document_id: Option<Uuid>,
    /// Changed only through `POST /api/v1/activities/{id}/transitions`.
    pub status: ActivityStatus,
    /// Why the coordinator returned it.
    pub return_reason: Option<String>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub submitted_at: Option<DateTime<Utc>>,
    pub verified_by: Option<Uuid>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub verified_at: Option<DateTime<Utc>>,
    pub version: i32,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub updated_at: DateTime<Utc>,
}

impl From<ActivityRecord> for Activity {
    fn from(rec: ActivityRecord) -> Self {
        let r = rec.row;
        Self {
            id: r.id,
            plan_id: r.plan_id,
            plan_item_ids: rec.item_ids,
            assignment_id: r.assignment_id,
            department_id: r.department_id,
            title: r.title,
            description: r.description,
            channel: r.channel,
            audience: r.audience,
            held_from: r.held_from,
            held_to: r.held_to,
            place: r.place,
            participant_count: r.participant_count,
            attendee_ids: rec.attendee_ids,
            links: r.links.into_iter().flatten().collect(),
            document_id: r.document_id,
            status: r.status,
            return_reason: r.return_reason,
            submitted_at: r.submitted_at,
            verified_by: r.verified_by,
            verified_at: r.verified_at,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Resource for Activity {
    type Row = ActivityRecord;
    const COLLECTION: &'static str = "/api/v1/activities";
}

fn http_links(value: &[String]) -> Result<(), ValidationError> {
    if value.iter().all(|l| validate::http_url(l).is_ok()) { Ok(()) } else { Err(ValidationError::new("invalid_url")) }
}

fn some_items(value: &[Uuid]) -> Result<(), ValidationError> {
    if value.is_empty() { Err(ValidationError::new("required")) } else { Ok(()) }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Họp phòng QLDA1 phổ biến Kế hoạch tuyên truyền CCHC năm 2021",
    "plan_item_ids": ["01938f6e-7d3c-7b1a-9c55-3f1f0b6f1a2e"], "department_id": "01938f6e-7d3c-7b1a-9c55-3f1f0b6f1a2f",
    "channel": "meeting", "audience": "staff", "held_from": "2021-04-12T08:00:00+07:00", "place": "Phòng họp tầng 2",
    "participant_count": 9, "attendee_ids": []}))]
pub struct CreateActivity {
    #[validate(length(min = 1, max = 1000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 1000)]
    pub title: String,
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    /// One or more items, all of one plan.
    #[validate(custom(function = "some_items"), length(max = 50))]
    #[schema(min_items = 1, max_items = 50)]
    pub plan_item_ids: Vec<Uuid>,
    /// An assignment of the same plan.
    pub assignment_id: Option<Uuid>,
    /// The organiser; a `member` records only their own department's activities.
    pub department_id: Uuid,
    pub channel: Channel,
    pub audience: Audience,
    pub held_from: DateTime<Utc>,
    pub held_to: Option<DateTime<Utc>>,
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    pub place: Option<String>,
    #[validate(range(min = 0, max = 10000000))]
    #[schema(minimum = 0, maximum = 10000000)]
    pub participant_count: Option<i32>,
    /// People of the organisation who attended.
    #[serde(default)]
    #[validate(length(max = 5000))]
    #[schema(max_items = 5000)]
    pub attendee_ids: Vec<Uuid>,
    /// http/https only.
    #[serde(default)]
    #[validate(custom(function = "http_links"), length(max = 20))]
    #[schema(max_items = 20, value_type = Vec<crate::domain::validate::HttpUrl>)]
    pub links: Vec<String>,
    /// Only for a `website_post`: the organisation's document it posts.
    pub document_id: Option<Uuid>,
}

/// Fields to change; absent fields stay, `null` clears an optional one. A verified
/// activity no longer changes.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateActivity {
    #[validate(length(min = 1, max = 1000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 1000)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 20000))]
    #[schema(value_type = Option<String>, max_length = 20000)]
    pub description: Option<Option<String>>,
    #[validate(custom(function = "some_items"), length(max = 50))]
    #[schema(min_items = 1, max_items = 50)]
    pub plan_item_ids: Option<Vec<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub assignment_id: Option<Option<Uuid>>,
    pub department_id: Option<Uuid>,
    pub channel: Option<Channel>,
    pub audience: Option<Audience>,
    pub held_from: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub held_to: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 1000))]
    #[schema(value_type = Option<String>, max_length = 1000)]
    pub place: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(range(min = 0, max = 10000000))]
    #[schema(value_type = Option<i32>, minimum = 0, maximum = 10000000)]
    pub participant_count: Option<Option<i32>>,
    #[validate(length(max = 5000))]
    #[schema(max_items = 5000)]
    pub attendee_ids: Option<Vec<Uuid>>,
    #[validate(custom(function = "http_links"), length(max = 20))]
    #[schema(max_items = 20, value_type = Option<Vec<crate::domain::validate::HttpUrl>>)]
    pub links: Option<Vec<String>>,
    /// Only for a `website_post`: the document it posts; `null` unlinks it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub document_id: Option<Option<Uuid>>,
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ActivityFilter {
    /// System administrator only: activities of this organisation.
    pub organization_id: Option<Uuid>,
    pub plan_id: Option<Uuid>,
    /// Activities serving this item.
    pub plan_item_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub channel: Option<Channel>,
    pub audience: Option<Audience>,
    pub status: Option<ActivityStatus>,
    /// Held at or after this: a day (`2021-03-15`, from its start in Vietnam) or an
    /// instant (RFC 3339).
    #[param(inline)]
    pub from: Option<Bound>,
    /// Held before this instant (RFC 3339), or up to the end of this day
    /// (`2021-03-31`, in Vietnam).
    #[param(inline)]
    pub to: Option<Bound>,
    /// Words in the title, description or place, regardless of case and Vietnamese
    /// diacritics.
    #[validate(length(min = 1, max = 100))]
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
}

/// A status change.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "returned", "reason": "Thiếu danh sách người dự"}))]
pub struct ActivityTransition {
    /// `submitted` (by the department), `verified` or `returned` (by the coordinator).
    pub to: ActivityStatus,
    /// Required to return it.
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: Option<String>,
}

/// The plan the items belong to (all of one plan of the organisation, which is open).
fn plan_of_items(conn: &mut PgConnection, org: Option<Uuid>, items: &[Uuid]) -> Result<plans::PlanRow, ApiError> {
    let mut plan_id = None;
    for item in items {
        let row = plan_items::find(conn, *item, org).map_err(|_| items_other_plan())?;
        if plan_id.is_some_and(|p| p != row.plan_id) {
            return Err(items_other_plan());
        }
        plan_id = Some(row.plan_id);
    }
    let plan = plans::find(conn, plan_id.ok_or_else(items_other_plan)?, org)?;
    ensure_open(plan.status)?;
    Ok(plan)
}

fn items_other_plan() -> ApiError {
    ApiError::unprocessable("items_other_plan").with_errors(vec![FieldError::new("plan_item_ids", "reference_invalid")])
}

/// The activity's links to other records: its department, assignment and attendees.
fn check_links(
    conn: &mut PgConnection,
    plan: &plans::PlanRow,
    department: Uuid,
    assignment: Option<Uuid>,
    attendees: Option<&[Uuid]>,
) -> Result<(), ApiError> {
    departments::find(conn, department, Some(plan.organization_id))
        .map_err(|_| checks::reference_invalid("department_id"))?;
    if let Some(a) = assignment {
        match assignments::find(conn, a, Some(plan.organization_id)) {
            Ok(row) if row.plan_id == plan.id => {}
            _ => return Err(checks::reference_invalid("assignment_id")),
        }
    }
    if let Some(people) = attendees {
        let mut unique = people.to_vec();
        unique.sort();
        unique.dedup();
        if store::people_of_org(conn, plan.organization_id, &unique)?.len() != unique.len() {
            return Err(checks::reference_invalid("attendee_ids"));
        }
    }
    Ok(())
}

/// A document is posted only by a `website_post`, and is the organisation's.
fn check_document(
    conn: &mut PgConnection,
    org: Uuid,
    channel: Channel,
    document: Option<Uuid>,
) -> Result<(), ApiError> {
    let Some(document) = document else { return Ok(()) };
    if channel != Channel::WebsitePost {
        return Err(ApiError::rules(vec![
            FieldError::new("document_id", "invalid_value")
                .reason("only for a website_post", "chỉ cho hoạt động đăng trang thông tin điện tử"),
        ]));
    }
    use diesel::OptionalExtension;
    if crate::db::documents::find(conn, document, Some(org)).optional()?.is_none() {
        return Err(checks::reference_invalid("document_id"));
    }
    Ok(())
}

fn check_held(from: DateTime<Utc>, to: Option<DateTime<Utc>>) -> Result<(), ApiError> {
    if to.is_some_and(|t| t < from) {
        return Err(ApiError::rules(vec![
            FieldError::new("held_to", "invalid_value").reason("before held_from", "trước held_from"),
        ]));
    }
    Ok(())
}

/// A verified activity is a record of what happened; it no longer changes.
pub fn ensure_not_verified(status: ActivityStatus) -> Result<(), ApiError> {
    if status == ActivityStatus::Verified { Err(ApiError::conflict("activity_verified")) } else { Ok(()) }
}

fn dedup(ids: Vec<Uuid>) -> Vec<Uuid> {
    let mut out: Vec<Uuid> = Vec::with_capacity(ids.len());
    for id in ids {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// List activities.
#[utoipa::path(
    tag = "activities",
    params(PageParams, ActivityFilter),
    responses((status = 200, description = "A page of activities.", body = Page<Activity>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("")]
pub async fn list_activities(
    auth: AuthUser,
    query: ListQuery<ActivityFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ActivitiesRead)?;
    let ListQuery { page, filter } = query;
    let filter = store::Filter {
        organization_id: principal.read_scope(filter.organization_id)?,
        plan_id: filter.plan_id,
        plan_item_id: filter.plan_item_id,
        department_id: filter.department_id,
        channel: filter.channel,
        audience: filter.audience,
        status: filter.status,
        from: filter.from.map(Bound::start),
        to: filter.to.map(Bound::end),
        q: filter.q,
    };
    crud::list::<Activity, _>(&req, &state, page, move |conn, page| store::list(conn, &filter, page)).await
}

/// Read an activity.
#[utoipa::path(
    tag = "activities",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The activity.", body = Activity, headers(("ETag" = String))))
)]
#[get("/{id}")]
pub async fn get_activity(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::ActivitiesRead)?;
    crud::get::<Activity>(&state, id.into_inner(), auth.0.organization_id).await
}

/// Record an activity (as `draft`).
#[utoipa::path(
    tag = "activities",
    params(crate::http::idempotency::IdempotencyKeyHeader),
    request_body = CreateActivity,
    responses(
        (status = 201, description = "Recorded.", body = Activity, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The plan is closed, or the idempotency key is in use.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The items are not of one plan of the organisation, or the department, assignment or an attendee is not the organisation's; or the idempotency key was used for another request.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn create_activity(
    auth: AuthUser,
    ctx: RequestContext,
    body: ApiJson<CreateActivity>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    let body = body.0;
    principal.require_for_department(Permission::ActivitiesWrite, body.department_id)?;
    check_held(body.held_from, body.held_to)?;
    let (org, author) = (principal.organization_id, principal.id);
    crud::create::<Activity, _>(&state, Actor::of(&principal, &ctx), move |conn| {
        let items = dedup(body.plan_item_ids);
        let attendees = dedup(body.attendee_ids);
        let plan = plan_of_items(conn, org, &items)?;
        check_links(conn, &plan, body.department_id, body.assignment_id, Some(&attendees))?;
        check_document(conn, plan.organization_id, body.channel, body.document_id)?;
        let row = store::insert(
            conn,
            &NewActivity {
                id: Uuid::now_v7(),
                organization_id: plan.organization_id,
                plan_id: plan.id,
                assignment_id: body.assignment_id,
                department_id: body.department_id,
                title: body.title.trim().to_owned(),
                description: body.description,
                channel: body.channel,
                audience: body.audience,
                held_from: body.held_from,
                held_to: body.held_to,
                place: body.place,
                participant_count: body.participant_count,
                links: body.links.into_iter().map(Some).collect(),
                created_by: Some(author),
                document_id: body.document_id,
            },
        )?;
        store::set_items(conn, row.id, &items)?;
        store::set_attendees(conn, row.id, &attendees)?;
        Ok(ActivityRecord { row, item_ids: items, attendee_ids: attendees })
    })
    .await
}

/// Change an activity that is not verified.
#[utoipa::path(
    tag = "activities",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"` from the `ETag`; a stale one is a 412.")),
    request_body = UpdateActivity,
    responses(
        (status = 200, description = "Changed.", body = Activity, headers(("ETag" = String))),
        (status = 409, description = "It is verified (`activity_verified`), or the plan is closed.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "An item, the department, assignment or an attendee is not the organisation's or not of the plan.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/{id}")]
pub async fn update_activity(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<UpdateActivity>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ActivitiesWrite)?;
    let body = body.0;
    let actor = Actor::of(&principal, &ctx);
    let org = principal.organization_id;
    crud::update::<Activity, _>(&state, actor, id.into_inner(), org, if_match, move |conn, current| {
        let row = &current.row;
        principal.require_for_department(Permission::ActivitiesWrite, row.department_id)?;
        if let Some(dept) = body.department_id {
            principal.require_for_department(Permission::ActivitiesWrite, dept)?;
        }
        ensure_not_verified(row.status)?;
        let plan = plans::find(conn, row.plan_id, None)?;
        ensure_open(plan.status)?;
        let items = body.plan_item_ids.map(dedup);
        if let Some(items) = &items
            && plan_of_items(conn, Some(row.organization_id), items)?.id != row.plan_id
        {
            return Err(items_other_plan());
        }
        let attendees = body.attendee_ids.map(dedup);
        let department = body.department_id.unwrap_or(row.department_id);
        let assignment = body.assignment_id.unwrap_or(row.assignment_id);
        check_links(conn, &plan, department, assignment, attendees.as_deref())?;
        check_held(body.held_from.unwrap_or(row.held_from), body.held_to.unwrap_or(row.held_to))?;
        check_document(
            conn,
            row.organization_id,
            body.channel.unwrap_or(row.channel),
            body.document_id.unwrap_or(row.document_id),
        )?;
        let changes = ActivityChanges {
            assignment_id: body.assignment_id,
            department_id: body.department_id,
            title: body.title.map(|t| t.trim().to_owned()),
            description: body.description,
            channel: body.channel,
            audience: body.audience,
            held_from: body.held_from,
            held_to: body.held_to,
            place: body.place,
            participant_count: body.participant_count,
            links: body.links.map(|l| l.into_iter().map(Some).collect()),
            document_id: body.document_id,
            ..Default::default()
        };
        let updated = store::update(conn, row.id, &changes)?;
        if let Some(items) = &items {
            store::set_items(conn, row.id, items)?;
        }
        if let Some(people) = &attendees {
            store::set_attendees(conn, row.id, people)?;
        }
        Ok(ActivityRecord {
            row: updated,
            item_ids: items.unwrap_or_else(|| current.item_ids.clone()),
            attendee_ids: attendees.unwrap_or_else(|| current.attendee_ids.clone()),
        })
    })
    .await
}

/// Delete an activity that is not verified.
#[utoipa::path(
    tag = "activities",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 409, description = "It is verified (`activity_verified`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/{id}")]
pub async fn delete_activity(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ActivitiesWrite)?;
    let actor = Actor::of(&principal, &ctx);
    let org = principal.organization_id;
    crud::delete::<Activity, _>(&state, actor, id.into_inner(), org, if_match, move |_, current| {
        principal.require_for_department(Permission::ActivitiesWrite, current.row.department_id)?;
        ensure_not_verified(current.row.status)
    })
    .await
}

/// Submit, verify or return an activity.
///
/// The department submits (`draft`/`returned → submitted`); the coordinator verifies
/// (`submitted → verified`, then read-only) or returns it with a `reason`
/// (`submitted → returned`, editable again). Verifying a staff activity updates the
/// plan's `STAFF_INFORMED` indicator with a computed measurement.
#[utoipa::path(
    tag = "activities",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    request_body = ActivityTransition,
    responses(
        (status = 200, description = "Moved.", body = Activity, headers(("ETag" = String))),
        (status = 409, description = "Not allowed from the current status (`transition_not_allowed`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/transitions")]
pub async fn transition_activity(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<ActivityTransition>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ActivitiesWrite)?;
    let ActivityTransition { to, reason } = body.0;
    if to.is_review() {
        principal.require(Permission::ActivitiesVerify)?;
    }
    let (id, org, now) = (id.into_inner(), principal.organization_id, state.clock.now());
    let verifier = principal.id;
    let return_reason = reason.clone();
    crud::transition(
        &state,
        Actor::of(&principal, &ctx),
        if_match,
        crud::Move { to, detail: ("reason", reason) },
        move |conn| {
            let current = ActivityRecord::lock(conn, id, org)?;
            if !to.is_review() {
                principal.require_for_department(Permission::ActivitiesWrite, current.row.department_id)?;
            }
            Ok(current)
        },
        move |conn, current, _| {
            let mut changes = ActivityChanges { status: Some(to), ..Default::default() };
            match to {
                ActivityStatus::Submitted => {
                    changes.submitted_at = Some(Some(now));
                    changes.return_reason = Some(None);
                }
                ActivityStatus::Returned => changes.return_reason = Some(return_reason),
                ActivityStatus::Verified => {
                    changes.verified_by = Some(Some(verifier));
                    changes.verified_at = Some(Some(now));
                }
                ActivityStatus::Draft => {}
            }
            let row = store::update(conn, id, &changes)?;
            if to == ActivityStatus::Verified && matches!(row.audience, Audience::Staff | Audience::All) {
                staff_reach::record_staff_reach(conn, row.organization_id, row.plan_id, local_date(now))?;
            }
            if to == ActivityStatus::Verified && row.document_id.is_some() {
                crate::reports::publications::record_timeliness(
                    conn,
                    row.organization_id,
                    row.plan_id,
                    local_date(now),
                )?;
            }
            Ok(ActivityRecord { row, item_ids: current.item_ids, attendee_ids: current.attendee_ids })
        },
        Activity::from,
    )
    .await
}

impl crud::Moves for ActivityRecord {
    type Status = ActivityStatus;
    const ENTITY: &'static str = "activity";
    fn id(&self) -> Uuid {
        self.row.id
    }
    fn organization_id(&self) -> Uuid {
        self.row.organization_id
    }
    fn version(&self) -> i32 {
        self.row.version
    }
    fn status(&self) -> ActivityStatus {
        self.row.status
    }
}
