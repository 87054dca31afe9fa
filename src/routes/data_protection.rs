//! Citizens' personal data as Decree 13/2023/NĐ-CP asks (docs/data-protection.md):
//! the register of processing; a data subject's access, restriction and erasure, found
//! by the keyed hash of their phone or e-mail; the retention run's dry run; the erasure
//! log and its re-application after a restore; legal holds; consent and its withdrawal.
use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::NaiveDate;
use diesel::Connection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::{
    auth::{AuthUser, Permission, permissions::grant},
    db::{
        self,
        audit::{self, Actor, Event},
        privacy::{self, ConsentRecord, Due, ErasureEntry, EvidenceDue, Held, Reason},
    },
    domain::validate,
    error::{ApiError, FieldError},
    http::{ApiJson, RequestContext, query::ApiQuery},
    state::AppState,
};

/// Who the request is about: their phone and/or e-mail, as they give them.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"phone": "0912 345 678", "legal_basis": "Điều 14, Nghị định 13/2023/NĐ-CP",
    "request_reference": "YC-2026-015"}))]
pub struct SubjectRequest {
    #[validate(length(min = 1, max = 32))]
    #[schema(min_length = 1, max_length = 32)]
    pub phone: Option<String>,
    #[validate(length(min = 3, max = 254))]
    #[schema(min_length = 3, max_length = 254)]
    pub email: Option<String>,
    /// Why the service may act (the article relied on), recorded with the action.
    #[validate(length(min = 1, max = 500), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 500)]
    pub legal_basis: String,
    /// The request's reference (the letter or form it came on).
    #[validate(length(min = 1, max = 100), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 100)]
    pub request_reference: String,
    /// System administrator only: the organisation asked.
    pub organization_id: Option<Uuid>,
}

/// The keys of the subject's phone and e-mail in `org` (422 if neither reads as one).
fn subject_keys(state: &AppState, org: Uuid, body: &SubjectRequest) -> Result<Vec<Vec<u8>>, ApiError> {
    let keys = state.sender_key.keys(org, body.phone.as_deref(), body.email.as_deref());
    if keys.is_empty() {
        return Err(ApiError::rules(vec![
            FieldError::new("phone", "invalid_value")
                .reason("a phone number or an e-mail address is needed", "cần số điện thoại hoặc địa chỉ e-mail"),
        ]));
    }
    Ok(keys)
}

/// What is held about the person, record by record.
#[derive(Serialize, ToSchema)]
pub struct SubjectData {
    pub organization_id: Uuid,
    /// The request as logged (`data_requests`).
    pub request_id: Uuid,
    pub records: Vec<Held>,
    /// The consent given with each record, by record id.
    pub consents: Vec<RecordConsent>,
}

#[derive(Serialize, ToSchema)]
pub struct RecordConsent {
    pub feedback_id: Uuid,
    pub consent: ConsentRecord,
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `json` (default) or `text` (plain text to hand to the person).
    #[param(inline)]
    pub format: Option<ExportFormat>,
}

#[derive(Deserialize, ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Json,
    Text,
}

fn plain_text(data: &SubjectData) -> String {
    let mut out = String::from("THÔNG TIN CÁ NHÂN ĐANG ĐƯỢC XỬ LÝ (Nghị định 13/2023/NĐ-CP)\n\n");
    for r in &data.records {
        let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".to_owned());
        out.push_str(&format!(
            "Phản ánh {} — tiếp nhận {} qua {} — trạng thái {}\n  Tiêu đề: {}\n  Nội dung: {}\n  Họ tên: {}\n  Điện thoại: {}\n  E-mail: {}\n  Địa chỉ: {}\n  Nhận thông báo qua: {}\n  Tệp đính kèm: {}\n  Tin nhắn đã gửi: {}\n",
            r.code,
            r.received_at.with_timezone(&crate::domain::time::vietnam()).format("%d/%m/%Y %H:%M"),
            r.channel,
            r.status,
            r.subject,
            r.content,
            opt(&r.name),
            opt(&r.phone),
            opt(&r.email),
            opt(&r.address),
            if r.notify_by.is_empty() { "—".to_owned() } else { r.notify_by.join(", ") },
            if r.attachments.is_empty() { "—".to_owned() } else { r.attachments.join(", ") },
            if r.messages.is_empty() { "—".to_owned() } else { r.messages.join(", ") },
        ));
        if let Some(c) = data.consents.iter().find(|c| c.feedback_id == r.feedback_id) {
            out.push_str(&format!(
                "  Đồng ý: thông báo {} (phiên bản {}), nhận tin: {}, công khai kết quả: {}\n",
                c.consent.given_at.with_timezone(&crate::domain::time::vietnam()).format("%d/%m/%Y"),
                c.consent.notice_version,
                if c.consent.notify { "có" } else { "không" },
                if c.consent.publish { "có" } else { "không" },
            ));
        }
        if r.restricted_at.is_some() {
            out.push_str("  Đã hạn chế xử lý.\n");
        }
        if r.erased_at.is_some() {
            out.push_str("  Đã xóa thông tin cá nhân.\n");
        }
        out.push('\n');
    }
    out
}

