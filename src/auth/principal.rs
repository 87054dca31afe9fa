//! `AuthUser`: the authenticated caller, checked on every request against the
//! database, so a deactivated or deleted account, a rotated secret or a changed role
//! takes effect at once, not when the token expires.
use std::{future::Future, pin::Pin};

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, http::header, web};
use diesel::{OptionalExtension, PgConnection};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    auth::{
        accounts::{Account, AccountCache, Key, Lookup},
        jwt::{Keys, TokenSubject},
        permissions::{Permission, Role, Scope, grant},
    },
    db,
    error::{ApiError, FieldError},
};

#[derive(Clone, Debug)]
pub struct Principal {
    pub id: Uuid,
    pub name: String,
    /// The organisation the request acts on: the caller's own — or, for an oversight
    /// read, the organisation below it that the request names (`overseeing` then holds
    /// the caller's own).
    pub organization_id: Option<Uuid>,
    pub kind: PrincipalKind,
    /// Set for an oversight read: the caller's own organisation, above the one read.
    pub overseeing: Option<Uuid>,
}

#[derive(Clone, Debug)]
pub enum PrincipalKind {
    User { role: Role, department_id: Option<Uuid> },
    Client { scopes: Vec<Scope> },
}

/// Who is calling, for `GET /api/v1/me`.
#[derive(Serialize, ToSchema)]
pub struct Me {
    /// `user` (a person) or `client` (a service client).
    #[schema(example = "user")]
    pub kind: String,
    pub id: Uuid,
    /// Username, or the service client's name.
    pub name: String,
    /// `null` for the system administrator.
    pub organization_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    /// For people.
    pub role: Option<Role>,
    /// For service clients.
    pub scopes: Vec<Scope>,
    /// A person's unread notices (`GET /api/v1/me/notifications`); `0` for a service client.
    pub unread_notifications: i64,
}

impl Principal {
    pub fn role(&self) -> Option<Role> {
        match self.kind {
            PrincipalKind::User { role, .. } => Some(role),
            PrincipalKind::Client { .. } => None,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role() == Some(Role::Admin)
    }

    pub fn kind_code(&self) -> &'static str {
        match self.kind {
            PrincipalKind::User { .. } => "user",
            PrincipalKind::Client { .. } => "client",
        }
    }

    pub fn allows(&self, permission: Permission) -> bool {
        if self.overseeing.is_some() {
            // Reading a unit below: what `oversee` covers, nothing else.
            return crate::auth::permissions::OVERSIGHT_READS.contains(&permission);
        }
        let g = grant(permission);
        match &self.kind {
            PrincipalKind::User { role, .. } => g.roles.contains(role),
            PrincipalKind::Client { scopes } => scopes.iter().any(|s| g.scopes.contains(s)),
        }
    }

    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.allows(permission) {
            return Ok(());
        }
        let (roles, scopes) = crate::auth::permissions::holders(permission);
        Err(ApiError::forbidden()
            .saying("permission_missing")
            .arg("permission", crate::auth::permissions::grant(permission).what)
            .arg("permission_vi", crate::auth::permissions::grant(permission).what_vi)
            .arg("roles", roles)
            .arg("scopes", scopes))
    }

    /// `permission`, and for a `member` only on their own department's records.
    pub fn require_for_department(&self, permission: Permission, department: Uuid) -> Result<(), ApiError> {
        self.require(permission)?;
        match self.kind {
            PrincipalKind::User { role: Role::Member, department_id } if department_id != Some(department) => {
                Err(ApiError::new(actix_web::http::StatusCode::FORBIDDEN, "other_department"))
            }
            _ => Ok(()),
        }
    }

    /// The organisation a new record belongs to: the caller's own; only the system
    /// administrator names one (and must).
    /// Naming one's own organisation is allowed; naming another is a 403, and the
    /// administrator naming none a 422.
    pub fn acting_org(&self, requested: Option<Uuid>) -> Result<Uuid, ApiError> {
        match (self.organization_id, requested) {
            (Some(own), None) => Ok(own),
            (Some(own), Some(org)) if org == own => Ok(own),
            (Some(_), Some(_)) => Err(not_allowed()),
            (None, Some(org)) => Ok(org),
            (None, None) => Err(ApiError::unprocessable("organization_required")
                .with_errors(vec![FieldError::new("organization_id", "organization_required")])),
        }
    }

    /// The organisation a read is confined to: the caller's own, or for the system
    /// administrator the one asked for (`None`: all).
    pub fn read_scope(&self, requested: Option<Uuid>) -> Result<Option<Uuid>, ApiError> {
        match (self.organization_id, requested) {
            (Some(own), None) => Ok(Some(own)),
            (Some(own), Some(org)) if org == own => Ok(Some(own)),
            (Some(_), Some(_)) => Err(not_allowed()),
            (None, requested) => Ok(requested),
        }
    }

    pub fn me(&self) -> Me {
        let (role, department_id, scopes) = match &self.kind {
            PrincipalKind::User { role, department_id } => (Some(*role), *department_id, Vec::new()),
            PrincipalKind::Client { scopes } => (None, None, scopes.clone()),
        };
        Me {
            kind: self.kind_code().to_owned(),
            id: self.id,
            name: self.name.clone(),
            // Under oversight the request acts on the unit read; the caller is still its own.
            organization_id: self.overseeing.or(self.organization_id),
            department_id,
            role,
            scopes,
            unread_notifications: 0,
        }
    }
}

