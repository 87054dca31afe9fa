//! Plans, issued by a decision, moving through `draft → issued → in_progress → closed`;
//! and importing a whole plan from a `plan-fixture/1` file.
use actix_web::{HttpRequest, HttpResponse, delete, get, http::header, patch, post, web};
use chrono::NaiveDate;
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::{
    auth::{AuthUser, Permission, Principal},
    db::{
        self, Cited, Record,
        audit::Actor,
        documents, imports,
        plans::{self as store, NewPlan, PlanChanges, PlanRow},
    },
    domain::{
        import,
        plans::{Decision, PlanStatus},
        validate,
    },
    error::{ApiError, FieldError},
    http::{
        ApiJson, IfMatch, Page, RequestContext,
        etag::ok_with_etag,
        json::{declared_length, double_option, is_json, parse_object, read_limited},
        pagination::PageParams,
        query::{ApiQuery, ListQuery},
    },
    routes::{
        checks,
        crud::{self, Resource},
    },
    state::AppState,
};

/// A plan (kế hoạch) of an organisation for a year.
#[derive(Serialize, ToSchema, Clone)]
pub struct Plan {
    pub id: Uuid,
    pub organization_id: Uuid,
    /// Unique within the organisation, e.g. `KH-TTCCHC-2021`.
    #[schema(example = "KH-TTCCHC-2021")]
    pub code: String,
    #[schema(example = 2021)]
    pub year: i32,
    pub title: String,
    /// Changed only through `POST /api/v1/plans/{id}/transitions`.
    pub status: PlanStatus,
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    /// The decision that issued the plan.
    pub decision: Option<Decision>,
    /// Its legal bases (căn cứ), in the order the decision cites them.
    pub legal_basis_ids: Vec<Uuid>,
    /// The plan it implements, possibly of a parent organisation.
    pub parent_plan_id: Option<Uuid>,
    /// The decision of the plan it implements, as a document (e.g. `590/QĐ-UBND`).
    pub implements_document_id: Option<Uuid>,
    pub version: i32,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<Cited<PlanRow>> for Plan {
    fn from(c: Cited<PlanRow>) -> Self {
        let r = c.row;
        Self {
            id: r.id,
            organization_id: r.organization_id,
            code: r.code,
            year: r.year,
            title: r.title,
            status: r.status,
            period_from: r.period_from,
            period_to: r.period_to,
            decision: r.decision.and_then(|d| serde_json::from_value(d).ok()),
            legal_basis_ids: c.documents,
            parent_plan_id: r.parent_plan_id,
            implements_document_id: r.implements_document_id,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Resource for Plan {
    type Row = Cited<PlanRow>;
    const COLLECTION: &'static str = "/api/v1/plans";
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "KH-TTCCHC-2022", "year": 2022, "title": "Kế hoạch tuyên truyền cải cách hành chính năm 2022",
    "period_from": "2022-01-01", "period_to": "2022-12-31"}))]
pub struct CreatePlan {
    /// 1–32 ASCII letters, digits, `-`, `_`, `.`; unique within the organisation.
    #[validate(custom(function = "validate::code"))]
    #[schema(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9._-]{1,32}$")]
    pub code: String,
    #[validate(range(min = 2000, max = 2100))]
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i32,
    #[validate(length(min = 1, max = 1000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 1000)]
    pub title: String,
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    #[validate(nested)]
    pub decision: Option<Decision>,
    /// Documents of the organisation, in citation order.
    #[serde(default)]
    #[validate(length(max = 100))]
    #[schema(max_items = 100)]
    pub legal_basis_ids: Vec<Uuid>,
    /// A plan of this organisation or of one above it.
    pub parent_plan_id: Option<Uuid>,
    pub implements_document_id: Option<Uuid>,
    /// Only the system administrator sends this, naming the organisation to act for.
    pub organization_id: Option<Uuid>,
}

/// Fields to change; absent fields stay, `null` clears an optional one. The status
/// changes only through transitions.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePlan {
    #[validate(custom(function = "validate::code"))]
    #[schema(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9._-]{1,32}$")]
    pub code: Option<String>,
    #[validate(range(min = 2000, max = 2100))]
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
    #[validate(length(min = 1, max = 1000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 1000)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub period_from: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub period_to: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(nested)]
    #[schema(value_type = Option<Decision>)]
    pub decision: Option<Option<Decision>>,
    #[validate(length(max = 100))]
    #[schema(max_items = 100)]
    pub legal_basis_ids: Option<Vec<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub parent_plan_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub implements_document_id: Option<Option<Uuid>>,
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PlanFilter {
    /// System administrator only: plans of this organisation.
    pub organization_id: Option<Uuid>,
    #[validate(range(min = 2000, max = 2100))]
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
    pub status: Option<PlanStatus>,
    /// Words in the code or title, regardless of case and Vietnamese diacritics
    /// (`tuyen truyen` finds `tuyên truyền`).
    #[validate(length(min = 1, max = 100))]
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
}

/// A status change.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "in_progress", "note": "Bắt đầu triển khai"}))]
pub struct Transition {
    pub to: PlanStatus,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// Checks the plan's links: its documents belong to the organisation, its parent plan
/// to the organisation or one above it, and the parents form no loop.
fn check_links(
    conn: &mut PgConnection,
    org: Uuid,
    plan: Option<Uuid>,
    legal_bases: Option<&[Uuid]>,
    implements: Option<Uuid>,
    parent: Option<Uuid>,
) -> Result<(), ApiError> {
    let bases = legal_bases.unwrap_or_default();
    let mut unique = bases.to_vec();
    unique.sort();
    unique.dedup();
    if unique.len() != bases.len() {
        return Err(ApiError::field("legal_basis_ids", "duplicate"));
    }
    if !unique.is_empty() && documents::of_org(conn, org, &unique)?.len() != unique.len() {
        return Err(checks::reference_invalid("legal_basis_ids"));
    }
    if let Some(doc) = implements
        && documents::of_org(conn, org, &[doc])?.is_empty()
    {
        return Err(checks::reference_invalid("implements_document_id"));
    }
    if let Some(parent) = parent {
        let parent_row = store::find(conn, parent, None).map_err(|_| ApiError::unprocessable("parent_plan_invalid"))?;
        if !is_self_or_ancestor(conn, parent_row.organization_id, org)? {
            return Err(ApiError::unprocessable("parent_plan_invalid"));
        }
        if let Some(plan) = plan
            && store::would_cycle(conn, plan, parent)?
        {
            return Err(ApiError::unprocessable("parent_cycle"));
        }
    }
    Ok(())
}

/// Whether `candidate` is `org` or an organisation above it.
fn is_self_or_ancestor(conn: &mut PgConnection, candidate: Uuid, org: Uuid) -> Result<bool, ApiError> {
    let mut at = Some(org);
    for _ in 0..32 {
        match at {
            None => return Ok(false),
            Some(id) if id == candidate => return Ok(true),
            Some(id) => at = db::organizations::find(conn, id, None)?.parent_id,
        }
    }
    Ok(false)
}

/// A closed plan is a record of what was done; it no longer changes.
pub fn ensure_open(status: PlanStatus) -> Result<(), ApiError> {
    if status == PlanStatus::Closed { Err(ApiError::conflict("plan_closed")) } else { Ok(()) }
}

/// List the organisation's plans.
#[utoipa::path(
    tag = "plans",
    params(PageParams, PlanFilter),
    responses((status = 200, description = "A page of plans.", body = Page<Plan>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("")]
pub async fn list_plans(
    auth: AuthUser,
    query: ListQuery<PlanFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::PlansRead)?;
    let ListQuery { page, filter } = query;
    let filter = store::Filter {
        organization_id: principal.read_scope(filter.organization_id)?,
        year: filter.year,
        status: filter.status,
        q: filter.q,
    };
    crud::list::<Plan, _>(&req, &state, page, move |conn, page| {
        let rows = store::list(conn, &filter, page)?;
        Cited::load_all(conn, rows)
    })
    .await
}

/// Read a plan.
///
/// Besides its own plans, an organisation may read a plan of an organisation above it
/// that one of its own plans implements.
#[utoipa::path(
    tag = "plans",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The plan.", body = Plan, headers(("ETag" = String)), example = crate::routes::examples::plan))
)]
#[get("/{id}")]
pub async fn get_plan(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::PlansRead)?;
    let (id, org) = (id.into_inner(), auth.0.organization_id);
    let plan = db::run(&state.pool, move |conn| {
        let row = store::find_readable(conn, id, org)?;
        Ok(Cited::load_all(conn, vec![row])?.remove(0))
    })
    .await?;
    Ok(ok_with_etag(plan.version(), &Plan::from(plan)))
}

