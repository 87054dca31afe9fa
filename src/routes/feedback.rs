//! Feedback and hotline records (phản ánh, kiến nghị): categories, holidays, records
//! with their deadlines, history, answers, satisfaction and publication.
//!
//! The sender's personal data is shown only by `GET /api/v1/feedback/{id}`, and only to
//! the coordinator, a leader and the assigned department; every other answer — every
//! list, every other role, every service client — carries it masked.
use std::collections::HashSet;

use actix_web::{HttpRequest, HttpResponse, delete, get, http::header, patch, post, web};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use diesel::{Connection, OptionalExtension, PgConnection, QueryDsl, RunQueryDsl, prelude::*};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::{
    auth::{AuthUser, Permission, Principal, PrincipalKind, Role, Scope},
    db::{
        self, Record,
        audit::{self, Actor, Event},
        departments,
        feedback::{
            self as store, AnswerRow, CategoryChanges, CategoryRow, FeedbackChanges, FeedbackRecord, HolidayRow,
            NewCategory, NewFeedback, SenderRow, categories, holiday_fns,
        },
        indicators, plan_items,
    },
    domain::{
        feedback::{
            FeedbackChannel, FeedbackKind, FeedbackStatus, Satisfaction, SenderType, deadline, feedback_code,
            mask_address, mask_email, mask_name, mask_phone,
        },
        plans::MeasurementSource,
        time::{local_date, vietnam},
        validate,
    },
    error::{ApiError, FieldError},
    http::{
        ApiJson, IfMatch, Page, RequestContext,
        etag::ok_with_etag,
        json::double_option,
        pagination::PageParams,
        query::{ApiQuery, ListQuery},
    },
    routes::crud::{self, Filed, Resource},
    state::AppState,
};

/// The code of the indicator the service computes from recorded satisfaction.
pub const SATISFACTION_INDICATOR: &str = "SATISFACTION_RATE";

// ---- Categories ------------------------------------------------------------------

/// A category of feedback, with the working days allowed to answer it.
#[derive(Serialize, ToSchema, Clone)]
pub struct FeedbackCategory {
    pub id: Uuid,
    pub organization_id: Uuid,
    #[schema(example = "DAT-DAI")]
    pub code: String,
    #[schema(example = "Đất đai, giải phóng mặt bằng")]
    pub name: String,
    /// Assigned to new records of this category unless one is named.
    pub default_department_id: Option<Uuid>,
    /// Working days to answer, counted from the first working day after receipt.
    pub deadline_days: i32,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<CategoryRow> for FeedbackCategory {
    fn from(r: CategoryRow) -> Self {
        Self {
            id: r.id,
            organization_id: r.organization_id,
            code: r.code,
            name: r.name,
            default_department_id: r.default_department_id,
            deadline_days: r.deadline_days,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Resource for FeedbackCategory {
    type Row = CategoryRow;
    const COLLECTION: &'static str = "/api/v1/feedback-categories";
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "DAT-DAI", "name": "Đất đai, giải phóng mặt bằng", "deadline_days": 10}))]
pub struct CreateCategory {
    #[validate(custom(function = "validate::code"))]
    #[schema(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9._-]{1,32}$")]
    pub code: String,
    #[validate(length(min = 1, max = 255), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 255)]
    pub name: String,
    pub default_department_id: Option<Uuid>,
    #[validate(range(min = 1, max = 365))]
    #[schema(minimum = 1, maximum = 365)]
    pub deadline_days: i32,
    /// Only the system administrator sends this, naming the organisation to act for.
    pub organization_id: Option<Uuid>,
}

/// Fields to change; absent fields stay, `null` clears an optional one.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCategory {
    #[validate(custom(function = "validate::code"))]
    #[schema(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9._-]{1,32}$")]
    pub code: Option<String>,
    #[validate(length(min = 1, max = 255), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 255)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub default_department_id: Option<Option<Uuid>>,
    #[validate(range(min = 1, max = 365))]
    #[schema(minimum = 1, maximum = 365)]
    pub deadline_days: Option<i32>,
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrgFilter {
    /// System administrator only: those of this organisation.
    pub organization_id: Option<Uuid>,
}

fn check_department(conn: &mut PgConnection, department: Option<Uuid>, org: Uuid) -> Result<(), ApiError> {
    if let Some(dept) = department
        && departments::find(conn, dept, Some(org)).optional()?.is_none()
    {
        return Err(ApiError::unprocessable("department_not_found")
            .with_errors(vec![FieldError::new("department_id", "department_not_found")]));
    }
    Ok(())
}

/// List feedback categories.
#[utoipa::path(
    tag = "feedback",
    params(PageParams, OrgFilter),
    responses((status = 200, description = "A page of categories.", body = Page<FeedbackCategory>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("/feedback-categories")]
pub async fn list_feedback_categories(
    auth: AuthUser,
    query: ListQuery<OrgFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::FeedbackRead)?;
    let org = auth.0.read_scope(query.filter.organization_id)?;
    crud::list::<FeedbackCategory, _>(&req, &state, query.page, move |conn, page| categories::list(conn, org, page))
        .await
}

/// Read a feedback category.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The category.", body = FeedbackCategory, headers(("ETag" = String))))
)]
#[get("/feedback-categories/{id}")]
pub async fn get_feedback_category(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::FeedbackRead)?;
    crud::get::<FeedbackCategory>(&state, id.into_inner(), auth.0.organization_id).await
}

