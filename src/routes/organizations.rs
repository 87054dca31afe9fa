//! Organisations: the province, its departments (Sở), boards such as the KDPM.
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::{
    auth::{AuthUser, Permission},
    db::{
        audit::Actor,
        organizations::{self as store, NewOrganization, OrganizationChanges, OrganizationRow},
    },
    domain::{assignments::PeriodCounting, validate},
    error::ApiError,
    http::{ApiJson, IfMatch, Page, RequestContext, json::double_option, pagination::PageParams, query::ListQuery},
    routes::crud::{self, Resource},
    state::AppState,
};

/// An organisation: a People's Committee, a department (Sở), a board.
#[derive(Serialize, ToSchema, Clone)]
pub struct Organization {
    pub id: Uuid,
    /// Unique code, e.g. `KDPM`.
    #[schema(example = "KDPM")]
    pub code: String,
    #[schema(example = "Ban Quản lý dự án Phát triển tỉnh Khánh Hòa")]
    pub name: String,
    #[schema(example = "Khanh Hoa Provincial Development Project Management Board")]
    pub name_en: Option<String>,
    /// The organisation it reports to (e.g. the provincial People's Committee).
    pub parent_id: Option<Uuid>,
    #[schema(example = "https://kdpm.khanhhoa.gov.vn")]
    pub website: Option<String>,
    /// How its reporting periods are counted: `decree_09` (the cut-off of Decree
    /// 09/2019/NĐ-CP art. 12 — a month from the 15th of the month before to the 14th, a
    /// year from 15 December to 14 December; the default for new organisations) or
    /// `calendar` (whole calendar months). Reporting duties, reports and snapshots follow it.
    pub reporting_periods: PeriodCounting,
    /// Feedback filed without a category or department is routed by the first
    /// suggestion when its score reaches this (0–1); `null`: never (the default) —
    /// staff choose, helped by the suggestions.
    pub auto_assign_min_score: Option<f32>,
    /// The short form of its name in document symbols, e.g. `BQL` in `18/QĐ-BQL`.
    #[schema(example = "BQL")]
    pub abbreviation: Option<String>,
    /// The place name in the dateline of its documents (*địa danh*), e.g. `Khánh Hòa`.
    #[schema(example = "Khánh Hòa")]
    pub place_name: Option<String>,
    /// Who signs its reports, and with what title (e.g. `Giám đốc`).
    #[schema(example = "Châu Ngô Anh Nhân")]
    pub signer_name: Option<String>,
    #[schema(example = "Giám đốc")]
    pub signer_title: Option<String>,
    /// The finance and accounting department (TCKT): its people write the budget.
    pub finance_department_id: Option<Uuid>,
    /// Working days after a document's issue within which it must be posted on the
    /// website (plan II.3.c; `PUBLICATION_TIMELINESS`); default 2.
    #[schema(example = 2)]
    pub publication_days: i32,
    /// Years a sender's personal data is kept after the record is closed (a category may
    /// say otherwise); then the daily retention run anonymises it. Default 5.
    #[schema(example = 5)]
    pub retention_years: i32,
    /// The version of the privacy notice its channels show (or the hotline reads) now,
    /// recorded with each sender's consent unless the filing names another.
    #[schema(example = "NĐ13-2023/1")]
    pub privacy_notice_version: String,
    /// Increases with every change; the `ETag` is `"<version>"`.
    pub version: i32,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<OrganizationRow> for Organization {
    fn from(r: OrganizationRow) -> Self {
        Self {
            id: r.id,
            code: r.code,
            name: r.name,
            name_en: r.name_en,
            parent_id: r.parent_id,
            website: r.website,
            reporting_periods: r.reporting_periods,
            auto_assign_min_score: r.auto_assign_min_score,
            abbreviation: r.abbreviation,
            place_name: r.place_name,
            signer_name: r.signer_name,
            signer_title: r.signer_title,
            finance_department_id: r.finance_department_id,
            publication_days: r.publication_days,
            retention_years: r.retention_years,
            privacy_notice_version: r.privacy_notice_version,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "KDPM", "name": "Ban Quản lý dự án Phát triển tỉnh Khánh Hòa",
    "name_en": "Khanh Hoa Provincial Development Project Management Board", "website": "https://kdpm.khanhhoa.gov.vn"}))]