/// Find what the service holds about a person, and export it.
///
/// By the keyed hash of their phone or e-mail (never a scan of the senders' fields):
/// every live record of the organisation they sent, with the personal data held, the
/// consent given, the files' names and the messages sent. Logged with its legal basis
/// and reference (`access`) and audited. As JSON, or as plain text (`format=text`) to
/// hand over.
#[utoipa::path(
    tag = "data-protection",
    params(ExportParams),
    request_body = SubjectRequest,
    responses(
        (status = 200, description = "What is held.", content(
            (SubjectData = "application/json"),
            (String = "text/plain"),
        )),
        (status = 422, description = "Neither a phone nor an e-mail that reads as one.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/subjects/export")]
pub async fn export_subject_data(
    auth: AuthUser,
    ctx: RequestContext,
    query: ApiQuery<ExportParams>,
    body: ApiJson<SubjectRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::DataProtection)?;
    let body = body.0;
    let org = principal.acting_org(body.organization_id)?;
    let keys = subject_keys(&state, org, &body)?;
    let actor = Actor::of(&principal, &ctx);
    let data = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            crate::routes::checks::organization(conn, org)?;
            let ids = privacy::records_of(conn, org, &keys)?;
            let records = privacy::held_about(conn, &ids)?;
            let mut consents = Vec::new();
            for id in &ids {
                if let Some(consent) = privacy::consent_of(conn, *id)? {
                    consents.push(RecordConsent { feedback_id: *id, consent });
                }
            }
            let basis = (body.legal_basis.as_str(), body.request_reference.as_str());
            let request_id = privacy::log_request(conn, org, "access", basis, ids.len(), 0, actor.id)?;
            audit_request(conn, &actor, org, request_id, "access", ids.len())?;
            Ok(SubjectData { organization_id: org, request_id, records, consents })
        })
    })
    .await?;
    if query.0.format == Some(ExportFormat::Text) {
        return Ok(HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .insert_header(crate::http::files::disposition("du-lieu-ca-nhan.txt"))
            .body(plain_text(&data)));
    }
    Ok(HttpResponse::Ok().json(data))
}

/// The audit trail's entry of a subject's request: who and what, never the person.
fn audit_request(
    conn: &mut diesel::PgConnection,
    actor: &Actor,
    org: Uuid,
    request: Uuid,
    action: &'static str,
    records: usize,
) -> diesel::QueryResult<()> {
    audit::record(
        conn,
        actor,
        Event {
            action: "create",
            entity_type: "data_request",
            entity_id: Some(request),
            organization_id: Some(org),
            changes: serde_json::json!({"action": {"before": null, "after": action},
                "records": {"before": null, "after": records}}),
        },
    )
}

/// What the event `data_request.created` carries: the action and how many records it
/// touched — never who asked.
#[derive(Serialize, ToSchema)]
#[allow(dead_code, reason = "documents the event's data, which the audit trail writes")]
pub struct DataRequestData {
    /// `access`, `restrict` or `erase`.
    pub action: String,
    pub records: usize,
}

