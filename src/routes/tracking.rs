//! Tracking without an account: with the record's code and the PIN given when it was
//! filed, the sender reads where it stands and may reopen it. A wrong PIN, a locked
//! record and an unknown code answer alike (404).
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::{Duration, NaiveDate};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::{
    clock::local_date,
    db::{
        self,
        audit::{self, Actor, Event},
        feedback::{self as store, FeedbackChanges, FeedbackRow},
        tracking,
    },
    domain::{
        feedback::{FeedbackStatus, deadline},
        messages::{MessageChannel, MessageKind},
        validate,
    },
    error::ApiError,
    http::{ApiJson, RequestContext, query::ApiQuery},
    state::AppState,
};

/// An extension, as the sender sees it.
#[derive(Serialize, ToSchema)]
pub struct TrackedExtension {
    pub previous_deadline: NaiveDate,
    pub new_deadline: NaiveDate,
    pub reason: String,
}

/// Where a record stands, for its sender: nothing personal.
#[derive(Serialize, ToSchema)]
pub struct TrackingStatus {
    #[schema(example = "PAKN-2021-000123")]
    pub code: String,
    pub status: FeedbackStatus,
    pub received_on: NaiveDate,
    pub deadline_on: NaiveDate,
    pub extensions: Vec<TrackedExtension>,
    /// The latest answer's text, once answered.
    pub answer: Option<String>,
    pub answered_on: Option<NaiveDate>,
    /// Whether the result is on the public pages.
    pub published: bool,
    /// The last day the sender may reopen it (answered or closed records only).
    pub reopen_until: Option<NaiveDate>,
    /// How the sender is told of it (what they consented to at filing, less what they
    /// withdrew since).
    pub notify_by: Vec<MessageChannel>,
    /// The code of the record this one was merged into (the same matter): the status,
    /// deadline, extensions and answer above are that record's.
    pub merged_into: Option<String>,
}

fn pin(value: &str) -> Result<(), validator::ValidationError> {
    if value.len() == 8 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(validator::ValidationError::new("invalid_pin"))
    }
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PinQuery {
    /// The 8 digits given when the record was filed.
    #[validate(custom(function = "pin"))]
    #[param(pattern = "^[0-9]{8}$")]
    pub pin: String,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"pin": "40718263", "reason": "Câu trả lời chưa giải quyết được việc chậm cấp phép."}))]
