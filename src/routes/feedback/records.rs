//! Feedback records: reading (the sender unmasked only for those who may), changing,
//! deleting; what a record is as the API shows it. Filing is `filing`.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::{
    auth::{AuthUser, Permission, Principal, PrincipalKind, Role, Scope},
    db::{
        self, Record,
        audit::Actor,
        feedback::{self as store, FeedbackChanges, FeedbackRecord},
    },
    domain::time::Bound,
    domain::{
        feedback::{
            FeedbackChannel, FeedbackKind, FeedbackStatus, Satisfaction, SenderType, deadline, mask_address,
            mask_email, mask_name, mask_phone,
        },
        messages::MessageChannel,
        time::local_date,
        validate,
    },
    error::ApiError,
    http::{
        ApiJson, IfMatch, Page, RequestContext, etag::ok_with_etag, json::double_option, pagination::PageParams,
        query::ListQuery,
    },
    routes::{
        checks,
        crud::{self, Resource},
    },
    state::AppState,
};

/// Who sent it. Masked (`09******78`, `n***@gmail.com`) except for the coordinator, a
/// leader and the assigned department reading one record.
#[derive(Serialize, ToSchema, Clone, Default)]
pub struct Sender {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    /// What the sender consented to be told by (messages of receipt, extension, answer,
    /// publication and reopening; `GET /api/v1/feedback/{id}/messages`).
    pub notify_by: Vec<MessageChannel>,
}

/// Where the matter is — a point (WGS 84 degrees), a written address, or both; not the
/// sender's own address, which stays with the sender. A point comes whole (`lat` with
/// `long`).
#[derive(Serialize, Deserialize, Validate, ToSchema, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"lat": 12.2388, "long": 109.1967, "address": "Đường Phạm Văn Đồng, phường Vĩnh Hòa, Nha Trang"}))]
pub struct Location {
    #[validate(range(min = -90.0, max = 90.0))]
    #[schema(minimum = -90, maximum = 90)]
    pub lat: Option<f64>,
    #[validate(range(min = -180.0, max = 180.0))]
    #[schema(minimum = -180, maximum = 180)]
    pub long: Option<f64>,
    #[validate(length(min = 1, max = 1000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 1000)]
    pub address: Option<String>,
}

impl Location {
    /// Checks the rules between its fields (`http::rules`), which `ApiJson` checks only
    /// at the body's top level.
    pub(crate) fn check(&self) -> Result<(), ApiError> {
        crate::http::rules::check(
            crate::http::rules::of::<Location>(),
            &serde_json::to_value(self).map_err(ApiError::internal)?,
        )
    }

    pub(crate) fn row(&self, feedback_id: Uuid, organization_id: Uuid) -> store::LocationRow {
        store::LocationRow {
            feedback_id,
            organization_id,
            lat: self.lat.map(to_centimetres),
            long: self.long.map(to_centimetres),
            address: self.address.as_ref().map(|a| a.trim().to_owned()),
        }
    }
}

/// Degrees kept to seven decimals (about a centimetre, finer than any phone's GPS): a
/// point that close to 0 is 0, not a number too small for the earth's arithmetic.
pub(crate) fn to_centimetres(degrees: f64) -> f64 {
    (degrees * 1e7).round() / 1e7
}

impl From<store::LocationRow> for Location {
    fn from(l: store::LocationRow) -> Self {
        Self { lat: l.lat, long: l.long, address: l.address }
    }
}