/// Extracts and checks the bearer token; 401 (with `WWW-Authenticate`) otherwise.
pub struct AuthUser(pub Principal);

/// Like `AuthUser`, but no token is fine; a bad token is still a 401.
pub struct MaybeAuthUser(pub Option<Principal>);

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            authenticate(&req).await?.map(AuthUser).ok_or_else(|| ApiError::unauthenticated("unauthenticated"))
        })
    }
}

impl FromRequest for MaybeAuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(&req).await.map(MaybeAuthUser) })
    }
}

/// The caller, if a token was sent (`Ok(None)` if none). The result is kept in the
/// request, so middleware and handler share one database lookup.
pub async fn authenticate(req: &HttpRequest) -> Result<Option<Principal>, ApiError> {
    if let Some(found) = req.extensions().get::<Principal>() {
        return Ok(Some(found.clone()));
    }
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::unauthenticated("invalid_token"))?;
    let missing = |what: &str| ApiError::internal(format!("{what} is not registered as app data"));
    let keys = req.app_data::<web::Data<Keys>>().ok_or_else(|| missing("the token keys"))?;
    let subject = keys.verify(token)?;
    let pool = req.app_data::<web::Data<db::PgPool>>().ok_or_else(|| missing("the database pool"))?;
    let accounts = req.app_data::<web::Data<AccountCache>>().ok_or_else(|| missing("the account cache"))?;
    let principal =
        resolve(pool, accounts, subject).await?.ok_or_else(|| ApiError::unauthenticated("invalid_token"))?;
    req.extensions_mut().insert(principal.clone());
    Ok(Some(principal))
}

/// The caller a valid token names: from this instance's cache of accounts, or the
/// database (`None` when the account is gone or inactive, or the token predates the
/// account's last password change or secret rotation).
pub async fn resolve(
    pool: &db::PgPool,
    accounts: &AccountCache,
    subject: TokenSubject,
) -> Result<Option<Principal>, ApiError> {
    let key = match &subject {
        TokenSubject::User { id, .. } => Key::User(*id),
        TokenSubject::Client { id, .. } => Key::Client(*id),
        TokenSubject::External { username } => Key::Username(username.to_lowercase()),
    };
    let epoch = match accounts.lookup(&key) {
        Lookup::Hit(account) => return Ok(principal(&account, &subject)),
        Lookup::Miss(epoch) => epoch,
    };
    let found = {
        let subject = subject.clone();
        db::run(pool, move |conn| fetch(conn, &subject)).await?
    };
    let Some(account) = found else { return Ok(None) };
    if let Some(epoch) = epoch {
        accounts.store(key, account.clone(), epoch);
    }
    Ok(principal(&account, &subject))
}

/// The live account a token names, active or not. (An organisation cannot be deleted
/// while it has live accounts, so a live account's organisation is live.)
fn fetch(conn: &mut PgConnection, subject: &TokenSubject) -> Result<Option<Account>, ApiError> {
    let user = match subject {
        TokenSubject::User { id, .. } => db::users::find(conn, *id, None).optional()?,
        TokenSubject::External { username } => db::users::by_username(conn, username)?,
        TokenSubject::Client { id, .. } => {
            return Ok(db::service_clients::find(conn, *id, None).optional()?.map(|client| Account::Client {
                id: client.id,
                name: client.name,
                organization_id: client.organization_id,
                scopes: client.scopes.into_iter().flatten().collect(),
                active: client.active,
                secret_rotated_at: client.secret_rotated_at.timestamp(),
            }));
        }
    };
    Ok(user.map(|user| Account::User {
        id: user.id,
        username: user.username,
        organization_id: user.organization_id,
        department_id: user.department_id,
        role: user.role,
        active: user.active,
        password_changed_at: user.password_changed_at.timestamp(),
    }))
}

/// The caller, if `account` is active and the token not older than its last password
/// change or secret rotation.
fn principal(account: &Account, subject: &TokenSubject) -> Option<Principal> {
    match (account, subject) {
        (
            Account::User { id, username, organization_id, department_id, role, active, password_changed_at },
            TokenSubject::User { .. } | TokenSubject::External { .. },
        ) => {
            if !active || matches!(subject, TokenSubject::User { issued_at, .. } if issued_at < password_changed_at) {
                return None;
            }
            Some(Principal {
                id: *id,
                name: username.clone(),
                organization_id: *organization_id,
                kind: PrincipalKind::User { role: *role, department_id: *department_id },
                overseeing: None,
            })
        }
        (
            Account::Client { id, name, organization_id, scopes: held, active, secret_rotated_at },
            TokenSubject::Client { issued_at, scopes, .. },
        ) => {
            if !active || issued_at < secret_rotated_at {
                return None;
            }
            // The token may carry fewer scopes than the client has; never more than it has now.
            let granted: Vec<Scope> = held
                .iter()
                .filter(|s| scopes.as_ref().is_none_or(|asked| asked.contains(s)))
                .filter_map(|s| Scope::parse(s))
                .collect();
            Some(Principal {
                id: *id,
                name: name.clone(),
                organization_id: Some(*organization_id),
                kind: PrincipalKind::Client { scopes: granted },
                overseeing: None,
            })
        }
        _ => None,
    }
}

/// Another organisation's `organization_id`, named by someone of one organisation.
fn not_allowed() -> ApiError {
    ApiError::new(actix_web::http::StatusCode::FORBIDDEN, "organization_not_allowed")
        .with_errors(vec![FieldError::new("organization_id", "organization_not_allowed")])
}
