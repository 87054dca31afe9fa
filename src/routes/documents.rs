//! Documents: the legal texts plans cite (căn cứ) or implement.
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::{
    auth::{AuthUser, Permission},
    db::{
        audit::Actor,
        documents::{self as store, DocumentChanges, DocumentRow, NewDocument},
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

/// A legal text as recorded by an organisation: a decision, directive, guidance, circular.
#[derive(Serialize, ToSchema, Clone)]
pub struct Document {
    pub id: Uuid,
    pub organization_id: Uuid,
    /// Unique per issuer within the organisation, e.g. `590/QĐ-UBND`.
    #[schema(example = "590/QĐ-UBND")]
    pub number: String,
    pub issued_on: Option<NaiveDate>,
    /// The issuing body: an organisation code (`UBND-KH`) or a name (`Bộ Tài chính`).
    #[schema(example = "UBND-KH")]
    pub issuer: String,
    #[schema(example = "Ban hành Kế hoạch tuyên truyền cải cách hành chính tỉnh Khánh Hòa năm 2021")]
    pub title: String,
    /// Must be posted on the organisation's website after issue (plan II.3.c), counted
    /// in `PUBLICATION_TIMELINESS`. Default: whether the organisation issued it itself
    /// (the issuer is its code or abbreviation).
    pub post_required: bool,
    pub version: i32,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<DocumentRow> for Document {
    fn from(r: DocumentRow) -> Self {
        Self {
            id: r.id,
            organization_id: r.organization_id,
            number: r.number,
            issued_on: r.issued_on,
            issuer: r.issuer,
            title: r.title,
            post_required: r.post_required,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Resource for Document {
    type Row = DocumentRow;
    const COLLECTION: &'static str = "/api/v1/documents";
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"number": "590/QĐ-UBND", "issued_on": "2021-03-11", "issuer": "UBND-KH",
    "title": "Ban hành Kế hoạch tuyên truyền cải cách hành chính tỉnh Khánh Hòa năm 2021"}))]
pub struct CreateDocument {
    #[validate(length(min = 1, max = 100), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 100)]
    pub number: String,
    pub issued_on: Option<NaiveDate>,
    #[validate(length(min = 1, max = 255), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 255)]
    pub issuer: String,
    #[validate(length(min = 1, max = 2000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 2000)]
    pub title: String,
    /// Default: whether the issuer is the organisation's code or abbreviation.
    pub post_required: Option<bool>,
    /// Only the system administrator sends this, naming the organisation to act for.
    pub organization_id: Option<Uuid>,
}

/// Fields to change; absent fields stay, `null` clears an optional one.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDocument {
    #[validate(length(min = 1, max = 100), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 100)]
    pub number: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub issued_on: Option<Option<NaiveDate>>,
    #[validate(length(min = 1, max = 255), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 255)]
    pub issuer: Option<String>,
    #[validate(length(min = 1, max = 2000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 2000)]
    pub title: Option<String>,
    pub post_required: Option<bool>,
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DocumentFilter {
    /// System administrator only: documents of this organisation.
    pub organization_id: Option<Uuid>,
    /// Exact number (case-insensitive).
    #[validate(length(max = 100))]
    #[param(max_length = 100)]
    pub number: Option<String>,
    /// Exact issuer (case-insensitive).
    #[validate(length(max = 255))]
    #[param(max_length = 255)]
    pub issuer: Option<String>,
    /// Text in the number or title.
    #[validate(length(min = 1, max = 100))]
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
}

/// List documents.
#[utoipa::path(
    tag = "documents",
    params(PageParams, DocumentFilter),
    responses((status = 200, description = "A page of documents.", body = Page<Document>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("")]
pub async fn list_documents(
    auth: AuthUser,
    query: ListQuery<DocumentFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::PlansRead)?;
    let ListQuery { page, filter } = query;
    let filter = store::Filter {
        organization_id: principal.read_scope(filter.organization_id)?,
        number: filter.number,
        issuer: filter.issuer,
        q: filter.q,
    };
    crud::list::<Document, _>(&req, &state, page, move |conn, page| store::list(conn, &filter, page)).await
}

/// Read a document.
#[utoipa::path(
    tag = "documents",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The document.", body = Document, headers(("ETag" = String))))
)]
#[get("/{id}")]
pub async fn get_document(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::PlansRead)?;
    crud::get::<Document>(&state, id.into_inner(), auth.0.organization_id).await
}

/// Record a document.
#[utoipa::path(
    tag = "documents",
    params(crate::http::idempotency::IdempotencyKeyHeader),
    request_body = CreateDocument,
    responses(
        (status = 201, description = "Recorded.", body = Document, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "This issuer's number is already recorded (`document_number_taken`), or the idempotency key is in use.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The named organisation does not exist, or the idempotency key was used for another request.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn create_document(
    auth: AuthUser,
    ctx: RequestContext,
    body: ApiJson<CreateDocument>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::PlansWrite)?;
    let body = body.0;
    let org = principal.acting_org(body.organization_id)?;
    let mut new = NewDocument {
        id: Uuid::now_v7(),
        organization_id: org,
        number: body.number.trim().to_owned(),
        issued_on: body.issued_on,
        issuer: body.issuer.trim().to_owned(),
        title: body.title.trim().to_owned(),
        created_by: Some(principal.id),
        post_required: body.post_required.unwrap_or(false),
    };
    crud::create::<Document, _>(&state, Actor::of(&principal, &ctx), move |conn| {
        checks::organization(conn, org)?;
        if body.post_required.is_none() {
            new.post_required = store::issued_by_itself(conn, org, &new.issuer)?;
        }
        Ok(store::insert(conn, &new)?)
    })
    .await
}

/// Change a document.
#[utoipa::path(
    tag = "documents",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"` from the `ETag`; a stale one is a 412.")),
    request_body = UpdateDocument,
    responses(
        (status = 200, description = "Changed.", body = Document, headers(("ETag" = String))),
        (status = 409, description = "This issuer's number is already recorded.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/{id}")]
pub async fn update_document(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<UpdateDocument>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::PlansWrite)?;
    let body = body.0;
    let changes = DocumentChanges {
        number: body.number.map(|n| n.trim().to_owned()),
        issued_on: body.issued_on,
        issuer: body.issuer.map(|n| n.trim().to_owned()),
        title: body.title.map(|n| n.trim().to_owned()),
        post_required: body.post_required,
    };
    let actor = Actor::of(&principal, &ctx);
    crud::update::<Document, _>(
        &state,
        actor,
        id.into_inner(),
        principal.organization_id,
        if_match,
        move |conn, current| Ok(store::update(conn, current.id, &changes)?),
    )
    .await
}

/// Delete a document.
///
/// Refused (409) while a plan or plan item cites or implements it.
#[utoipa::path(
    tag = "documents",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 409, description = "Still cited (`document_cited`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/{id}")]
pub async fn delete_document(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::PlansWrite)?;
    let actor = Actor::of(&principal, &ctx);
    crud::delete::<Document, _>(&state, actor, id.into_inner(), principal.organization_id, if_match, |conn, current| {
        if store::is_cited(conn, current.id)? {
            return Err(ApiError::conflict("document_cited"));
        }
        Ok(())
    })
    .await
}