/// A feedback, complaint, recommendation or question.
#[derive(Serialize, ToSchema, Clone)]
pub struct Feedback {
    pub id: Uuid,
    pub organization_id: Uuid,
    /// Sequential per organisation and year of receipt, never reused.
    #[schema(example = "PAKN-2021-000123")]
    pub code: String,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub received_at: DateTime<Utc>,
    pub channel: FeedbackChannel,
    pub kind: FeedbackKind,
    pub sender_type: SenderType,
    /// An anonymous record keeps nothing about its sender.
    pub anonymous: bool,
    /// `null` when anonymous.
    pub sender: Option<Sender>,
    /// Whether `sender` is shown unmasked in this answer.
    pub sender_unmasked: bool,
    pub subject: String,
    pub content: String,
    /// Where the matter is, if given.
    pub location: Option<Location>,
    pub category_id: Option<Uuid>,
    pub plan_item_id: Option<Uuid>,
    /// The department assigned to answer it.
    pub department_id: Option<Uuid>,
    /// The last day to answer (Vietnam).
    pub deadline_on: NaiveDate,
    /// Why the deadline was set by hand (then it is not the category's).
    pub deadline_reason: Option<String>,
    /// The sending system's id for it; one per service client.
    pub external_reference: Option<String>,
    /// The service client that sent it.
    pub source_client_id: Option<Uuid>,
    /// Changed through transitions (and the first answer); `merged` by `POST …/merge`.
    pub status: FeedbackStatus,
    /// The record carrying the same matter that this one was merged into.
    pub merged_into: Option<Uuid>,
    /// Whether its category and department were set from triage's suggestion (the
    /// organisation's auto-assignment), not by staff.
    pub assigned_by_suggestion: bool,
    /// Why it was rejected.
    pub status_reason: Option<String>,
    /// The organisation it was forwarded to.
    pub forwarded_to: Option<String>,
    /// Past its deadline (in Vietnam) and not yet answered.
    pub overdue: bool,
    /// When the deadline scan found it past its deadline unanswered and escalated it
    /// to the coordinators and leaders (`feedback.overdue`).
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub escalated_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub answered_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub closed_at: Option<DateTime<Utc>>,
    pub satisfaction: Option<Satisfaction>,
    pub satisfaction_channel: Option<FeedbackChannel>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub satisfaction_at: Option<DateTime<Utc>>,
    /// Whether the result is public, and the summary shown there.
    pub published: bool,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub published_at: Option<DateTime<Utc>>,
    pub published_summary: Option<String>,
    /// For the organisation only; never public.
    pub internal_note: Option<String>,
    pub version: i32,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub updated_at: DateTime<Utc>,
}

