//! Filing a feedback record: the references checked, the next code, the deadline, the
//! sender and their consent, the place, the tracking PIN, the receipt to the sender, the
//! attachments and what triage finds — in one transaction.

use actix_web::{HttpResponse, post, web};
use chrono::Datelike;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::records::*;
use crate::{
    auth::{AuthUser, Permission, Principal},
    db::{
        self,
        audit::Actor,
        feedback::{self as store, FeedbackRecord, NewFeedback, SenderRow},
    },
    domain::{
        feedback::{FeedbackStatus, feedback_code},
        messages::MessageKind,
        time::local_date,
    },
    error::ApiError,
    http::{ApiJson, RequestContext},
    routes::{
        checks,
        crud::{self, Filed},
    },
    state::AppState,
};

/// File a feedback record.
///
/// It gets the next code of the organisation's year, a department (the category's by
/// default) and a deadline (the category's working days, counted from the first working
/// day after receipt, skipping weekends and holidays). An `external_reference` is filed
/// once per source — the service client that sends it, or the organisation's own staff
/// — so sending the same fields again gets the record already filed (200), not a new
/// one; other fields with the same reference are a 422 (`external_reference_reused`),
/// and a 409 if that record was deleted. `Idempotency-Key` also makes retries safe.
#[utoipa::path(
    tag = "feedback",
    params(crate::http::idempotency::IdempotencyKeyHeader),
    request_body = CreateFeedback,
    responses(
        (status = 200, description = "This `external_reference` was filed before by the same source: the record filed then.", body = Feedback, headers(("Location" = String), ("ETag" = String))),
        (status = 201, description = "Filed; the body holds the sender's tracking PIN.", body = FeedbackFiled, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The idempotency key is in use, or the record filed with this `external_reference` was deleted.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A category, department or plan item is not the organisation's; this `external_reference` was filed before with other fields (`external_reference_reused`); or the idempotency key was used for another request.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn create_feedback(
    auth: AuthUser,
    ctx: RequestContext,
    body: ApiJson<CreateFeedback>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackCreate)?;
    let Filing { filed, pin, similar, suggestions } = file(&state, &principal, &ctx, body.0, Vec::new()).await?;
    let mut res = crud::filed_response::<Feedback, _>(filed, &state, |feedback| FeedbackFiled {
        feedback,
        tracking_pin: Some(pin),
        similar,
        suggestions,
    });
    res.extensions_mut().insert(crate::http::idempotency::SecretFields(&["tracking_pin"]));
    Ok(res)
}