pub struct CreateOrganization {
    /// 1–32 ASCII letters, digits, `-`, `_`, `.`; unique.
    #[validate(custom(function = "validate::code"))]
    #[schema(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9._-]{1,32}$")]
    pub code: String,
    #[validate(length(min = 1, max = 255), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 255)]
    pub name: String,
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    pub name_en: Option<String>,
    pub parent_id: Option<Uuid>,
    /// `http` or `https` URL.
    #[validate(custom(function = "validate::http_url"))]
    #[schema(
        max_length = 2048,
        pattern = r"^https?://[^\s/?#\[\]@\\\x00-\x1f\x7f-\x9f]+([/?#][^\s\x00-\x1f\x7f-\x9f]*)?$"
    )]
    pub website: Option<String>,
    /// `decree_09` (default) or `calendar`.
    pub reporting_periods: Option<PeriodCounting>,
}

/// Fields to change; absent fields stay, `null` clears an optional one.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganization {
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
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub parent_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(custom(function = "validate::http_url"))]
    #[schema(value_type = Option<String>, max_length = 2048, pattern = r"^https?://[^\s/?#\[\]@\\\x00-\x1f\x7f-\x9f]+([/?#][^\s\x00-\x1f\x7f-\x9f]*)?$")]
    pub website: Option<Option<String>>,
    /// Reports, duties and snapshots made from now on follow it; snapshots already made
    /// keep the periods they were cut by.
    pub reporting_periods: Option<PeriodCounting>,
    /// Route feedback filed without a category or department by the first suggestion
    /// whose score reaches this (0–1); `null` turns it off.
    #[serde(default, deserialize_with = "double_option")]
    #[validate(range(min = 0.0, max = 1.0))]
    #[schema(value_type = Option<f32>, minimum = 0, maximum = 1)]
    pub auto_assign_min_score: Option<Option<f32>>,
    /// The short form in document symbols (`BQL`).
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 1, max = 32), custom(function = "validate::not_blank"))]
    #[schema(value_type = Option<String>, pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 32)]
    pub abbreviation: Option<Option<String>>,
    /// The place name of its documents' dateline.
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 1, max = 100), custom(function = "validate::not_blank"))]
    #[schema(value_type = Option<String>, pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 100)]
    pub place_name: Option<Option<String>>,
    /// Who signs its reports.
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 1, max = 255), custom(function = "validate::not_blank"))]
    #[schema(value_type = Option<String>, pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 255)]
    pub signer_name: Option<Option<String>>,
    /// The signer's title (`Giám đốc`, `KT. Giám đốc — Phó Giám đốc`).
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 1, max = 255), custom(function = "validate::not_blank"))]
    #[schema(value_type = Option<String>, pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 255)]
    pub signer_title: Option<Option<String>>,
    /// The finance and accounting department: one of its own; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub finance_department_id: Option<Option<Uuid>>,
    /// Working days (0–60) within which documents must be posted after issue.
    #[validate(range(min = 0, max = 60))]
    #[schema(minimum = 0, maximum = 60)]
    pub publication_days: Option<i32>,
    /// Years (1–100) senders are kept after closing.
    #[validate(range(min = 1, max = 100))]
    #[schema(minimum = 1, maximum = 100)]
    pub retention_years: Option<i32>,
    #[validate(length(min = 1, max = 64), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 64)]
    pub privacy_notice_version: Option<String>,
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrganizationFilter {
    /// Children of this organisation.
    pub parent_id: Option<Uuid>,
    /// Exact code (case-insensitive).
    #[validate(length(max = 32))]
    #[param(max_length = 32)]
    pub code: Option<String>,
    /// Text in the name or English name.
    #[validate(length(min = 1, max = 100))]
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
}

impl Resource for Organization {
    type Row = OrganizationRow;
    const COLLECTION: &'static str = "/api/v1/organizations";
}

/// List organisations.
///
/// People and clients see their own organisation; the system administrator sees all.
#[utoipa::path(
    tag = "organizations",
    params(PageParams, OrganizationFilter),
    responses((status = 200, description = "A page of organisations.", body = Page<Organization>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("")]
pub async fn list_organizations(
    auth: AuthUser,
    query: ListQuery<OrganizationFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::OrganizationsRead)?;
    let ListQuery { page, filter } = query;
    let filter =
        store::Filter { only: principal.organization_id, parent_id: filter.parent_id, code: filter.code, q: filter.q };
    crud::list::<Organization, _>(&req, &state, page, move |conn, page| store::list(conn, &filter, page)).await
}

/// Read an organisation.
#[utoipa::path(
    tag = "organizations",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The organisation.", body = Organization,
        headers(("ETag" = String, description = "`\"<version>\"`")), example = crate::routes::examples::organization))
)]
#[get("/{id}")]
pub async fn get_organization(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::OrganizationsRead)?;
    crud::get::<Organization>(&state, id.into_inner(), auth.0.organization_id).await
}