impl Feedback {
    fn new(rec: FeedbackRecord, reveal: bool) -> Self {
        let r = rec.row;
        // A sender whose processing is restricted is masked to everyone.
        let reveal = reveal && rec.sender.as_ref().is_none_or(|s| s.restricted_at.is_none());
        let sender = rec.sender.map(|s| {
            let notify_by = s.notify_by.iter().filter_map(|c| MessageChannel::parse(c)).collect();
            if reveal {
                Sender { name: s.name, phone: s.phone, email: s.email, address: s.address, notify_by }
            } else {
                Sender {
                    name: s.name.as_deref().map(mask_name),
                    phone: s.phone.as_deref().map(mask_phone),
                    email: s.email.as_deref().map(mask_email),
                    address: s.address.as_deref().map(mask_address),
                    notify_by,
                }
            }
        });
        Self {
            id: r.id,
            organization_id: r.organization_id,
            code: r.code,
            received_at: r.received_at,
            channel: r.channel,
            kind: r.kind,
            sender_type: r.sender_type,
            anonymous: r.anonymous,
            sender_unmasked: reveal && sender.is_some(),
            sender,
            subject: r.subject,
            content: r.content,
            location: rec.location.map(Location::from),
            category_id: r.category_id,
            plan_item_id: r.plan_item_id,
            department_id: r.department_id,
            deadline_on: r.deadline_on,
            deadline_reason: r.deadline_reason,
            external_reference: r.external_reference,
            source_client_id: r.source_client_id,
            status: r.status,
            merged_into: rec.merged_into,
            assigned_by_suggestion: rec.assigned_by_suggestion,
            status_reason: r.status_reason,
            forwarded_to: r.forwarded_to,
            overdue: false,
            escalated_at: r.escalated_at,
            answered_at: r.answered_at,
            closed_at: r.closed_at,
            satisfaction: r.satisfaction,
            satisfaction_channel: r.satisfaction_channel,
            satisfaction_at: r.satisfaction_at,
            published: rec.publication.is_some(),
            published_at: rec.publication.as_ref().map(|p| p.published_at),
            published_summary: rec.publication.map(|p| p.summary),
            internal_note: r.internal_note,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Masked: lists, the audit trail and every answer but the one below.
impl From<FeedbackRecord> for Feedback {
    fn from(rec: FeedbackRecord) -> Self {
        Self::new(rec, false)
    }
}

impl Resource for Feedback {
    type Row = FeedbackRecord;
    const COLLECTION: &'static str = "/api/v1/feedback";

    fn finish(&mut self, state: &AppState) {
        self.overdue = self.status.is_open() && self.deadline_on < state.clock.today();
    }
}

/// The roles that see every sender of their organisation unmasked (the register of
/// processing names them from here).
pub const SEE_EVERY_SENDER: [Role; 2] = [Role::Coordinator, Role::Leader];

/// Whether `principal` sees the sender of this record unmasked: the coordinator, a
/// leader, or someone of the assigned department.
pub(super) fn sees_sender(principal: &Principal, department: Option<Uuid>) -> bool {
    match principal.kind {
        PrincipalKind::User { role, .. } if SEE_EVERY_SENDER.contains(&role) => true,
        PrincipalKind::User { department_id: Some(own), .. } => department == Some(own),
        _ => false,
    }
}

/// A service client that files records (`feedback:write`: a hotline, a portal) reads
/// only the records it sent; one that only reads (`feedback:read`: a reporting system)
/// reads the organisation's, masked like everyone's.
pub(crate) fn client_scope(principal: &Principal) -> Option<Uuid> {
    match &principal.kind {
        PrincipalKind::Client { scopes } if scopes.contains(&Scope::FeedbackWrite) => Some(principal.id),
        _ => None,
    }
}

fn phone(value: &str) -> Result<(), validator::ValidationError> {
    let ok = value.chars().filter(|c| c.is_ascii_digit()).count() >= 6
        && value.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '.' | '-' | '(' | ')'));
    if ok { Ok(()) } else { Err(validator::ValidationError::new("invalid_format")) }
}

/// The sender's consent as given at filing.
#[derive(Deserialize, Serialize, Validate, ToSchema, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct ConsentGiven {
    /// The version of the privacy notice the sender saw, or the hotline operator read.
    /// Default: the organisation's `privacy_notice_version`.
    #[validate(length(min = 1, max = 64), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 64)]
    pub notice_version: Option<String>,
    /// The sender agrees that the result may be published (anonymised). Default `false`.
    #[serde(default)]
    pub publish: bool,
}

#[derive(Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"channel": "hotline", "kind": "complaint", "sender_type": "citizen", "sender_name": "Nguyễn Văn An",
    "sender_phone": "0912345678", "subject": "Chậm giải quyết hồ sơ bồi thường", "content": "Hồ sơ nộp từ tháng 3 chưa có kết quả.",
    "external_reference": "1022-2021-004512"}))]
