//! A record's way through its statuses, its history and its answers.

use actix_web::{HttpResponse, get, http::header, post, web};
use chrono::{DateTime, Utc};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::{
    auth::{AuthUser, Permission, Principal, PrincipalKind},
    db::{
        self, Record,
        audit::{self, Actor, Event},
        feedback::{self as store, AnswerRow, FeedbackChanges, FeedbackRecord},
    },
    domain::{feedback::FeedbackStatus, messages::MessageKind, validate},
    error::ApiError,
    http::{ApiJson, IfMatch, RequestContext},
    routes::crud::{self},
    state::AppState,
};

use super::records::{Feedback, client_scope, load_for};

/// A status change.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "rejected", "reason": "Không thuộc thẩm quyền của Ban"}))]
pub struct FeedbackTransition {
    /// `accepted`, `in_progress`, `closed`, `rejected` or `forwarded`; `answered` comes
    /// with the first answer.
    pub to: FeedbackStatus,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    /// Required to reject it.
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: Option<String>,
    /// Required to forward it: the organisation it goes to.
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub forwarded_to: Option<String>,
}

/// Move a record to another status.
///
/// From `received`: `accepted` (a department must be assigned), `rejected` (with a
/// `reason`: not within the organisation's remit) or `forwarded` (with `forwarded_to`).
/// Then `in_progress` (also by the assigned department), `answered` (by answering),
/// `closed`. Anything else is a 409 naming the allowed ones. Every change is kept in
/// the history.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    request_body = FeedbackTransition,
    responses(
        (status = 200, description = "Moved.", body = Feedback, headers(("ETag" = String))),
        (status = 409, description = "Not allowed from the current status (`transition_not_allowed`).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "No department is assigned (`department_required`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/transitions")]
pub async fn transition_feedback(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<FeedbackTransition>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    // `http::rules`: a reason to reject, the receiving body to forward.
    let FeedbackTransition { to, note, reason, forwarded_to } = body.0;
    // Moving to `in_progress` is also the assigned department's (checked on the record).
    principal.require(if to == FeedbackStatus::InProgress {
        Permission::FeedbackRead
    } else {
        Permission::FeedbackManage
    })?;
    let (id, org, now) = (id.into_inner(), principal.organization_id, state.clock.now());
    let actor = Actor::of(&principal, &ctx);
    let history_actor = actor.clone();
    let detail = note.or_else(|| reason.clone()).or_else(|| forwarded_to.clone());
    let history_detail = detail.clone();
    crud::transition(
        &state,
        actor,
        if_match,
        crud::Move { to, detail: ("note", detail) },
        move |conn| {
            let current = FeedbackRecord::lock(conn, id, org)?;
            if client_scope(&principal).is_some_and(|c| current.row.source_client_id != Some(c)) {
                return Err(ApiError::not_found());
            }
            if to == FeedbackStatus::InProgress && !answers_for(&principal, current.row.department_id) {
                principal.require(Permission::FeedbackManage)?;
            }
            Ok(current)
        },
        move |conn, current, from| {
            if to == FeedbackStatus::Accepted && current.row.department_id.is_none() {
                return Err(ApiError::unprocessable("department_required"));
            }
            let changes = FeedbackChanges {
                status: Some(to),
                status_reason: (to == FeedbackStatus::Rejected).then_some(reason),
                forwarded_to: (to == FeedbackStatus::Forwarded).then_some(forwarded_to),
                closed_at: (to == FeedbackStatus::Closed).then_some(Some(now)),
                ..Default::default()
            };
            let updated = store::update(conn, id, &changes)?;
            store::add_history(conn, id, Some(from), to, history_detail.as_deref(), &history_actor, now)?;
            Ok(current.with_row(updated))
        },
        |record| crud::present::<Feedback>(record, &state),
    )
    .await
}

impl crud::Moves for FeedbackRecord {
    type Status = FeedbackStatus;
    const ENTITY: &'static str = "feedback";
    fn id(&self) -> Uuid {
        self.row.id
    }
    fn organization_id(&self) -> Uuid {
        self.row.organization_id
    }
    fn version(&self) -> i32 {
        self.row.version
    }
    fn status(&self) -> FeedbackStatus {
        self.row.status
    }
}

/// Whether `principal` belongs to the department that answers the record.
pub(super) fn answers_for(principal: &Principal, department: Option<Uuid>) -> bool {
    principal.allows(Permission::FeedbackAnswer)
        && matches!(principal.kind, PrincipalKind::User { department_id: Some(own), .. } if department == Some(own))
}

/// One status change.
#[derive(Serialize, ToSchema)]
pub struct HistoryEntry {
    /// `null` for the record's filing.
    pub from_status: Option<FeedbackStatus>,
    pub to_status: FeedbackStatus,
    pub note: Option<String>,
    /// `user`, `client` or `system`.
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub actor_name: Option<String>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub at: DateTime<Utc>,
}

/// The history of a record.
#[derive(Serialize, ToSchema)]
pub struct History {
    pub feedback_id: Uuid,
    /// Oldest first (all of them).
    pub items: Vec<HistoryEntry>,
    /// Always `null`: the whole history is in this answer.
    pub next_cursor: Option<String>,
}

/// The history of a record: every status it went through, who moved it, when.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "Oldest first.", body = History))
)]
#[get("/{id}/history")]
pub async fn list_feedback_history(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackRead)?;
    let record = load_for(&state, &principal, id.into_inner()).await?;
    let feedback_id = record.row.id;
    let rows = db::run(&state.pool, move |conn| Ok(store::history(conn, feedback_id)?)).await?;
    let items = rows
        .into_iter()
        .map(|h| HistoryEntry {
            from_status: h.from_status,
            to_status: h.to_status,
            note: h.note,
            actor_kind: h.actor_kind,
            actor_id: h.actor_id,
            actor_name: h.actor_name,
            at: h.at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(History { feedback_id, items, next_cursor: None }))
}

/// An answer to a record.
#[derive(Serialize, ToSchema, Clone)]
pub struct Answer {
    pub id: Uuid,
    pub feedback_id: Uuid,
    pub text: String,
    /// Links to attached documents.
    pub attachments: Vec<String>,
    pub answered_by: Option<Uuid>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub answered_at: DateTime<Utc>,
}

impl From<AnswerRow> for Answer {
    fn from(a: AnswerRow) -> Self {
        Self {
            id: a.id,
            feedback_id: a.feedback_id,
            text: a.text,
            attachments: a.attachments.into_iter().flatten().collect(),
            answered_by: a.answered_by,
            answered_at: a.answered_at,
        }
    }
}

/// The answers of a record.
#[derive(Serialize, ToSchema)]
pub struct Answers {
    pub feedback_id: Uuid,
    /// Oldest first (all of them).
    pub items: Vec<Answer>,
    /// Always `null`: every answer is in this answer.
    pub next_cursor: Option<String>,
}

pub(super) fn attachment_links(value: &[String]) -> Result<(), validator::ValidationError> {
    if value.iter().all(|l| validate::http_url(l).is_ok()) {
        Ok(())
    } else {
        Err(validator::ValidationError::new("invalid_url"))
    }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"text": "Ban đã làm việc với đơn vị tư vấn; hồ sơ được trả kết quả ngày 15/6/2021."}))]
