//! The plan's budget (plan III.5): lines with their estimate, allocations (with the
//! decision that allocated them), spending (with the invoice or receipt, kept like
//! evidence) and settlement. Amounts are whole đồng, JSON integers; a fraction, a
//! string or a float is a 400.
//!
//! Written by the finance and accounting department's people (the organisation's
//! `finance_department_id`) and by coordinators and above; read by everyone in the
//! organisation.
use actix_web::{HttpRequest, HttpResponse, delete, get, http::StatusCode, patch, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{OptionalExtension, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::{
    auth::{AuthUser, Permission, Principal, PrincipalKind, Role},
    db::{
        self, activities,
        audit::{self, Actor, Event},
        budget::{
            AllocationChanges, AllocationRow, LineChanges, LineFilter, LineRow, NewAllocation, NewLine, NewSpending,
            SpendingChanges, SpendingRow, allocations, lines, spendings,
        },
        documents, organizations, plan_items, plans,
    },
    domain::{
        activities::{accepted_names, evidence_type, is_compound_file},
        budget::{PayeeKind, variance},
        validate,
    },
    error::{ApiError, FieldError},
    http::{
        ApiJson, IfMatch, Page, RequestContext,
        etag::ok_with_etag,
        files::{self, FormLimits, StoredFile},
        json::double_option,
        pagination::PageParams,
        query::{ListQuery, NoFilter},
    },
    routes::{
        checks,
        crud::{self, Resource},
    },
    state::AppState,
};

/// A line's settlement (quyết toán).
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, Validate)]
#[serde(deny_unknown_fields)]
pub struct Settlement {
    pub settled_on: NaiveDate,
    /// Whole đồng.
    #[validate(range(min = 0, max = 100_000_000_000_000_i64))]
    #[schema(minimum = 0, maximum = 100_000_000_000_000_i64, example = 14_500_000)]
    pub amount: i64,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// A budget line of a plan: what it is for, its estimate (dự toán), what was allocated
/// and spent so far (kept from its entries), and its settlement. Amounts in whole đồng.
#[derive(Serialize, ToSchema, Clone)]
pub struct BudgetLine {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub plan_id: Uuid,
    /// The plan item it funds, if one.
    pub plan_item_id: Option<Uuid>,
    /// The activity it funds, if one.
    pub activity_id: Option<Uuid>,
    /// The department that spends it.
    pub department_id: Option<Uuid>,
    /// The rule it is estimated and settled by (e.g. the Ministry of Finance's circular
    /// `26/2012/TT-BTC`, as the plan cites it).
    pub basis_document_id: Option<Uuid>,
    /// Unique within the plan, e.g. `1.2`.
    #[schema(example = "1")]
    pub code: String,
    #[schema(example = "In tài liệu, khẩu hiệu tuyên truyền CCHC")]
    pub title: String,
    #[schema(example = 20_000_000)]
    pub estimate: i64,
    /// The sum of its allocations.
    pub allocated: i64,
    /// The sum of its spending.
    pub spent: i64,
    /// `allocated - spent`.
    pub remaining: i64,
    /// `spent - estimate`: negative under the estimate, positive over it.
    pub variance: i64,
    pub settlement: Option<Settlement>,
    pub note: Option<String>,
    pub version: i32,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub updated_at: DateTime<Utc>,
}

impl From<LineRow> for BudgetLine {
    fn from(r: LineRow) -> Self {
        let settlement = match (r.settled_on, r.settled_amount) {
            (Some(settled_on), Some(amount)) => Some(Settlement { settled_on, amount, note: r.settlement_note }),
            _ => None,
        };
        Self {
            id: r.id,
            organization_id: r.organization_id,
            plan_id: r.plan_id,
            plan_item_id: r.plan_item_id,
            activity_id: r.activity_id,
            department_id: r.department_id,
            basis_document_id: r.basis_document_id,
            code: r.code,
            title: r.title,
            estimate: r.estimate,
            allocated: r.allocated,
            spent: r.spent,
            remaining: r.allocated - r.spent,
            variance: variance(r.estimate, r.spent),
            settlement,
            note: r.note,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Resource for BudgetLine {
    type Row = LineRow;
    const COLLECTION: &'static str = "/api/v1/budget-lines";
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"plan_id": "01938f6e-7d3c-7b1a-9c55-3f1f0b6f1a2e", "code": "1",
    "title": "In tài liệu, khẩu hiệu tuyên truyền CCHC", "estimate": 20000000}))]
pub struct CreateBudgetLine {
    pub plan_id: Uuid,
    pub plan_item_id: Option<Uuid>,
    pub activity_id: Option<Uuid>,
    /// Default: the activity's department, if an activity is named.
    pub department_id: Option<Uuid>,
    pub basis_document_id: Option<Uuid>,
    #[validate(length(min = 1, max = 32), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 32)]
    pub code: String,
    #[validate(length(min = 1, max = 500), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 500)]
    pub title: String,
    /// Whole đồng.
    #[validate(range(min = 0, max = 100_000_000_000_000_i64))]
    #[schema(minimum = 0, maximum = 100_000_000_000_000_i64)]
    pub estimate: i64,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// Fields to change; absent fields stay, `null` clears an optional one.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBudgetLine {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub plan_item_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub activity_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub department_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub basis_document_id: Option<Option<Uuid>>,
    #[validate(length(min = 1, max = 32), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 32)]
    pub code: Option<String>,
    #[validate(length(min = 1, max = 500), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 500)]
    pub title: Option<String>,
    #[validate(range(min = 0, max = 100_000_000_000_000_i64))]
    #[schema(minimum = 0, maximum = 100_000_000_000_000_i64)]
    pub estimate: Option<i64>,
    /// The settlement; `null` takes it back.
    #[serde(default, deserialize_with = "double_option")]
    #[validate(nested)]
    #[schema(value_type = Option<Settlement>)]
    pub settlement: Option<Option<Settlement>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 2000))]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub note: Option<Option<String>>,
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BudgetLineFilter {
    /// System administrator only: lines of this organisation.
    pub organization_id: Option<Uuid>,
    pub plan_id: Option<Uuid>,
    pub plan_item_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
}

