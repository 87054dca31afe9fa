//! People: staff of an organisation with a role, and system administrators.
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::{
    auth::{AuthUser, Permission, Principal, Role, password},
    db::{
        self,
        audit::{Actor, Event},
        users::{self as store, NewUser, UserChanges, UserRow},
    },
    domain::validate,
    error::{ApiError, FieldError},
    http::{ApiJson, IfMatch, Page, RequestContext, json::double_option, pagination::PageParams, query::ListQuery},
    routes::{
        checks,
        crud::{self, Resource},
    },
    state::AppState,
};

/// A person who signs in. The password is never returned.
#[derive(Serialize, ToSchema, Clone)]
pub struct User {
    pub id: Uuid,
    /// `null` for the system administrator.
    pub organization_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    #[schema(example = "tchc.nguyenvana")]
    pub username: String,
    #[schema(example = "Nguyễn Văn A")]
    pub full_name: String,
    pub email: Option<String>,
    pub role: Role,
    /// An inactive person cannot sign in, and their tokens stop working at once.
    pub active: bool,
    pub version: i32,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        Self {
            id: r.id,
            organization_id: r.organization_id,
            department_id: r.department_id,
            username: r.username,
            full_name: r.full_name,
            email: r.email,
            role: r.role,
            active: r.active,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

fn username(value: &str) -> Result<(), ValidationError> {
    let ok = (3..=64).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'));
    if ok { Ok(()) } else { Err(ValidationError::new("invalid_format")) }
}

fn new_password(value: &str) -> Result<(), ValidationError> {
    if value.chars().count() < 10 { Err(ValidationError::new("weak_password")) } else { Ok(()) }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "tchc.nguyenvana", "full_name": "Nguyễn Văn A", "email": "nguyenvana@kdpm.khanhhoa.gov.vn",
    "role": "coordinator", "department_id": "01938f6e-7d3c-7b1a-9c55-3f1f0b6f1a2e", "password": "đổi-ngay-sau-khi-nhận"}))]
pub struct CreateUser {
    /// 3–64 ASCII letters, digits, `.`, `_`, `-`, `@`; unique (case-insensitive).
    #[validate(custom(function = "username"))]
    #[schema(min_length = 3, max_length = 64, pattern = "^[A-Za-z0-9._@-]{3,64}$")]
    pub username: String,
    #[validate(length(min = 1, max = 255), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 255)]
    pub full_name: String,
    #[validate(email, length(max = 254))]
    #[schema(max_length = 254, format = Email)]
    pub email: Option<String>,
    /// A department of the same organisation.
    pub department_id: Option<Uuid>,
    /// `admin` only by a system administrator, and then with no organisation.
    pub role: Role,
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub active: bool,
    /// At least 10 characters.
    #[validate(custom(function = "new_password"), length(max = 256))]
    #[schema(min_length = 10, max_length = 256)]
    pub password: String,
    /// Only the system administrator sends this, naming the organisation to act for.
    pub organization_id: Option<Uuid>,
}

fn yes() -> bool {
    true
}

/// Fields to change; absent fields stay, `null` clears an optional one.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[validate(length(min = 1, max = 255), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 255)]
    pub full_name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(email, length(max = 254))]
    #[schema(value_type = Option<String>, max_length = 254, format = Email)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub department_id: Option<Option<Uuid>>,
    /// Not `admin`: system administrators are created as such.
    pub role: Option<Role>,
    pub active: Option<bool>,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPassword {
    /// Required when changing one's own password.
    #[validate(length(max = 256))]
    #[schema(max_length = 256)]
    pub current_password: Option<String>,
    /// At least 10 characters.
    #[validate(custom(function = "new_password"), length(max = 256))]
    #[schema(min_length = 10, max_length = 256)]
    pub new_password: String,
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    /// System administrator only: people of this organisation.
    pub organization_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// Text in the full name or username.
    #[validate(length(min = 1, max = 100))]
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
}

impl Resource for User {
    type Row = UserRow;
    const COLLECTION: &'static str = "/api/v1/users";
}

/// List people.
#[utoipa::path(
    tag = "users",
    params(PageParams, UserFilter),
    responses((status = 200, description = "A page of people.", body = Page<User>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("")]
pub async fn list_users(
    auth: AuthUser,
    query: ListQuery<UserFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::UsersRead)?;
    let ListQuery { page, filter } = query;
    let filter = store::Filter {
        organization_id: principal.read_scope(filter.organization_id)?,
        department_id: filter.department_id,
        role: filter.role,
        active: filter.active,
        q: filter.q,
    };
    crud::list::<User, _>(&req, &state, page, move |conn, page| store::list(conn, &filter, page)).await
}

/// Read a person.
#[utoipa::path(
    tag = "users",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The person.", body = User, headers(("ETag" = String))))
)]
#[get("/{id}")]
pub async fn get_user(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::UsersRead)?;
    crud::get::<User>(&state, id.into_inner(), auth.0.organization_id).await
}

