//! Service clients: other e-government systems (the provincial portal, a hotline
//! system, the reporting system) that call the API with client credentials.
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::{
    auth::{AuthUser, Permission, Scope, password},
    db::{
        self,
        audit::{Actor, Event},
        service_clients::{self as store, NewServiceClient, ServiceClientChanges, ServiceClientRow},
    },
    domain::validate,
    error::ApiError,
    http::{
        ApiJson, IfMatch, Page, RequestContext, etag::created, idempotency::SecretFields, json::double_option,
        pagination::PageParams, query::ListQuery,
    },
    routes::{
        checks,
        crud::{self, Resource},
    },
    state::AppState,
};

/// A system that signs in with `client_credentials`. Its secret is never returned
/// after creation or rotation.
#[derive(Serialize, ToSchema, Clone)]
pub struct ServiceClient {
    /// Also the `client_id` to sign in with.
    pub id: Uuid,
    pub organization_id: Uuid,
    #[schema(example = "Cổng dịch vụ công tỉnh")]
    pub name: String,
    pub description: Option<String>,
    pub scopes: Vec<Scope>,
    /// An inactive client cannot sign in, and its tokens stop working at once.
    pub active: bool,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub secret_rotated_at: chrono::DateTime<chrono::Utc>,
    pub version: i32,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<ServiceClientRow> for ServiceClient {
    fn from(r: ServiceClientRow) -> Self {
        Self {
            id: r.id,
            organization_id: r.organization_id,
            name: r.name,
            description: r.description,
            scopes: r.scopes.iter().flatten().filter_map(|s| Scope::parse(s)).collect(),
            active: r.active,
            secret_rotated_at: r.secret_rotated_at,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A new client with its credentials. **The secret is shown only here**: store it now.
/// (A replay of the creating request with the same `Idempotency-Key` shows `null`.)
#[derive(Serialize, ToSchema)]
pub struct ServiceClientCreated {
    #[serde(flatten)]
    pub client: ServiceClient,
    /// Equal to `id`.
    pub client_id: Uuid,
    pub client_secret: Option<String>,
}

/// A new secret; the old one stops working at once, and so do tokens issued with it.
#[derive(Serialize, ToSchema)]
pub struct ClientSecret {
    pub client_id: Uuid,
    pub client_secret: String,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub secret_rotated_at: chrono::DateTime<chrono::Utc>,
}

fn at_least_one(value: &[Scope]) -> Result<(), ValidationError> {
    if value.is_empty() { Err(ValidationError::new("required")) } else { Ok(()) }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Hệ thống tổng đài 1022", "scopes": ["feedback:read", "feedback:write", "directory:read"]}))]
pub struct CreateServiceClient {
    #[validate(length(min = 1, max = 255), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 255)]
    pub name: String,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// At least one.
    #[validate(custom(function = "at_least_one"))]
    #[schema(min_items = 1)]
    pub scopes: Vec<Scope>,
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub active: bool,
    /// Only the system administrator sends this, naming the organisation to act for.
    pub organization_id: Option<Uuid>,
}

fn yes() -> bool {
    true
}

/// Fields to change; absent fields stay, `null` clears an optional one.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateServiceClient {
    #[validate(length(min = 1, max = 255), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 255)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 2000))]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub description: Option<Option<String>>,
    #[validate(custom(function = "at_least_one"))]
    #[schema(min_items = 1)]
    pub scopes: Option<Vec<Scope>>,
    pub active: Option<bool>,
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ServiceClientFilter {
    /// System administrator only: clients of this organisation.
    pub organization_id: Option<Uuid>,
    pub active: Option<bool>,
    /// Text in the name.
    #[validate(length(min = 1, max = 100))]
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
}

impl Resource for ServiceClient {
    type Row = ServiceClientRow;
    const COLLECTION: &'static str = "/api/v1/service-clients";
}

fn scope_codes(scopes: &[Scope]) -> Vec<Option<String>> {
    let mut codes: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    codes.into_iter().map(|c| Some(c.to_owned())).collect()
}

/// List service clients.
#[utoipa::path(
    tag = "service-clients",
    params(PageParams, ServiceClientFilter),
    responses((status = 200, description = "A page of service clients.", body = Page<ServiceClient>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("")]
pub async fn list_service_clients(
    auth: AuthUser,
    query: ListQuery<ServiceClientFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ServiceClientsManage)?;
    let ListQuery { page, filter } = query;
    let filter = store::Filter {
        organization_id: principal.read_scope(filter.organization_id)?,
        active: filter.active,
        q: filter.q,
    };
    crud::list::<ServiceClient, _>(&req, &state, page, move |conn, page| store::list(conn, &filter, page)).await
}

/// Read a service client.
#[utoipa::path(
    tag = "service-clients",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The client.", body = ServiceClient, headers(("ETag" = String))))
)]
#[get("/{id}")]
pub async fn get_service_client(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::ServiceClientsManage)?;
    crud::get::<ServiceClient>(&state, id.into_inner(), auth.0.organization_id).await
}

/// Create a service client.
///
/// The answer holds `client_secret`, shown this once.
#[utoipa::path(
    tag = "service-clients",
    params(crate::http::idempotency::IdempotencyKeyHeader),
    request_body = CreateServiceClient,
    responses(
        (status = 201, description = "Created; the body holds the secret.", body = ServiceClientCreated, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The idempotency key is in use.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The named organisation does not exist, or the idempotency key was used for another request.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn create_service_client(
    auth: AuthUser,
    ctx: RequestContext,
    body: ApiJson<CreateServiceClient>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ServiceClientsManage)?;
    let body = body.0;
    let org = principal.acting_org(body.organization_id)?;
    let actor = Actor::of(&principal, &ctx);
    let secret = password::random_secret(32);
    let to_hash = secret.clone();
    let secret_hash = web::block(move || password::hash(&to_hash)).await?;
    let new = NewServiceClient {
        id: Uuid::now_v7(),
        organization_id: org,
        name: body.name.trim().to_owned(),
        description: body.description,
        scopes: scope_codes(&body.scopes),
        active: body.active,
        secret_hash,
        created_by: Some(principal.id),
    };
    let row = crud::insert_audited::<ServiceClient, _>(&state, actor, move |conn| {
        checks::organization(conn, org)?;
        Ok(store::insert(conn, &new)?)
    })
    .await?;
    let client = ServiceClient::from(row);
    let (id, version) = (client.id, client.version);
    let created_body = ServiceClientCreated { client, client_id: id, client_secret: Some(secret) };
    let mut res = created(crud::location::<ServiceClient>(id), version, &created_body);
    res.extensions_mut().insert(SecretFields(&["client_secret"]));
    Ok(res)
}

/// Change a service client.
#[utoipa::path(
    tag = "service-clients",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"` from the `ETag`; a stale one is a 412.")),
    request_body = UpdateServiceClient,
    responses((status = 200, description = "Changed.", body = ServiceClient, headers(("ETag" = String))))
)]
#[patch("/{id}")]
pub async fn update_service_client(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<UpdateServiceClient>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ServiceClientsManage)?;
    let body = body.0;
    let changes = ServiceClientChanges {
        name: body.name.map(|n| n.trim().to_owned()),
        description: body.description,
        scopes: body.scopes.as_deref().map(scope_codes),
        active: body.active,
    };
    let (actor, id) = (Actor::of(&principal, &ctx), id.into_inner());
    let change = crud::update::<ServiceClient, _>(
        &state,
        actor,
        id,
        principal.organization_id,
        if_match,
        move |conn, current| Ok(store::update(conn, current.id, &changes)?),
    );
    state.accounts.changing(id, change).await
}