/// An allocation (cấp kinh phí) to a line, by a decision.
#[derive(Serialize, ToSchema, Clone)]
pub struct BudgetAllocation {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub line_id: Uuid,
    pub allocated_on: NaiveDate,
    #[schema(example = 15_000_000)]
    pub amount: i64,
    /// The decision that allocated it, e.g. `45/QĐ-BQL`.
    #[schema(example = "45/QĐ-BQL")]
    pub decision_number: String,
    pub note: Option<String>,
    pub version: i32,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub updated_at: DateTime<Utc>,
}

impl From<AllocationRow> for BudgetAllocation {
    fn from(r: AllocationRow) -> Self {
        Self {
            id: r.id,
            organization_id: r.organization_id,
            line_id: r.line_id,
            allocated_on: r.allocated_on,
            amount: r.amount,
            decision_number: r.decision_number,
            note: r.note,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Resource for BudgetAllocation {
    type Row = AllocationRow;
    const COLLECTION: &'static str = "/api/v1/budget-allocations";
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"allocated_on": "2021-04-05", "amount": 15000000, "decision_number": "45/QĐ-BQL"}))]
pub struct CreateBudgetAllocation {
    pub allocated_on: NaiveDate,
    /// Whole đồng, more than 0.
    #[validate(range(min = 1, max = 100_000_000_000_000_i64))]
    #[schema(minimum = 1, maximum = 100_000_000_000_000_i64)]
    pub amount: i64,
    #[validate(length(min = 1, max = 100), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 100)]
    pub decision_number: String,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// Fields to change; absent fields stay, `null` clears the note.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBudgetAllocation {
    pub allocated_on: Option<NaiveDate>,
    #[validate(range(min = 1, max = 100_000_000_000_000_i64))]
    #[schema(minimum = 1, maximum = 100_000_000_000_000_i64)]
    pub amount: Option<i64>,
    #[validate(length(min = 1, max = 100), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 100)]
    pub decision_number: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 2000))]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub note: Option<Option<String>>,
}

/// The invoice or receipt of a spending entry.
#[derive(Serialize, ToSchema, Clone)]
pub struct Receipt {
    pub file_name: String,
    /// As recognised from the content.
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    #[schema(example = "/api/v1/budget-spendings/01938f6e-7d3c-7b1a-9c55-3f1f0b6f1a2e/receipt")]
    pub content_url: String,
}