pub struct CreateAnswer {
    #[validate(length(min = 1, max = 50000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 50000)]
    pub text: String,
    /// Links (http/https) to attached documents.
    #[serde(default)]
    #[validate(custom(function = "attachment_links"), length(max = 20))]
    #[schema(max_items = 20, value_type = Vec<crate::domain::validate::HttpUrl>)]
    pub attachments: Vec<String>,
}

/// The answers of a record, oldest first.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "Oldest first.", body = Answers))
)]
#[get("/{id}/answers")]
pub async fn list_feedback_answers(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackRead)?;
    let record = load_for(&state, &principal, id.into_inner()).await?;
    let feedback_id = record.row.id;
    let rows = db::run(&state.pool, move |conn| Ok(store::answers(conn, &[feedback_id])?)).await?;
    Ok(HttpResponse::Ok().json(Answers {
        feedback_id,
        items: rows.into_iter().map(Answer::from).collect(),
        next_cursor: None,
    }))
}

/// Answer a record.
///
/// Only people of the assigned department answer (403 otherwise), once the record is
/// accepted; the first answer moves it to `answered`.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path), crate::http::idempotency::IdempotencyKeyHeader),
    request_body = CreateAnswer,
    responses(
        (status = 201, description = "Answered.", body = Answer, headers(("Location" = String))),
        (status = 409, description = "The record is not accepted yet, or already closed (`feedback_not_accepted`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/answers", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn answer_feedback(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    body: ApiJson<CreateAnswer>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackAnswer)?;
    let body = body.0;
    let (id, org, now) = (id.into_inner(), principal.organization_id, state.clock.now());
    let actor = Actor::of(&principal, &ctx);
    let links = db::outbound::Links { base: state.settings.public_url.clone() };
    let reopen_days = state.settings.deadlines.reopen_days;
    let answer = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let current = store::lock(conn, id, org)?;
            if !answers_for(&principal, current.department_id) {
                return Err(ApiError::new(actix_web::http::StatusCode::FORBIDDEN, "not_assigned_department"));
            }
            if !matches!(
                current.status,
                FeedbackStatus::Accepted | FeedbackStatus::InProgress | FeedbackStatus::Answered
            ) {
                return Err(ApiError::conflict("feedback_not_accepted"));
            }
            let answer = store::add_answer(conn, &current, body.text.trim(), &body.attachments, principal.id, now)?;
            if current.status != FeedbackStatus::Answered {
                let changes = FeedbackChanges {
                    status: Some(FeedbackStatus::Answered),
                    answered_at: Some(Some(now)),
                    ..Default::default()
                };
                store::update(conn, id, &changes)?;
                store::add_history(conn, id, Some(current.status), FeedbackStatus::Answered, None, &actor, now)?;
                // The record's own change, so the trail and the feed say `feedback.answered`.
                let at = crate::domain::time::rfc3339::text(&now);
                audit::record(
                    conn,
                    &actor,
                    Event::updated(
                        "feedback",
                        id,
                        Some(current.organization_id),
                        &serde_json::json!({"status": current.status, "answered_at": null}),
                        &serde_json::json!({"status": FeedbackStatus::Answered, "answered_at": at}),
                    ),
                )?;
            }
            audit::record(
                conn,
                &actor,
                Event::created(
                    "feedback_answer",
                    answer.id,
                    Some(current.organization_id),
                    &Answer::from(answer.clone()),
                ),
            )?;
            let answered_on = crate::clock::local_date(current.answered_at.unwrap_or(now));
            let values = vec![
                ("answer", answer.text.clone()),
                ("reopen_until", (answered_on + chrono::Duration::days(reopen_days)).format("%d/%m/%Y").to_string()),
            ];
            let occasion = answer.id.to_string();
            db::outbound::to_sender(conn, id, MessageKind::Answer, &occasion, values, &links)?;
            Ok(answer)
        })
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/feedback/{}/answers", answer.feedback_id)))
        .json(Answer::from(answer)))
}