/// What a restriction or erasure did.
#[derive(Serialize, ToSchema)]
pub struct SubjectOutcome {
    pub request_id: Uuid,
    /// The records acted on, by code.
    pub done: Vec<String>,
    /// Records under legal hold: not erased, and why.
    pub held: Vec<HeldRecord>,
}

#[derive(Serialize, ToSchema)]
pub struct HeldRecord {
    pub code: String,
    pub reason: String,
}

/// Restrict the processing of a person's data.
///
/// Their records' senders are masked to everyone from now on and are told nothing
/// (consent to messages ends). Logged (`restrict`) with its legal basis and reference,
/// and audited.
#[utoipa::path(
    tag = "data-protection",
    request_body = SubjectRequest,
    responses(
        (status = 200, description = "Restricted.", body = SubjectOutcome),
        (status = 422, description = "Neither a phone nor an e-mail that reads as one.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/subjects/restrict")]
pub async fn restrict_subject(
    auth: AuthUser,
    ctx: RequestContext,
    body: ApiJson<SubjectRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::DataProtection)?;
    let body = body.0;
    let org = principal.acting_org(body.organization_id)?;
    let keys = subject_keys(&state, org, &body)?;
    let (actor, now) = (Actor::of(&principal, &ctx), state.clock.now());
    let outcome = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            crate::routes::checks::organization(conn, org)?;
            let ids = privacy::records_of(conn, org, &keys)?;
            privacy::restrict(conn, &ids, now)?;
            let done = privacy::held_about(conn, &ids)?.into_iter().map(|r| r.code).collect();
            let basis = (body.legal_basis.as_str(), body.request_reference.as_str());
            let request_id = privacy::log_request(conn, org, "restrict", basis, ids.len(), 0, actor.id)?;
            audit_request(conn, &actor, org, request_id, "restrict", ids.len())?;
            Ok(SubjectOutcome { request_id, done, held: Vec::new() })
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(outcome))
}

/// Erase a person's data.
///
/// The same anonymisation as the retention run, at once, for every record of theirs
/// that is not under legal hold: the sender's fields emptied and flagged as erased, their
/// keyed hashes deleted (no search finds them again), their files removed, the masked
/// recipients of their messages blanked; the records, their figures and published
/// results stay. Held records are listed with the reason. Logged (`erase`, and each
/// record in the erasure log that a restore re-applies) and audited, masked.
#[utoipa::path(
    tag = "data-protection",
    request_body = SubjectRequest,
    responses(
        (status = 200, description = "Erased, but for the records held.", body = SubjectOutcome),
        (status = 422, description = "Neither a phone nor an e-mail that reads as one.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/subjects/erase")]
pub async fn erase_subject(
    auth: AuthUser,
    ctx: RequestContext,
    body: ApiJson<SubjectRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::DataProtection)?;
    let body = body.0;
    let org = principal.acting_org(body.organization_id)?;
    let keys = subject_keys(&state, org, &body)?;
    let actor = Actor::of(&principal, &ctx);
    let (outcome, files) = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            crate::routes::checks::organization(conn, org)?;
            let ids = privacy::records_of(conn, org, &keys)?;
            let records = privacy::held_about(conn, &ids)?;
            let basis = (body.legal_basis.as_str(), body.request_reference.as_str());
            let (mut done, mut held, mut files) = (Vec::new(), Vec::new(), Vec::new());
            for record in records {
                match privacy::erase(conn, record.feedback_id, org, Reason::Request, Some(basis), &actor)? {
                    Some(erased) => {
                        files.extend(erased.files);
                        done.push(record.code);
                    }
                    None => {
                        let reason = privacy::hold_of(conn, record.feedback_id)?.unwrap_or_default();
                        held.push(HeldRecord { code: record.code, reason });
                    }
                }
            }
            let request_id = privacy::log_request(conn, org, "erase", basis, done.len(), held.len(), actor.id)?;
            audit_request(conn, &actor, org, request_id, "erase", done.len())?;
            Ok((SubjectOutcome { request_id, done, held }, files))
        })
    })
    .await?;
    privacy::remove_files(&state.pool, &state.evidence, files).await;
    Ok(HttpResponse::Ok().json(outcome))
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RetentionParams {
    /// The day to reckon on (Vietnam); default today — what the next run will erase.
    pub as_of: Option<NaiveDate>,
    /// System administrator only: one organisation.
    pub organization_id: Option<Uuid>,
}

