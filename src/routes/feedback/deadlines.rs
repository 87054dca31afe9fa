//! What a department does about a deadline: progress notes with the date it commits
//! to, and extensions (gia hạn) of the deadline in working days.
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::workflow::answers_for;
use crate::{
    auth::{AuthUser, Permission, principal::Principal},
    db::{
        self,
        audit::{self, Actor, Event},
        deadlines::{ExtensionRow, NewExtension, ProgressNoteRow},
        feedback::{self as store, FeedbackChanges, FeedbackRow},
    },
    domain::{deadlines::extended, feedback::FeedbackStatus, messages::MessageKind, validate},
    error::ApiError,
    http::{ApiJson, RequestContext},
    state::AppState,
};

/// What the department is doing about a record, and the day it commits to answer by.
#[derive(Serialize, ToSchema, Clone)]
pub struct ProgressNote {
    pub id: Uuid,
    pub feedback_id: Uuid,
    pub text: String,
    pub committed_on: NaiveDate,
    pub written_by: Option<Uuid>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: DateTime<Utc>,
}

impl From<ProgressNoteRow> for ProgressNote {
    fn from(r: ProgressNoteRow) -> Self {
        Self {
            id: r.id,
            feedback_id: r.feedback_id,
            text: r.text,
            committed_on: r.committed_on,
            written_by: r.written_by,
            created_at: r.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ProgressNotes {
    pub feedback_id: Uuid,
    /// Oldest first (all of them).
    pub items: Vec<ProgressNote>,
    /// Always `null`: every note is in this answer.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"text": "Đã làm việc với nhà thầu, chờ biên bản hiện trường.", "committed_on": "2021-04-02"}))]
pub struct CreateProgressNote {
    #[validate(length(min = 1, max = 4000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 4000)]
    pub text: String,
    /// The day the department commits to answer by: today (in Vietnam) or later.
    pub committed_on: NaiveDate,
}

/// An extension of a record's deadline.
#[derive(Serialize, ToSchema, Clone)]
pub struct Extension {
    pub id: Uuid,
    pub feedback_id: Uuid,
    pub working_days: i32,
    pub reason: String,
    pub previous_deadline: NaiveDate,
    pub new_deadline: NaiveDate,
    pub granted_by: Option<Uuid>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: DateTime<Utc>,
}

impl From<ExtensionRow> for Extension {
    fn from(r: ExtensionRow) -> Self {
        Self {
            id: r.id,
            feedback_id: r.feedback_id,
            working_days: r.working_days,
            reason: r.reason,
            previous_deadline: r.previous_deadline,
            new_deadline: r.new_deadline,
            granted_by: r.granted_by,
            created_at: r.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Extensions {
    pub feedback_id: Uuid,
    /// Oldest first (all of them).
    pub items: Vec<Extension>,
    /// Always `null`: every extension is in this answer.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"working_days": 5, "reason": "Cần ý kiến của Sở Xây dựng."}))]
pub struct CreateExtension {
    /// Working days added to the deadline, on the organisation's working calendar.
    #[validate(range(min = 1, max = 60))]
    #[schema(minimum = 1, maximum = 60)]
    pub working_days: i32,
    #[validate(length(min = 1, max = 2000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// The record, locked, if the caller may act on its deadline: the assigned department,
/// or who manages feedback; it must still be open.
fn open_for(conn: &mut diesel::PgConnection, principal: &Principal, id: Uuid) -> Result<FeedbackRow, ApiError> {
    let current = store::lock(conn, id, principal.organization_id)?;
    if !answers_for(principal, current.department_id) && !principal.allows(Permission::FeedbackManage) {
        return Err(ApiError::new(actix_web::http::StatusCode::FORBIDDEN, "not_assigned_department"));
    }
    if !matches!(current.status, FeedbackStatus::Accepted | FeedbackStatus::InProgress) {
        return Err(ApiError::conflict("feedback_not_open"));
    }
    Ok(current)
}

/// A record's progress notes, oldest first.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "Oldest first.", body = ProgressNotes))
)]
#[get("/{id}/progress-notes")]
pub async fn list_progress_notes(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackRead)?;
    let feedback_id = super::records::load_for(&state, &principal, id.into_inner()).await?.row.id;
    let rows = db::run(&state.pool, move |conn| Ok(db::deadlines::notes(conn, feedback_id)?)).await?;
    let items = rows.into_iter().map(ProgressNote::from).collect();
    Ok(HttpResponse::Ok().json(ProgressNotes { feedback_id, items, next_cursor: None }))
}

/// Write a progress note.
///
/// By the assigned department (or who manages feedback), while the record is open. Once
/// its deadline has passed, the department is reminded daily until it writes one.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path)),
    request_body = CreateProgressNote,
    responses(
        (status = 201, description = "Written.", body = ProgressNote),
        (status = 409, description = "The record is not open (`feedback_not_open`).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`committed_on` is in the past (`committed_on_past`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/progress-notes")]
pub async fn create_progress_note(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    body: ApiJson<CreateProgressNote>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackAnswer)?;
    let (id, body, now) = (id.into_inner(), body.0, state.clock.now());
    if body.committed_on < crate::clock::local_date(now) {
        return Err(ApiError::rule("committed_on", "committed_on_past"));
    }
    let actor = Actor::of(&principal, &ctx);
    let note = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let current = open_for(conn, &principal, id)?;
            let by = (Some(principal.id), now);
            let org = current.organization_id;
            let row = db::deadlines::add_note(conn, (id, org), body.text.trim(), body.committed_on, by)?;
            let note = ProgressNote::from(row);
            audit::record(conn, &actor, Event::created("feedback_progress_note", note.id, Some(org), &note))?;
            Ok(note)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(note))
}

/// A record's extensions, oldest first.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "Oldest first.", body = Extensions))
)]
#[get("/{id}/extensions")]
pub async fn list_feedback_extensions(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackRead)?;
    let feedback_id = super::records::load_for(&state, &principal, id.into_inner()).await?.row.id;
    let rows = db::run(&state.pool, move |conn| Ok(db::deadlines::extensions(conn, feedback_id)?)).await?;
    let items = rows.into_iter().map(Extension::from).collect();
    Ok(HttpResponse::Ok().json(Extensions { feedback_id, items, next_cursor: None }))
}

/// Extend a record's deadline (gia hạn).
///
/// By the assigned department or who manages feedback, while the record is open, at
/// most `CCHC_FEEDBACK_MAX_EXTENSIONS` times (default once). The new deadline is
/// `working_days` working days on from the current one (from today, if it has passed)
/// on the organisation's working calendar; `deadline_reason` becomes the reason.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path)),
    request_body = CreateExtension,
    responses(
        (status = 201, description = "Extended.", body = Extension),
        (status = 409, description = "The record is not open (`feedback_not_open`), or has had every extension allowed (`extension_limit`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/extensions")]
pub async fn extend_feedback(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    body: ApiJson<CreateExtension>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackAnswer)?;
    let (id, body, now) = (id.into_inner(), body.0, state.clock.now());
    let max = state.settings.deadlines.max_extensions;
    let actor = Actor::of(&principal, &ctx);
    let links = db::outbound::Links { base: state.settings.public_url.clone() };
    let extension = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let current = open_for(conn, &principal, id)?;
            let org = current.organization_id;
            if db::deadlines::extensions(conn, id)?.len() as i64 >= max {
                return Err(ApiError::conflict("extension_limit").arg("max", max));
            }
            let today = crate::clock::local_date(now);
            let calendar = store::working_calendar(conn, org, today.min(current.deadline_on))?;
            let days = u32::try_from(body.working_days).unwrap_or(1);
            let new = extended(current.deadline_on, today, days, &calendar);
            let reason = body.reason.trim().to_owned();
            let row = db::deadlines::add_extension(
                conn,
                &NewExtension {
                    feedback: id,
                    organization: org,
                    working_days: body.working_days,
                    reason: &reason,
                    previous: current.deadline_on,
                    new,
                    by: Some(principal.id),
                    at: now,
                },
            )?;
            let changes = FeedbackChanges {
                deadline_on: Some(new),
                deadline_reason: Some(Some(reason.clone())),
                ..Default::default()
            };
            store::update(conn, id, &changes)?;
            let before =
                serde_json::json!({"deadline_on": current.deadline_on, "deadline_reason": current.deadline_reason});
            let after = serde_json::json!({"deadline_on": new, "deadline_reason": reason});
            let changes = audit::diff(&before, &after);
            audit::record(
                conn,
                &actor,
                Event {
                    action: "extend",
                    entity_type: "feedback",
                    entity_id: Some(id),
                    organization_id: Some(org),
                    changes,
                },
            )?;
            let values = vec![
                ("deadline", new.format("%d/%m/%Y").to_string()),
                ("previous_deadline", current.deadline_on.format("%d/%m/%Y").to_string()),
                ("reason", reason),
            ];
            let occasion = row.id.to_string();
            db::outbound::to_sender(conn, id, MessageKind::Extension, &occasion, values, &links)?;
            Ok(Extension::from(row))
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(extension))
}