/// Create a feedback category.
#[utoipa::path(
    tag = "feedback",
    params(crate::http::idempotency::IdempotencyKeyHeader),
    request_body = CreateCategory,
    responses(
        (status = 201, description = "Created.", body = FeedbackCategory, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The code is taken (`category_code_taken`), or the idempotency key is in use.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The department is not the organisation's, or the idempotency key was used for another request.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/feedback-categories", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn create_feedback_category(
    auth: AuthUser,
    ctx: RequestContext,
    body: ApiJson<CreateCategory>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackManage)?;
    let body = body.0;
    let org = principal.acting_org(body.organization_id)?;
    let new = NewCategory {
        id: Uuid::now_v7(),
        organization_id: org,
        code: body.code,
        name: body.name.trim().to_owned(),
        default_department_id: body.default_department_id,
        deadline_days: body.deadline_days,
        created_by: Some(principal.id),
    };
    crud::create::<FeedbackCategory, _>(&state, Actor::of(&principal, &ctx), move |conn| {
        db::organizations::find(conn, org, None).map_err(|_| ApiError::unprocessable("organization_not_found"))?;
        check_department(conn, new.default_department_id, org)?;
        Ok(categories::insert(conn, &new)?)
    })
    .await
}

/// Change a feedback category (records already received keep their deadlines).
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"` from the `ETag`; a stale one is a 412.")),
    request_body = UpdateCategory,
    responses(
        (status = 200, description = "Changed.", body = FeedbackCategory, headers(("ETag" = String))),
        (status = 409, description = "The code is taken.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The department is not the organisation's.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/feedback-categories/{id}")]
pub async fn update_feedback_category(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<UpdateCategory>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackManage)?;
    let body = body.0;
    let changes = CategoryChanges {
        code: body.code,
        name: body.name.map(|n| n.trim().to_owned()),
        default_department_id: body.default_department_id,
        deadline_days: body.deadline_days,
    };
    let actor = Actor::of(&principal, &ctx);
    crud::update::<FeedbackCategory, _>(
        &state,
        actor,
        id.into_inner(),
        principal.organization_id,
        if_match,
        move |conn, current| {
            check_department(conn, changes.default_department_id.flatten(), current.organization_id)?;
            Ok(categories::update(conn, current.id, &changes)?)
        },
    )
    .await
}