/// What the retention run erases.
#[derive(Serialize, ToSchema)]
pub struct RetentionReport {
    pub as_of: NaiveDate,
    /// Will be anonymised.
    pub due: Vec<Due>,
    /// Past retention, but under legal hold: kept.
    pub held: Vec<Due>,
    /// Activities' evidence files that show a person, past the organisation's retention
    /// since the activity was held: their files will be erased.
    pub evidence: Vec<EvidenceDue>,
}

/// What the next retention run will erase (a dry run).
///
/// The closed records (answered, closed, rejected, forwarded, merged) whose retention
/// — the category's `retention_years`, else the organisation's — has run out since they
/// were closed, and whose sender or files are not erased yet; those under legal hold
/// apart. And the activities' evidence files that show a person, past the organisation's
/// `retention_years` since the activity was held. Nothing is changed.
#[utoipa::path(
    tag = "data-protection",
    params(RetentionParams),
    responses((status = 200, description = "The dry run.", body = RetentionReport))
)]
#[get("/retention")]
pub async fn get_retention_report(
    auth: AuthUser,
    query: ApiQuery<RetentionParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::DataProtection)?;
    let org = principal.read_scope(query.0.organization_id)?;
    let as_of = query.0.as_of.unwrap_or_else(|| state.clock.today());
    if !(0..=9999).contains(&chrono::Datelike::year(&as_of)) {
        return Err(ApiError::validation(vec![
            FieldError::new("as_of", "invalid_value")
                .reason("a day of the years 0000-9999", "một ngày trong các năm 0000-9999"),
        ]));
    }
    let (all, evidence) = db::run(&state.pool, move |conn| {
        Ok((privacy::due(conn, org, as_of, 10_000, true)?, privacy::evidence_due(conn, org, as_of, 10_000)?))
    })
    .await?;
    let (held, due) = all.into_iter().partition(|d| d.held.is_some());
    Ok(HttpResponse::Ok().json(RetentionReport { as_of, due, held, evidence }))
}

/// The erasure log.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ErasureLog {
    pub items: Vec<ErasureEntry>,
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrgParam {
    /// System administrator only: one organisation (default: all).
    pub organization_id: Option<Uuid>,
}

/// The erasure log.
///
/// Every erasure (by retention, on request, re-applied), without personal data: keep a
/// copy outside the database's backups, and after restoring one, post it to
/// `POST /api/v1/data-protection/erasures/reapply` (docs/operations.md).
#[utoipa::path(
    tag = "data-protection",
    params(OrgParam),
    responses((status = 200, description = "The log, oldest first.", body = ErasureLog))
)]
#[get("/erasures")]
pub async fn get_erasure_log(
    auth: AuthUser,
    query: ApiQuery<OrgParam>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::DataProtection)?;
    let org = principal.read_scope(query.0.organization_id)?;
    let items = db::run(&state.pool, move |conn| Ok(privacy::erasures(conn, org)?)).await?;
    Ok(HttpResponse::Ok().json(ErasureLog { items }))
}

/// An erasure log to apply again.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reapply {
    /// The records erased (the log's `feedback_id`s), at most 100,000.
    #[validate(length(max = 100000))]
    #[schema(max_items = 100000)]
    pub feedback_ids: Vec<Uuid>,
}

/// What re-applying the log did.
#[derive(Serialize, ToSchema)]
pub struct Reapplied {
    /// Records whose sender the restored data had brought back, erased again, by code.
    pub erased_again: usize,
}