/// Create a plan (as `draft`).
#[utoipa::path(
    tag = "plans",
    params(crate::http::idempotency::IdempotencyKeyHeader),
    request_body = CreatePlan,
    responses(
        (status = 201, description = "Created.", body = Plan, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The code is taken in the organisation (`plan_code_taken`), or the idempotency key is in use.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A document or parent plan is not the organisation's, or the idempotency key was used for another request.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn create_plan(
    auth: AuthUser,
    ctx: RequestContext,
    body: ApiJson<CreatePlan>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::PlansWrite)?;
    let body = body.0;
    let org = principal.acting_org(body.organization_id)?;
    check_period(body.period_from, body.period_to)?;
    let legal_bases = body.legal_basis_ids;
    let new = NewPlan {
        id: Uuid::now_v7(),
        organization_id: org,
        code: body.code,
        year: body.year,
        title: body.title.trim().to_owned(),
        status: PlanStatus::Draft,
        period_from: body.period_from,
        period_to: body.period_to,
        decision: body.decision.map(|d| serde_json::to_value(d).expect("a decision serialises")),
        parent_plan_id: body.parent_plan_id,
        implements_document_id: body.implements_document_id,
        created_by: Some(principal.id),
    };
    crud::create::<Plan, _>(&state, Actor::of(&principal, &ctx), move |conn| {
        checks::organization(conn, org)?;
        check_links(conn, org, None, Some(&legal_bases), new.implements_document_id, new.parent_plan_id)?;
        let row = store::insert(conn, &new)?;
        store::set_legal_bases(conn, row.id, &legal_bases)?;
        Ok(Cited { row, documents: legal_bases })
    })
    .await
}