/// Delete a feedback category (its records keep it).
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    responses((status = 204, description = "Deleted."))
)]
#[delete("/feedback-categories/{id}")]
pub async fn delete_feedback_category(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackManage)?;
    let actor = Actor::of(&principal, &ctx);
    crud::delete::<FeedbackCategory, _>(
        &state,
        actor,
        id.into_inner(),
        principal.organization_id,
        if_match,
        crud::no_guard,
    )
    .await
}

// ---- Holidays ----------------------------------------------------------------------

/// A non-working day of the organisation (besides Saturdays and Sundays).
#[derive(Serialize, ToSchema, Clone)]
pub struct Holiday {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub day: NaiveDate,
    #[schema(example = "Tết Nguyên đán")]
    pub name: String,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<HolidayRow> for Holiday {
    fn from(r: HolidayRow) -> Self {
        Self {
            id: r.id,
            organization_id: r.organization_id,
            day: r.day,
            name: r.name,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Resource for Holiday {
    type Row = HolidayRow;
    const COLLECTION: &'static str = "/api/v1/holidays";
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"day": "2021-02-11", "name": "Tết Nguyên đán"}))]
pub struct CreateHoliday {
    pub day: NaiveDate,
    #[validate(length(min = 1, max = 255), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 255)]
    pub name: String,
    /// Only the system administrator sends this, naming the organisation to act for.
    pub organization_id: Option<Uuid>,
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HolidayFilter {
    /// System administrator only: those of this organisation.
    pub organization_id: Option<Uuid>,
    /// On or after this day.
    pub from: Option<NaiveDate>,
    /// On or before this day.
    pub to: Option<NaiveDate>,
}

/// List the organisation's holidays.
#[utoipa::path(
    tag = "feedback",
    params(PageParams, HolidayFilter),
    responses((status = 200, description = "A page of holidays.", body = Page<Holiday>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("/holidays")]
pub async fn list_holidays(
    auth: AuthUser,
    query: ListQuery<HolidayFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::FeedbackRead)?;
    let ListQuery { page, filter } = query;
    let org = auth.0.read_scope(filter.organization_id)?;
    let range = (filter.from, filter.to);
    crud::list::<Holiday, _>(&req, &state, page, move |conn, page| holiday_fns::list(conn, org, range, page)).await
}

/// Add a holiday; deadlines of records received from now on count it.
#[utoipa::path(
    tag = "feedback",
    params(crate::http::idempotency::IdempotencyKeyHeader),
    request_body = CreateHoliday,
    responses(
        (status = 201, description = "Added.", body = Holiday, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The day is already a holiday (`holiday_taken`), or the idempotency key is in use.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The named organisation does not exist, or the idempotency key was used for another request.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/holidays", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn create_holiday(
    auth: AuthUser,
    ctx: RequestContext,
    body: ApiJson<CreateHoliday>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackManage)?;
    let body = body.0;
    let org = principal.acting_org(body.organization_id)?;
    let by = principal.id;
    let res = crud::create::<Holiday, _>(&state, Actor::of(&principal, &ctx), move |conn| {
        db::organizations::find(conn, org, None).map_err(|_| ApiError::unprocessable("organization_not_found"))?;
        Ok(holiday_fns::insert(conn, Uuid::now_v7(), org, body.day, body.name.trim(), by)?)
    })
    .await?;
    Ok(res)
}

/// Remove a holiday, by its date.
#[utoipa::path(
    tag = "feedback",
    params(("date" = NaiveDate, Path, description = "The day, `YYYY-MM-DD`."), OrgFilter),
    responses((status = 204, description = "Removed."))
)]
#[delete("/holidays/{date}")]
pub async fn delete_holiday(
    auth: AuthUser,
    ctx: RequestContext,
    date: web::Path<NaiveDate>,
    query: ApiQuery<OrgFilter>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackManage)?;
    let org = principal.acting_org(query.0.organization_id)?;
    let day = date.into_inner();
    let id = db::run(&state.pool, move |conn| Ok(holiday_fns::on(conn, org, day)?.id)).await?;
    let actor = Actor::of(&principal, &ctx);
    crud::delete::<Holiday, _>(&state, actor, id, Some(org), IfMatch::default(), crud::no_guard).await
}