pub struct Reopen {
    #[validate(custom(function = "pin"))]
    #[schema(pattern = "^[0-9]{8}$")]
    pub pin: String,
    /// Why the answer does not settle it.
    #[validate(length(min = 1, max = 2000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// The record with `code` whose PIN is `pin`, locked; `None` for a wrong PIN, a locked
/// record or no such code — which the caller cannot tell apart. Wrong PINs count, and
/// lock the record as failed sign-ins lock an account.
fn tracked(
    conn: &mut diesel::PgConnection,
    state: &AppState,
    code: &str,
    pin: &str,
) -> Result<Option<FeedbackRow>, ApiError> {
    let now = state.clock.now();
    let candidates = tracking::by_code(conn, code)?;
    let max = state.settings.login_max_failures;
    let until = now + Duration::from_std(state.settings.login_lockout).unwrap_or(Duration::minutes(15));
    let mut found = None;
    for (row, record) in candidates {
        let locked = row.locked_until.is_some_and(|t| t > now);
        // Checked even when locked, so that a lock takes as long to answer as a PIN.
        let right = state.pin_key.matches(row.feedback_id, pin, &row.pin_hash);
        if right && !locked {
            tracking::succeeded(conn, row.feedback_id)?;
            found = Some(record);
        } else if !locked {
            tracking::failed(conn, &row, max, until)?;
        }
    }
    Ok(found)
}

/// What the sender reads of `record`.
fn status_of(conn: &mut diesel::PgConnection, record: FeedbackRow, days: i64) -> Result<TrackingStatus, ApiError> {
    let (record_id, own_code) = (record.id, record.code.clone());
    // A merged record is followed through the record carrying its matter.
    let (record, merged_into) = match db::triage::merge_of(conn, record.id)? {
        Some(merge) => {
            let parent = store::find(conn, merge.parent_id, None)?;
            let code = parent.code.clone();
            (parent, Some(code))
        }
        None => (record, None),
    };
    let extensions = db::deadlines::extensions(conn, record.id)?
        .into_iter()
        .map(|e| TrackedExtension {
            previous_deadline: e.previous_deadline,
            new_deadline: e.new_deadline,
            reason: e.reason,
        })
        .collect();
    let answered = matches!(record.status, FeedbackStatus::Answered | FeedbackStatus::Closed);
    let answer = if answered { store::answers(conn, &[record.id])?.pop().map(|a| a.text) } else { None };
    let published =
        store::FeedbackRecord::load_all(conn, vec![record.clone()])?.pop().is_some_and(|r| r.publication.is_some());
    Ok(TrackingStatus {
        reopen_until: if merged_into.is_some() { None } else { reopen_until(&record, days) },
        answered_on: record.answered_at.filter(|_| answered).map(local_date),
        code: own_code,
        merged_into,
        status: record.status,
        received_on: local_date(record.received_at),
        deadline_on: record.deadline_on,
        extensions,
        answer,
        published,
        notify_by: notify_by(conn, record_id)?,
    })
}

fn notify_by(conn: &mut diesel::PgConnection, id: uuid::Uuid) -> Result<Vec<MessageChannel>, ApiError> {
    Ok(tracking::notify_by(conn, id)?.iter().filter_map(|c| MessageChannel::parse(c)).collect())
}

fn reopen_until(record: &FeedbackRow, days: i64) -> Option<NaiveDate> {
    match record.status {
        FeedbackStatus::Answered | FeedbackStatus::Closed => {
            record.answered_at.map(|at| local_date(at) + Duration::days(days))
        }
        _ => None,
    }
}

/// Follow a record as its sender.
///
/// With the code and the PIN given at filing. A wrong PIN is a 404 like an unknown code
/// (and counts: after `CCHC_LOGIN_MAX_FAILURES` the record answers 404 to every PIN for
/// `CCHC_LOGIN_LOCKOUT_SECONDS`). Rate limited per client address, as the public pages.
#[utoipa::path(
    tag = "public",
    params(("code" = String, Path, description = "The record's code, e.g. `PAKN-2021-000123`."), PinQuery),
    responses(
        (status = 200, description = "Where it stands.", body = TrackingStatus),
        (status = 429, description = "Too many requests from this address.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/feedback/{code}/status")]
pub async fn get_feedback_status(
    code: web::Path<String>,
    query: ApiQuery<PinQuery>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    super::public::rate_limit(&req, &state).await?;
    let (code, pin) = (code.into_inner(), query.0.pin);
    let days = state.settings.deadlines.reopen_days;
    let shared = state.clone();
    let status = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let Some(record) = tracked(conn, &shared, &code, &pin)? else { return Ok(None) };
            Ok(Some(status_of(conn, record, days)?))
        })
    })
    .await?;
    status.map(|s| HttpResponse::Ok().json(s)).ok_or_else(ApiError::not_found)
}

/// Reopen an answered record, as its sender.
///
/// Within `CCHC_FEEDBACK_REOPEN_DAYS` (10) days of the answer, when it does not settle
/// the matter: the record goes back to `in_progress` with a new deadline (the working
/// days of its category, from today), its history says why, the department is told by
/// the next deadline scan, and reports count it as reopened. A wrong PIN is a 404 like an
/// unknown code; too late or not answered is a 409 (`reopen_not_allowed`).
#[utoipa::path(
    tag = "public",
    params(("code" = String, Path, description = "The record's code.")),
    request_body = Reopen,
    responses(
        (status = 200, description = "Reopened: where it stands now.", body = TrackingStatus),
        (status = 409, description = "Not answered, or past the days it may be reopened in (`reopen_not_allowed`).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this address.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/feedback/{code}/reopen")]
