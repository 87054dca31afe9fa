//! Webhook subscriptions and their deliveries. A delivery and its job are written in
//! the transaction of the change whose event they carry (`db::events::record`).
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use crate::{
    db::{
        jobs,
        page::{PageRequest, Position},
        schema::{webhook_deliveries, webhooks},
    },
    keyset, org_scoped_fns,
};

/// The job kind of one delivery attempt series.
pub const DELIVER: &str = "webhook.deliver";

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub url: String,
    pub event_types: Vec<Option<String>>,
    pub description: Option<String>,
    pub active: bool,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub secret_rotated_at: DateTime<Utc>,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

impl WebhookRow {
    /// The secrets that sign a delivery now: the current one, and the previous one
    /// while its overlap lasts.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&str> {
        let mut out = vec![self.secret.as_str()];
        if let (Some(old), Some(until)) = (&self.previous_secret, self.previous_secret_expires_at)
            && until > now
        {
            out.push(old);
        }
        out
    }

    pub fn patterns(&self) -> Vec<String> {
        self.event_types.iter().flatten().cloned().collect()
    }
}

#[derive(Insertable)]
#[diesel(table_name = webhooks)]
pub struct NewWebhook {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub url: String,
    pub event_types: Vec<Option<String>>,
    pub description: Option<String>,
    pub active: bool,
    pub secret: String,
    pub created_by: Option<Uuid>,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = webhooks)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub event_types: Option<Vec<Option<String>>>,
    pub description: Option<Option<String>>,
    pub active: Option<bool>,
    /// Cleared when a subscription is turned on again.
    pub disabled_reason: Option<Option<String>>,
    pub disabled_at: Option<Option<DateTime<Utc>>>,
}

#[derive(Default)]
pub struct Filter {
    pub organization_id: Option<Uuid>,
    pub active: Option<bool>,
}

org_scoped_fns!(webhooks, WebhookRow, WebhookChanges, "webhook");

pub fn list(conn: &mut PgConnection, filter: &Filter, page: &PageRequest) -> QueryResult<Vec<WebhookRow>> {
    let mut q = webhooks::table.into_boxed();
    if let Some(org) = filter.organization_id {
        q = q.filter(webhooks::organization_id.eq(org));
    }
    if let Some(active) = filter.active {
        q = q.filter(webhooks::active.eq(active));
    }
    keyset!(q, webhooks, page).select(WebhookRow::as_select()).load(conn)
}

pub fn insert(conn: &mut PgConnection, new: &NewWebhook) -> QueryResult<WebhookRow> {
    diesel::insert_into(webhooks::table).values(new).returning(WebhookRow::as_returning()).get_result(conn)
}

/// A new current secret; the one it replaces keeps signing until `previous_until`.
pub fn rotate_secret(
    conn: &mut PgConnection,
    id: Uuid,
    secret: &str,
    previous_until: DateTime<Utc>,
) -> QueryResult<WebhookRow> {
    diesel::update(webhooks::table.find(id))
        .set((
            webhooks::previous_secret.eq(webhooks::secret.nullable()),
            webhooks::previous_secret_expires_at.eq(previous_until),
            webhooks::secret.eq(secret),
            webhooks::secret_rotated_at.eq(diesel::dsl::now),
            webhooks::updated_at.eq(diesel::dsl::now),
            webhooks::version.eq(webhooks::version + 1),
        ))
        .returning(WebhookRow::as_returning())
        .get_result(conn)
}

/// Turns a subscription off for `reason` (`gone`, `failing`), if it is still on.
pub fn disable(conn: &mut PgConnection, id: Uuid, reason: &str) -> QueryResult<Option<WebhookRow>> {
    diesel::update(webhooks::table.find(id).filter(webhooks::active.eq(true)))
        .set((
            webhooks::active.eq(false),
            webhooks::disabled_reason.eq(reason),
            webhooks::disabled_at.eq(diesel::dsl::now),
            webhooks::updated_at.eq(diesel::dsl::now),
            webhooks::version.eq(webhooks::version + 1),
        ))
        .returning(WebhookRow::as_returning())
        .get_result(conn)
        .optional()
}

/// What a delivery carries of its event.
pub struct Message<'a> {
    pub event_id: Uuid,
    pub event_type: &'a str,
    pub organization_id: Uuid,
    /// Deliveries with one key reach the subscription in order (the event's subject).
    pub subject_key: &'a str,
    /// The body, exactly as every attempt sends it.
    pub payload: &'a str,
}

/// Queues `message` for `webhook`: the delivery row and its job, in the caller's
/// transaction. Returns the delivery's id.
pub fn enqueue(conn: &mut PgConnection, webhook: Uuid, message: &Message<'_>) -> QueryResult<Uuid> {
    let id = Uuid::now_v7();
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::id.eq(id),
            webhook_deliveries::webhook_id.eq(webhook),
            webhook_deliveries::organization_id.eq(message.organization_id),
            webhook_deliveries::event_id.eq(message.event_id),
            webhook_deliveries::event_type.eq(message.event_type),
            webhook_deliveries::subject_key.eq(message.subject_key),
            webhook_deliveries::payload.eq(message.payload),
        ))
        .execute(conn)?;
    let key = format!("webhook/{webhook}/{}", message.subject_key);
    jobs::enqueue(conn, DELIVER, Some(&key), &json!({"delivery_id": id, "webhook_id": webhook}))?;
    Ok(id)
}