/// A spending entry (chi) of a line.
#[derive(Serialize, ToSchema, Clone)]
pub struct BudgetSpending {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub line_id: Uuid,
    pub spent_on: NaiveDate,
    #[schema(example = 4_500_000)]
    pub amount: i64,
    pub payee_kind: PayeeKind,
    #[schema(example = "In 500 tờ gấp tuyên truyền CCHC")]
    pub description: String,
    /// `null` until one is uploaded.
    pub receipt: Option<Receipt>,
    pub version: i32,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub updated_at: DateTime<Utc>,
}

impl From<SpendingRow> for BudgetSpending {
    fn from(r: SpendingRow) -> Self {
        let receipt = match (r.receipt_sha256, r.receipt_content_type, r.receipt_file_name, r.receipt_size_bytes) {
            (Some(sha256), Some(content_type), Some(file_name), Some(size_bytes)) => Some(Receipt {
                content_url: format!("/api/v1/budget-spendings/{}/receipt", r.id),
                file_name,
                content_type,
                size_bytes,
                sha256,
            }),
            _ => None,
        };
        Self {
            id: r.id,
            organization_id: r.organization_id,
            line_id: r.line_id,
            spent_on: r.spent_on,
            amount: r.amount,
            payee_kind: r.payee_kind,
            description: r.description,
            receipt,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Resource for BudgetSpending {
    type Row = SpendingRow;
    const COLLECTION: &'static str = "/api/v1/budget-spendings";
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"spent_on": "2021-04-20", "amount": 4500000, "payee_kind": "organization",
    "description": "In 500 tờ gấp tuyên truyền CCHC"}))]
pub struct CreateBudgetSpending {
    pub spent_on: NaiveDate,
    /// Whole đồng, more than 0.
    #[validate(range(min = 1, max = 100_000_000_000_000_i64))]
    #[schema(minimum = 1, maximum = 100_000_000_000_000_i64)]
    pub amount: i64,
    pub payee_kind: PayeeKind,
    /// What was bought or paid for (no payee's personal data: the kind says who).
    #[validate(length(min = 1, max = 2000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 2000)]
    pub description: String,
}

/// Fields to change; absent fields stay.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBudgetSpending {
    pub spent_on: Option<NaiveDate>,
    #[validate(range(min = 1, max = 100_000_000_000_000_i64))]
    #[schema(minimum = 1, maximum = 100_000_000_000_000_i64)]
    pub amount: Option<i64>,
    pub payee_kind: Option<PayeeKind>,
    #[validate(length(min = 1, max = 2000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 2000)]
    pub description: Option<String>,
}

/// Budget writes: coordinators and above anywhere in their organisation; a leader or
/// member only from its finance and accounting department (403 otherwise, and while
/// the organisation names none).
fn may_write(conn: &mut PgConnection, principal: &Principal, org: Uuid) -> Result<(), ApiError> {
    principal.require(Permission::BudgetWrite)?;
    if let PrincipalKind::User { role: Role::Leader | Role::Member, department_id } = principal.kind {
        let finance = organizations::find(conn, org, None)?.finance_department_id;
        if finance.is_none() || finance != department_id {
            return Err(ApiError::forbidden().saying("budget_finance_department_only"));
        }
    }
    Ok(())
}

/// What a line names belongs to the plan and the organisation; the department an
/// activity gives when none is named.
fn check_line_refs(
    conn: &mut PgConnection,
    org: Uuid,
    plan: Uuid,
    item: Option<Uuid>,
    activity: Option<Uuid>,
    department: Option<Uuid>,
    document: Option<Uuid>,
) -> Result<Option<Uuid>, ApiError> {
    if let Some(item) = item
        && plan_items::find(conn, item, Some(org)).optional()?.filter(|i| i.plan_id == plan).is_none()
    {
        return Err(checks::reference_invalid("plan_item_id"));
    }
    let mut activity_department = None;
    if let Some(activity) = activity {
        match activities::find(conn, activity, Some(org)).optional()? {
            Some(a) if a.plan_id == plan => activity_department = Some(a.department_id),
            _ => return Err(checks::reference_invalid("activity_id")),
        }
    }
    checks::department(conn, department, org)?;
    if let Some(document) = document
        && documents::find(conn, document, Some(org)).optional()?.is_none()
    {
        return Err(checks::reference_invalid("basis_document_id"));
    }
    Ok(department.or(activity_department))
}

