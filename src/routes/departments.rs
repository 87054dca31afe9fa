//! Departments (phòng) of an organisation, e.g. TCHC, QLDA1, TCKT.
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::{
    auth::{AuthUser, Permission},
    db::{
        audit::Actor,
        departments::{self as store, DepartmentChanges, DepartmentRow, NewDepartment},
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

/// A department of an organisation.
#[derive(Serialize, ToSchema, Clone)]
pub struct Department {
    pub id: Uuid,
    pub organization_id: Uuid,
    /// Unique within the organisation, e.g. `TCHC`.
    #[schema(example = "TCHC")]
    pub code: String,
    #[schema(example = "Phòng Tổ chức hành chính")]
    pub name: String,
    #[schema(example = "Organisation and Administration Department")]
    pub name_en: Option<String>,
    pub version: i32,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<DepartmentRow> for Department {
    fn from(r: DepartmentRow) -> Self {
        Self {
            id: r.id,
            organization_id: r.organization_id,
            code: r.code,
            name: r.name,
            name_en: r.name_en,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "TCHC", "name": "Phòng Tổ chức hành chính", "name_en": "Organisation and Administration Department"}))]
pub struct CreateDepartment {
    /// 1–32 ASCII letters, digits, `-`, `_`, `.`; unique within the organisation.
    #[validate(custom(function = "validate::code"))]
    #[schema(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9._-]{1,32}$")]
    pub code: String,
    #[validate(length(min = 1, max = 255), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 255)]
    pub name: String,
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    pub name_en: Option<String>,
    /// Only the system administrator sends this, naming the organisation to act for.
    pub organization_id: Option<Uuid>,
}

/// Fields to change; absent fields stay, `null` clears an optional one.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDepartment {
    #[validate(custom(function = "validate::code"))]
    #[schema(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9._-]{1,32}$")]
    pub code: Option<String>,
    #[validate(length(min = 1, max = 255), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 255)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 255))]
    #[schema(value_type = Option<String>, max_length = 255)]
    pub name_en: Option<Option<String>>,
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DepartmentFilter {
    /// System administrator only: departments of this organisation.
    pub organization_id: Option<Uuid>,
    /// Exact code (case-insensitive).
    #[validate(length(max = 32))]
    #[param(max_length = 32)]
    pub code: Option<String>,
    /// Text in the name or English name.
    #[validate(length(min = 1, max = 100))]
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
}

impl Resource for Department {
    type Row = DepartmentRow;
    const COLLECTION: &'static str = "/api/v1/departments";
}

/// List departments.
#[utoipa::path(
    tag = "departments",
    params(PageParams, DepartmentFilter),
    responses((status = 200, description = "A page of departments.", body = Page<Department>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("")]
pub async fn list_departments(
    auth: AuthUser,
    query: ListQuery<DepartmentFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::DepartmentsRead)?;
    let ListQuery { page, filter } = query;
    let filter = store::Filter {
        organization_id: principal.read_scope(filter.organization_id)?,
        code: filter.code,
        q: filter.q,
    };
    crud::list::<Department, _>(&req, &state, page, move |conn, page| store::list(conn, &filter, page)).await
}

/// Read a department.
#[utoipa::path(
    tag = "departments",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The department.", body = Department, headers(("ETag" = String))))
)]
#[get("/{id}")]
pub async fn get_department(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::DepartmentsRead)?;
    crud::get::<Department>(&state, id.into_inner(), auth.0.organization_id).await
}

/// Create a department.
#[utoipa::path(
    tag = "departments",
    params(crate::http::idempotency::IdempotencyKeyHeader),
    request_body = CreateDepartment,
    responses(
        (status = 201, description = "Created.", body = Department, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The code is taken in the organisation (`department_code_taken`), or the idempotency key is in use.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The named organisation does not exist, or the idempotency key was used for another request.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn create_department(
    auth: AuthUser,
    ctx: RequestContext,
    body: ApiJson<CreateDepartment>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::DepartmentsWrite)?;
    let body = body.0;
    let org = principal.acting_org(body.organization_id)?;
    let new = NewDepartment {
        id: Uuid::now_v7(),
        organization_id: org,
        code: body.code,
        name: body.name.trim().to_owned(),
        name_en: body.name_en,
        created_by: Some(principal.id),
    };
    crud::create::<Department, _>(&state, Actor::of(&principal, &ctx), move |conn| {
        checks::organization(conn, org)?;
        Ok(store::insert(conn, &new)?)
    })
    .await
}

/// Change a department.
#[utoipa::path(
    tag = "departments",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"` from the `ETag`; a stale one is a 412.")),
    request_body = UpdateDepartment,
    responses(
        (status = 200, description = "Changed.", body = Department, headers(("ETag" = String))),
        (status = 409, description = "The code is taken in the organisation.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/{id}")]
pub async fn update_department(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<UpdateDepartment>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::DepartmentsWrite)?;
    let body = body.0;
    let changes =
        DepartmentChanges { code: body.code, name: body.name.map(|n| n.trim().to_owned()), name_en: body.name_en };
    let actor = Actor::of(&principal, &ctx);
    crud::update::<Department, _>(
        &state,
        actor,
        id.into_inner(),
        principal.organization_id,
        if_match,
        move |conn, current| Ok(store::update(conn, current.id, &changes)?),
    )
    .await
}

/// Delete a department.
///
/// Refused (409) while people still belong to it.
#[utoipa::path(
    tag = "departments",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 409, description = "People still belong to it (`has_dependents`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/{id}")]
pub async fn delete_department(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::DepartmentsWrite)?;
    let actor = Actor::of(&principal, &ctx);
    crud::delete::<Department, _>(
        &state,
        actor,
        id.into_inner(),
        principal.organization_id,
        if_match,
        |conn, current| {
            if store::has_members(conn, current.id)? {
                return Err(ApiError::conflict("has_dependents").arg("what", "users"));
            }
            Ok(())
        },
    )
    .await
}