// ---- Records -------------------------------------------------------------------------

/// Who sent it. Masked (`09******78`, `n***@gmail.com`) except for the coordinator, a
/// leader and the assigned department reading one record.
#[derive(Serialize, ToSchema, Clone, Default)]
pub struct Sender {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
}

/// A feedback, complaint, recommendation or question.
#[derive(Serialize, ToSchema, Clone)]
pub struct Feedback {
    pub id: Uuid,
    pub organization_id: Uuid,
    /// Sequential per organisation and year of receipt, never reused.
    #[schema(example = "PAKN-2021-000123")]
    pub code: String,
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
    /// Changed through transitions (and the first answer).
    pub status: FeedbackStatus,
    /// Why it was rejected.
    pub status_reason: Option<String>,
    /// The organisation it was forwarded to.
    pub forwarded_to: Option<String>,
    /// Past its deadline (in Vietnam) and not yet answered.
    pub overdue: bool,
    pub answered_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub satisfaction: Option<Satisfaction>,
    pub satisfaction_channel: Option<FeedbackChannel>,
    pub satisfaction_at: Option<DateTime<Utc>>,
    /// Whether the result is public, and the summary shown there.
    pub published: bool,
    pub published_at: Option<DateTime<Utc>>,
    pub published_summary: Option<String>,
    /// For the organisation only; never public.
    pub internal_note: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Feedback {
    fn new(rec: FeedbackRecord, reveal: bool) -> Self {
        let r = rec.row;
        let sender = rec.sender.map(|s| {
            if reveal {
                Sender { name: s.name, phone: s.phone, email: s.email, address: s.address }
            } else {
                Sender {
                    name: s.name.as_deref().map(mask_name),
                    phone: s.phone.as_deref().map(mask_phone),
                    email: s.email.as_deref().map(mask_email),
                    address: s.address.as_deref().map(mask_address),
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
            category_id: r.category_id,
            plan_item_id: r.plan_item_id,
            department_id: r.department_id,
            deadline_on: r.deadline_on,
            deadline_reason: r.deadline_reason,
            external_reference: r.external_reference,
            source_client_id: r.source_client_id,
            status: r.status,
            status_reason: r.status_reason,
            forwarded_to: r.forwarded_to,
            overdue: false,
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

/// Whether `principal` sees the sender of this record unmasked: the coordinator, a
/// leader, or someone of the assigned department.
fn sees_sender(principal: &Principal, department: Option<Uuid>) -> bool {
    match principal.kind {
        PrincipalKind::User { role: Role::Coordinator | Role::Leader, .. } => true,
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

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"channel": "hotline", "kind": "complaint", "sender_type": "citizen", "sender_name": "Nguyễn Văn An",
    "sender_phone": "0912345678", "subject": "Chậm giải quyết hồ sơ bồi thường", "content": "Hồ sơ nộp từ tháng 3 chưa có kết quả.",
    "external_reference": "1022-2021-004512"}))]
pub struct CreateFeedback {
    /// Default: now.
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
    #[validate(length(min = 1, max = 1000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 1000)]
    pub subject: String,
    #[validate(length(min = 1, max = 50000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 50000)]
    pub content: String,
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
    /// Received at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Received before this time.
    pub to: Option<DateTime<Utc>>,
    /// Words in the code, subject or content, regardless of case and Vietnamese diacritics.
    #[validate(length(min = 1, max = 100))]
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
}

/// The deadline from the category's working days (or the default), from the day after
/// receipt, skipping weekends and the organisation's holidays.
fn computed_deadline(
    conn: &mut PgConnection,
    org: Uuid,
    received: DateTime<Utc>,
    days: u32,
) -> Result<NaiveDate, ApiError> {
    let day = local_date(received);
    let holidays: HashSet<NaiveDate> = store::holidays_from(conn, org, day)?;
    Ok(deadline(day, days, |d| holidays.contains(&d)))
}

fn category_of(conn: &mut PgConnection, id: Option<Uuid>, org: Uuid) -> Result<Option<CategoryRow>, ApiError> {
    match id {
        None => Ok(None),
        Some(id) => categories::find(conn, id, Some(org)).optional()?.map(Some).ok_or_else(|| {
            ApiError::unprocessable("reference_invalid")
                .with_errors(vec![FieldError::new("category_id", "reference_invalid")])
        }),
    }
}

fn check_item(conn: &mut PgConnection, item: Option<Uuid>, org: Uuid) -> Result<(), ApiError> {
    if let Some(item) = item
        && plan_items::find(conn, item, Some(org)).optional()?.is_none()
    {
        return Err(ApiError::unprocessable("reference_invalid")
            .with_errors(vec![FieldError::new("plan_item_id", "reference_invalid")]));
    }
    Ok(())
}

/// List feedback records (personal data always masked).
#[utoipa::path(
    tag = "feedback",
    params(PageParams, FeedbackFilter),
    responses((status = 200, description = "A page of records.", body = Page<Feedback>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("/feedback")]
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
        from: filter.from,
        to: filter.to,
        q: filter.q,
    };
    crud::list::<Feedback, _>(&req, &state, page, move |conn, page| store::list(conn, &filter, page)).await
}

/// The record, as `principal` may see it.
async fn load_for(state: &AppState, principal: &Principal, id: Uuid) -> Result<FeedbackRecord, ApiError> {
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
    responses((status = 200, description = "The record.", body = Feedback, headers(("ETag" = String))))
)]
#[get("/feedback/{id}")]
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

/// File a feedback record.
///
/// It gets the next code of the organisation's year, a department (the category's by
/// default) and a deadline (the category's working days, counted from the first working
/// day after receipt, skipping weekends and holidays). An `external_reference` is filed
/// once per source — the service client that sends it, or the organisation's own staff
/// — so sending it again gets the record already filed (200), not a new one (409 if
/// that record was deleted); `Idempotency-Key` also makes retries safe.
#[utoipa::path(
    tag = "feedback",
    params(crate::http::idempotency::IdempotencyKeyHeader),
    request_body = CreateFeedback,
    responses(
        (status = 200, description = "This `external_reference` was filed before by the same source: the record filed then.", body = Feedback, headers(("Location" = String), ("ETag" = String))),
        (status = 201, description = "Filed.", body = Feedback, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The idempotency key is in use, or the record filed with this `external_reference` was deleted.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A category, department or plan item is not the organisation's, or the idempotency key was used for another request.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/feedback", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn create_feedback(
    auth: AuthUser,
    ctx: RequestContext,
    body: ApiJson<CreateFeedback>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackCreate)?;
    let body = body.0;
    let org = principal.acting_org(body.organization_id)?;
    let has_sender = body.sender_name.is_some()
        || body.sender_phone.is_some()
        || body.sender_email.is_some()
        || body.sender_address.is_some();
    // `http::rules`: no sender when anonymous; a deadline set by hand comes with a reason.
    if body.deadline_on.is_some() {
        principal.require(Permission::FeedbackManage)?;
    }
    let client = client_scope(&principal);
    let received_at = body.received_at.unwrap_or_else(|| state.clock.now());
    let default_days = state.settings.feedback_deadline_days;
    let (author, actor) = (principal.id, Actor::of(&principal, &ctx));
    let history_actor = actor.clone();
    crud::file::<Feedback, _>(&state, actor, move |conn| {
        db::organizations::find(conn, org, None).map_err(|_| ApiError::unprocessable("organization_not_found"))?;
        if let Some(reference) = &body.external_reference {
            // Held until the filing commits: a concurrent resend waits, then finds it.
            store::lock_reference(conn, org, client, reference)?;
            if let Some(row) = store::by_external_reference(conn, org, client, reference)? {
                if row.deleted_at.is_some() {
                    return Err(ApiError::conflict("external_reference_deleted"));
                }
                return Ok(Filed::Existing(FeedbackRecord::load_all(conn, vec![row])?.remove(0)));
            }
        }
        let category = category_of(conn, body.category_id, org)?;
        let department = body.department_id.or(category.as_ref().and_then(|c| c.default_department_id));
        check_department(conn, department, org)?;
        check_item(conn, body.plan_item_id, org)?;
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
        let sender = (!body.anonymous && has_sender).then_some(SenderRow {
            feedback_id: row.id,
            name: body.sender_name,
            phone: body.sender_phone,
            email: body.sender_email,
            address: body.sender_address,
        });
        if let Some(sender) = &sender {
            store::set_sender(conn, sender)?;
        }
        store::add_history(conn, row.id, None, FeedbackStatus::Received, None, &history_actor, received_at)?;
        Ok(Filed::New(FeedbackRecord { row, sender, publication: None }))
    })
    .await
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
#[patch("/feedback/{id}")]
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
    let default_days = state.settings.feedback_deadline_days;
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
                Some(id) => category_of(conn, id, org)?,
                None => None,
            };
            if let Some(dept) = body.department_id {
                check_department(conn, dept, org)?;
            }
            if let Some(item) = body.plan_item_id {
                check_item(conn, item, org)?;
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
            let updated = store::update(conn, row.id, &changes)?;
            Ok(FeedbackRecord {
                row: updated,
                sender: current.sender.clone(),
                publication: current.publication.clone(),
            })
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
#[delete("/feedback/{id}")]
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
#[post("/feedback/{id}/transitions")]
pub async fn transition_feedback(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<FeedbackTransition>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackRead)?;
    // `http::rules`: a reason to reject, the receiving body to forward.
    let FeedbackTransition { to, note, reason, forwarded_to } = body.0;
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
            let own_department = to == FeedbackStatus::InProgress && answers_for(&principal, current.row.department_id);
            if !own_department {
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
            Ok(FeedbackRecord { row: updated, sender: current.sender, publication: current.publication })
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
fn answers_for(principal: &Principal, department: Option<Uuid>) -> bool {
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
    pub at: DateTime<Utc>,
}

/// The history of a record.
#[derive(Serialize, ToSchema)]
pub struct History {
    pub feedback_id: Uuid,
    pub items: Vec<HistoryEntry>,
}

/// The history of a record: every status it went through, who moved it, when.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "Oldest first.", body = History))
)]
#[get("/feedback/{id}/history")]
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
    Ok(HttpResponse::Ok().json(History { feedback_id, items }))
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
    pub items: Vec<Answer>,
}

fn attachment_links(value: &[String]) -> Result<(), validator::ValidationError> {
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
#[get("/feedback/{id}/answers")]
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
    Ok(HttpResponse::Ok().json(Answers { feedback_id, items: rows.into_iter().map(Answer::from).collect() }))
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
#[post("/feedback/{id}/answers", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
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
            Ok(answer)
        })
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/feedback/{}/answers", answer.feedback_id)))
        .json(Answer::from(answer)))
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"rating": "satisfied", "channel": "hotline"}))]
pub struct Rating {
    pub rating: Satisfaction,
    /// How the rating was collected.
    pub channel: FeedbackChannel,
}