/// A page of a line's entries (allocations or spending); 404 if the line is not the
/// caller's.
async fn list_entries<A, F>(
    req: &HttpRequest,
    state: &AppState,
    principal: &Principal,
    line: Uuid,
    page: crate::http::PageRequest,
    load: F,
) -> Result<HttpResponse, ApiError>
where
    A: Resource,
    F: FnOnce(&mut PgConnection, Uuid, &crate::http::PageRequest) -> diesel::QueryResult<Vec<A::Row>> + Send + 'static,
{
    principal.require(Permission::BudgetRead)?;
    let org = principal.organization_id;
    crud::list::<A, _>(req, state, page, move |conn, page| {
        lines::find(conn, line, org)?;
        load(conn, line, page)
    })
    .await
}

/// Adds an entry to a line: the line locked (404 if not the caller's), the writer
/// checked, `insert` given the line; `201`, audited.
async fn add_entry<A, F>(
    state: &AppState,
    principal: Principal,
    ctx: &RequestContext,
    line: Uuid,
    insert: F,
) -> Result<HttpResponse, ApiError>
where
    A: Resource,
    F: FnOnce(&mut PgConnection, &LineRow, Uuid) -> diesel::QueryResult<A::Row> + Send + 'static,
{
    principal.require(Permission::BudgetWrite)?;
    let actor = Actor::of(&principal, ctx);
    crud::create::<A, _>(state, actor, move |conn| {
        let row = lines::lock(conn, line, principal.organization_id)?;
        may_write(conn, &principal, row.organization_id)?;
        Ok(insert(conn, &row, principal.id)?)
    })
    .await
}

/// Changes an entry with `apply` (its line's writers only), `If-Match` checked, audited.
async fn change_entry<A, F>(
    state: &AppState,
    principal: Principal,
    ctx: &RequestContext,
    id: Uuid,
    if_match: IfMatch,
    apply: F,
) -> Result<HttpResponse, ApiError>
where
    A: Resource,
    F: FnOnce(&mut PgConnection, Uuid) -> diesel::QueryResult<A::Row> + Send + 'static,
{
    principal.require(Permission::BudgetWrite)?;
    let actor = Actor::of(&principal, ctx);
    let org = principal.organization_id;
    crud::update::<A, _>(state, actor, id, org, if_match, move |conn, current| {
        may_write(conn, &principal, crate::db::Record::organization(current).unwrap_or_default())?;
        Ok(apply(conn, crate::db::page::Row::id(current))?)
    })
    .await
}

/// Deletes an entry (its line's writers only), `If-Match` checked, audited.
async fn remove_entry<A: Resource>(
    state: &AppState,
    principal: Principal,
    ctx: &RequestContext,
    id: Uuid,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    principal.require(Permission::BudgetWrite)?;
    let actor = Actor::of(&principal, ctx);
    let org = principal.organization_id;
    crud::delete::<A, _>(state, actor, id, org, if_match, move |conn, current| {
        may_write(conn, &principal, crate::db::Record::organization(current).unwrap_or_default())
    })
    .await
}

/// List budget lines.
#[utoipa::path(
    tag = "budget",
    params(PageParams, BudgetLineFilter),
    responses((status = 200, description = "A page of budget lines.", body = Page<BudgetLine>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("")]
pub async fn list_budget_lines(
    auth: AuthUser,
    query: ListQuery<BudgetLineFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::BudgetRead)?;
    let ListQuery { page, filter } = query;
    let filter = LineFilter {
        organization_id: principal.read_scope(filter.organization_id)?,
        plan_id: filter.plan_id,
        plan_item_id: filter.plan_item_id,
        department_id: filter.department_id,
    };
    crud::list::<BudgetLine, _>(&req, &state, page, move |conn, page| lines::list(conn, &filter, page)).await
}

/// Read a budget line.
#[utoipa::path(
    tag = "budget",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The line.", body = BudgetLine, headers(("ETag" = String))))
)]
#[get("/{id}")]
pub async fn get_budget_line(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::BudgetRead)?;
    crud::get::<BudgetLine>(&state, id.into_inner(), auth.0.organization_id).await
}

