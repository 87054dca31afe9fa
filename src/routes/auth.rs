//! `POST /api/v1/auth/token` (OAuth 2.0 password and client-credentials grants) and
//! `GET /api/v1/me`.
use actix_web::{HttpRequest, HttpResponse, get, http::header, post, web};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    auth::{AuthUser, Scope, password, principal::Me},
    db::{
        self,
        audit::{self, Actor, Event},
        login_throttle, service_clients, users,
    },
    error::{ApiError, FieldError, OAuthError},
    http::{
        RequestContext,
        json::{declared_length, is_json, read_limited},
    },
    state::AppState,
};

const MAX_TOKEN_REQUEST_BYTES: usize = 16 * 1024;

/// A token request (RFC 6749 §4.3 and §4.4), form-encoded or JSON. Client credentials
/// may also come as HTTP Basic authentication. Unrecognised parameters are ignored, as
/// OAuth 2.0 requires.
#[derive(Deserialize, ToSchema, Default)]
#[schema(example = json!({"grant_type": "password", "username": "admin", "password": "…"}))]
pub struct TokenRequest {
    /// `password` (a person) or `client_credentials` (a service client).
    pub grant_type: Option<String>,
    /// For `password`.
    pub username: Option<String>,
    /// For `password`.
    pub password: Option<String>,
    /// For `client_credentials`: the service client's id.
    pub client_id: Option<String>,
    /// For `client_credentials`.
    pub client_secret: Option<String>,
    /// For `client_credentials`: space-separated scopes to narrow the token to
    /// (default: all the client's scopes).
    pub scope: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// A JWT to send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the token expires.
    #[schema(example = 3600)]
    pub expires_in: u64,
    /// For a client, its granted scopes; for a person, `role:<role>`.
    #[schema(example = "role:coordinator")]
    pub scope: String,
}

/// Get an access token.
///
/// `grant_type=password` with `username` and `password` for a person;
/// `grant_type=client_credentials` with `client_id` and `client_secret` (or HTTP Basic)
/// for a service client. Errors are RFC 6749 §5.2's (`error`, `error_description`, as
/// `application/json`), with the problem members beside them, so OAuth 2.0 client
/// libraries read them. A wrong username and a wrong password get the same answer in
/// the same time. After `CCHC_LOGIN_MAX_FAILURES` failures within
/// `CCHC_LOGIN_LOCKOUT_SECONDS`, the account or client is locked for that long: 429
/// with `Retry-After`.
#[utoipa::path(
    tag = "auth",
    request_body(content(
        (TokenRequest = "application/x-www-form-urlencoded"),
        (TokenRequest = "application/json"),
    )),
    responses(
        (status = 200, description = "Signed in.", body = TokenResponse),
        (status = 400, description = "RFC 6749 §5.2: `invalid_request` (a parameter missing or malformed, a body neither form-encoded nor JSON or too large, two ways of client authentication), `invalid_grant` (wrong username or password, or an inactive account), `unsupported_grant_type`, `invalid_scope`.", body = crate::error::TokenError, content_type = "application/json"),
        (status = 401, description = "`invalid_client`: wrong client id or secret, or an inactive client.", body = crate::error::TokenError, content_type = "application/json",
            headers(("WWW-Authenticate" = String, description = "`Basic realm=\"cchc-outreach\"`."))),
        (status = 429, description = "`temporarily_unavailable`: the account or client is locked after repeated failures (as `application/json`); or the caller's address passed the general rate limit (as `application/problem+json`). `Retry-After` says when to try again.",
            content((crate::error::TokenError = "application/json"), (crate::error::Problem = "application/problem+json")),
            headers(("Retry-After" = u64, description = "Seconds until the lock ends."))),
        (status = 503, description = "`temporarily_unavailable`: the database is unavailable.", body = crate::error::TokenError, content_type = "application/json"),
    )
)]
#[post("/token")]
pub async fn issue_token(
    req: HttpRequest,
    payload: web::Payload,
    ctx: RequestContext,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let token = grant(&req, payload, &ctx, &state).await.map_err(as_oauth)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(token))
}

async fn grant(
    req: &HttpRequest,
    payload: web::Payload,
    ctx: &RequestContext,
    state: &AppState,
) -> Result<TokenResponse, ApiError> {
    let mut form = parse_token_request(req, payload).await?;
    if let Some((id, secret)) = basic_credentials(req) {
        // RFC 6749 §2.3: a client uses one way of authenticating, not two.
        let given = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.is_empty());
        if (given(&form.client_id) && form.client_id.as_deref() != Some(id.as_str())) || given(&form.client_secret) {
            return Err(ApiError::bad_request("several_client_credentials"));
        }
        form.client_id = Some(id);
        form.client_secret = Some(secret);
    }
    match form.grant_type.as_deref() {
        Some("password") => password_grant(form, ctx, state).await,
        Some("client_credentials") => client_grant(form, ctx, state).await,
        Some(_) => Err(ApiError::bad_request("unsupported_grant_type")),
        None => Err(ApiError::field("grant_type", "required")),
    }
}

