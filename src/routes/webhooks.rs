//! Webhook subscriptions: where the service POSTs the events of an organisation, signed
//! as Standard Webhooks specifies, retried until delivered; their deliveries.
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::{
    auth::{AuthUser, Permission},
    db::{
        self,
        audit::{Actor, Event},
        webhooks::{self as store, DeliveryRow, Message, NewWebhook, WebhookChanges, WebhookRow},
    },
    domain::{
        events::{Event as DomainEvent, Subject, subject_url},
        validate::{self, HttpUrl},
        webhooks::{EventPattern, check_url, new_secret, valid_pattern},
    },
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

/// A subscription. Its signing secret is shown only when it is created or rotated.
#[derive(Serialize, ToSchema, Clone)]
pub struct Webhook {
    pub id: Uuid,
    pub organization_id: Uuid,
    /// Where deliveries are POSTed.
    #[schema(example = "https://portal.khanhhoa.gov.vn/hooks/cchc")]
    pub url: String,
    /// The event types it takes: exact (`feedback.answered`), all of a resource
    /// (`feedback.*`), or all (`*`).
    #[schema(example = json!(["feedback.*", "activity.verified"]))]
    pub event_types: Vec<String>,
    pub description: Option<String>,
    /// Off: nothing is sent (what was waiting is cancelled).
    pub active: bool,
    /// Why the service turned it off: `gone` (the receiver answered 410) or `failing`
    /// (a delivery failed for the whole retry schedule). `null` when on, or turned off
    /// by a person. Turning it on again clears it.
    #[schema(value_type = Option<String>, pattern = "^(gone|failing)$")]
    pub disabled_reason: Option<String>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub disabled_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub secret_rotated_at: DateTime<Utc>,
    /// Until when the secret before the last rotation still signs (a second
    /// `v1,` signature in `webhook-signature`).
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub version: i32,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub updated_at: DateTime<Utc>,
}

impl From<WebhookRow> for Webhook {
    fn from(r: WebhookRow) -> Self {
        Self {
            event_types: r.patterns(),
            id: r.id,
            organization_id: r.organization_id,
            url: r.url,
            description: r.description,
            active: r.active,
            disabled_reason: r.disabled_reason,
            disabled_at: r.disabled_at,
            secret_rotated_at: r.secret_rotated_at,
            previous_secret_expires_at: r.previous_secret_expires_at,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Resource for Webhook {
    type Row = WebhookRow;
    const COLLECTION: &'static str = "/api/v1/webhooks";
}

/// A new subscription with its signing secret. **The secret is shown only here**
/// (a replay under the same `Idempotency-Key` shows `null`).
#[derive(Serialize, ToSchema)]
pub struct WebhookCreated {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_` and the base64 of 32 bytes, as Standard Webhooks libraries take it.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: Option<String>,
}

/// A new secret. The one before keeps signing until `previous_secret_expires_at`.
#[derive(Serialize, ToSchema)]
pub struct WebhookSecret {
    pub webhook_id: Uuid,
    pub secret: String,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub secret_rotated_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

fn patterns(value: &[String]) -> Result<(), ValidationError> {
    if value.is_empty() {
        return Err(ValidationError::new("required"));
    }
    if value.iter().all(|p| valid_pattern(p)) { Ok(()) } else { Err(ValidationError::new("invalid_event_type")) }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://portal.khanhhoa.gov.vn/hooks/cchc", "event_types": ["feedback.*"], "description": "Cổng dịch vụ công tỉnh"}))]
pub struct CreateWebhook {
    /// `https://` (plain `http://` only where the service allows it); the receiver may
    /// not be on a loopback, private, link-local or metadata address unless the
    /// service allows private ones (a 422 says which).
    #[validate(custom(function = "validate::http_url"))]
    #[schema(value_type = HttpUrl)]
    pub url: String,
    /// 1 to 50 patterns: `feedback.answered`, `feedback.*`, or `*`.
    #[validate(length(min = 1, max = 50), custom(function = "patterns"))]
    #[schema(min_items = 1, max_items = 50, value_type = Vec<EventPattern>)]
    pub event_types: Vec<String>,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub active: bool,
    /// Only the system administrator sends this, naming the organisation to act for.
    pub organization_id: Option<Uuid>,
}

fn yes() -> bool {
    true
}

/// Fields to change; absent fields stay, `null` clears the description.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhook {
    #[validate(custom(function = "validate::http_url"))]
    #[schema(value_type = Option<HttpUrl>)]
    pub url: Option<String>,
    #[validate(length(min = 1, max = 50), custom(function = "patterns"))]
    #[schema(min_items = 1, max_items = 50, value_type = Option<Vec<EventPattern>>)]
    pub event_types: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 2000))]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub description: Option<Option<String>>,
    /// `false` cancels what is waiting; `true` turns a subscription the service turned
    /// off on again.
    pub active: Option<bool>,
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WebhookFilter {
    /// System administrator only: subscriptions of this organisation.
    pub organization_id: Option<Uuid>,
    pub active: Option<bool>,
}

/// One event on its way to one subscription.
#[derive(Serialize, ToSchema)]
pub struct Delivery {
    pub id: Uuid,
    pub webhook_id: Uuid,
    /// Also the `webhook-id` header of every attempt: receivers deduplicate by it.
    pub event_id: Uuid,
    #[schema(example = "feedback.answered")]
    pub event_type: String,
    /// `pending` (an attempt is due at `next_attempt_at`), `delivered` (a 2xx),
    /// `failed` (410 Gone, or the retry schedule ran out) or `cancelled` (the
    /// subscription was turned off first).
    #[schema(pattern = "^(pending|delivered|failed|cancelled)$")]
    pub status: String,
    pub attempts: i32,
    /// The receiver's status code at the last attempt (`null`: no answer).
    pub last_status_code: Option<i32>,
    /// How long the last attempt took, in milliseconds.
    pub last_latency_ms: Option<i32>,
    /// What went wrong at the last attempt, when there was no answer.
    pub last_error: Option<String>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub delivered_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub updated_at: DateTime<Utc>,
    /// The body every attempt sends.
    #[schema(value_type = DomainEvent)]
    pub event: serde_json::Value,
}

impl From<DeliveryRow> for Delivery {
    fn from(r: DeliveryRow) -> Self {
        Self {
            event: serde_json::from_str(&r.payload).unwrap_or_default(),
            id: r.id,
            webhook_id: r.webhook_id,
            event_id: r.event_id,
            event_type: r.event_type,
            status: r.status,
            attempts: r.attempts,
            last_status_code: r.last_status_code,
            last_latency_ms: r.last_latency_ms,
            last_error: r.last_error,
            next_attempt_at: r.next_attempt_at,
            delivered_at: r.delivered_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryFilter {
    #[param(pattern = "^(pending|delivered|failed|cancelled)$")]
    #[validate(custom(function = "delivery_status"))]
    pub status: Option<String>,
}

fn delivery_status(value: &str) -> Result<(), ValidationError> {
    if ["pending", "delivered", "failed", "cancelled"].contains(&value) {
        Ok(())
    } else {
        Err(ValidationError::new("invalid_value"))
    }
}

/// The receiver's URL under the service's outbound rules (a 422 naming the rule).
fn receiver(state: &AppState, url: &str) -> Result<String, ApiError> {
    let rules = &state.settings.webhooks;
    check_url(url.trim(), rules.allow_http, rules.allow_private)
        .map(|u| u.to_string())
        .map_err(|code| ApiError::rule("url", code))
}

fn codes(patterns: &[String]) -> Vec<Option<String>> {
    let mut list: Vec<String> = patterns.to_vec();
    list.sort_unstable();
    list.dedup();
    list.into_iter().map(Some).collect()
}

/// List webhook subscriptions.
#[utoipa::path(
    tag = "webhooks",
    params(PageParams, WebhookFilter),
    responses((status = 200, description = "A page of subscriptions.", body = Page<Webhook>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("")]
pub async fn list_webhooks(
    auth: AuthUser,
    query: ListQuery<WebhookFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::WebhooksManage)?;
    let ListQuery { page, filter } = query;
    let filter =
        store::Filter { organization_id: principal.read_scope(filter.organization_id)?, active: filter.active };
    crud::list::<Webhook, _>(&req, &state, page, move |conn, page| store::list(conn, &filter, page)).await
}

/// Read a webhook subscription.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The subscription.", body = Webhook, headers(("ETag" = String))))
)]
#[get("/{id}")]
pub async fn get_webhook(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::WebhooksManage)?;
    crud::get::<Webhook>(&state, id.into_inner(), auth.0.organization_id).await
}

/// Subscribe to events.
///
/// Every event of the organisation whose type matches `event_types` is POSTed to `url`
/// as JSON (the envelope of the event feed), signed as Standard Webhooks specifies
/// (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of
/// "{id}.{timestamp}.{body}">`), retried on anything but a 2xx until the retry schedule
/// runs out. The answer holds `secret`, shown this once.
#[utoipa::path(
    tag = "webhooks",
    params(crate::http::idempotency::IdempotencyKeyHeader),
    request_body = CreateWebhook,
    responses(
        (status = 201, description = "Created; the body holds the secret.", body = WebhookCreated, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The idempotency key is in use.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The URL is refused (`webhook_https_only`, `webhook_private_address`, `webhook_address_refused`), the named organisation does not exist, or the idempotency key was used for another request.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn create_webhook(
    auth: AuthUser,
    ctx: RequestContext,
    body: ApiJson<CreateWebhook>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::WebhooksManage)?;
    let body = body.0;
    let org = principal.acting_org(body.organization_id)?;
    let url = receiver(&state, &body.url)?;
    let secret = new_secret();
    let new = NewWebhook {
        id: Uuid::now_v7(),
        organization_id: org,
        url,
        event_types: codes(&body.event_types),
        description: body.description,
        active: body.active,
        secret: secret.clone(),
        created_by: Some(principal.id),
    };
    let actor = Actor::of(&principal, &ctx);
    let row = crud::insert_audited::<Webhook, _>(&state, actor, move |conn| {
        checks::organization(conn, org)?;
        Ok(store::insert(conn, &new)?)
    })
    .await?;
    let webhook = Webhook::from(row);
    let (id, version) = (webhook.id, webhook.version);
    let mut res = created(crud::location::<Webhook>(id), version, &WebhookCreated { webhook, secret: Some(secret) });
    res.extensions_mut().insert(SecretFields(&["secret"]));
    Ok(res)
}

/// Change a webhook subscription.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"` from the `ETag`; a stale one is a 412.")),
    request_body = UpdateWebhook,
    responses(
        (status = 200, description = "Changed.", body = Webhook, headers(("ETag" = String))),
        (status = 422, description = "The URL is refused (`webhook_https_only`, `webhook_private_address`, `webhook_address_refused`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/{id}")]
pub async fn update_webhook(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<UpdateWebhook>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::WebhooksManage)?;
    let body = body.0;
    let url = body.url.as_deref().map(|u| receiver(&state, u)).transpose()?;
    let mut changes = WebhookChanges {
        url,
        event_types: body.event_types.as_deref().map(codes),
        description: body.description,
        active: body.active,
        ..WebhookChanges::default()
    };
    if body.active == Some(true) {
        changes.disabled_reason = Some(None);
        changes.disabled_at = Some(None);
    }
    let actor = Actor::of(&principal, &ctx);
    crud::update::<Webhook, _>(
        &state,
        actor,
        id.into_inner(),
        principal.organization_id,
        if_match,
        move |conn, current| {
            if body.active == Some(false) {
                store::cancel_pending(conn, current.id)?;
            }
            Ok(store::update(conn, current.id, &changes)?)
        },
    )
    .await
}

/// Delete a webhook subscription; what was waiting for it is cancelled.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    responses((status = 204, description = "Deleted."))
)]
#[delete("/{id}")]
pub async fn delete_webhook(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::WebhooksManage)?;
    let actor = Actor::of(&principal, &ctx);
    crud::delete::<Webhook, _>(&state, actor, id.into_inner(), principal.organization_id, if_match, |conn, current| {
        store::cancel_pending(conn, current.id)?;
        Ok(())
    })
    .await
}