/// Add a budget line to a plan.
#[utoipa::path(
    tag = "budget",
    params(crate::http::idempotency::IdempotencyKeyHeader),
    request_body = CreateBudgetLine,
    responses(
        (status = 201, description = "Added.", body = BudgetLine, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The plan has a line with this code (`budget_line_code_taken`), or the idempotency key is in use.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The plan, item, activity, department or document is not the organisation's (`reference_invalid`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn create_budget_line(
    auth: AuthUser,
    ctx: RequestContext,
    body: ApiJson<CreateBudgetLine>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::BudgetWrite)?;
    let body = body.0;
    let actor = Actor::of(&principal, &ctx);
    let org = principal.organization_id;
    crud::create::<BudgetLine, _>(&state, actor, move |conn| {
        let plan =
            plans::find(conn, body.plan_id, org).optional()?.ok_or_else(|| checks::reference_invalid("plan_id"))?;
        may_write(conn, &principal, plan.organization_id)?;
        let department = check_line_refs(
            conn,
            plan.organization_id,
            plan.id,
            body.plan_item_id,
            body.activity_id,
            body.department_id,
            body.basis_document_id,
        )?;
        let new = NewLine {
            id: Uuid::now_v7(),
            organization_id: plan.organization_id,
            plan_id: plan.id,
            plan_item_id: body.plan_item_id,
            activity_id: body.activity_id,
            department_id: department,
            basis_document_id: body.basis_document_id,
            code: body.code.trim().to_owned(),
            title: body.title.trim().to_owned(),
            estimate: body.estimate,
            note: body.note,
            created_by: Some(principal.id),
        };
        Ok(lines::insert(conn, &new)?)
    })
    .await
}

/// Change a budget line, or record (or take back) its settlement.
#[utoipa::path(
    tag = "budget",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"` from the `ETag`; a stale one is a 412.")),
    request_body = UpdateBudgetLine,
    responses(
        (status = 200, description = "Changed.", body = BudgetLine, headers(("ETag" = String))),
        (status = 409, description = "The plan has a line with this code (`budget_line_code_taken`).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "An item, activity, department or document that is not the plan's or the organisation's (`reference_invalid`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/{id}")]
pub async fn update_budget_line(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<UpdateBudgetLine>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::BudgetWrite)?;
    let body = body.0;
    let actor = Actor::of(&principal, &ctx);
    let org = principal.organization_id;
    crud::update::<BudgetLine, _>(&state, actor, id.into_inner(), org, if_match, move |conn, current| {
        may_write(conn, &principal, current.organization_id)?;
        let department = check_line_refs(
            conn,
            current.organization_id,
            current.plan_id,
            body.plan_item_id.flatten(),
            body.activity_id.flatten(),
            body.department_id.flatten(),
            body.basis_document_id.flatten(),
        )?;
        let department_id = match (body.department_id, body.activity_id) {
            (Some(named), _) => Some(named),
            // A new activity brings its department when none is named.
            (None, Some(Some(_))) if current.department_id.is_none() => Some(department),
            _ => None,
        };
        let (settled_on, settled_amount, settlement_note) = match body.settlement {
            None => (None, None, None),
            Some(None) => (Some(None), Some(None), Some(None)),
            Some(Some(s)) => (Some(Some(s.settled_on)), Some(Some(s.amount)), Some(s.note)),
        };
        let changes = LineChanges {
            plan_item_id: body.plan_item_id,
            activity_id: body.activity_id,
            department_id,
            basis_document_id: body.basis_document_id,
            code: body.code.map(|c| c.trim().to_owned()),
            title: body.title.map(|t| t.trim().to_owned()),
            estimate: body.estimate,
            settled_on,
            settled_amount,
            settlement_note,
            note: body.note,
        };
        Ok(lines::update(conn, current.id, &changes)?)
    })
    .await
}

/// Delete a budget line.
///
/// Refused (409) while it has allocations or spending: delete those first.
#[utoipa::path(
    tag = "budget",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 409, description = "It has allocations or spending (`budget_line_has_entries`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/{id}")]