fn check_period(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<(), ApiError> {
    match (from, to) {
        (Some(f), Some(t)) if f > t => Err(ApiError::rules(vec![
            FieldError::new("period_to", "invalid_value").reason("before period_from", "trước period_from"),
        ])),
        _ => Ok(()),
    }
}

/// Change a plan.
#[utoipa::path(
    tag = "plans",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"` from the `ETag`; a stale one is a 412.")),
    request_body = UpdatePlan,
    responses(
        (status = 200, description = "Changed.", body = Plan, headers(("ETag" = String))),
        (status = 409, description = "The code is taken, or the plan is closed (`plan_closed`).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A document or parent plan is not the organisation's, or the parents would loop.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/{id}")]
pub async fn update_plan(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<UpdatePlan>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::PlansWrite)?;
    let body = body.0;
    let legal_bases = body.legal_basis_ids;
    let changes = PlanChanges {
        code: body.code,
        year: body.year,
        title: body.title.map(|t| t.trim().to_owned()),
        status: None,
        period_from: body.period_from,
        period_to: body.period_to,
        decision: body.decision.map(|d| d.map(|d| serde_json::to_value(d).expect("a decision serialises"))),
        parent_plan_id: body.parent_plan_id,
        implements_document_id: body.implements_document_id,
    };
    let actor = Actor::of(&principal, &ctx);
    crud::update::<Plan, _>(
        &state,
        actor,
        id.into_inner(),
        principal.organization_id,
        if_match,
        move |conn, current| {
            let row = &current.row;
            ensure_open(row.status)?;
            check_period(changes.period_from.unwrap_or(row.period_from), changes.period_to.unwrap_or(row.period_to))?;
            let implements = changes.implements_document_id.unwrap_or(row.implements_document_id);
            let parent = changes.parent_plan_id.unwrap_or(row.parent_plan_id);
            check_links(conn, row.organization_id, Some(row.id), legal_bases.as_deref(), implements, parent)?;
            let updated = store::update(conn, row.id, &changes)?;
            let documents = match legal_bases {
                Some(ids) => {
                    store::set_legal_bases(conn, row.id, &ids)?;
                    ids
                }
                None => current.documents.clone(),
            };
            Ok(Cited { row: updated, documents })
        },
    )
    .await
}

/// Delete a plan, with its items and indicators.
///
/// Refused (409) while other plans implement it.
#[utoipa::path(
    tag = "plans",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 409, description = "Other plans implement it (`plan_has_children`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/{id}")]
pub async fn delete_plan(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::PlansWrite)?;
    let actor = Actor::of(&principal, &ctx);
    crud::delete::<Plan, _>(&state, actor, id.into_inner(), principal.organization_id, if_match, |conn, current| {
        if store::has_children(conn, current.row.id)? {
            return Err(ApiError::conflict("plan_has_children"));
        }
        Ok(store::delete_contents(conn, current.row.id)?)
    })
    .await
}