/// Stops what is still to be sent to a subscription (turned off or deleted): its jobs
/// go, and its pending deliveries become `cancelled`.
pub fn cancel_pending(conn: &mut PgConnection, webhook: Uuid) -> QueryResult<usize> {
    jobs::cancel(conn, DELIVER, "webhook_id", &webhook.to_string())?;
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::webhook_id.eq(webhook))
            .filter(webhook_deliveries::status.eq("pending")),
    )
    .set((
        webhook_deliveries::status.eq("cancelled"),
        webhook_deliveries::next_attempt_at.eq(None::<DateTime<Utc>>),
        webhook_deliveries::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub organization_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub subject_key: String,
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub last_status_code: Option<i32>,
    pub last_latency_ms: Option<i32>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl crate::db::page::Row for DeliveryRow {
    fn id(&self) -> Uuid {
        self.id
    }
    fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
    fn deleted_at(&self) -> Option<DateTime<Utc>> {
        None
    }
}

/// A subscription's deliveries, oldest first (or in sync order under `updated_since`).
pub fn deliveries(
    conn: &mut PgConnection,
    webhook: Uuid,
    status: Option<&str>,
    page: &PageRequest,
) -> QueryResult<Vec<DeliveryRow>> {
    use webhook_deliveries as d;
    let mut q = d::table.filter(d::webhook_id.eq(webhook)).into_boxed();
    if let Some(status) = status {
        q = q.filter(d::status.eq(status.to_owned()));
    }
    q = match (page.updated_since, page.after) {
        (None, after) => {
            if let Some(Position::Id(id)) = after {
                q = q.filter(d::id.gt(id));
            }
            q.order(d::id.asc())
        }
        (Some(since), after) => {
            q = q.filter(d::updated_at.ge(since));
            if let Some(Position::Sync(at, id)) = after {
                q = q.filter(d::updated_at.gt(at).or(d::updated_at.eq(at).and(d::id.gt(id))));
            }
            q.order((d::updated_at.asc(), d::id.asc()))
        }
    };
    q.limit(page.fetch()).select(DeliveryRow::as_select()).load(conn)
}

pub fn delivery(conn: &mut PgConnection, webhook: Uuid, id: Uuid) -> QueryResult<DeliveryRow> {
    webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook))
        .filter(webhook_deliveries::id.eq(id))
        .select(DeliveryRow::as_select())
        .first(conn)
}

/// A delivery and its subscription, for a worker (the row locked while it decides).
pub fn delivery_with_webhook(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<(DeliveryRow, WebhookRow)>> {
    webhook_deliveries::table
        .inner_join(webhooks::table)
        .filter(webhook_deliveries::id.eq(id))
        .select((DeliveryRow::as_select(), WebhookRow::as_select()))
        .first(conn)
        .optional()
}

/// What one attempt found.
pub struct Attempt<'a> {
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    pub error: Option<&'a str>,
    /// `pending` (a retry follows at `next_attempt_at`), `delivered` or `failed`.
    pub outcome: &'a str,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

pub fn record_attempt(conn: &mut PgConnection, id: Uuid, attempt: &Attempt<'_>) -> QueryResult<DeliveryRow> {
    use webhook_deliveries as d;
    diesel::update(d::table.find(id))
        .set((
            d::attempts.eq(d::attempts + 1),
            d::last_status_code.eq(attempt.status_code),
            d::last_latency_ms.eq(attempt.latency_ms),
            d::last_error.eq(attempt.error),
            d::status.eq(attempt.outcome),
            d::next_attempt_at.eq(attempt.next_attempt_at),
            d::updated_at.eq(diesel::dsl::now),
        ))
        .returning(DeliveryRow::as_returning())
        .get_result(conn)
        .and_then(|row| {
            if attempt.outcome != "delivered" {
                return Ok(row);
            }
            diesel::update(d::table.find(id))
                .set(d::delivered_at.eq(diesel::dsl::now))
                .returning(DeliveryRow::as_returning())
                .get_result(conn)
        })
}

/// Marks a delivery `cancelled` (its subscription is off) if it is still pending.
pub fn cancel(conn: &mut PgConnection, id: Uuid) -> QueryResult<()> {
    diesel::update(webhook_deliveries::table.find(id).filter(webhook_deliveries::status.eq("pending")))
        .set((
            webhook_deliveries::status.eq("cancelled"),
            webhook_deliveries::next_attempt_at.eq(None::<DateTime<Utc>>),
            webhook_deliveries::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Sends a delivery again: a pending one now (unless an attempt is under way), any
/// other with a new series of attempts, after what is queued for its subject.
pub fn requeue(conn: &mut PgConnection, delivery: &DeliveryRow) -> QueryResult<DeliveryRow> {
    if delivery.status == "pending" {
        jobs::hasten(conn, DELIVER, "delivery_id", &delivery.id.to_string())?;
    } else {
        let key = format!("webhook/{}/{}", delivery.webhook_id, delivery.subject_key);
        jobs::enqueue(
            conn,
            DELIVER,
            Some(&key),
            &json!({"delivery_id": delivery.id, "webhook_id": delivery.webhook_id}),
        )?;
    }
    diesel::update(webhook_deliveries::table.find(delivery.id))
        .set((
            webhook_deliveries::status.eq("pending"),
            webhook_deliveries::next_attempt_at.eq(diesel::dsl::now),
            webhook_deliveries::updated_at.eq(diesel::dsl::now),
        ))
        .returning(DeliveryRow::as_returning())
        .get_result(conn)
}