pub async fn delete_budget_line(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::BudgetWrite)?;
    let actor = Actor::of(&principal, &ctx);
    let org = principal.organization_id;
    crud::delete::<BudgetLine, _>(&state, actor, id.into_inner(), org, if_match, move |conn, current| {
        may_write(conn, &principal, current.organization_id)?;
        if lines::has_entries(conn, current.id)? {
            return Err(ApiError::conflict("budget_line_has_entries"));
        }
        Ok(())
    })
    .await
}

/// List a line's allocations.
#[utoipa::path(
    tag = "budget",
    params(("id" = Uuid, Path, description = "The line."), PageParams),
    responses((status = 200, description = "A page of allocations.", body = Page<BudgetAllocation>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("/{id}/allocations")]
pub async fn list_budget_allocations(
    auth: AuthUser,
    id: web::Path<Uuid>,
    query: ListQuery<NoFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (page, line) = (query.page, id.into_inner());
    list_entries::<BudgetAllocation, _>(&req, &state, &auth.0, line, page, allocations::of_line).await
}

/// Record an allocation to a line.
#[utoipa::path(
    tag = "budget",
    params(("id" = Uuid, Path, description = "The line."), crate::http::idempotency::IdempotencyKeyHeader),
    request_body = CreateBudgetAllocation,
    responses(
        (status = 201, description = "Recorded; the line's `allocated` includes it.", body = BudgetAllocation, headers(("Location" = String), ("ETag" = String))),
    )
)]
#[post("/{id}/allocations", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn create_budget_allocation(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    body: ApiJson<CreateBudgetAllocation>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    add_entry::<BudgetAllocation, _>(&state, auth.0, &ctx, id.into_inner(), move |conn, line, author| {
        allocations::insert(
            conn,
            &NewAllocation {
                id: Uuid::now_v7(),
                organization_id: line.organization_id,
                line_id: line.id,
                allocated_on: body.allocated_on,
                amount: body.amount,
                decision_number: body.decision_number.trim().to_owned(),
                note: body.note,
                created_by: Some(author),
            },
        )
    })
    .await
}

/// Read an allocation.
#[utoipa::path(
    tag = "budget",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The allocation.", body = BudgetAllocation, headers(("ETag" = String))))
)]
#[get("/{id}")]
pub async fn get_budget_allocation(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::BudgetRead)?;
    crud::get::<BudgetAllocation>(&state, id.into_inner(), auth.0.organization_id).await
}

/// Change an allocation.
#[utoipa::path(
    tag = "budget",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"` from the `ETag`; a stale one is a 412.")),
    request_body = UpdateBudgetAllocation,
    responses((status = 200, description = "Changed.", body = BudgetAllocation, headers(("ETag" = String))))
)]
#[patch("/{id}")]
pub async fn update_budget_allocation(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<UpdateBudgetAllocation>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let changes = AllocationChanges {
        allocated_on: body.allocated_on,
        amount: body.amount,
        decision_number: body.decision_number.map(|d| d.trim().to_owned()),
        note: body.note,
    };
    change_entry::<BudgetAllocation, _>(&state, auth.0, &ctx, id.into_inner(), if_match, move |conn, id| {
        allocations::update(conn, id, &changes)
    })
    .await
}

/// Delete an allocation.
#[utoipa::path(
    tag = "budget",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    responses((status = 204, description = "Deleted; the line's `allocated` no longer includes it."))
)]
#[delete("/{id}")]
pub async fn delete_budget_allocation(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    remove_entry::<BudgetAllocation>(&state, auth.0, &ctx, id.into_inner(), if_match).await
}