/// Every failure of the token endpoint as RFC 6749 §5.2 has it: the RFC's `error` and
/// status, `WWW-Authenticate: Basic` with `invalid_client`; the problem members stay.
fn as_oauth(err: ApiError) -> ApiError {
    use actix_web::{ResponseError, http::StatusCode};
    let (status, error) = match err.code() {
        "invalid_client" => (StatusCode::UNAUTHORIZED, OAuthError::InvalidClient),
        "invalid_grant" => (StatusCode::BAD_REQUEST, OAuthError::InvalidGrant),
        "invalid_scope" => (StatusCode::BAD_REQUEST, OAuthError::InvalidScope),
        "unsupported_grant_type" => (StatusCode::BAD_REQUEST, OAuthError::UnsupportedGrantType),
        "login_locked" | "database_unavailable" => (err.status_code(), OAuthError::TemporarilyUnavailable),
        _ if err.status_code().is_server_error() => (err.status_code(), OAuthError::ServerError),
        _ => (StatusCode::BAD_REQUEST, OAuthError::InvalidRequest),
    };
    let err = err.oauth(status, error).header(header::CACHE_CONTROL, "no-store");
    match error {
        OAuthError::InvalidClient => err.header(header::WWW_AUTHENTICATE, "Basic realm=\"cchc-outreach\""),
        _ => err,
    }
}

