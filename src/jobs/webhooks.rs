//! One delivery attempt: check the receiver's address again, sign the body as Standard
//! Webhooks does, POST it (no redirects, time-outs, a capped answer), and record what
//! happened — delivered, put off by the retry schedule, or failed (410 Gone or the
//! schedule run out turn the subscription off, with a `webhook.disabled` event).
use std::{net::SocketAddr, sync::Arc, time::Instant};

use chrono::Utc;
use diesel::Connection;
use serde_json::json;

use super::Runner;
use crate::{
    config::WebhookSettings,
    db::{
        self,
        audit::{Actor, Event},
        jobs::{self, Job},
        webhooks::{self as store, Attempt, DeliveryRow, WebhookRow},
    },
    domain::webhooks::{address_allowed, check_url},
    error::ApiError,
};

pub use store::DELIVER;

/// The most of a receiver's answer that is read (and thrown away).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The HTTP client deliveries go out through.
pub struct Sender {
    client: reqwest::Client,
    settings: WebhookSettings,
}

/// The HTTP client everything the service sends or fetches goes through: no redirects,
/// no proxy, time-outs, and a resolver that drops the addresses it may not call.
pub(super) fn guarded_client(settings: &WebhookSettings, purpose: &str) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // A proxy would reach addresses the resolver below refuses.
        .no_proxy()
        .connect_timeout(settings.timeout.min(std::time::Duration::from_secs(5)))
        .timeout(settings.timeout)
        .dns_resolver(Arc::new(Guarded { allow_private: settings.allow_private }))
        .user_agent(format!("cchc-outreach/{} ({purpose})", env!("CARGO_PKG_VERSION")))
        .build()?)
}

impl Sender {
    pub fn new(settings: &WebhookSettings) -> anyhow::Result<Self> {
        Ok(Self { client: guarded_client(settings, "webhooks")?, settings: settings.clone() })
    }

    /// POSTs `delivery` to `hook`; the status code, or what went wrong.
    async fn send(&self, hook: &WebhookRow, delivery: &DeliveryRow) -> Result<u16, String> {
        let url = check_url(&hook.url, self.settings.allow_http, self.settings.allow_private)
            .map_err(|code| format!("the receiver's address is refused ({code})"))?;
        let id = delivery.event_id.to_string();
        let timestamp = Utc::now().timestamp();
        let mut signatures = Vec::new();
        for secret in hook.signing_secrets(Utc::now()) {
            let signer = standardwebhooks::Webhook::new(secret).map_err(|e| format!("bad signing secret: {e}"))?;
            signatures.push(signer.sign(&id, timestamp, delivery.payload.as_bytes()).map_err(|e| e.to_string())?);
        }
        let mut answer = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signatures.join(" "))
            .body(delivery.payload.clone())
            .send()
            .await
            .map_err(describe)?;
        let status = answer.status().as_u16();
        let mut read = 0;
        while read < MAX_ANSWER_BYTES {
            match answer.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                _ => break,
            }
        }
        Ok(status)
    }
}

/// `error sending request: connection refused`: the error and its causes, short.
pub(super) fn describe(err: reqwest::Error) -> String {
    let mut text = if err.is_timeout() { "timed out".to_owned() } else { err.to_string() };
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(500).collect()
}

/// Resolves a receiver's name and keeps only the addresses it may call, so a name
/// cannot lead to a private or metadata address (checked at each connection).
struct Guarded {
    allow_private: bool,
}

impl reqwest::dns::Resolve for Guarded {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let (host, allow_private) = (name.as_str().to_owned(), self.allow_private);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| address_allowed(addr.ip(), allow_private).is_ok())
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host} resolves to no address the service may call").into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Works one `webhook.deliver` job.
pub async fn deliver(runner: &Runner, job: Job) -> Result<(), ApiError> {
    let (job_id, worker) = (job.id, runner.worker);
    let Some(delivery_id) = job.payload.get("delivery_id").and_then(|v| v.as_str()).and_then(|v| v.parse().ok()) else {
        return db::run(&runner.pool, move |conn| Ok(jobs::finish(conn, job_id, worker).map(|_| ())?)).await;
    };
    let loaded = db::run(&runner.pool, move |conn| Ok(store::delivery_with_webhook(conn, delivery_id)?)).await?;
    let Some((delivery, hook)) = loaded.filter(|(d, h)| d.status == "pending" && h.active && h.deleted_at.is_none())
    else {
        // Sent already, or the subscription is off: nothing more to do.
        return db::run(&runner.pool, move |conn| {
            conn.transaction(|conn| {
                if jobs::finish(conn, job_id, worker)? {
                    store::cancel(conn, delivery_id)?;
                }
                Ok(())
            })
        })
        .await;
    };
    let started = Instant::now();
    let sent = runner.sender.send(&hook, &delivery).await;
    let latency_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    let retry = runner.settings.webhooks.retry.clone();
    let attempts = job.attempts;
    db::run(&runner.pool, move |conn| {
        conn.transaction(|conn| {
            let (status_code, error) = match &sent {
                Ok(code) => (Some(i32::from(*code)), None),
                Err(text) => (None, Some(text.as_str())),
            };
            let mut attempt = Attempt { status_code, latency_ms, error, outcome: "delivered", next_attempt_at: None };
            let disable = match sent {
                Ok(200..=299) => None,
                Ok(410) => Some("gone"),
                _ => match retry.wait_after(attempts, rand::random::<f64>()) {
                    Some(wait) => {
                        if !jobs::put_off(conn, job_id, worker, wait.as_secs_f64())? {
                            return Ok(());
                        }
                        attempt.outcome = "pending";
                        attempt.next_attempt_at = Some(Utc::now() + wait);
                        store::record_attempt(conn, delivery.id, &attempt)?;
                        return Ok(());
                    }
                    None => Some("failing"),
                },
            };
            if !jobs::finish(conn, job_id, worker)? {
                // Our lease ran out and another instance took the job: its outcome counts.
                return Ok(());
            }
            if disable.is_some() {
                attempt.outcome = "failed";
            }
            store::record_attempt(conn, delivery.id, &attempt)?;
            if let Some(reason) = disable {
                turn_off(conn, &hook, reason)?;
            }
            Ok(())
        })
    })
    .await
}

/// Turns a subscription off (410 Gone, or failing past the schedule) and says so in the
/// audit trail and the feed (`webhook.disabled`).
fn turn_off(conn: &mut diesel::PgConnection, hook: &WebhookRow, reason: &str) -> Result<(), ApiError> {
    if store::disable(conn, hook.id, reason)?.is_none() {
        return Ok(());
    }
    store::cancel_pending(conn, hook.id)?;
    tracing::warn!(webhook = %hook.id, reason, "a webhook subscription was turned off");
    let changes = json!({
        "active": {"before": true, "after": false},
        "disabled_reason": {"before": null, "after": reason},
    });
    db::audit::record(
        conn,
        &Actor::system(),
        Event {
            action: "disable",
            entity_type: "webhook",
            entity_id: Some(hook.id),
            organization_id: Some(hook.organization_id),
            changes,
        },
    )?;
    Ok(())
}