/// Delete a service client. It can no longer sign in and its tokens stop working.
#[utoipa::path(
    tag = "service-clients",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    responses((status = 204, description = "Deleted."))
)]
#[delete("/{id}")]
pub async fn delete_service_client(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ServiceClientsManage)?;
    let (actor, id) = (Actor::of(&principal, &ctx), id.into_inner());
    let change =
        crud::delete::<ServiceClient, _>(&state, actor, id, principal.organization_id, if_match, crud::no_guard);
    state.accounts.changing(id, change).await
}

/// Rotate a service client's secret.
///
/// The new secret is in the answer, shown this once; the old secret and every token
/// issued with it stop working at once.
#[utoipa::path(
    tag = "service-clients",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The new secret.", body = ClientSecret))
)]
#[post("/{id}/secret")]
pub async fn rotate_service_client_secret(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ServiceClientsManage)?;
    let (id, org) = (id.into_inner(), principal.organization_id);
    let actor = Actor::of(&principal, &ctx);
    let secret = password::random_secret(32);
    let to_hash = secret.clone();
    let hash = web::block(move || password::hash(&to_hash)).await?;
    let change = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let current = store::lock(conn, id, org)?;
            let row = store::set_secret(conn, id, &hash)?;
            db::audit::record(
                conn,
                &actor,
                Event {
                    action: "secret_rotate",
                    entity_type: "service_client",
                    entity_id: Some(id),
                    organization_id: Some(current.organization_id),
                    changes: serde_json::json!({}),
                },
            )?;
            Ok(row)
        })
    });
    let row = state.accounts.changing(id, change).await?;
    Ok(HttpResponse::Ok().insert_header((actix_web::http::header::CACHE_CONTROL, "no-store")).json(ClientSecret {
        client_id: row.id,
        client_secret: secret,
        secret_rotated_at: row.secret_rotated_at,
    }))
}