/// Record the sender's satisfaction with the answer.
///
/// Rolls up into the organisation's satisfaction rate, and into the `SATISFACTION_RATE`
/// indicator of its plans for the year of receipt (a computed measurement).
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    request_body = Rating,
    responses(
        (status = 200, description = "Recorded.", body = Feedback, headers(("ETag" = String))),
        (status = 409, description = "Not answered yet (`feedback_not_answered`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/feedback/{id}/satisfaction")]
pub async fn rate_feedback(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<Rating>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackCreate)?;
    let Rating { rating, channel } = body.0;
    let now = state.clock.now();
    let record = load_for(&state, &principal, id.into_inner()).await?;
    let id = record.row.id;
    let actor = Actor::of(&principal, &ctx);
    crud::update::<Feedback, _>(&state, actor, id, principal.organization_id, if_match, move |conn, current| {
        if !matches!(current.row.status, FeedbackStatus::Answered | FeedbackStatus::Closed) {
            return Err(ApiError::conflict("feedback_not_answered"));
        }
        let changes = FeedbackChanges {
            satisfaction: Some(Some(rating)),
            satisfaction_channel: Some(Some(channel)),
            satisfaction_at: Some(Some(now)),
            ..Default::default()
        };
        let updated = store::update(conn, id, &changes)?;
        record_satisfaction_rate(
            conn,
            updated.organization_id,
            local_date(updated.received_at).year(),
            local_date(now),
        )?;
        Ok(FeedbackRecord { row: updated, sender: current.sender.clone(), publication: current.publication.clone() })
    })
    .await
}