/// Apply an erasure log again (after a restore from a backup).
///
/// Each record of the log that holds its sender's data again (a backup made before the
/// erasure was restored) is anonymised again, logged as `reapplied`. Records of other
/// organisations, and those already erased, are left.
#[utoipa::path(
    tag = "data-protection",
    request_body = Reapply,
    responses((status = 200, description = "Applied.", body = Reapplied))
)]
#[post("/erasures/reapply")]
pub async fn reapply_erasures(
    auth: AuthUser,
    ctx: RequestContext,
    body: ApiJson<Reapply>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::DataProtection)?;
    let org = principal.organization_id;
    let ids = body.0.feedback_ids;
    let actor = Actor::of(&principal, &ctx);
    let (count, files) = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let (mut files, mut count) = (Vec::new(), 0);
            for (id, owner) in privacy::not_erased(conn, org, &ids)? {
                if let Some(e) = privacy::erase(conn, id, owner, Reason::Reapplied, None, &actor)? {
                    files.extend(e.files);
                    count += 1;
                }
            }
            Ok((count, files))
        })
    })
    .await?;
    privacy::remove_files(&state.pool, &state.evidence, files).await;
    Ok(HttpResponse::Ok().json(Reapplied { erased_again: count }))
}

/// A legal hold.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Khiếu nại đang được thanh tra xác minh"}))]
pub struct LegalHold {
    /// Why the record must be kept (e.g. a complaint under investigation).
    #[validate(length(min = 1, max = 1000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 1000)]
    pub reason: String,
}

/// Put a record under legal hold: neither retention nor a request erases its sender.
#[utoipa::path(
    tag = "data-protection",
    params(("id" = Uuid, Path, description = "The feedback record.")),
    request_body = LegalHold,
    responses((status = 204, description = "Held."))
)]
#[put("/{id}/legal-hold")]
pub async fn put_legal_hold(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    body: ApiJson<LegalHold>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackManage)?;
    let (id, org, reason) = (id.into_inner(), principal.organization_id, body.0.reason);
    let actor = Actor::of(&principal, &ctx);
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let record = db::feedback::lock(conn, id, org)?;
            privacy::set_hold(conn, id, record.organization_id, reason.trim(), actor.id)?;
            audit::record(
                conn,
                &actor,
                Event {
                    action: "hold",
                    entity_type: "feedback",
                    entity_id: Some(id),
                    organization_id: Some(record.organization_id),
                    changes: serde_json::json!({"legal_hold": {"before": null, "after": reason.trim()}}),
                },
            )?;
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lift a record's legal hold.
#[utoipa::path(
    tag = "data-protection",
    params(("id" = Uuid, Path, description = "The feedback record.")),
    responses((status = 204, description = "Lifted (or there was none)."))
)]
#[delete("/{id}/legal-hold")]
pub async fn delete_legal_hold(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackManage)?;
    let (id, org) = (id.into_inner(), principal.organization_id);
    let actor = Actor::of(&principal, &ctx);
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let record = db::feedback::find(conn, id, org)?;
            if privacy::lift_hold(conn, id)? {
                audit::record(
                    conn,
                    &actor,
                    Event {
                        action: "unhold",
                        entity_type: "feedback",
                        entity_id: Some(id),
                        organization_id: Some(record.organization_id),
                        changes: serde_json::json!({"legal_hold": {"before": "held", "after": null}}),
                    },
                )?;
            }
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A record's consent as given at filing, and what was withdrawn since (`null`: none
/// recorded — filed before consent was recorded, or anonymous).
#[derive(Serialize, ToSchema)]
pub struct ConsentOf {
    pub feedback_id: Uuid,
    pub consent: Option<ConsentRecord>,
}