/// Move a plan to its next status.
///
/// `draft → issued → in_progress → closed`. Any other change is a 409 that names the
/// allowed ones (`allowed`). A closed plan can no longer change.
#[utoipa::path(
    tag = "plans",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    request_body = Transition,
    responses(
        (status = 200, description = "Moved.", body = Plan, headers(("ETag" = String))),
        (status = 409, description = "Not allowed from the current status (`transition_not_allowed`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/transitions")]
pub async fn transition_plan(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<Transition>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::PlansWrite)?;
    let Transition { to, note } = body.0;
    let (id, org) = (id.into_inner(), principal.organization_id);
    crud::transition(
        &state,
        Actor::of(&principal, &ctx),
        if_match,
        crud::Move { to, detail: ("note", note) },
        move |conn| Ok(Cited::<PlanRow>::lock(conn, id, org)?),
        move |conn, current, _| {
            let row = store::update(conn, id, &PlanChanges { status: Some(to), ..Default::default() })?;
            Ok(Cited { row, documents: current.documents })
        },
        Plan::from,
    )
    .await
}

impl crud::Moves for Cited<PlanRow> {
    type Status = PlanStatus;
    const ENTITY: &'static str = "plan";
    fn id(&self) -> Uuid {
        self.row.id
    }
    fn organization_id(&self) -> Uuid {
        self.row.organization_id
    }
    fn version(&self) -> i32 {
        self.row.version
    }
    fn status(&self) -> PlanStatus {
        self.row.status
    }
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// When the organisation already has a plan with the file's code: `error` (409,
    /// the default) or `update` to bring it in line with the file — items and
    /// indicators matched by reference and code, those not in the file deleted.
    #[param(inline)]
    pub on_conflict: Option<OnConflict>,
}

#[derive(Deserialize, ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OnConflict {
    Error,
    Update,
}

/// The largest plan file accepted.
const MAX_IMPORT_BYTES: usize = 4 * 1024 * 1024;

/// Import a plan from a `plan-fixture/1` file.
///
/// All or nothing, in one transaction: organisations, departments and documents are
/// matched by code or number and created when missing (organisations only by the
/// system administrator, departments only by an organisation administrator), then the
/// plan with its items and indicators. A file with problems writes nothing, and the
/// answer lists every problem with its JSON path. The file itself is kept with the
/// plan. See `docs/plan-fixture.md` for the format.
#[utoipa::path(
    tag = "plans",
    params(ImportParams, crate::http::idempotency::IdempotencyKeyHeader),
    request_body(content = Object, description = "A plan file in the `plan-fixture/1` format.", content_type = "application/json"),
    responses(
        (status = 200, description = "An existing plan was updated (`on_conflict=update`).", body = imports::ImportSummary, headers(("Location" = String))),
        (status = 201, description = "Imported.", body = imports::ImportSummary, headers(("Location" = String))),
        (status = 409, description = "The plan exists (`plan_exists`) or is closed, or the idempotency key is in use.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file has problems (`import_invalid`, each in `errors` with its JSON path), or the idempotency key was used for another request.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/import", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn import_plan(
    auth: AuthUser,
    ctx: RequestContext,
    params: ApiQuery<ImportParams>,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::PlansWrite)?;
    if !is_json(&req) {
        return Err(ApiError::new(actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            .arg("expected", "application/json"));
    }
    let bytes = read_limited(payload.into_inner(), declared_length(&req), MAX_IMPORT_BYTES).await?;
    let raw = parse_object(&bytes)?;
    let update = params.0.on_conflict == Some(OnConflict::Update);
    let summary = run_import(&state, raw, rights_of(&principal), Actor::of(&principal, &ctx), update).await?;
    let mut res = if summary.outcome == "created" { HttpResponse::Created() } else { HttpResponse::Ok() };
    Ok(res.insert_header((header::LOCATION, crud::location::<Plan>(summary.plan_id))).json(summary))
}

pub fn rights_of(principal: &Principal) -> imports::Rights {
    imports::Rights {
        organization: principal.organization_id,
        create_organizations: principal.allows(Permission::OrganizationsManage),
        create_departments: principal.allows(Permission::DepartmentsWrite),
    }
}

/// Checks and writes a plan file (also used by `cchc-outreach import` and demo data).
pub async fn run_import(
    state: &AppState,
    raw: serde_json::Value,
    rights: imports::Rights,
    actor: Actor,
    update: bool,
) -> Result<imports::ImportSummary, ApiError> {
    let file = import::parse(&raw)
        .map_err(|errors| ApiError::unprocessable("import_invalid").arg("count", errors.len()).with_errors(errors))?;
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| imports::import(conn, &file, &raw, &rights, &actor, update))
    })
    .await
}