async fn parse_token_request(req: &HttpRequest, payload: web::Payload) -> Result<TokenRequest, ApiError> {
    let json = is_json(req);
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if !json && !form {
        return Err(ApiError::new(actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            .arg("expected", "application/x-www-form-urlencoded, application/json"));
    }
    let body = read_limited(payload.into_inner(), declared_length(req), MAX_TOKEN_REQUEST_BYTES).await?;
    if json {
        serde_json::from_slice(&body).map_err(crate::http::json::malformed_json)
    } else {
        serde_urlencoded::from_bytes(&body).map_err(|_| ApiError::bad_request("malformed_form"))
    }
}

/// `Authorization: Basic base64(client_id:client_secret)`.
fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

fn required(value: Option<String>, field: &'static str, errors: &mut Vec<FieldError>) -> String {
    match value.filter(|v| !v.is_empty()) {
        Some(v) => v,
        None => {
            errors.push(FieldError::new(field, "required"));
            String::new()
        }
    }
}

/// The outcome of checking credentials, before it is recorded.
struct Attempt {
    subject: String,
    entity_type: &'static str,
    entity_id: Option<Uuid>,
    organization_id: Option<Uuid>,
    attempted: String,
    succeeded: bool,
}

async fn password_grant(form: TokenRequest, ctx: &RequestContext, state: &AppState) -> Result<TokenResponse, ApiError> {
    let mut errors = Vec::new();
    let username = required(form.username, "username", &mut errors);
    let password = required(form.password, "password", &mut errors);
    if !errors.is_empty() || username.contains('\0') {
        return Err(ApiError::validation(errors));
    }
    let subject = format!("user:{}", username.to_lowercase());
    let lookup = {
        let (subject, username) = (subject.clone(), username.clone());
        db::run(&state.pool, move |conn| {
            Ok((login_throttle::locked_until(conn, &subject)?, users::by_username(conn, &username)?))
        })
        .await?
    };
    let (locked, user) = lookup;
    let hash = user.as_ref().map_or_else(|| state.dummy_hash.clone(), |u| u.password_hash.clone());
    // Verify even when locked or unknown, so timing tells nothing.
    let matches = web::block(move || password::verify(&password, &hash)).await?;
    let attempt = Attempt {
        subject,
        entity_type: "user",
        entity_id: user.as_ref().map(|u| u.id),
        organization_id: user.as_ref().and_then(|u| u.organization_id),
        attempted: username,
        succeeded: matches && locked.is_none() && user.as_ref().is_some_and(|u| u.active),
    };
    record(attempt, locked, ctx, state, "invalid_grant").await?;
    let user = user.expect("a successful attempt has a user");
    Ok(TokenResponse {
        access_token: state.keys.issue("user", user.id, None),
        token_type: "Bearer",
        expires_in: state.keys.ttl().as_secs(),
        scope: format!("role:{}", user.role),
    })
}

async fn client_grant(form: TokenRequest, ctx: &RequestContext, state: &AppState) -> Result<TokenResponse, ApiError> {
    let mut errors = Vec::new();
    let client_id = required(form.client_id, "client_id", &mut errors);
    let secret = required(form.client_secret, "client_secret", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let requested: Option<Vec<String>> = form
        .scope
        .as_deref()
        .map(|s| s.split_whitespace().map(str::to_owned).collect())
        .filter(|v: &Vec<String>| !v.is_empty());
    if let Some(unknown) = requested.iter().flatten().find(|s| Scope::parse(s).is_none()) {
        return Err(ApiError::bad_request("invalid_scope")
            .with_errors(vec![FieldError::new("scope", "unknown_scope").arg("scope", unknown)]));
    }
    let client = check_client(client_id, secret, ctx, state).await?;
    let scopes = match requested {
        Some(asked) if asked.iter().all(|s| client.scopes.iter().flatten().any(|c| c == s)) => asked,
        Some(_) => return Err(ApiError::bad_request("invalid_scope")),
        None => client.scopes.iter().flatten().cloned().collect(),
    };
    let scope = scopes.join(" ");
    Ok(TokenResponse {
        access_token: state.keys.issue("client", client.id, Some(scope.clone())),
        token_type: "Bearer",
        expires_in: state.keys.ttl().as_secs(),
        scope,
    })
}

/// The service client whose id and secret these are, active and not locked out; each
/// attempt recorded like a sign-in (and failures counted towards the lock).
pub(crate) async fn check_client(
    client_id: String,
    secret: String,
    ctx: &RequestContext,
    state: &AppState,
) -> Result<service_clients::ServiceClientRow, ApiError> {
    let id = Uuid::parse_str(&client_id).ok();
    let subject = format!("client:{}", client_id.to_lowercase());
    let lookup = {
        let subject = subject.clone();
        db::run(&state.pool, move |conn| {
            let client = match id {
                Some(id) => service_clients::find(conn, id, None).map(Some).or_else(|e| match e {
                    diesel::result::Error::NotFound => Ok(None),
                    e => Err(e),
                })?,
                None => None,
            };
            Ok((login_throttle::locked_until(conn, &subject)?, client))
        })
        .await?
    };
    let (locked, client) = lookup;
    let hash = client.as_ref().map_or_else(|| state.dummy_hash.clone(), |c| c.secret_hash.clone());
    let matches = web::block(move || password::verify(&secret, &hash)).await?;
    let attempt = Attempt {
        subject,
        entity_type: "service_client",
        entity_id: client.as_ref().map(|c| c.id),
        organization_id: client.as_ref().map(|c| c.organization_id),
        attempted: client_id,
        succeeded: matches && locked.is_none() && client.as_ref().is_some_and(|c| c.active),
    };
    record(attempt, locked, ctx, state, "invalid_client").await?;
    let client = client.expect("a successful attempt has a client");
    Ok(client)
}

/// Writes the audit event and the failure count; `Err` unless the attempt succeeded.
async fn record(
    attempt: Attempt,
    locked: Option<chrono::DateTime<chrono::Utc>>,
    ctx: &RequestContext,
    state: &AppState,
    failure_code: &'static str,
) -> Result<(), ApiError> {
    let actor = Actor::anonymous(ctx);
    let (max, window) = (state.settings.login_max_failures, state.settings.login_lockout);
    let known = attempt.entity_id.is_some();
    db::run(&state.pool, move |conn| {
        // Only a name that belongs to an account is kept as typed: an unknown one may be a mistyped password.
        let name = if known { attempt.attempted.clone() } else { audit::mask_text(&attempt.attempted) };
        let (action, reason) = match (attempt.succeeded, locked) {
            (true, _) => ("login_succeeded", None),
            (false, Some(_)) => ("login_failed", Some("locked")),
            (false, None) => ("login_failed", Some("bad_credentials")),
        };
        audit::record(
            conn,
            &actor,
            Event {
                action,
                entity_type: attempt.entity_type,
                entity_id: attempt.entity_id,
                organization_id: attempt.organization_id,
                changes: json!({"name": name, "reason": reason}),
            },
        )?;
        if attempt.succeeded {
            login_throttle::clear(conn, &attempt.subject)?;
        } else if locked.is_none() {
            login_throttle::record_failure(conn, &attempt.subject, max, window)?;
        }
        Ok(())
    })
    .await?;
    match locked {
        _ if attempt.succeeded => Ok(()),
        Some(until) => {
            let secs = (until - chrono::Utc::now()).num_seconds().max(1) as u64;
            Err(ApiError::too_many_requests("login_locked", secs))
        }
        None => Err(ApiError::unauthenticated(failure_code)),
    }
}

/// Who the token belongs to.
#[utoipa::path(tag = "auth", responses((status = 200, description = "The caller.", body = Me)))]
#[get("")]
pub async fn me(auth: AuthUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut me = auth.0.me();
    if me.kind == "user" {
        let id = me.id;
        me.unread_notifications = db::run(&state.pool, move |conn| Ok(db::notifications::unread(conn, id)?)).await?;
    }
    Ok(HttpResponse::Ok().json(me))
}
