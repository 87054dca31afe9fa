//! What the sender of a record was told: each message with its kind, channel, masked
//! contact, outcome — never its text.
use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    auth::{AuthUser, Permission},
    db::{self, outbound},
    domain::messages::{MessageChannel, MessageKind},
    error::ApiError,
    state::AppState,
};

/// One message to the sender.
#[derive(Serialize, ToSchema)]
pub struct SenderMessage {
    pub id: Uuid,
    pub kind: MessageKind,
    pub channel: MessageChannel,
    /// `n***@gmail.com`, `09******78`.
    pub recipient: String,
    /// `pending` (being sent, or tried again later), `sent` (the relay or gateway took
    /// it), `failed` (refused, or the retry schedule ran out), `skipped` (no relay or
    /// gateway configured, or the sender withdrew consent before it went).
    #[schema(pattern = "^(pending|sent|failed|skipped)$")]
    pub status: String,
    pub attempts: i32,
    /// SMS parts it takes (160 GSM / 70 UCS-2 characters in one).
    pub parts: Option<i32>,
    pub last_error: Option<String>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct SenderMessages {
    pub feedback_id: Uuid,
    /// Oldest first.
    pub items: Vec<SenderMessage>,
    /// Always `null`: every message is on this page.
    pub next_cursor: Option<String>,
}

/// The messages to a record's sender.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "Oldest first.", body = SenderMessages))
)]
#[get("/{id}/messages")]
pub async fn list_sender_messages(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackRead)?;
    let feedback_id = super::records::load_for(&state, &principal, id.into_inner()).await?.row.id;
    let rows = db::run(&state.pool, move |conn| Ok(outbound::of_feedback(conn, feedback_id)?)).await?;
    let items = rows
        .into_iter()
        .filter_map(|r| {
            Some(SenderMessage {
                id: r.id,
                kind: MessageKind::parse(&r.kind)?,
                channel: MessageChannel::parse(&r.channel)?,
                recipient: r.recipient_masked,
                status: r.status,
                attempts: r.attempts,
                parts: r.parts,
                last_error: r.last_error,
                created_at: r.created_at,
                sent_at: r.sent_at,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(SenderMessages { feedback_id, items, next_cursor: None }))
}
