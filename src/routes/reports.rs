//! Reports of plans and feedback as JSON, CSV or XLSX, and frozen snapshots of them.
use actix_web::{
    HttpRequest, HttpResponse, get,
    http::header::{self, HeaderValue},
    post, web,
};
use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::{
    auth::{AuthUser, Permission, Principal, PrincipalKind, Role},
    db::{
        self, Record,
        audit::Actor,
        plans,
        reports::{NewSnapshot, SnapshotRow, snapshots},
    },
    domain::assignments::PeriodCounting,
    error::{ApiError, FieldError},
    http::{
        ApiJson, Page, RequestContext,
        pagination::PageParams,
        query::{ApiQuery, ListQuery, NoFilter},
    },
    reports::{
        self, Context, FeedbackReport, GroupBy, PlanReport, ReportPeriod,
        tables::{CsvStyle, Table},
        xlsx,
    },
    routes::{
        checks,
        crud::{self, Resource},
    },
    state::AppState,
};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const CSV: &str = "text/csv; charset=utf-8; header=present";
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// The form of a report.
#[derive(Deserialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    Json,
    Csv,
    Xlsx,
}

/// The form of a plan's report: also the official Word document.
#[derive(Deserialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PlanReportFormat {
    Json,
    Csv,
    Xlsx,
    /// The periodic report as the Word document officials sign (Decree 30/2020 layout).
    Docx,
}

/// `format=…` if given, else from `Accept` (`text/csv`, the XLSX type), else JSON.
fn negotiate(format: Option<ReportFormat>, req: &HttpRequest) -> ReportFormat {
    format.unwrap_or_else(|| match accepted(req) {
        PlanReportFormat::Csv => ReportFormat::Csv,
        PlanReportFormat::Xlsx => ReportFormat::Xlsx,
        // A Word document is a plan's report only.
        PlanReportFormat::Json | PlanReportFormat::Docx => ReportFormat::Json,
    })
}

/// `format=…` if given, else from `Accept` (`text/csv`, the XLSX or DOCX type), else JSON.
fn negotiate_plan(format: Option<PlanReportFormat>, req: &HttpRequest) -> PlanReportFormat {
    format.unwrap_or_else(|| accepted(req))
}

/// The form `Accept` asks for.
fn accepted(req: &HttpRequest) -> PlanReportFormat {
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.contains("text/csv") {
        PlanReportFormat::Csv
    } else if accept.contains(XLSX) {
        PlanReportFormat::Xlsx
    } else if accept.contains(DOCX) {
        PlanReportFormat::Docx
    } else {
        PlanReportFormat::Json
    }
}

/// A file to download: `Content-Type` and `Content-Disposition`.
fn download(content_type: &'static str, name: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header(crate::http::files::disposition(name))
        .body(body)
}

/// A safe piece of a file name.
fn file_part(text: &str) -> String {
    text.chars().map(|c| if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '-' }).collect()
}

/// The CSV of one section, chosen with `section`.
fn csv_of(tables: Vec<Table>, section: Option<&str>, name: &str, style: CsvStyle) -> Result<HttpResponse, ApiError> {
    let Some(section) = section else {
        let allowed: Vec<&str> = tables.iter().map(|t| t.section).collect();
        return Err(ApiError::rules(vec![FieldError::new("section", "required").arg("allowed", allowed.join(", "))]));
    };
    let table = tables.into_iter().find(|t| t.section == section).expect("every section has a table");
    Ok(download(CSV, &format!("{name}_{section}.csv"), table.to_csv(style)))
}

fn xlsx_of(tables: &[Table], name: &str, title: &[String]) -> Result<HttpResponse, ApiError> {
    let bytes = xlsx::workbook(tables, title).map_err(ApiError::internal)?;
    Ok(download(XLSX, &format!("{name}.xlsx"), bytes))
}