/// Create an organisation.
#[utoipa::path(
    tag = "organizations",
    params(crate::http::idempotency::IdempotencyKeyHeader),
    request_body = CreateOrganization,
    responses(
        (status = 201, description = "Created.", body = Organization,
            headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The code is taken (`organization_code_taken`), or the idempotency key is in use.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The parent does not exist, or the idempotency key was used for another request.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn create_organization(
    auth: AuthUser,
    ctx: RequestContext,
    body: ApiJson<CreateOrganization>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::OrganizationsManage)?;
    let body = body.0;
    let new = NewOrganization {
        id: Uuid::now_v7(),
        code: body.code,
        name: body.name.trim().to_owned(),
        name_en: body.name_en,
        parent_id: body.parent_id,
        website: body.website,
        created_by: Some(principal.id),
        reporting_periods: body.reporting_periods,
    };
    crud::create::<Organization, _>(&state, Actor::of(&principal, &ctx), move |conn| {
        if let Some(parent) = new.parent_id {
            store::find(conn, parent, None).map_err(|_| ApiError::unprocessable("reference_invalid"))?;
        }
        Ok(store::insert(conn, &new)?)
    })
    .await
}

/// Change an organisation.
///
/// An organisation administrator may change their own organisation's details but not
/// its parent.
#[utoipa::path(
    tag = "organizations",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"` from the `ETag`; a stale one is a 412.")),
    request_body = UpdateOrganization,
    responses(
        (status = 200, description = "Changed.", body = Organization, headers(("ETag" = String))),
        (status = 409, description = "The code is taken.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The parent does not exist or would make a cycle.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/{id}")]
pub async fn update_organization(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<UpdateOrganization>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::OrganizationsUpdate)?;
    let body = body.0;
    if body.parent_id.is_some() && !principal.is_admin() {
        return Err(ApiError::forbidden().saying("parent_admin_only"));
    }
    let changes = OrganizationChanges {
        code: body.code,
        name: body.name.map(|n| n.trim().to_owned()),
        name_en: body.name_en,
        parent_id: body.parent_id,
        website: body.website,
        reporting_periods: body.reporting_periods,
        auto_assign_min_score: body.auto_assign_min_score,
        abbreviation: body.abbreviation.map(|v| v.map(|t| t.trim().to_owned())),
        place_name: body.place_name.map(|v| v.map(|t| t.trim().to_owned())),
        signer_name: body.signer_name.map(|v| v.map(|t| t.trim().to_owned())),
        signer_title: body.signer_title.map(|v| v.map(|t| t.trim().to_owned())),
        finance_department_id: body.finance_department_id,
        publication_days: body.publication_days,
        retention_years: body.retention_years,
        privacy_notice_version: body.privacy_notice_version.map(|v| v.trim().to_owned()),
    };
    let actor = Actor::of(&principal, &ctx);
    crud::update::<Organization, _>(
        &state,
        actor,
        id.into_inner(),
        principal.organization_id,
        if_match,
        move |conn, current| {
            if let Some(Some(department)) = changes.finance_department_id {
                use diesel::OptionalExtension;
                if crate::db::departments::find(conn, department, Some(current.id)).optional()?.is_none() {
                    return Err(crate::routes::checks::reference_invalid("finance_department_id"));
                }
            }
            if let Some(Some(parent)) = changes.parent_id {
                store::find(conn, parent, None).map_err(|_| ApiError::unprocessable("reference_invalid"))?;
                if store::would_cycle(conn, current.id, parent)? {
                    return Err(ApiError::unprocessable("parent_cycle"));
                }
            }
            Ok(store::update(conn, current.id, &changes)?)
        },
    )
    .await
}

/// Delete an organisation.
///
/// Refused (409) while it still has live child organisations, departments, people or
/// service clients.
#[utoipa::path(
    tag = "organizations",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 409, description = "Still has dependent records (`has_dependents`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/{id}")]
pub async fn delete_organization(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::OrganizationsManage)?;
    let actor = Actor::of(&principal, &ctx);
    crud::delete::<Organization, _>(&state, actor, id.into_inner(), None, if_match, |conn, current| {
        let dependents = store::dependents(conn, current.id)?;
        if !dependents.is_empty() {
            return Err(ApiError::conflict("has_dependents").arg("what", dependents.join(", ")));
        }
        Ok(())
    })
    .await
}