/// The start of 1 January of `year` in Vietnam.
fn year_start(year: i32) -> DateTime<Utc> {
    vietnam().with_ymd_and_hms(year, 1, 1, 0, 0, 0).single().expect("a valid instant").with_timezone(&Utc)
}

/// Records the organisation's satisfaction rate for `year` on the `SATISFACTION_RATE`
/// indicator of each of its plans for that year.
fn record_satisfaction_rate(conn: &mut PgConnection, org: Uuid, year: i32, day: NaiveDate) -> Result<(), ApiError> {
    use crate::db::schema::{indicators as i, plans as p};
    let targets: Vec<Uuid> = i::table
        .inner_join(p::table)
        .filter(i::organization_id.eq(org))
        .filter(i::code.eq(SATISFACTION_INDICATOR))
        .filter(i::deleted_at.is_null())
        .filter(p::deleted_at.is_null())
        .filter(p::year.eq(year))
        .select(i::id)
        .load(conn)?;
    if targets.is_empty() {
        return Ok(());
    }
    let (satisfied, neutral, dissatisfied) =
        store::satisfaction_counts(conn, org, year_start(year), year_start(year + 1))?;
    let rated = satisfied + neutral + dissatisfied;
    for indicator in targets {
        indicators::insert_measurement(
            conn,
            &indicators::NewMeasurement {
                id: Uuid::now_v7(),
                indicator_id: indicator,
                organization_id: org,
                value: crate::domain::activities::reach_percent(satisfied, rated),
                measured_on: day,
                period: Some(year.to_string()),
                source: MeasurementSource::Computed,
                citation: Some(format!("{satisfied}/{rated} người phản ánh năm {year} hài lòng với câu trả lời")),
                link: None,
                note: None,
                created_by: None,
            },
        )?;
    }
    Ok(())
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"summary": "Hồ sơ bồi thường của công dân đã được giải quyết ngày 15/6/2021."}))]
pub struct Publish {
    /// What the public reads, written without personal data.
    #[validate(length(min = 1, max = 10000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 10000)]
    pub summary: String,
}