/// Create a person.
#[utoipa::path(
    tag = "users",
    params(crate::http::idempotency::IdempotencyKeyHeader),
    request_body = CreateUser,
    responses(
        (status = 201, description = "Created.", body = User, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The username is taken (`username_taken`), or the idempotency key is in use.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The organisation or department does not exist there, or the idempotency key was used for another request.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn create_user(
    auth: AuthUser,
    ctx: RequestContext,
    body: ApiJson<CreateUser>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::UsersWrite)?;
    let body = body.0;
    let org = match body.role {
        Role::Admin if !principal.is_admin() => return Err(ApiError::forbidden().saying("admin_role_admin_only")),
        Role::Admin => None,
        _ => Some(principal.acting_org(body.organization_id)?),
    };
    let secret = body.password;
    let password_hash = web::block(move || password::hash(&secret)).await?;
    let new = NewUser {
        id: Uuid::now_v7(),
        organization_id: org,
        department_id: body.department_id,
        username: body.username,
        full_name: body.full_name.trim().to_owned(),
        email: body.email,
        role: body.role,
        active: body.active,
        password_hash,
        created_by: Some(principal.id),
    };
    crud::create::<User, _>(&state, Actor::of(&principal, &ctx), move |conn| {
        if let Some(org) = org {
            checks::organization(conn, org)?;
            checks::department(conn, new.department_id, org)?;
        }
        Ok(store::insert(conn, &new)?)
    })
    .await
}

/// Change a person.
///
/// Nobody changes their own role or active flag. `admin` is never given or taken by a change.
#[utoipa::path(
    tag = "users",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"` from the `ETag`; a stale one is a 412.")),
    request_body = UpdateUser,
    responses(
        (status = 200, description = "Changed.", body = User, headers(("ETag" = String))),
        (status = 422, description = "The department is not of the organisation, the role change is not allowed, or it is your own account.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/{id}")]
pub async fn update_user(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<UpdateUser>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::UsersWrite)?;
    let body = body.0;
    let id = id.into_inner();
    if id == principal.id && (body.role.is_some() || body.active.is_some()) {
        return Err(ApiError::unprocessable("cannot_change_own_account"));
    }
    let changes = UserChanges {
        full_name: body.full_name.map(|n| n.trim().to_owned()),
        email: body.email,
        department_id: body.department_id,
        role: body.role,
        active: body.active,
    };
    let actor = Actor::of(&principal, &ctx);
    let change =
        crud::update::<User, _>(&state, actor, id, principal.organization_id, if_match, move |conn, current| {
            let was_admin = current.role == Role::Admin;
            if changes.role.is_some_and(|r| (r == Role::Admin) != was_admin) {
                return Err(
                    ApiError::unprocessable("invalid_role").with_errors(vec![FieldError::new("role", "invalid_role")])
                );
            }
            match (current.organization_id, changes.department_id) {
                (Some(user_org), Some(dept)) => checks::department(conn, dept, user_org)?,
                (None, Some(Some(_))) => return Err(ApiError::unprocessable("department_not_found")),
                _ => {}
            }
            Ok(store::update(conn, current.id, &changes)?)
        });
    state.accounts.changing(id, change).await
}

/// Delete a person.
///
/// They can no longer sign in and their tokens stop working; their name stays in the
/// audit trail. Nobody deletes their own account.
#[utoipa::path(
    tag = "users",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 422, description = "It is your own account (`cannot_change_own_account`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/{id}")]
pub async fn delete_user(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::UsersWrite)?;
    let id = id.into_inner();
    if id == principal.id {
        return Err(ApiError::unprocessable("cannot_change_own_account"));
    }
    let actor = Actor::of(&principal, &ctx);
    let change = crud::delete::<User, _>(&state, actor, id, principal.organization_id, if_match, crud::no_guard);
    state.accounts.changing(id, change).await
}

/// Set a password.
///
/// A person changes their own with `current_password`; an organisation administrator
/// sets anyone's in their organisation, a system administrator anyone's. Tokens issued
/// before the change stop working.
#[utoipa::path(
    tag = "users",
    params(("id" = Uuid, Path)),
    request_body = SetPassword,
    responses(
        (status = 204, description = "Changed."),
        (status = 422, description = "The current password is wrong (`wrong_password`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/password")]
pub async fn set_user_password(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    body: ApiJson<SetPassword>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    let id = id.into_inner();
    let own = id == principal.id;
    if principal.role().is_none() || (!own && !principal.allows(Permission::UsersWrite)) {
        return Err(ApiError::forbidden().saying("password_not_yours"));
    }
    let org = principal.organization_id;
    let target = db::run(&state.pool, move |conn| Ok(store::find(conn, id, org)?)).await?;
    let SetPassword { current_password, new_password } = body.0;
    if own {
        let current = current_password.ok_or_else(|| ApiError::rule("current_password", "required"))?;
        let stored = target.password_hash.clone();
        if !web::block(move || password::verify(&current, &stored)).await? {
            return Err(ApiError::unprocessable("wrong_password"));
        }
    }
    let hash = web::block(move || password::hash(&new_password)).await?;
    state.accounts.changing(id, record_password_change(&state, &principal, &ctx, target, hash)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn record_password_change(
    state: &AppState,
    principal: &Principal,
    ctx: &RequestContext,
    target: UserRow,
    hash: String,
) -> Result<(), ApiError> {
    let actor = Actor::of(principal, ctx);
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            store::set_password(conn, target.id, &hash)?;
            db::audit::record(
                conn,
                &actor,
                Event {
                    action: "password_change",
                    entity_type: "user",
                    entity_id: Some(target.id),
                    organization_id: target.organization_id,
                    changes: serde_json::json!({}),
                },
            )?;
            Ok(())
        })
    })
    .await
}