/// Files a record for `principal`, with `attachments` already kept: the references
/// checked, the next code, the deadline, the sender, the place, the tracking PIN (shown
/// once: returned here), the receipt to the sender and the attachments, in one
/// transaction. A resend of an `external_reference` finds the record filed (no PIN).
pub(crate) async fn file(
    state: &AppState,
    principal: &Principal,
    ctx: &RequestContext,
    body: CreateFeedback,
    attachments: Vec<super::attachments::Kept>,
) -> Result<Filing, ApiError> {
    let mut body = body;
    let org = principal.acting_org(body.organization_id)?;
    let has_sender = body.sender_name.is_some()
        || body.sender_phone.is_some()
        || body.sender_email.is_some()
        || body.sender_address.is_some();
    // `http::rules`: no sender when anonymous; a deadline set by hand comes with a reason.
    if body.deadline_on.is_some() {
        principal.require(Permission::FeedbackManage)?;
    }
    if let Some(location) = &body.location {
        location.check()?;
    }
    let client = client_scope(principal);
    let received_at = body.received_at.unwrap_or_else(|| state.clock.now());
    let default_days = state.settings.feedback_deadline_days;
    let (author, actor) = (principal.id, Actor::of(principal, ctx));
    let (history_actor, attachment_actor) = (actor.clone(), actor.clone());
    // What a resend must repeat: the fields as sent (not their bytes: order and spacing
    // do not count).
    let digest = crate::domain::sha256_hex(&serde_json::to_vec(&body).map_err(ApiError::internal)?);
    // The sender's tracking PIN, kept as a keyed hash and shown once.
    let (pin, pin_key) = (crate::auth::password::new_pin(), state.pin_key.clone());
    let sender_key = state.sender_key.clone();
    let kept_pin = pin.clone();
    let links = db::outbound::Links { base: state.settings.public_url.clone() };
    let mut notify_by: Vec<String> = body.notify_by.iter().map(|c| c.as_str().to_owned()).collect();
    notify_by.sort();
    notify_by.dedup();
    // Triage reads before the filing takes its organisation's counter: possible
    // duplicates, and suggestions for what the record lacks (routing by them where the
    // organisation turned that on).
    let probe = db::triage::Probe {
        id: None,
        organization_id: org,
        text: format!("{} {}", body.subject.trim(), body.content.trim()),
        category_id: body.category_id,
        received_at,
        point: body
            .location
            .as_ref()
            .and_then(|l| l.lat.zip(l.long))
            .map(|(a, b)| (to_centimetres(a), to_centimetres(b))),
        keys: state.sender_key.keys(org, body.sender_phone.as_deref(), body.sender_email.as_deref()),
    };
    let lacks = (body.category_id.is_none(), body.department_id.is_none() && body.category_id.is_none());
    let settings = state.settings.triage.clone();
    let assessment =
        db::run(&state.pool, move |conn| super::triage::assess(conn, &probe, lacks, client, &settings)).await?;
    let routed = assessment.route_category.is_some() || assessment.route_department.is_some();
    if let Some(category) = assessment.route_category {
        body.category_id = Some(category);
    }
    if let Some(department) = assessment.route_department {
        body.department_id = Some(department);
    }
    let kept_assessment = assessment.clone();
    let now = state.clock.now();
    let consent = body.consent.clone();
    let filed = crud::file_row::<Feedback, _>(state, actor, move |conn| {
        checks::organization(conn, org)?;
        if let Some(reference) = &body.external_reference {
            // Held until the filing commits: a concurrent resend waits, then finds it.
            store::lock_reference(conn, org, client, reference)?;
            if let Some((row, filed_from)) = store::by_external_reference(conn, org, client, reference)? {
                if row.deleted_at.is_some() {
                    return Err(ApiError::conflict("external_reference_deleted"));
                }
                if filed_from.is_some_and(|filed| filed != digest) {
                    return Err(ApiError::unprocessable("external_reference_reused").arg("reference", reference));
                }
                return Ok(Filed::Existing(FeedbackRecord::load_all(conn, vec![row])?.remove(0)));
            }
        }
        let category = checks::category(conn, body.category_id, org)?;
        let department = body.department_id.or(category.as_ref().and_then(|c| c.default_department_id));
        checks::department(conn, department, org)?;
        checks::plan_item(conn, body.plan_item_id, org)?;
        let deadline_on = match body.deadline_on {
            Some(day) => day,
            None => {
                let days = category.as_ref().map_or(default_days, |c| c.deadline_days as u32);
                computed_deadline(conn, org, received_at, days)?
            }
        };
        let year = local_date(received_at).year();
        let number = store::next_number(conn, org, year)?;
        let row = store::insert(
            conn,
            &NewFeedback {
                id: Uuid::now_v7(),
                organization_id: org,
                code: feedback_code(year, number),
                received_at,
                channel: body.channel,
                kind: body.kind,
                sender_type: body.sender_type,
                anonymous: body.anonymous,
                subject: body.subject.trim().to_owned(),
                content: body.content.trim().to_owned(),
                category_id: body.category_id,
                plan_item_id: body.plan_item_id,
                department_id: department,
                deadline_on,
                deadline_reason: body.deadline_on.and(body.deadline_reason),
                external_reference: body.external_reference,
                source_client_id: client,
                internal_note: body.internal_note,
                created_by: Some(author),
            },
        )?;
        if row.external_reference.is_some() {
            store::record_filing(conn, row.id, &digest)?;
        }
        let sender = (!body.anonymous && has_sender).then_some(SenderRow {
            feedback_id: row.id,
            name: body.sender_name,
            phone: body.sender_phone,
            email: body.sender_email,
            address: body.sender_address,
            notify_by,
            restricted_at: None,
        });
        if let Some(sender) = &sender {
            store::set_sender(conn, sender)?;
            db::privacy::record_consent(
                conn,
                &db::privacy::Consent {
                    feedback_id: row.id,
                    organization_id: org,
                    notice_version: consent.as_ref().and_then(|c| c.notice_version.clone()),
                    notify: !sender.notify_by.is_empty(),
                    publish: consent.as_ref().is_some_and(|c| c.publish),
                    given_at: received_at,
                    channel: row.channel.as_str().to_owned(),
                    client_id: client,
                    recorded_by: Some(author),
                },
            )?;
        }
        let location = body.location.as_ref().map(|l| l.row(row.id, org));
        store::set_location(conn, row.id, location.as_ref())?;
        store::add_history(conn, row.id, None, FeedbackStatus::Received, None, &history_actor, received_at)?;
        db::tracking::set_pin(conn, row.id, &pin_key.digest(row.id, &kept_pin))?;
        let values = vec![
            ("received_on", local_date(row.received_at).format("%d/%m/%Y").to_string()),
            ("deadline", row.deadline_on.format("%d/%m/%Y").to_string()),
            ("pin", kept_pin.clone()),
        ];
        db::outbound::to_sender(conn, row.id, MessageKind::Receipt, "1", values, &links)?;
        super::attachments::attach(conn, &attachment_actor, org, row.id, Some(author), &attachments)?;
        let keys = sender_key.keys(
            org,
            sender.as_ref().and_then(|s| s.phone.as_deref()),
            sender.as_ref().and_then(|s| s.email.as_deref()),
        );
        db::triage::set_sender_keys(conn, row.id, org, &keys)?;
        if kept_assessment.wanted {
            super::triage::keep_suggestions(conn, row.id, org, &kept_assessment, now)?;
        }
        Ok(Filed::New(FeedbackRecord {
            row,
            sender,
            publication: None,
            location,
            merged_into: None,
            assigned_by_suggestion: routed,
        }))
    })
    .await?;
    let (similar, suggestions) = match &filed {
        Filed::New(record) => {
            let id = record.row.id;
            let suggestions = if assessment.wanted {
                Some(db::run(&state.pool, move |conn| super::triage::suggestions(conn, id)).await?)
            } else {
                None
            };
            (assessment.similar, suggestions)
        }
        Filed::Existing(_) => (Vec::new(), None),
    };
    Ok(Filing { filed, pin, similar, suggestions })
}

