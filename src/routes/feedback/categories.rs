//! Feedback categories: the working days allowed to answer, the default department.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::{
    auth::{AuthUser, Permission},
    db::{
        audit::Actor,
        feedback::{CategoryChanges, CategoryRow, NewCategory, categories},
    },
    domain::validate,
    error::ApiError,
    http::{ApiJson, IfMatch, Page, RequestContext, json::double_option, pagination::PageParams, query::ListQuery},
    routes::{
        checks,
        crud::{self, Resource},
    },
    state::AppState,
};

/// A category of feedback, with the working days allowed to answer it.
#[derive(Serialize, ToSchema, Clone)]
pub struct FeedbackCategory {
    pub id: Uuid,
    pub organization_id: Uuid,
    #[schema(example = "DAT-DAI")]
    pub code: String,
    #[schema(example = "Đất đai, giải phóng mặt bằng")]
    pub name: String,
    /// Assigned to new records of this category unless one is named.
    pub default_department_id: Option<Uuid>,
    /// Working days to answer, counted from the first working day after receipt.
    pub deadline_days: i32,
    /// Years a sender's personal data is kept after the record is closed; `null`: the
    /// organisation's `retention_years`.
    pub retention_years: Option<i32>,
    pub version: i32,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub updated_at: DateTime<Utc>,
}

impl From<CategoryRow> for FeedbackCategory {
    fn from(r: CategoryRow) -> Self {
        Self {
            id: r.id,
            organization_id: r.organization_id,
            code: r.code,
            name: r.name,
            default_department_id: r.default_department_id,
            deadline_days: r.deadline_days,
            retention_years: r.retention_years,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Resource for FeedbackCategory {
    type Row = CategoryRow;
    const COLLECTION: &'static str = "/api/v1/feedback-categories";
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "DAT-DAI", "name": "Đất đai, giải phóng mặt bằng", "deadline_days": 10}))]
pub struct CreateCategory {
    #[validate(custom(function = "validate::code"))]
    #[schema(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9._-]{1,32}$")]
    pub code: String,
    #[validate(length(min = 1, max = 255), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 255)]
    pub name: String,
    pub default_department_id: Option<Uuid>,
    #[validate(range(min = 1, max = 365))]
    #[schema(minimum = 1, maximum = 365)]
    pub deadline_days: i32,
    /// Years senders' personal data is kept after closing (1–100); default: the organisation's.
    #[validate(range(min = 1, max = 100))]
    #[schema(minimum = 1, maximum = 100)]
    pub retention_years: Option<i32>,
    /// Only the system administrator sends this, naming the organisation to act for.
    pub organization_id: Option<Uuid>,
}

/// Fields to change; absent fields stay, `null` clears an optional one.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCategory {
    #[validate(custom(function = "validate::code"))]
    #[schema(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9._-]{1,32}$")]
    pub code: Option<String>,
    #[validate(length(min = 1, max = 255), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 255)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub default_department_id: Option<Option<Uuid>>,
    #[validate(range(min = 1, max = 365))]
    #[schema(minimum = 1, maximum = 365)]
    pub deadline_days: Option<i32>,
    /// `null`: the organisation's.
    #[serde(default, deserialize_with = "double_option")]
    #[validate(range(min = 1, max = 100))]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 100)]
    pub retention_years: Option<Option<i32>>,
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrgFilter {
    /// System administrator only: those of this organisation.
    pub organization_id: Option<Uuid>,
}

/// List feedback categories.
#[utoipa::path(
    tag = "feedback",
    params(PageParams, OrgFilter),
    responses((status = 200, description = "A page of categories.", body = Page<FeedbackCategory>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("")]
pub async fn list_feedback_categories(
    auth: AuthUser,
    query: ListQuery<OrgFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::FeedbackRead)?;
    let org = auth.0.read_scope(query.filter.organization_id)?;
    crud::list::<FeedbackCategory, _>(&req, &state, query.page, move |conn, page| categories::list(conn, org, page))
        .await
}

/// Read a feedback category.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The category.", body = FeedbackCategory, headers(("ETag" = String))))
)]
#[get("/{id}")]
pub async fn get_feedback_category(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::FeedbackRead)?;
    crud::get::<FeedbackCategory>(&state, id.into_inner(), auth.0.organization_id).await
}

/// Create a feedback category.
#[utoipa::path(
    tag = "feedback",
    params(crate::http::idempotency::IdempotencyKeyHeader),
    request_body = CreateCategory,
    responses(
        (status = 201, description = "Created.", body = FeedbackCategory, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The code is taken (`category_code_taken`), or the idempotency key is in use.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The department is not the organisation's, or the idempotency key was used for another request.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn create_feedback_category(
    auth: AuthUser,
    ctx: RequestContext,
    body: ApiJson<CreateCategory>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackManage)?;
    let body = body.0;
    let org = principal.acting_org(body.organization_id)?;
    let new = NewCategory {
        id: Uuid::now_v7(),
        organization_id: org,
        code: body.code,
        name: body.name.trim().to_owned(),
        default_department_id: body.default_department_id,
        deadline_days: body.deadline_days,
        retention_years: body.retention_years,
        created_by: Some(principal.id),
    };
    crud::create::<FeedbackCategory, _>(&state, Actor::of(&principal, &ctx), move |conn| {
        checks::organization(conn, org)?;
        checks::department(conn, new.default_department_id, org)?;
        Ok(categories::insert(conn, &new)?)
    })
    .await
}

/// Change a feedback category (records already received keep their deadlines).
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"` from the `ETag`; a stale one is a 412.")),
    request_body = UpdateCategory,
    responses(
        (status = 200, description = "Changed.", body = FeedbackCategory, headers(("ETag" = String))),
        (status = 409, description = "The code is taken.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The department is not the organisation's.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/{id}")]
pub async fn update_feedback_category(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<UpdateCategory>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackManage)?;
    let body = body.0;
    let changes = CategoryChanges {
        code: body.code,
        name: body.name.map(|n| n.trim().to_owned()),
        default_department_id: body.default_department_id,
        deadline_days: body.deadline_days,
        retention_years: body.retention_years,
    };
    let actor = Actor::of(&principal, &ctx);
    crud::update::<FeedbackCategory, _>(
        &state,
        actor,
        id.into_inner(),
        principal.organization_id,
        if_match,
        move |conn, current| {
            checks::department(conn, changes.default_department_id.flatten(), current.organization_id)?;
            Ok(categories::update(conn, current.id, &changes)?)
        },
    )
    .await
}

/// Delete a feedback category (its records keep it).
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    responses((status = 204, description = "Deleted."))
)]
#[delete("/{id}")]
pub async fn delete_feedback_category(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackManage)?;
    let actor = Actor::of(&principal, &ctx);
    crud::delete::<FeedbackCategory, _>(
        &state,
        actor,
        id.into_inner(),
        principal.organization_id,
        if_match,
        crud::no_guard,
    )
    .await
}