/// Rotate a subscription's signing secret.
///
/// The new secret is in the answer, shown this once. The one before keeps signing for
/// `CCHC_WEBHOOK_SECRET_OVERLAP_SECONDS` (default a day): meanwhile each delivery
/// carries both signatures, so the receiver can switch without losing one.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The new secret.", body = WebhookSecret))
)]
#[post("/{id}/rotate-secret")]
pub async fn rotate_webhook_secret(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::WebhooksManage)?;
    let (id, org) = (id.into_inner(), principal.organization_id);
    let actor = Actor::of(&principal, &ctx);
    let secret = new_secret();
    let until = Utc::now()
        + chrono::Duration::from_std(state.settings.webhooks.secret_overlap).unwrap_or(chrono::Duration::days(1));
    let new_secret = secret.clone();
    let row = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let current = store::lock(conn, id, org)?;
            let row = store::rotate_secret(conn, id, &new_secret, until)?;
            let changes = db::audit::diff(
                &serde_json::to_value(Webhook::from(current)).unwrap_or_default(),
                &serde_json::to_value(Webhook::from(row.clone())).unwrap_or_default(),
            );
            db::audit::record(
                conn,
                &actor,
                Event {
                    action: "secret_rotate",
                    entity_type: "webhook",
                    entity_id: Some(id),
                    organization_id: Some(row.organization_id),
                    changes,
                },
            )?;
            Ok(row)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().insert_header((actix_web::http::header::CACHE_CONTROL, "no-store")).json(WebhookSecret {
        webhook_id: row.id,
        secret,
        secret_rotated_at: row.secret_rotated_at,
        previous_secret_expires_at: row.previous_secret_expires_at,
    }))
}