/// What the sender of a record consented to.
#[utoipa::path(
    tag = "data-protection",
    params(("id" = Uuid, Path, description = "The feedback record.")),
    responses((status = 200, description = "The consent.", body = ConsentOf))
)]
#[get("/{id}/consent")]
pub async fn get_feedback_consent(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackRead)?;
    let (id, org) = (id.into_inner(), principal.organization_id);
    let client = super::feedback::client_scope(&principal);
    let consent = db::run(&state.pool, move |conn| {
        let record = db::feedback::find(conn, id, org)?;
        if client.is_some() && record.source_client_id != client {
            return Err(ApiError::not_found());
        }
        Ok(privacy::consent_of(conn, id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ConsentOf { feedback_id: id, consent }))
}

/// A withdrawal of consent, as the sender told staff (the sender withdraws being told
/// themselves with the PIN: `PUT /api/v1/public/feedback/{code}/notify-by`).
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Withdrawal {
    /// To being told by e-mail or SMS: no message goes out from now on.
    #[serde(default)]
    pub notify: bool,
    /// To the publication of the result: a published result is withdrawn at once, and
    /// publishing it again is refused (409 `publication_not_consented`).
    #[serde(default)]
    pub publish: bool,
}

/// Record that the sender withdrew consent.
#[utoipa::path(
    tag = "data-protection",
    params(("id" = Uuid, Path, description = "The feedback record.")),
    request_body = Withdrawal,
    responses((status = 200, description = "Withdrawn.", body = ConsentOf))
)]
#[post("/{id}/consent/withdraw")]
pub async fn withdraw_feedback_consent(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    body: ApiJson<Withdrawal>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackManage)?;
    let (id, org, body) = (id.into_inner(), principal.organization_id, body.0);
    let (actor, now) = (Actor::of(&principal, &ctx), state.clock.now());
    let consent = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            // Locked first: a publication under way commits before the withdrawal reads
            // what to take down, or waits for it and then finds the consent withdrawn.
            let record = db::feedback::lock(conn, id, org)?;
            privacy::withdraw(conn, id, body.notify, body.publish, now)?;
            if body.publish {
                // The record changed for its readers: a published result was withdrawn.
                db::feedback::update(conn, id, &db::feedback::FeedbackChanges::default())?;
            }
            audit::record(
                conn,
                &actor,
                Event {
                    action: "withdraw_consent",
                    entity_type: "feedback",
                    entity_id: Some(id),
                    organization_id: Some(record.organization_id),
                    changes: serde_json::json!({"consent_withdrawn": {"before": null,
                        "after": {"notify": body.notify, "publish": body.publish}}}),
                },
            )?;
            Ok(privacy::consent_of(conn, id)?)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(ConsentOf { feedback_id: id, consent }))
}

/// One kind of personal data the service holds.
#[derive(Serialize, ToSchema)]
pub struct RegisterEntry {
    /// Where it is kept (table and fields).
    pub data: String,
    /// What it is, in Vietnamese.
    pub description: String,
    /// Why it is processed.
    pub purpose: String,
    pub legal_basis: String,
    /// The roles that read it unmasked, from the access table.
    pub unmasked_for: Vec<String>,
    /// The roles and scopes that read it masked.
    pub masked_for: Vec<String>,
    /// How long it is kept.
    pub retention: String,
    /// Where it goes outside the service.
    pub recipients: String,
}

/// The register of processing.
#[derive(Serialize, ToSchema)]
pub struct Register {
    pub controller: String,
    pub entries: Vec<RegisterEntry>,
    /// Who acts on data subjects' requests (access, restriction, erasure).
    pub data_protection_roles: Vec<String>,
    /// Never carries personal data.
    pub never_in: Vec<String>,
}

/// The register of processing (Decree 13/2023).
///
/// Which personal fields the service holds, why, who may see them (from the access
/// table the service enforces), how long they are kept and where they go.
#[utoipa::path(tag = "data-protection", responses((status = 200, description = "The register.", body = Register)))]
#[get("/register")]
pub async fn get_register(auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let _ = auth.0;
    Ok(HttpResponse::Ok().json(register()))
}

/// The roles and service-client scopes (`scope:…`) the access table grants `permission`.
fn holders(permission: Permission) -> Vec<String> {
    let granted = grant(permission);
    granted
        .roles
        .iter()
        .map(|r| r.as_str().to_owned())
        .chain(granted.scopes.iter().map(|s| format!("scope:{}", s.as_str())))
        .collect()
}