pub async fn reopen_feedback(
    code: web::Path<String>,
    ctx: RequestContext,
    body: ApiJson<Reopen>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    super::public::rate_limit(&req, &state).await?;
    let (code, body) = (code.into_inner(), body.0);
    let (days_to_reopen, now) = (state.settings.deadlines.reopen_days, state.clock.now());
    let default_days = state.settings.feedback_deadline_days;
    let actor = Actor::anonymous(&ctx);
    let shared = state.clone();
    let links = db::outbound::Links { base: state.settings.public_url.clone() };
    let reopened = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let Some(current) = tracked(conn, &shared, &code, &body.pin)? else { return Ok(None) };
            let today = local_date(now);
            if reopen_until(&current, days_to_reopen).is_none_or(|last| today > last) {
                return Err(ApiError::conflict("reopen_not_allowed").arg("days", days_to_reopen));
            }
            let days = match current.category_id {
                Some(category) => db::feedback::category_deadline_days(conn, category)?.unwrap_or(default_days),
                None => default_days,
            };
            let calendar = store::working_calendar(conn, current.organization_id, today)?;
            let new_deadline = deadline(today, days, &calendar);
            let reason = body.reason.trim().to_owned();
            let changes = FeedbackChanges {
                status: Some(FeedbackStatus::InProgress),
                answered_at: Some(None),
                closed_at: Some(None),
                deadline_on: Some(new_deadline),
                deadline_reason: Some(Some(format!("Người gửi đề nghị xem xét lại: {reason}"))),
                ..Default::default()
            };
            let row = store::update(conn, current.id, &changes)?;
            store::add_history(
                conn,
                current.id,
                Some(current.status),
                FeedbackStatus::InProgress,
                Some(&reason),
                &actor,
                now,
            )?;
            let reopening = tracking::add_reopening(conn, &current, &reason, new_deadline, now)?;
            let values = vec![("deadline", new_deadline.format("%d/%m/%Y").to_string()), ("reason", reason.clone())];
            let occasion = reopening.to_string();
            db::outbound::to_sender(conn, row.id, MessageKind::Reopening, &occasion, values, &links)?;
            let before = serde_json::json!({"status": current.status, "deadline_on": current.deadline_on});
            let after = serde_json::json!({"status": row.status, "deadline_on": row.deadline_on});
            let event = Event {
                action: "reopen",
                entity_type: "feedback",
                entity_id: Some(row.id),
                organization_id: Some(row.organization_id),
                changes: audit::diff(&before, &after),
            };
            audit::record(conn, &actor, event)?;
            Ok(Some(status_of(conn, row, days_to_reopen)?))
        })
    })
    .await?;
    reopened.map(|s| HttpResponse::Ok().json(s)).ok_or_else(ApiError::not_found)
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"pin": "40718263", "notify_by": []}))]
pub struct NotifyBy {
    #[validate(custom(function = "pin"))]
    #[schema(pattern = "^[0-9]{8}$")]
    pub pin: String,
    /// The ways to keep: what was consented to at filing, or fewer; `[]` for none.
    #[schema(max_items = 2)]
    pub notify_by: Vec<MessageChannel>,
}

/// Stop (or keep fewer of) the messages about a record, as its sender.
///
/// With the code and PIN. It takes effect at once: a message not yet sent on a channel
/// withdrawn is not sent. Only withdrawing is possible here (422
/// `notify_by_not_consented` otherwise); a wrong PIN is a 404 like an unknown code.
#[utoipa::path(
    tag = "public",
    params(("code" = String, Path, description = "The record's code.")),
    request_body = NotifyBy,
    responses(
        (status = 200, description = "Saved: where it stands now.", body = TrackingStatus),
        (status = 422, description = "A way not consented to at filing (`notify_by_not_consented`).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this address.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[put("/feedback/{code}/notify-by")]
pub async fn set_feedback_notify_by(
    code: web::Path<String>,
    body: ApiJson<NotifyBy>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    super::public::rate_limit(&req, &state).await?;
    let (code, body) = (code.into_inner(), body.0);
    let days = state.settings.deadlines.reopen_days;
    let shared = state.clone();
    let status = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let Some(record) = tracked(conn, &shared, &code, &body.pin)? else { return Ok(None) };
            let now = tracking::notify_by(conn, record.id)?;
            let mut keep: Vec<String> = body.notify_by.iter().map(|c| c.as_str().to_owned()).collect();
            keep.sort();
            keep.dedup();
            if keep.iter().any(|c| !now.contains(c)) {
                return Err(ApiError::rule("notify_by", "notify_by_not_consented"));
            }
            tracking::set_notify_by(conn, record.id, &keep)?;
            if keep.is_empty() && !now.is_empty() {
                // Consent to being told withdrawn: recorded; nothing goes out from now on.
                db::privacy::withdraw(conn, record.id, true, false, shared.clock.now())?;
            }
            Ok(Some(status_of(conn, record, days)?))
        })
    })
    .await?;
    status.map(|s| HttpResponse::Ok().json(s)).ok_or_else(ApiError::not_found)
}