/// List a subscription's deliveries.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path), PageParams, DeliveryFilter),
    responses((status = 200, description = "A page of deliveries, oldest first.", body = Page<Delivery>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("/{id}/deliveries")]
pub async fn list_webhook_deliveries(
    auth: AuthUser,
    id: web::Path<Uuid>,
    query: ListQuery<DeliveryFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::WebhooksManage)?;
    let (id, org) = (id.into_inner(), principal.organization_id);
    let ListQuery { page, filter } = query;
    let fetch = page.clone();
    let rows = db::run(&state.pool, move |conn| {
        store::find(conn, id, org)?;
        Ok(store::deliveries(conn, id, filter.status.as_deref(), &fetch)?)
    })
    .await?;
    Ok(Page::build(rows, &page, &req, &state.cursor_key, Delivery::from).respond(&req))
}

/// Send a delivery again.
///
/// A delivery that failed, was cancelled or was delivered gets a new series of
/// attempts (after whatever is still queued about its subject); a pending one is tried
/// now. The `webhook-id` stays the event's.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path), ("delivery_id" = Uuid, Path)),
    responses(
        (status = 202, description = "Queued.", body = Delivery),
        (status = 409, description = "The subscription is off (`webhook_inactive`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/deliveries/{delivery_id}/retry")]