/// What filing made: the record (or the one filed before under its reference), the
/// sender's PIN, and what triage found.
pub(crate) struct Filing {
    pub filed: Filed<FeedbackRecord>,
    pub pin: String,
    pub similar: Vec<super::triage::SimilarRecord>,
    pub suggestions: Option<super::triage::Suggestions>,
}

/// A record just filed, with the sender's tracking PIN.
#[derive(Serialize, ToSchema)]
pub struct FeedbackFiled {
    #[serde(flatten)]
    pub feedback: Feedback,
    /// **Shown only here**: with the code, the sender follows the record and may
    /// reopen it without an account (`GET /api/v1/public/feedback/{code}/status?pin=…`).
    /// Hand it to the sender (the hotline reads it out). A replay of the filing request
    /// with the same `Idempotency-Key` shows `null`; a record found filed (200) has none.
    #[schema(example = "40718263", pattern = "^[0-9]{8}$")]
    pub tracking_pin: Option<String>,
    /// Open records likely about the same matter (`GET …/similar`), for staff to merge
    /// if they are; nothing is merged by itself.
    pub similar: Vec<super::triage::SimilarRecord>,
    /// For a record filed without a category or department: what past records suggest
    /// (`GET …/suggestions`); `null` when it came with both.
    pub suggestions: Option<super::triage::Suggestions>,
}