pub struct CreateFeedback {
    /// Default: now.
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub received_at: Option<DateTime<Utc>>,
    pub channel: FeedbackChannel,
    pub kind: FeedbackKind,
    pub sender_type: SenderType,
    /// Default `false`; an anonymous record takes no sender details.
    #[serde(default)]
    pub anonymous: bool,
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub sender_name: Option<String>,
    #[validate(length(max = 32), custom(function = "phone"))]
    #[schema(max_length = 32, pattern = r"^(?:[+ .()-]*[0-9]){6}[+ .()0-9-]*$")]
    pub sender_phone: Option<String>,
    #[validate(email, length(max = 254))]
    #[schema(max_length = 254, format = Email)]
    pub sender_email: Option<String>,
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub sender_address: Option<String>,
    /// The sender consents to be told of the record's receipt (code, legal deadline,
    /// tracking PIN), extension, answer, publication and reopening by `email` (needs
    /// `sender_email`) and/or `sms` (needs `sender_phone`). Default: not told. The
    /// sender withdraws it with the PIN (`PUT /api/v1/public/feedback/{code}/notify-by`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 2)]
    pub notify_by: Vec<MessageChannel>,
    /// What the sender was told of the processing of their personal data, and agreed to
    /// (Decree 13/2023): recorded with the sender, with the channel, the client and when.
    /// Being told (`notify_by`) is its own consent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(nested)]
    pub consent: Option<ConsentGiven>,
    #[validate(length(min = 1, max = 1000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 1000)]
    pub subject: String,
    #[validate(length(min = 1, max = 50000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 50000)]
    pub content: String,
    /// Where the matter is.
    #[validate(nested)]
    pub location: Option<Location>,
    pub category_id: Option<Uuid>,
    pub plan_item_id: Option<Uuid>,
    /// Default: the category's department.
    pub department_id: Option<Uuid>,
    /// Set by hand (coordinator, leader) with `deadline_reason`; default from the
    /// category's working days.
    pub deadline_on: Option<NaiveDate>,
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub deadline_reason: Option<String>,
    /// The sending system's id; sending it again returns the record already filed.
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub external_reference: Option<String>,
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    pub internal_note: Option<String>,
    /// Only the system administrator sends this, naming the organisation to act for.
    pub organization_id: Option<Uuid>,
}

/// Fields to change (coordinator, leader); absent fields stay, `null` clears an
/// optional one. Assigning is setting `department_id`.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFeedback {
    #[validate(length(min = 1, max = 1000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 1000)]
    pub subject: Option<String>,
    #[validate(length(min = 1, max = 50000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 50000)]
    pub content: Option<String>,
    pub kind: Option<FeedbackKind>,
    /// Where the matter is; `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[validate(nested)]
    #[schema(value_type = Option<Location>)]
    pub location: Option<Option<Location>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub category_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub plan_item_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub department_id: Option<Option<Uuid>>,
    /// With `deadline_reason`.
    pub deadline_on: Option<NaiveDate>,
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub deadline_reason: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 10000))]
    #[schema(value_type = Option<String>, max_length = 10000)]
    pub internal_note: Option<Option<String>>,
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedbackFilter {
    /// System administrator only: records of this organisation.
    pub organization_id: Option<Uuid>,
    pub status: Option<FeedbackStatus>,
    pub channel: Option<FeedbackChannel>,
    pub kind: Option<FeedbackKind>,
    pub category_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    /// `true`: only overdue ones; `false`: only those not overdue.
    pub overdue: Option<bool>,
    /// Received at or after this: a day (`2021-03-15`, from its start in Vietnam) or an
    /// instant (RFC 3339).
    #[param(inline)]
    pub from: Option<Bound>,
    /// Received before this instant (RFC 3339), or up to the end of this day
    /// (`2021-03-31`, in Vietnam).
    #[param(inline)]
    pub to: Option<Bound>,
    /// Words in the code, subject or content, regardless of case and Vietnamese diacritics.
    #[validate(length(min = 1, max = 100))]
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
    /// Only records whose location has a point within `radius_m` of this one:
    /// `<lat>,<long>` in degrees (WGS 84), e.g. `12.2388,109.1967`.
    #[param(
        pattern = r"^-?(90(\.0+)?|[1-8]?[0-9](\.[0-9]+)?),-?(180(\.0+)?|(1[0-7][0-9]|[1-9]?[0-9])(\.[0-9]+)?)$",
        example = "12.2388,109.1967"
    )]
    pub near: Option<String>,
    /// With `near`: the distance in metres along the earth's surface (default 1,000).
    #[validate(range(min = 1, max = 100000))]
    #[param(minimum = 1, maximum = 100000)]
    pub radius_m: Option<u32>,
}