pub async fn retry_webhook_delivery(
    auth: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::WebhooksManage)?;
    let ((id, delivery_id), org) = (path.into_inner(), principal.organization_id);
    let row = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let hook = store::lock(conn, id, org)?;
            if !hook.active {
                return Err(ApiError::conflict("webhook_inactive"));
            }
            let delivery = store::delivery(conn, id, delivery_id)?;
            Ok(store::requeue(conn, &delivery)?)
        })
    })
    .await?;
    Ok(HttpResponse::Accepted().json(Delivery::from(row)))
}

/// Send a test event (`webhook.ping`).
///
/// A delivery like any other — signed, retried, listed — of an event that is not in
/// the feed: `{"type": "webhook.ping", "subject": {"type": "webhook", …}, "data": {}}`.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path)),
    responses(
        (status = 202, description = "Queued.", body = Delivery),
        (status = 409, description = "The subscription is off (`webhook_inactive`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/ping")]
pub async fn ping_webhook(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::WebhooksManage)?;
    let (id, org) = (id.into_inner(), principal.organization_id);
    let row = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let hook = store::lock(conn, id, org)?;
            if !hook.active {
                return Err(ApiError::conflict("webhook_inactive"));
            }
            let event = DomainEvent {
                id: Uuid::now_v7(),
                kind: "webhook.ping".to_owned(),
                occurred_at: Utc::now(),
                organization_id: Some(hook.organization_id),
                subject: Subject {
                    kind: "webhook".to_owned(),
                    id: Some(hook.id),
                    url: subject_url("webhook", hook.id),
                },
                data: serde_json::json!({}),
            };
            let payload = serde_json::to_string(&event).map_err(ApiError::internal)?;
            let subject_key = format!("webhook/{}", hook.id);
            let message = Message {
                event_id: event.id,
                event_type: &event.kind,
                organization_id: hook.organization_id,
                subject_key: &subject_key,
                payload: &payload,
            };
            let delivery = store::enqueue(conn, hook.id, &message)?;
            Ok(store::delivery(conn, hook.id, delivery)?)
        })
    })
    .await?;
    Ok(HttpResponse::Accepted().json(Delivery::from(row)))
}