/// A plan report in the asked-for form.
async fn render_plan(
    state: &AppState,
    report: &PlanReport,
    format: PlanReportFormat,
    section: Option<Section>,
    style: CsvStyle,
) -> Result<HttpResponse, ApiError> {
    let name = format!("bao-cao_{}_{}", file_part(&report.plan.code), file_part(&report.period.label()));
    match format {
        PlanReportFormat::Json => Ok(HttpResponse::Ok().json(report)),
        PlanReportFormat::Csv => csv_of(report.tables(), section.map(Section::as_str), &name, style),
        PlanReportFormat::Xlsx => {
            let organization = organization_name(state, report.plan.organization_id).await?;
            let subject = format!("Kế hoạch: {} — {}", report.plan.code, report.plan.title);
            let title = reports::title_block(&organization, &subject, &report.period, report.generated_at);
            xlsx_of(&report.tables(), &name, &title)
        }
        PlanReportFormat::Docx => {
            let head = letterhead(state, report.plan.organization_id, report.plan.id, report.generated_at).await?;
            let report = report.clone();
            let bytes =
                web::block(move || reports::docx::document(&report, &head)).await?.map_err(ApiError::internal)?;
            Ok(download(DOCX, &format!("{name}.docx"), bytes))
        }
    }
}

/// What the official document takes from the organisation's record (its name, parent,
/// abbreviation, place and signer) and from the plan's decision (its recipients, and
/// the place and signer where the organisation names none).
async fn letterhead(
    state: &AppState,
    org: Uuid,
    plan_id: Uuid,
    generated_at: DateTime<Utc>,
) -> Result<reports::docx::Letterhead, ApiError> {
    let dated = crate::domain::time::local_date(generated_at);
    db::run(&state.pool, move |conn| {
        let own = db::organizations::find(conn, org, None)?;
        use diesel::OptionalExtension;
        // A parent or plan deleted since (a snapshot outlives them): the document goes
        // without the governing body or the decision's recipients.
        let parent = match own.parent_id {
            Some(parent) => db::organizations::find(conn, parent, None).optional()?.map(|p| p.name),
            None => None,
        };
        let decision: Option<crate::domain::plans::Decision> = plans::find(conn, plan_id, None)
            .optional()?
            .and_then(|p| p.decision)
            .and_then(|d| serde_json::from_value(d).ok());
        let signer = decision.as_ref().and_then(|d| d.signer.clone());
        let recipients = decision
            .as_ref()
            .map(|d| {
                d.recipients
                    .iter()
                    .map(|r| match &r.purpose {
                        Some(purpose) if !r.name.starts_with("Lưu") => format!("{} ({purpose})", r.name),
                        _ => r.name.clone(),
                    })
                    .collect()
            })
            .filter(|list: &Vec<String>| !list.is_empty())
            .unwrap_or_else(|| vec!["Lưu: VT".to_owned()]);
        Ok(reports::docx::Letterhead {
            governing_body: parent,
            abbreviation: own.abbreviation.clone().unwrap_or_else(|| own.code.clone()),
            place: own
                .place_name
                .clone()
                .or_else(|| decision.as_ref().and_then(|d| d.place.clone()))
                .unwrap_or_default(),
            dated,
            signer_title: own
                .signer_title
                .clone()
                .or_else(|| signer.as_ref().and_then(|s| s.title.clone()))
                .unwrap_or_else(|| "Thủ trưởng đơn vị".to_owned()),
            signer_name: own.signer_name.clone().or_else(|| signer.map(|s| s.name)).unwrap_or_default(),
            organization: own.name,
            recipients,
        })
    })
    .await
}

/// The organisation's name, for a workbook's title block.
async fn organization_name(state: &AppState, id: Uuid) -> Result<String, ApiError> {
    db::run(&state.pool, move |conn| Ok(db::organizations::find(conn, id, None)?.name)).await
}

/// A section of a plan report.
#[derive(Deserialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Items,
    Departments,
    Indicators,
    ActivitiesByMonth,
    Feedback,
    Publications,
    BudgetLines,
    BudgetDepartments,
    BudgetQuarters,
}