/// Degrees written as `near`'s pattern has them: an optional `-`, a whole part without
/// leading zeros up to `max` (then only zeros after the point), an optional fraction.
fn degrees(text: &str, max: u32) -> Option<f64> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (whole.len() > 1 && whole.starts_with('0')) || fraction.is_some_and(|f| !digits(f)) {
        return None;
    }
    let value: u32 = whole.parse().ok()?;
    if value > max || (value == max && fraction.is_some_and(|f| f.bytes().any(|b| b != b'0'))) {
        return None;
    }
    text.parse().ok()
}

/// `near` and `radius_m` as `(lat, long, metres)`.
fn near(near: Option<&str>, radius_m: Option<u32>) -> Result<Option<(f64, f64, f64)>, ApiError> {
    let Some(near) = near else {
        // A rule between two parameters, which no schema states: a 422, as for bodies.
        return match radius_m {
            Some(_) => Err(ApiError::rule("near", "required")),
            None => Ok(None),
        };
    };
    match near.split_once(',').and_then(|(lat, long)| Some((degrees(lat, 90)?, degrees(long, 180)?))) {
        Some((lat, long)) => Ok(Some((to_centimetres(lat), to_centimetres(long), f64::from(radius_m.unwrap_or(1000))))),
        None => Err(ApiError::field("near", "invalid_near")),
    }
}

/// The deadline from the category's working days (or the default), from the day after
/// receipt, on the organisation's working calendar (national days and its own).
pub(super) fn computed_deadline(
    conn: &mut PgConnection,
    org: Uuid,
    received: DateTime<Utc>,
    days: u32,
) -> Result<NaiveDate, ApiError> {
    let day = local_date(received);
    Ok(deadline(day, days, &store::working_calendar(conn, org, day)?))
}

/// List feedback records (personal data always masked).
#[utoipa::path(
    tag = "feedback",
    params(PageParams, FeedbackFilter),
    responses((status = 200, description = "A page of records.", body = Page<Feedback>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("")]
pub async fn list_feedback(
    auth: AuthUser,
    query: ListQuery<FeedbackFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackRead)?;
    let ListQuery { page, filter } = query;
    let today = state.clock.today();
    let filter = store::Filter {
        organization_id: principal.read_scope(filter.organization_id)?,
        source_client_id: client_scope(&principal),
        status: filter.status,
        channel: filter.channel,
        kind: filter.kind,
        category_id: filter.category_id,
        department_id: filter.department_id,
        overdue: filter.overdue.map(|o| (o, today)),
        from: filter.from.map(Bound::start),
        to: filter.to.map(Bound::end),
        near: near(filter.near.as_deref(), filter.radius_m)?,
        q: filter.q,
    };
    crud::list::<Feedback, _>(&req, &state, page, move |conn, page| store::list(conn, &filter, page)).await
}

/// The record, as `principal` may see it.
pub(super) async fn load_for(state: &AppState, principal: &Principal, id: Uuid) -> Result<FeedbackRecord, ApiError> {
    let (org, client) = (principal.organization_id, client_scope(principal));
    let record = db::run(&state.pool, move |conn| Ok(FeedbackRecord::find(conn, id, org)?)).await?;
    if client.is_some() && record.row.source_client_id != client {
        return Err(ApiError::not_found());
    }
    Ok(record)
}

/// Read a feedback record.
///
/// The sender is shown unmasked to the coordinator, a leader and the assigned
/// department; masked to everyone else. A service client reads the records it sent.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The record.", body = Feedback, headers(("ETag" = String)), example = crate::routes::examples::feedback))
)]
#[get("/{id}")]
pub async fn get_feedback(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackRead)?;
    let record = load_for(&state, &principal, id.into_inner()).await?;
    let reveal = sees_sender(&principal, record.row.department_id);
    let version = record.version();
    let mut body = Feedback::new(record, reveal);
    body.finish(&state);
    Ok(ok_with_etag(version, &body))
}