/// List a line's spending.
#[utoipa::path(
    tag = "budget",
    params(("id" = Uuid, Path, description = "The line."), PageParams),
    responses((status = 200, description = "A page of spending entries.", body = Page<BudgetSpending>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("/{id}/spendings")]
pub async fn list_budget_spendings(
    auth: AuthUser,
    id: web::Path<Uuid>,
    query: ListQuery<NoFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (page, line) = (query.page, id.into_inner());
    list_entries::<BudgetSpending, _>(&req, &state, &auth.0, line, page, spendings::of_line).await
}

/// Record a spending entry of a line (its invoice or receipt is uploaded after, to
/// `PUT /budget-spendings/{id}/receipt`).
#[utoipa::path(
    tag = "budget",
    params(("id" = Uuid, Path, description = "The line."), crate::http::idempotency::IdempotencyKeyHeader),
    request_body = CreateBudgetSpending,
    responses(
        (status = 201, description = "Recorded; the line's `spent` includes it.", body = BudgetSpending, headers(("Location" = String), ("ETag" = String))),
    )
)]
#[post("/{id}/spendings", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn create_budget_spending(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    body: ApiJson<CreateBudgetSpending>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    add_entry::<BudgetSpending, _>(&state, auth.0, &ctx, id.into_inner(), move |conn, line, author| {
        spendings::insert(
            conn,
            &NewSpending {
                id: Uuid::now_v7(),
                organization_id: line.organization_id,
                line_id: line.id,
                spent_on: body.spent_on,
                amount: body.amount,
                payee_kind: body.payee_kind,
                description: body.description.trim().to_owned(),
                created_by: Some(author),
            },
        )
    })
    .await
}

/// Read a spending entry.
#[utoipa::path(
    tag = "budget",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The entry.", body = BudgetSpending, headers(("ETag" = String))))
)]
#[get("/{id}")]
pub async fn get_budget_spending(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::BudgetRead)?;
    crud::get::<BudgetSpending>(&state, id.into_inner(), auth.0.organization_id).await
}

/// Change a spending entry.
#[utoipa::path(
    tag = "budget",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"` from the `ETag`; a stale one is a 412.")),
    request_body = UpdateBudgetSpending,
    responses((status = 200, description = "Changed.", body = BudgetSpending, headers(("ETag" = String))))
)]
#[patch("/{id}")]
pub async fn update_budget_spending(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<UpdateBudgetSpending>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let changes = SpendingChanges {
        spent_on: body.spent_on,
        amount: body.amount,
        payee_kind: body.payee_kind,
        description: body.description.map(|d| d.trim().to_owned()),
        ..SpendingChanges::default()
    };
    change_entry::<BudgetSpending, _>(&state, auth.0, &ctx, id.into_inner(), if_match, move |conn, id| {
        spendings::update(conn, id, &changes)
    })
    .await
}

/// Delete a spending entry.
#[utoipa::path(
    tag = "budget",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    responses((status = 204, description = "Deleted; the line's `spent` no longer includes it."))
)]
#[delete("/{id}")]
pub async fn delete_budget_spending(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    remove_entry::<BudgetSpending>(&state, auth.0, &ctx, id.into_inner(), if_match).await
}