impl Section {
    fn as_str(self) -> &'static str {
        match self {
            Self::Items => "items",
            Self::Departments => "departments",
            Self::Indicators => "indicators",
            Self::ActivitiesByMonth => "activities_by_month",
            Self::Feedback => "feedback",
            Self::Publications => "publications",
            Self::BudgetLines => "budget_lines",
            Self::BudgetDepartments => "budget_departments",
            Self::BudgetQuarters => "budget_quarters",
        }
    }
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PlanReportParams {
    /// `2021`, `2021-H1`, `2021-Q2` or `2021-M07` (also `2021-07`); or give `from` and `to` instead.
    pub period: Option<String>,
    /// First day (Vietnam), with `to`.
    pub from: Option<NaiveDate>,
    /// Last day (Vietnam), with `from`.
    pub to: Option<NaiveDate>,
    /// `json` (default), `csv` (with `section`), `xlsx`, or `docx` (the official report
    /// document, docs/reports.md); or ask with `Accept`.
    #[param(inline)]
    pub format: Option<PlanReportFormat>,
    /// The section a CSV holds: `items`, `departments`, `indicators`,
    /// `activities_by_month`, `feedback`, `publications`, `budget_lines`,
    /// `budget_departments` or `budget_quarters`.
    #[param(inline)]
    pub section: Option<Section>,
    /// CSV: start with a UTF-8 byte order mark, so that Excel shows Vietnamese text right
    /// (default `true`); `false` for scripts and tools that do not expect one.
    pub bom: Option<bool>,
    /// CSV: the header row as `keys` (default: the stable English keys of
    /// docs/reports.md, for scripts) or `vi` (the Vietnamese headings, for people).
    #[param(inline)]
    pub headers: Option<CsvHeaders>,
}

/// The header row of a CSV download.
#[derive(Deserialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CsvHeaders {
    Keys,
    Vi,
}

/// The CSV style asked for with `bom` and `headers`.
fn csv_style(bom: Option<bool>, headers: Option<CsvHeaders>) -> CsvStyle {
    CsvStyle { bom: bom.unwrap_or(true), vietnamese_headers: headers == Some(CsvHeaders::Vi) }
}

/// For a department member, the department the report is confined to.
fn own_department(principal: &Principal) -> Result<Option<Uuid>, ApiError> {
    match principal.kind {
        PrincipalKind::User { role: Role::Member, department_id: Some(dept) } => Ok(Some(dept)),
        PrincipalKind::User { role: Role::Member, department_id: None } => {
            Err(ApiError::new(actix_web::http::StatusCode::FORBIDDEN, "other_department"))
        }
        _ => Ok(None),
    }
}

fn context(state: &AppState, department: Option<Uuid>) -> Context {
    Context {
        today: state.clock.today(),
        now: state.clock.now(),
        report_due_days: state.settings.report_due_days,
        department,
    }
}

/// A plan's report over a period.
///
/// Items with their assignments, the states of their reporting duties whose period ends
/// in the report's, and the verified activities and evidence files of the period;
/// departments with assignments by status, activities by channel, evidence and reports
/// on time / late / missing; indicators with their latest value in the period and
/// whether it meets the target; verified activities per month; and the organisation's
/// feedback received in the period. A department `member` gets their department's part.
///
/// Also the documents to post on the website and whether they were posted on time
/// (plan II.3.c), and the plan's budget as of the period's end (plan III.5).
///
/// As JSON, as CSV (one section, `section=`; the columns are listed in
/// `docs/reports.md`), as an XLSX workbook (a sheet per section, Vietnamese headings,
/// charts of activities per month and of indicators against their targets), or as the
/// official report document (`docx`: Decree 30/2020 layout, the same figures).
#[utoipa::path(
    tag = "reports",
    params(("plan_id" = Uuid, Path), PlanReportParams),
    responses(
        (status = 200, description = "The report.", content(
            (PlanReport = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        )),
    )
)]
#[get("/plans/{plan_id}")]
pub async fn get_plan_report(
    auth: AuthUser,
    plan_id: web::Path<Uuid>,
    query: ApiQuery<PlanReportParams>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ReportsRead)?;
    let params = query.0;
    let period = ReportPeriod::parse(params.period.as_deref(), params.from, params.to)?;
    let format = negotiate_plan(params.format, &req);
    let ctx = context(&state, own_department(&principal)?);
    let (id, org) = (plan_id.into_inner(), principal.organization_id);
    let pool = state.lagging(&principal).await;
    let report = db::run(&pool, move |conn| {
        db::reports::in_snapshot(conn, |conn| {
            let plan = plans::find(conn, id, org)?;
            reports::plan_report(conn, plan, period, ctx)
        })
    })
    .await?;
    render_plan(&state, &report, format, params.section, csv_style(params.bom, params.headers)).await
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedbackReportParams {
    /// `2021`, `2021-H1`, `2021-Q2` or `2021-M07` (also `2021-07`); or give `from` and `to` instead.
    pub period: Option<String>,
    /// First day of receipt (Vietnam), with `to`.
    pub from: Option<NaiveDate>,
    /// Last day of receipt (Vietnam), with `from`.
    pub to: Option<NaiveDate>,
    /// `category` (default), `channel`, `department` or `month`.
    pub group_by: Option<GroupBy>,
    /// `json` (default), `csv` or `xlsx`; or ask with `Accept`.
    #[param(inline)]
    pub format: Option<ReportFormat>,
    /// System administrator only: that organisation's.
    pub organization_id: Option<Uuid>,
    /// CSV: start with a UTF-8 byte order mark, so that Excel shows Vietnamese text right
    /// (default `true`); `false` for scripts and tools that do not expect one.
    pub bom: Option<bool>,
    /// CSV: the header row as `keys` (default: the stable English keys of
    /// docs/reports.md, for scripts) or `vi` (the Vietnamese headings, for people).
    #[param(inline)]
    pub headers: Option<CsvHeaders>,
}