/// The register, made from the access table.
pub fn register() -> Register {
    let read = grant(Permission::FeedbackRead);
    let unmasked: Vec<String> = super::feedback::SEE_EVERY_SENDER
        .iter()
        .filter(|r| read.roles.contains(r))
        .map(|r| r.as_str().to_owned())
        .chain(["people of the assigned department".to_owned()])
        .collect();
    let masked = holders(Permission::FeedbackRead);
    let retention = "cho đến hết thời hạn lưu trữ sau khi đóng hồ sơ (`retention_years` của lĩnh vực, nếu không thì của đơn vị; mặc định 5 năm), rồi được ẩn danh; xóa ngay theo yêu cầu của chủ thể dữ liệu, trừ hồ sơ bị phong tỏa theo pháp luật".to_owned();
    let entry = |data: &str, description: &str, purpose: &str, recipients: &str| {
        RegisterEntry {
        data: data.to_owned(),
        description: description.to_owned(),
        purpose: purpose.to_owned(),
        legal_basis: "sự đồng ý của chủ thể dữ liệu (Điều 11) và Luật Khiếu nại, Luật Tố cáo, Nghị định 20/2008/NĐ-CP về tiếp nhận, xử lý phản ánh, kiến nghị".to_owned(),
        unmasked_for: unmasked.clone(),
        masked_for: masked.clone(),
        retention: retention.clone(),
        recipients: recipients.to_owned(),
    }
    };
    // Activities' evidence that shows a person: seen whole by whoever reads the
    // organisation's activities, never masked; its own retention.
    let evidence = RegisterEntry {
        data: "evidence (shows_person): the files".to_owned(),
        description: "Ảnh, ghi hình hoạt động tuyên truyền có hình ảnh cá nhân (người dự, người dân)".to_owned(),
        purpose: "minh chứng việc thực hiện kế hoạch tuyên truyền cải cách hành chính".to_owned(),
        legal_basis: "thực hiện nhiệm vụ của cơ quan nhà nước theo quy định của pháp luật (Điều 17 Nghị định 13/2023/NĐ-CP); kế hoạch tuyên truyền cải cách hành chính được giao".to_owned(),
        unmasked_for: holders(Permission::ActivitiesRead),
        masked_for: Vec::new(),
        retention: "đến hết `retention_years` của đơn vị kể từ ngày tổ chức hoạt động, rồi tệp bị xóa (minh chứng vẫn được đếm)".to_owned(),
        recipients: "không chuyển ra ngoài; cấp trên giám sát chỉ xem danh sách, không tải tệp".to_owned(),
    };
    Register {
        controller:
            "the organisation that receives the feedback (each organisation of the service for its own records)"
                .to_owned(),
        entries: vec![
            entry(
                "feedback_senders.name, .address",
                "Họ tên, địa chỉ người gửi phản ánh, kiến nghị",
                "tiếp nhận, xác minh và trả lời phản ánh, kiến nghị",
                "không chuyển ra ngoài",
            ),
            entry(
                "feedback_senders.phone, .email, .notify_by",
                "Số điện thoại, e-mail người gửi và kênh nhận thông báo đã đồng ý",
                "liên hệ, thông báo tiếp nhận, gia hạn, trả lời, công khai kết quả",
                "chỉ gửi tin nhắn (e-mail, SMS qua cổng SMS) cho chính người gửi khi họ đồng ý",
            ),
            entry(
                "feedback_attachments.file_name and the files",
                "Tệp người gửi đính kèm (ảnh đã bỏ vị trí EXIF GPS) và tên tệp",
                "làm rõ nội dung phản ánh",
                "chỉ công khai khi kết quả đã công khai và được đánh dấu được công khai",
            ),
            entry(
                "feedback_sender_keys",
                "Mã băm có khóa (HMAC) của số điện thoại, e-mail",
                "nhận biết phản ánh trùng của cùng người gửi; tìm hồ sơ theo yêu cầu của chủ thể dữ liệu",
                "không chuyển ra ngoài",
            ),
            entry(
                "feedback_consents",
                "Phiên bản thông báo đã đọc, nội dung đồng ý, thời điểm, kênh",
                "chứng minh sự đồng ý",
                "không chuyển ra ngoài",
            ),
            evidence,
        ],
        data_protection_roles: grant(Permission::DataProtection).roles.iter().map(|r| r.as_str().to_owned()).collect(),
        never_in: ["events", "webhooks", "exports", "reports", "logs", "the audit trail (masked)"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
    }
}