/// Change or assign a feedback record.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"` from the `ETag`; a stale one is a 412.")),
    request_body = UpdateFeedback,
    responses(
        (status = 200, description = "Changed.", body = Feedback, headers(("ETag" = String))),
        (status = 422, description = "A category, department or plan item is not the organisation's.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/{id}")]
pub async fn update_feedback(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<UpdateFeedback>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackManage)?;
    let body = body.0;
    if let Some(Some(location)) = &body.location {
        location.check()?;
    }
    let (default_days, now) = (state.settings.feedback_deadline_days, state.clock.now());
    let actor = Actor::of(&principal, &ctx);
    crud::update::<Feedback, _>(
        &state,
        actor,
        id.into_inner(),
        principal.organization_id,
        if_match,
        move |conn, current| {
            let row = &current.row;
            let org = row.organization_id;
            let category = match body.category_id {
                Some(id) => checks::category(conn, id, org)?,
                None => None,
            };
            if let Some(dept) = body.department_id {
                checks::department(conn, dept, org)?;
            }
            if let Some(item) = body.plan_item_id {
                checks::plan_item(conn, item, org)?;
            }
            let mut changes = FeedbackChanges {
                subject: body.subject.map(|s| s.trim().to_owned()),
                content: body.content.map(|s| s.trim().to_owned()),
                kind: body.kind,
                category_id: body.category_id,
                plan_item_id: body.plan_item_id,
                department_id: body.department_id,
                internal_note: body.internal_note,
                ..Default::default()
            };
            if let (Some(day), Some(reason)) = (body.deadline_on, body.deadline_reason) {
                changes.deadline_on = Some(day);
                changes.deadline_reason = Some(Some(reason));
            } else if body.category_id.is_some() && row.deadline_reason.is_none() {
                // A new category brings its deadline, unless one was set by hand.
                let days = category.as_ref().map_or(default_days, |c| c.deadline_days as u32);
                changes.deadline_on = Some(computed_deadline(conn, org, row.received_at, days)?);
            }
            let mut location = current.location.clone();
            if let Some(change) = &body.location {
                location = change.as_ref().map(|l| l.row(row.id, org));
                store::set_location(conn, row.id, location.as_ref())?;
            }
            let updated = store::update(conn, row.id, &changes)?;
            // What staff chose after triage's suggestions (measured by the triage report).
            db::triage::record_choice(conn, row.id, body.category_id.flatten(), body.department_id.flatten(), now)?;
            Ok(FeedbackRecord { location, ..current.with_row(updated) })
        },
    )
    .await
}

/// Delete a feedback record.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    responses((status = 204, description = "Deleted."))
)]
#[delete("/{id}")]
pub async fn delete_feedback(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackManage)?;
    let actor = Actor::of(&principal, &ctx);
    crud::delete::<Feedback, _>(&state, actor, id.into_inner(), principal.organization_id, if_match, |conn, current| {
        store::unpublish(conn, current.row.id)?;
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_is_read_as_its_pattern_says() {
        assert_eq!(near(Some("12.2388,109.1967"), Some(500)).unwrap(), Some((12.2388, 109.1967, 500.0)));
        assert_eq!(near(Some("-90,180.000"), None).unwrap(), Some((-90.0, 180.0, 1000.0)));
        assert_eq!(near(Some("0,-0.5"), None).unwrap(), Some((0.0, -0.5, 1000.0)));
        for bad in ["90.1,0", "0,180.5", "05,10", "1e1,2", "+1,2", "1,", ",1", "1.,2", "1 ,2", "91,0", "0,200", "abc"] {
            assert!(near(Some(bad), None).is_err(), "{bad}");
        }
        assert!(near(None, Some(10)).is_err(), "a radius without a point");
        assert_eq!(near(None, None).unwrap(), None);
        assert_eq!(near(Some("0.00000000000000000001,-0.5"), None).unwrap(), Some((0.0, -0.5, 1000.0)));
        assert_eq!(to_centimetres(-5e-324), 0.0);
        assert_eq!(to_centimetres(12.238_812_345), 12.238_812_3);
    }
}