/// Feedback statistics over a period.
///
/// Records received in the period: how many were answered, on time, are overdue,
/// rejected or forwarded; the median and 90th percentile of working days to answer;
/// the satisfaction rate — in total and per group. A department `member` gets their
/// department's records only.
#[utoipa::path(
    tag = "reports",
    params(FeedbackReportParams),
    responses(
        (status = 200, description = "The statistics.", content(
            (FeedbackReport = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
    )
)]
#[get("/feedback")]
pub async fn get_feedback_report(
    auth: AuthUser,
    query: ApiQuery<FeedbackReportParams>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ReportsRead)?;
    let params = query.0;
    let org = principal.acting_org(params.organization_id)?;
    let period = ReportPeriod::parse(params.period.as_deref(), params.from, params.to)?;
    let format = negotiate(params.format, &req);
    let group_by = params.group_by.unwrap_or_default();
    let ctx = context(&state, own_department(&principal)?);
    let pool = state.lagging(&principal).await;
    let report: FeedbackReport = db::run(&pool, move |conn| {
        db::reports::in_snapshot(conn, |conn| {
            checks::organization(conn, org)?;
            reports::feedback_report(conn, org, period, group_by, ctx)
        })
    })
    .await?;
    let name = format!("phan-anh_{}", file_part(&report.period.label()));
    match format {
        ReportFormat::Json => Ok(HttpResponse::Ok().json(&report)),
        ReportFormat::Csv => {
            Ok(download(CSV, &format!("{name}.csv"), report.table().to_csv(csv_style(params.bom, params.headers))))
        }
        ReportFormat::Xlsx => {
            let organization = organization_name(&state, report.organization_id).await?;
            let title = reports::title_block(
                &organization,
                "Thống kê phản ánh, kiến nghị",
                &report.period,
                report.generated_at,
            );
            xlsx_of(&[report.table()], &name, &title)
        }
    }
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TriageReportParams {
    /// `2021`, `2021-H1`, `2021-Q2` or `2021-M07` (also `2021-07`); or give `from` and `to` instead.
    pub period: Option<String>,
    /// First day of receipt (Vietnam), with `to`.
    pub from: Option<NaiveDate>,
    /// Last day, with `from`.
    pub to: Option<NaiveDate>,
    /// `json` (default), `csv` or `xlsx`; or ask with `Accept`.
    #[param(inline)]
    pub format: Option<ReportFormat>,
    /// System administrator only: that organisation's.
    pub organization_id: Option<Uuid>,
    /// CSV: start with a UTF-8 byte order mark (default `true`).
    pub bom: Option<bool>,
    /// CSV: the header row as `keys` (default) or `vi`.
    #[param(inline)]
    pub headers: Option<CsvHeaders>,
}

/// How often the suggestions were taken.
///
/// Per month of receipt and the category staff chose: records
/// filed without a category or department that got suggestions, how many staff then
/// gave the first suggested category and the first suggested department, and how many
/// the organisation's auto-assignment routed.
#[utoipa::path(
    tag = "reports",
    params(TriageReportParams),
    responses(
        (status = 200, description = "The figures.", content(
            (crate::reports::triage::TriageReport = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
    )
)]
#[get("/triage")]
pub async fn get_triage_report(
    auth: AuthUser,
    query: ApiQuery<TriageReportParams>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ReportsRead)?;
    let params = query.0;
    let org = principal.acting_org(params.organization_id)?;
    let period = ReportPeriod::parse(params.period.as_deref(), params.from, params.to)?;
    let format = negotiate(params.format, &req);
    let now = state.clock.now();
    let pool = state.lagging(&principal).await;
    let report = db::run(&pool, move |conn| {
        db::reports::in_snapshot(conn, |conn| {
            checks::organization(conn, org)?;
            crate::reports::triage::triage_report(conn, org, period, now)
        })
    })
    .await?;
    let name = format!("goi-y-phan-loai_{}", file_part(&report.period.label()));
    match format {
        ReportFormat::Json => Ok(HttpResponse::Ok().json(&report)),
        ReportFormat::Csv => {
            Ok(download(CSV, &format!("{name}.csv"), report.table().to_csv(csv_style(params.bom, params.headers))))
        }
        ReportFormat::Xlsx => {
            let organization = organization_name(&state, report.organization_id).await?;
            let title =
                reports::title_block(&organization, "Gợi ý phân loại phản ánh", &report.period, report.generated_at);
            xlsx_of(&[report.table()], &name, &title)
        }
    }
}

// ---- Snapshots --------------------------------------------------------------------

/// A frozen report: what it is, not its content (that is at its `content` link).
#[derive(Serialize, ToSchema)]
pub struct Snapshot {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub plan_id: Uuid,
    pub period: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// How the period's days were counted (the organisation's `reporting_periods` when
    /// it was frozen).
    pub reporting_periods: PeriodCounting,
    /// SHA-256 of the stored JSON document, in hex.
    pub sha256: String,
    pub size_bytes: i64,
    /// Where the report is: `GET` it as JSON, CSV or XLSX.
    pub content_url: String,
    pub created_by: Option<Uuid>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: DateTime<Utc>,
}

impl From<SnapshotRow> for Snapshot {
    fn from(r: SnapshotRow) -> Self {
        Self {
            content_url: format!("/api/v1/reports/snapshots/{}/content", r.id),
            id: r.id,
            organization_id: r.organization_id,
            plan_id: r.plan_id,
            period: r.period,
            from: r.period_from,
            to: r.period_to,
            reporting_periods: r.reporting_periods,
            sha256: r.sha256,
            size_bytes: r.size_bytes,
            created_by: r.created_by,
            created_at: r.created_at,
        }
    }
}

impl Resource for Snapshot {
    type Row = SnapshotRow;
    const COLLECTION: &'static str = "/api/v1/reports/snapshots";
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"period": "2021-Q2"}))]
pub struct CreateSnapshot {
    /// `2021`, `2021-H1`, `2021-Q2` or `2021-M07` (also `2021-07`); or give `from` and `to` instead.
    #[schema(pattern = "^[1-9][0-9]{3}(-(H[12]|Q[1-4]|M?(0[1-9]|1[0-2])))?$")]
    pub period: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Freeze a plan's report for a closed period.
///
/// The report as it stands now is kept byte for byte with its SHA-256; later changes
/// to the data do not change it. Only a period that has ended (in Vietnam) can be
/// frozen, and once per plan (409 `snapshot_exists` the second time).
#[utoipa::path(
    tag = "reports",
    params(("plan_id" = Uuid, Path), crate::http::idempotency::IdempotencyKeyHeader),
    request_body = CreateSnapshot,
    responses(
        (status = 201, description = "Frozen.", body = Snapshot, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The period has not ended (`period_not_closed`), it is frozen already (`snapshot_exists`), or the idempotency key is in use.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The idempotency key was used for another request.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/plans/{plan_id}/snapshots", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn create_report_snapshot(
    auth: AuthUser,
    ctx: RequestContext,
    plan_id: web::Path<Uuid>,
    body: ApiJson<CreateSnapshot>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ReportsSnapshot)?;
    let body = body.0;
    let period = ReportPeriod::parse(body.period.as_deref(), body.from, body.to)?;
    let report_ctx = context(&state, None);
    let (id, org, by) = (plan_id.into_inner(), principal.organization_id, principal.id);
    crud::create::<Snapshot, _>(&state, Actor::of(&principal, &ctx), move |conn| {
        let plan = plans::find(conn, id, org)?;
        let (organization_id, plan_id) = (plan.organization_id, plan.id);
        let frozen = reports::freeze(conn, plan, period, report_ctx)?;
        Ok(snapshots::insert(
            conn,
            &NewSnapshot {
                id: Uuid::now_v7(),
                organization_id,
                plan_id,
                period: frozen.period.label(),
                period_from: frozen.period.from,
                period_to: frozen.period.to,
                reporting_periods: frozen.counting,
                size_bytes: frozen.size_bytes,
                sha256: frozen.sha256,
                body: frozen.body,
                created_by: Some(by),
            },
        )?)
    })
    .await
}

/// The snapshots of a plan, oldest first.
#[utoipa::path(
    tag = "reports",
    params(("plan_id" = Uuid, Path), PageParams),
    responses((status = 200, description = "A page of snapshots.", body = Page<Snapshot>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("/plans/{plan_id}/snapshots")]
pub async fn list_report_snapshots(
    auth: AuthUser,
    plan_id: web::Path<Uuid>,
    query: ListQuery<NoFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ReportsRead)?;
    let (id, org) = (plan_id.into_inner(), principal.organization_id);
    db::run(&state.pool, move |conn| Ok(plans::find(conn, id, org)?)).await?;
    crud::list::<Snapshot, _>(&req, &state, query.page, move |conn, page| snapshots::list(conn, id, page)).await
}

/// A frozen report as stored, byte for byte, with its SHA-256 in `Repr-Digest`
/// (RFC 9530): snapshots and reports sent upward alike.
pub(crate) fn frozen_json(body: String) -> HttpResponse {
    let digest = Sha256::digest(body.as_bytes());
    let mut res = HttpResponse::Ok().content_type("application/json").body(body);
    if let Ok(value) = HeaderValue::from_str(&format!("sha-256=:{}:", STANDARD.encode(digest))) {
        res.headers_mut().insert(header::HeaderName::from_static("repr-digest"), value);
    }
    res
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SnapshotParams {
    /// `json` (default: the stored document, byte for byte), `csv` (with `section`),
    /// `xlsx` or `docx` (the official report document).
    #[param(inline)]
    pub format: Option<PlanReportFormat>,
    #[param(inline)]
    pub section: Option<Section>,
    /// CSV: start with a UTF-8 byte order mark, so that Excel shows Vietnamese text right
    /// (default `true`); `false` for scripts and tools that do not expect one.
    pub bom: Option<bool>,
    /// CSV: the header row as `keys` (default: the stable English keys of
    /// docs/reports.md, for scripts) or `vi` (the Vietnamese headings, for people).
    #[param(inline)]
    pub headers: Option<CsvHeaders>,
}

/// What a snapshot is.
#[utoipa::path(
    tag = "reports",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The snapshot.", body = Snapshot))
)]
#[get("/snapshots/{id}")]
pub async fn get_report_snapshot(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ReportsRead)?;
    own_department(&principal)?;
    crud::get::<Snapshot>(&state, id.into_inner(), principal.organization_id).await
}