/// Publish the result of an answered record.
///
/// Makes it readable without signing in at `/api/v1/public/feedback/{code}`: its code,
/// dates, category, subject, this summary, the answer and status — never the sender,
/// the content or internal notes.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path)),
    request_body = Publish,
    responses(
        (status = 200, description = "Published.", body = Feedback, headers(("ETag" = String))),
        (status = 409, description = "Not answered yet (`feedback_not_answered`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/feedback/{id}/publish")]
pub async fn publish_feedback(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    body: ApiJson<Publish>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackManage)?;
    let summary = body.0.summary.trim().to_owned();
    let (by, now) = (principal.id, state.clock.now());
    let actor = Actor::of(&principal, &ctx);
    crud::update::<Feedback, _>(
        &state,
        actor,
        id.into_inner(),
        principal.organization_id,
        IfMatch::default(),
        move |conn, current| {
            if !matches!(current.row.status, FeedbackStatus::Answered | FeedbackStatus::Closed) {
                return Err(ApiError::conflict("feedback_not_answered"));
            }
            store::publish(conn, &current.row, &summary, by, now)?;
            let row = store::update(conn, current.row.id, &FeedbackChanges::default())?;
            Ok(FeedbackRecord::load_all(conn, vec![row])?.remove(0))
        },
    )
    .await
}

