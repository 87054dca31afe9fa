//! A person's inbox: the notices deadlines make (warnings, the deadline day,
//! escalations, reminders to write a progress note).
use actix_web::{HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::{
    auth::{AuthUser, principal::Principal},
    db::{
        self,
        notifications::{InboxPosition, NotificationRow},
    },
    domain::events::subject_url,
    error::ApiError,
    http::{ApiJson, query::ApiQuery},
    state::AppState,
};

/// One notice.
#[derive(Serialize, ToSchema)]
pub struct Notification {
    pub id: Uuid,
    /// `feedback.deadline_near`, `feedback.due_today`, `feedback.overdue`,
    /// `feedback.progress_note_due`.
    #[schema(example = "feedback.overdue")]
    pub kind: String,
    /// What it is about, in the person's language (`language` of
    /// `/me/notification-preferences`: Vietnamese unless they chose English).
    #[schema(example = "Phản ánh PAKN-2021-000123 đã quá hạn xử lý 29/03/2021 mà chưa trả lời")]
    pub title: String,
    pub subject_type: String,
    pub subject_id: Option<Uuid>,
    /// Where to read the subject.
    pub subject_url: Option<String>,
    pub read: bool,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub read_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: DateTime<Utc>,
}

impl Notification {
    fn new(r: NotificationRow, english: bool) -> Self {
        Self {
            subject_url: r.subject_id.and_then(|id| subject_url(&r.subject_type, id)),
            id: r.id,
            kind: r.kind,
            title: if english { r.title_en.unwrap_or(r.title) } else { r.title },
            subject_type: r.subject_type,
            subject_id: r.subject_id,
            read: r.read_at.is_some(),
            read_at: r.read_at,
            created_at: r.created_at,
        }
    }
}

/// A page of the inbox.
#[derive(Serialize, ToSchema)]
pub struct Inbox {
    /// Unread first, then read; newest first in each.
    pub items: Vec<Notification>,
    /// Pass as `after` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
    pub unread: i64,
}

fn inbox_cursor(value: &str) -> Result<(), ValidationError> {
    parse_cursor(value).map(|_| ()).ok_or_else(|| ValidationError::new("invalid_cursor"))
}

/// `u.<id>` (after an unread one) or `r.<id>` (after a read one).
fn parse_cursor(value: &str) -> Option<InboxPosition> {
    let (flag, id) = value.split_once('.')?;
    let read = match flag {
        "u" => false,
        "r" => true,
        _ => return None,
    };
    Some(InboxPosition { read, id: Uuid::parse_str(id).ok().filter(|_| id.len() == 36)? })
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InboxParams {
    /// The `next_cursor` of the page before.
    #[validate(custom(function = "inbox_cursor"))]
    #[param(pattern = r"^[ur]\.[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    pub after: Option<String>,
    /// Only the unread ones.
    pub unread: Option<bool>,
    /// 1–200 (default 50).
    #[validate(range(min = 1, max = 200))]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

fn person(principal: &Principal) -> Result<Uuid, ApiError> {
    if principal.kind_code() == "user" {
        Ok(principal.id)
    } else {
        Err(ApiError::forbidden().saying("notices_are_personal"))
    }
}

/// Read my notices.
#[utoipa::path(
    tag = "auth",
    params(InboxParams),
    responses((status = 200, description = "A page of the caller's notices.", body = Inbox))
)]
#[get("/notifications")]
pub async fn list_notifications(
    auth: AuthUser,
    query: ApiQuery<InboxParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = person(&auth.0)?;
    let params = query.0;
    let after = params.after.as_deref().and_then(parse_cursor);
    let (limit, unread_only) = (params.limit.unwrap_or(50), params.unread.unwrap_or(false));
    let (mut rows, unread, english) = db::run(&state.pool, move |conn| {
        let rows = db::notifications::inbox(conn, user, after, unread_only, limit + 1)?;
        let english = db::notifications::preferences(conn, user)?.language == "en";
        Ok((rows, db::notifications::unread(conn, user)?, english))
    })
    .await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor =
        rows.last().filter(|_| more).map(|r| format!("{}.{}", if r.read_at.is_some() { "r" } else { "u" }, r.id));
    Ok(HttpResponse::Ok().json(Inbox {
        items: rows.into_iter().map(|r| Notification::new(r, english)).collect(),
        next_cursor,
        unread,
    }))
}

/// Mark one of my notices read.
#[utoipa::path(
    tag = "auth",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "Read.", body = Notification))
)]
#[post("/notifications/{id}/read")]
pub async fn read_notification(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (user, id) = (person(&auth.0)?, id.into_inner());
    let (row, english) = db::run(&state.pool, move |conn| {
        let row = db::notifications::mark_read(conn, user, id)?;
        Ok((row, db::notifications::preferences(conn, user)?.language == "en"))
    })
    .await?;
    Ok(HttpResponse::Ok().json(Notification::new(row, english)))
}