/// A snapshot's report.
///
/// As JSON it is the stored document, byte for byte, with its SHA-256 in `Repr-Digest`
/// (RFC 9530); as CSV or XLSX it is made from that document. A department `member`
/// reads the whole organisation's snapshot only if not a member (403 otherwise).
#[utoipa::path(
    tag = "reports",
    params(("id" = Uuid, Path), SnapshotParams),
    responses(
        (status = 200, description = "The frozen report.", content(
            (PlanReport = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ), headers(("Repr-Digest" = String, description = "`sha-256=:<base64>:` of the JSON document."))),
    )
)]
#[get("/snapshots/{id}/content")]
pub async fn get_report_snapshot_content(
    auth: AuthUser,
    id: web::Path<Uuid>,
    query: ApiQuery<SnapshotParams>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ReportsRead)?;
    if own_department(&principal)?.is_some() {
        return Err(ApiError::new(actix_web::http::StatusCode::FORBIDDEN, "other_department"));
    }
    let (id, org) = (id.into_inner(), principal.organization_id);
    let row = db::run(&state.pool, move |conn| Ok(SnapshotRow::find(conn, id, org)?)).await?;
    let format = negotiate_plan(query.0.format, &req);
    if format == PlanReportFormat::Json {
        return Ok(frozen_json(row.body));
    }
    let report: PlanReport = serde_json::from_str(&row.body).map_err(ApiError::internal)?;
    render_plan(&state, &report, format, query.0.section, csv_style(query.0.bom, query.0.headers)).await
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RollupParams {
    /// `2021`, `2021-H1`, `2021-Q2` or `2021-M07` (also `2021-07`); or give `from` and `to` instead.
    pub period: Option<String>,
    /// First day (Vietnam), with `to`.
    pub from: Option<NaiveDate>,
    /// Last day (Vietnam), with `from`.
    pub to: Option<NaiveDate>,
    /// `json` (default), `csv` (with `section`), `xlsx`, or `docx` (the compiled report as
    /// an official document); or ask with `Accept`.
    #[param(inline)]
    pub format: Option<PlanReportFormat>,
    /// The section a CSV holds: `items`, `units`, `indicators` or `missing`.
    #[param(inline)]
    pub section: Option<RollupSection>,
    /// CSV: start with a UTF-8 byte order mark (default `true`).
    pub bom: Option<bool>,
    /// CSV: the header row as `keys` (default) or `vi`.
    #[param(inline)]
    pub headers: Option<CsvHeaders>,
}