/// A receipt upload: one `file` part.
#[derive(ToSchema)]
#[allow(dead_code, reason = "documents the multipart form; the handler reads the stream")]
pub struct ReceiptUpload {
    /// The invoice or receipt: PDF, JPEG, PNG, WebP, DOCX, XLSX or ODT.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Attach (or replace) the invoice or receipt of a spending entry.
///
/// `multipart/form-data` with one `file` part. Its type is recognised from its content
/// (a scan or PDF of the invoice; anything else is a 415) and it may be at most
/// `CCHC_MAX_UPLOAD_BYTES` (413). Stored like evidence, under its SHA-256.
#[utoipa::path(
    tag = "budget",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    request_body(content = ReceiptUpload, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "Attached.", body = BudgetSpending, headers(("ETag" = String))),
        (status = 400, description = "A malformed form, an unknown part, or not exactly one file.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is larger than allowed (`file_too_large`).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not multipart, or a file of a type that is not accepted (`unsupported_file_type`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[put("/{id}/receipt")]
pub async fn put_budget_receipt(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::BudgetWrite)?;
    let (id, org) = (id.into_inner(), principal.organization_id);
    let check = principal.clone();
    db::run(&state.pool, move |conn| {
        let current = spendings::find(conn, id, org)?;
        may_write(conn, &check, current.organization_id)
    })
    .await?;
    let limits = FormLimits {
        file_fields: &["file"],
        max_files: 1,
        max_file_bytes: state.settings.max_upload_bytes,
        max_text_chars: 0,
        tmp: state.settings.data_dir.join("tmp"),
        timeout: state.settings.upload_timeout,
    };
    let (received, texts) = files::read_form(&req, payload, &limits).await?;
    if let Some((name, _)) = texts.into_iter().next() {
        return Err(ApiError::validation(vec![FieldError::new(name, "unknown_field")]));
    }
    let Some(file) = received.into_iter().next() else {
        return Err(ApiError::bad_request("no_files").with_errors(vec![FieldError::new("file", "required")]));
    };
    let found = if is_compound_file(&file.head) {
        let path = file.temp.path().to_owned();
        let whole = web::block(move || std::fs::read(path)).await?.map_err(ApiError::internal)?;
        evidence_type(&whole)
    } else {
        evidence_type(&file.head)
    };
    // A receipt is a document or a picture of one: a video is not.
    let kind = match found {
        Ok(kind) if kind != "video/mp4" => kind,
        other => {
            return Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_file_type")
                .arg("file", &file.name)
                .arg("found", other.map_or_else(|found| found, str::to_owned))
                .arg("accepted", accepted_names().replace(", MP4", "")));
        }
    };
    let handle = file.temp.reopen().map_err(ApiError::internal)?;
    state.evidence.put_file(&file.sha256, handle).await?;
    let changes = SpendingChanges {
        receipt_sha256: Some(Some(file.sha256.clone())),
        receipt_size_bytes: Some(Some(file.size as i64)),
        receipt_content_type: Some(Some(kind.to_owned())),
        receipt_file_name: Some(Some(file.name.clone())),
        ..SpendingChanges::default()
    };
    let actor = Actor::of(&principal, &ctx);
    let row = db::run(&state.pool, move |conn| {
        use diesel::Connection;
        conn.transaction(|conn| {
            let current = spendings::lock(conn, id, org)?;
            if_match.check(current.version)?;
            let row = spendings::update(conn, id, &changes)?;
            let (before, after) = (BudgetSpending::from(current), BudgetSpending::from(row.clone()));
            audit::record(
                conn,
                &actor,
                Event::updated("budget_spending", id, Some(row.organization_id), &before, &after),
            )?;
            Ok(row)
        })
    })
    .await?;
    drop(file);
    Ok(ok_with_etag(row.version, &BudgetSpending::from(row)))
}

/// Download the invoice or receipt of a spending entry.
///
/// For who writes the budget only (an invoice may name the person paid). With its type, its name in `Content-Disposition`, `ETag` (its SHA-256) and byte
/// ranges, like an evidence file; checked against the SHA-256 as it is sent.
#[utoipa::path(
    tag = "budget",
    params(("id" = Uuid, Path), ("Range" = Option<String>, Header, description = "`bytes=start-end`, `bytes=start-` or `bytes=-suffix`."),
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` of a copy you have.")),
    responses(
        (status = 200, description = "The file, in its type.", content_type = "application/octet-stream", body = Vec<u8>,
            headers(("Content-Disposition" = String), ("ETag" = String), ("Accept-Ranges" = String))),
        (status = 206, description = "The requested part.", content_type = "application/octet-stream", body = Vec<u8>,
            headers(("Content-Range" = String), ("ETag" = String))),
        (status = 304, description = "Not changed since the copy you have."),
        (status = 404, description = "No such entry, or no receipt attached yet.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 416, description = "The range lies outside the file.", body = crate::error::Problem, content_type = "application/problem+json",
            headers(("Content-Range" = String, description = "`bytes */<size>`"))),
    )
)]
#[get("/{id}/receipt")]
pub async fn download_budget_receipt(
    auth: AuthUser,
    id: web::Path<Uuid>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    // An invoice may name a person paid: only who keeps the books reads it.
    let principal = auth.0;
    principal.require(Permission::BudgetWrite)?;
    let (id, org) = (id.into_inner(), principal.organization_id);
    let row = db::run(&state.pool, move |conn| {
        let row = spendings::find(conn, id, org)?;
        may_write(conn, &principal, row.organization_id)?;
        Ok(row)
    })
    .await?;
    let (Some(sha256), Some(size), Some(content_type), Some(file_name)) =
        (&row.receipt_sha256, row.receipt_size_bytes, &row.receipt_content_type, &row.receipt_file_name)
    else {
        return Err(ApiError::not_found());
    };
    let file = StoredFile { id: row.id, sha256, size: size as u64, content_type, file_name };
    files::serve(&req, &state.evidence, file, "private, no-cache").await
}