/// The kinds of notice there are.
pub const KINDS: &[&str] = &[
    "feedback.deadline_near",
    "feedback.due_today",
    "feedback.overdue",
    "feedback.progress_note_due",
    "reporting_duty.due_soon",
    "reporting_duty.late",
    "reporting_duty.missing",
    "assignment.due_soon",
    "assignment.overdue",
    "report_submission.due_soon",
    "report_submission.late",
    "report_submission.received",
    "report_submission.acknowledged",
    "report_submission.returned",
];

/// Which notices come by e-mail too (the inbox has them all), whether in one daily
/// digest, and in which language.
#[derive(Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email_off": ["feedback.deadline_near", "reporting_duty.due_soon"], "digest": false, "language": "vi"}))]
pub struct Preferences {
    /// Kinds not to e-mail (`*`: no e-mail at all): `feedback.deadline_near`,
    /// `feedback.due_today`, `feedback.overdue`, `feedback.progress_note_due`,
    /// `reporting_duty.due_soon`, `reporting_duty.late`, `reporting_duty.missing`,
    /// `assignment.due_soon`, `assignment.overdue`, `report_submission.due_soon`,
    /// `report_submission.late`, `report_submission.received`,
    /// `report_submission.acknowledged`, `report_submission.returned`.
    #[validate(length(max = 20), custom(function = "known_kinds"))]
    #[schema(max_items = 20, value_type = Vec<NoticeKind>)]
    pub email_off: Vec<String>,
    /// `true`: one e-mail a day (at `CCHC_DIGEST_HOUR`, Vietnam) listing the day's
    /// notices, instead of one per notice. Default `false`.
    #[serde(default)]
    pub digest: bool,
    /// Notices and their e-mails in Vietnamese (`vi`, the default) or English (`en`).
    #[serde(default)]
    pub language: Language,
}

#[derive(Serialize, Deserialize, ToSchema, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Vi,
    En,
}

impl Language {
    fn code(self) -> &'static str {
        match self {
            Self::Vi => "vi",
            Self::En => "en",
        }
    }
}

/// A kind of notice, or `*`.
#[derive(ToSchema)]
#[schema(value_type = String, pattern = r"^(\*|feedback\.(deadline_near|due_today|overdue|progress_note_due)|reporting_duty\.(due_soon|late|missing)|assignment\.(due_soon|overdue)|report_submission\.(due_soon|late|received|acknowledged|returned))$")]
pub struct NoticeKind(pub String);

fn known_kinds(value: &[String]) -> Result<(), ValidationError> {
    if value.iter().all(|k| k == "*" || KINDS.contains(&k.as_str())) {
        Ok(())
    } else {
        Err(ValidationError::new("invalid_value"))
    }
}

/// My e-mail choices.
#[utoipa::path(tag = "auth", responses((status = 200, description = "The caller's choices.", body = Preferences)))]
#[get("/notification-preferences")]
pub async fn get_notification_preferences(
    auth: AuthUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = person(&auth.0)?;
    let p = db::run(&state.pool, move |conn| Ok(db::notifications::preferences(conn, user)?)).await?;
    let language = if p.language == "en" { Language::En } else { Language::Vi };
    Ok(HttpResponse::Ok().json(Preferences { email_off: p.email_off, digest: p.digest, language }))
}

/// Choose which notices come by e-mail.
#[utoipa::path(
    tag = "auth",
    request_body = Preferences,
    responses((status = 200, description = "Saved.", body = Preferences))
)]
#[put("/notification-preferences")]
pub async fn set_notification_preferences(
    auth: AuthUser,
    body: ApiJson<Preferences>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = person(&auth.0)?;
    let mut body = body.0;
    body.email_off.sort();
    body.email_off.dedup();
    let saved = db::notifications::Preferences {
        email_off: body.email_off.clone(),
        digest: body.digest,
        language: body.language.code().to_owned(),
    };
    db::run(&state.pool, move |conn| Ok(db::notifications::set_preferences(conn, user, &saved)?)).await?;
    Ok(HttpResponse::Ok().json(body))
}

/// How many notices a call marked read.
#[derive(Serialize, ToSchema)]
pub struct MarkedRead {
    pub marked: usize,
}

/// Mark all my notices read.
#[utoipa::path(tag = "auth", responses((status = 200, description = "Read.", body = MarkedRead)))]
#[post("/notifications/read-all")]
pub async fn read_all_notifications(auth: AuthUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let user = person(&auth.0)?;
    let marked = db::run(&state.pool, move |conn| Ok(db::notifications::mark_all_read(conn, user)?)).await?;
    Ok(HttpResponse::Ok().json(MarkedRead { marked }))
}