/// A section of a roll-up.
#[derive(Deserialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RollupSection {
    Items,
    Units,
    Indicators,
    Missing,
}

impl RollupSection {
    fn as_str(self) -> &'static str {
        match self {
            Self::Items => "items",
            Self::Units => "units",
            Self::Indicators => "indicators",
            Self::Missing => "missing",
        }
    }
}

/// The roll-up of a plan over the units below that implement it.
///
/// For a plan of the caller's organisation (the province's): per item, the units'
/// items that carry it out (`implements_item_id`) with their assignments, verified
/// activities and evidence in the period and last progress report; per unit with a plan
/// implementing it, its reporting duties on time / late / missing, its indicators beside
/// the plan's targets of the same code, its feedback figures (counts only — never a
/// record), three rates, a score (their mean) and a rank; and the organisation's direct
/// units with no plan implementing it yet (`missing`). Figures over all units at once;
/// see docs/rollup.md.
#[utoipa::path(
    tag = "reports",
    params(("plan_id" = Uuid, Path), RollupParams),
    responses(
        (status = 200, description = "The roll-up.", content(
            (crate::reports::rollup::Rollup = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        )),
    )
)]
#[get("/plans/{plan_id}/rollup")]
pub async fn get_plan_rollup(
    auth: AuthUser,
    plan_id: web::Path<Uuid>,
    query: ApiQuery<RollupParams>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::Oversee)?;
    let params = query.0;
    let period = ReportPeriod::parse(params.period.as_deref(), params.from, params.to)?;
    let format = negotiate_plan(params.format, &req);
    let ctx = context(&state, None);
    let (id, org) = (plan_id.into_inner(), principal.organization_id);
    let pool = state.lagging(&principal).await;
    let rollup = db::run(&pool, move |conn| {
        db::reports::in_snapshot(conn, |conn| {
            let plan = plans::find(conn, id, org)?;
            let below = db::organizations::below(conn, plan.organization_id)?;
            crate::reports::rollup::rollup(conn, plan, &below, period, ctx)
        })
    })
    .await?;
    let name = format!("tong-hop_{}_{}", file_part(&rollup.plan.code), file_part(&rollup.period.label()));
    let style = csv_style(params.bom, params.headers);
    match format {
        PlanReportFormat::Json => Ok(HttpResponse::Ok().json(&rollup)),
        PlanReportFormat::Csv => csv_of(rollup.tables(), params.section.map(RollupSection::as_str), &name, style),
        PlanReportFormat::Xlsx => {
            let organization = organization_name(&state, rollup.plan.organization_id).await?;
            let subject = format!("Tổng hợp thực hiện kế hoạch: {} — {}", rollup.plan.code, rollup.plan.title);
            let title = reports::title_block(&organization, &subject, &rollup.period, rollup.generated_at);
            xlsx_of(&rollup.tables(), &name, &title)
        }
        PlanReportFormat::Docx => {
            let head = letterhead(&state, rollup.plan.organization_id, rollup.plan.id, rollup.generated_at).await?;
            let bytes = web::block(move || reports::docx::rollup_document(&rollup, &head))
                .await?
                .map_err(ApiError::internal)?;
            Ok(download(DOCX, &format!("{name}.docx"), bytes))
        }
    }
}