/// Withdraw a published result.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "No longer public.", body = Feedback, headers(("ETag" = String))))
)]
#[delete("/feedback/{id}/publish")]
pub async fn unpublish_feedback(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackManage)?;
    let actor = Actor::of(&principal, &ctx);
    crud::update::<Feedback, _>(
        &state,
        actor,
        id.into_inner(),
        principal.organization_id,
        IfMatch::default(),
        move |conn, current| {
            store::unpublish(conn, current.row.id)?;
            let row = store::update(conn, current.row.id, &FeedbackChanges::default())?;
            Ok(FeedbackRecord { row, sender: current.sender.clone(), publication: None })
        },
    )
    .await
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RateParams {
    /// First day (Vietnam); default 1 January of this year.
    pub from: Option<NaiveDate>,
    /// Last day (Vietnam); default today.
    pub to: Option<NaiveDate>,
    /// System administrator only: that organisation's rate.
    pub organization_id: Option<Uuid>,
}

/// The satisfaction of senders with the answers to what they sent in a period.
#[derive(Serialize, ToSchema)]
pub struct SatisfactionRate {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Records received in the period that have a rating.
    pub rated: i64,
    pub satisfied: i64,
    pub neutral: i64,
    pub dissatisfied: i64,
    /// `satisfied / rated`, in percent; `null` with nothing rated.
    pub rate: Option<f64>,
}

/// The organisation's satisfaction rate over the records received in a period.
#[utoipa::path(
    tag = "feedback",
    params(RateParams),
    responses((status = 200, description = "The rate.", body = SatisfactionRate))
)]
#[get("/feedback/satisfaction")]
pub async fn get_satisfaction_rate(
    auth: AuthUser,
    query: ApiQuery<RateParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackRead)?;
    let params = query.0;
    let org = principal.acting_org(params.organization_id)?;
    let today = state.clock.today();
    let to = params.to.unwrap_or(today);
    let from = params.from.unwrap_or_else(|| NaiveDate::from_ymd_opt(to.year(), 1, 1).expect("1 January"));
    if from > to {
        return Err(ApiError::rules(vec![FieldError::new("from", "invalid_value").arg("reason", "after to")]));
    }
    let start = |d: NaiveDate| {
        vietnam()
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
            .single()
            .expect("one instant")
            .with_timezone(&Utc)
    };
    let (begin, end) = (start(from), start(to + chrono::Duration::days(1)));
    let (satisfied, neutral, dissatisfied) =
        db::run(&state.pool, move |conn| Ok(store::satisfaction_counts(conn, org, begin, end)?)).await?;
    let rated = satisfied + neutral + dissatisfied;
    Ok(HttpResponse::Ok().json(SatisfactionRate {
        from,
        to,
        rated,
        satisfied,
        neutral,
        dissatisfied,
        rate: (rated > 0).then(|| crate::domain::activities::reach_percent(satisfied, rated)),
    }))
}
