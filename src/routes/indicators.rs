//! Indicators: the measurable targets of a plan, and their measurements.
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::NaiveDate;
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::{
    auth::{AuthUser, Permission},
    db::{
        self, Record,
        audit::Actor,
        indicators::{self as store, IndicatorChanges, IndicatorRecord, MeasurementRow, NewIndicator, NewMeasurement},
        plan_items, plans,
    },
    domain::{
        plans::{Comparator, IndicatorScope, MeasurementSource, TargetStatus, Unit, target_status},
        validate,
    },
    error::{ApiError, FieldError},
    http::{
        ApiJson, IfMatch, Page, RequestContext, etag::ok_with_etag, json::double_option, pagination::PageParams,
        query::ListQuery,
    },
    routes::{
        crud::{self, Resource},
        plans::ensure_open,
    },
    state::AppState,
};

/// A measurable target of a plan, with its latest value and whether it is met.
#[derive(Serialize, ToSchema, Clone)]
pub struct Indicator {
    pub id: Uuid,
    pub plan_id: Uuid,
    /// The item it measures, if any.
    pub plan_item_id: Option<Uuid>,
    /// Unique within the plan, e.g. `SATISFACTION_RATE`.
    #[schema(example = "SATISFACTION_RATE")]
    pub code: String,
    pub name: String,
    pub unit: Unit,
    pub comparator: Comparator,
    /// Required unless the comparator is `improves`.
    pub target_value: Option<f64>,
    /// What `improves` compares with (without one, the first measurement).
    pub baseline: Option<f64>,
    pub scope: IndicatorScope,
    /// The latest measurement (by date measured, then by entry).
    pub latest: Option<Measurement>,
    /// Computed from the latest value with the comparator; never stored.
    pub status: TargetStatus,
    pub version: i32,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<IndicatorRecord> for Indicator {
    fn from(rec: IndicatorRecord) -> Self {
        let r = rec.row;
        let status = target_status(
            r.comparator,
            r.unit,
            r.target_value,
            r.baseline.or(rec.first_value),
            rec.latest.as_ref().map(|m| m.value),
        );
        Self {
            id: r.id,
            plan_id: r.plan_id,
            plan_item_id: r.plan_item_id,
            code: r.code,
            name: r.name,
            unit: r.unit,
            comparator: r.comparator,
            target_value: r.target_value,
            baseline: r.baseline,
            scope: r.scope,
            latest: rec.latest.map(Measurement::from),
            status,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Resource for Indicator {
    type Row = IndicatorRecord;
    const COLLECTION: &'static str = "/api/v1/indicators";
}

/// A value of an indicator at a date, with where it comes from.
#[derive(Serialize, ToSchema, Clone)]
pub struct Measurement {
    pub id: Uuid,
    pub indicator_id: Uuid,
    pub value: f64,
    pub measured_on: NaiveDate,
    /// `2021`, `2021-H1`, `2021-Q2` or `2021-M07` (also `2021-07`, kept as `2021-M07`).
    pub period: Option<String>,
    pub source: MeasurementSource,
    /// For `entered` values: where the figure comes from (a report, a decision).
    pub citation: Option<String>,
    pub link: Option<String>,
    pub note: Option<String>,
    pub created_by: Option<Uuid>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<MeasurementRow> for Measurement {
    fn from(m: MeasurementRow) -> Self {
        Self {
            id: m.id,
            indicator_id: m.indicator_id,
            value: m.value,
            measured_on: m.measured_on,
            period: m.period,
            source: m.source,
            citation: m.citation,
            link: m.link,
            note: m.note,
            created_by: m.created_by,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

impl Resource for Measurement {
    type Row = MeasurementRow;
    const COLLECTION: &'static str = "/api/v1/measurements";
}

fn finite(value: f64) -> Result<(), ValidationError> {
    if value.is_finite() && value.abs() < 1e15 { Ok(()) } else { Err(ValidationError::new("invalid_format")) }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "SATISFACTION_RATE", "name": "Mức độ hài lòng của tổ chức, cá nhân", "unit": "percent",
    "comparator": ">", "target_value": 81, "scope": "province"}))]
pub struct CreateIndicator {
    /// 1–32 ASCII letters, digits, `-`, `_`, `.`; unique within the plan.
    #[validate(custom(function = "validate::code"))]
    #[schema(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9._-]{1,32}$")]
    pub code: String,
    #[validate(length(min = 1, max = 1000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 1000)]
    pub name: String,
    pub unit: Unit,
    pub comparator: Comparator,
    /// Required unless the comparator is `improves`.
    #[validate(custom(function = "finite"))]
    #[schema(minimum = -999_999_999_999_999.0, maximum = 999_999_999_999_999.0)]
    pub target_value: Option<f64>,
    #[validate(custom(function = "finite"))]
    #[schema(minimum = -999_999_999_999_999.0, maximum = 999_999_999_999_999.0)]
    pub baseline: Option<f64>,
    /// An item of the same plan.
    pub plan_item_id: Option<Uuid>,
    /// Default `organization`.
    pub scope: Option<IndicatorScope>,
}

/// Fields to change; absent fields stay, `null` clears an optional one.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateIndicator {
    #[validate(custom(function = "validate::code"))]
    #[schema(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9._-]{1,32}$")]
    pub code: Option<String>,
    #[validate(length(min = 1, max = 1000), custom(function = "validate::not_blank"))]
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 1000)]
    pub name: Option<String>,
    pub unit: Option<Unit>,
    pub comparator: Option<Comparator>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(custom(function = "finite"))]
    #[schema(value_type = Option<f64>, minimum = -999_999_999_999_999.0, maximum = 999_999_999_999_999.0)]
    pub target_value: Option<Option<f64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(custom(function = "finite"))]
    #[schema(value_type = Option<f64>, minimum = -999_999_999_999_999.0, maximum = 999_999_999_999_999.0)]
    pub baseline: Option<Option<f64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub plan_item_id: Option<Option<Uuid>>,
    pub scope: Option<IndicatorScope>,
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IndicatorFilter {
    pub plan_item_id: Option<Uuid>,
    pub scope: Option<IndicatorScope>,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"value": 83.5, "measured_on": "2021-12-31", "period": "2021",
    "citation": "Báo cáo kết quả khảo sát SIPAS 2021 của Sở Nội vụ"}))]
pub struct CreateMeasurement {
    #[validate(custom(function = "finite"))]
    #[schema(minimum = -999_999_999_999_999.0, maximum = 999_999_999_999_999.0)]
    pub value: f64,
    pub measured_on: NaiveDate,
    #[validate(custom(function = "crate::domain::validate::period"))]
    #[schema(pattern = "^[1-9][0-9]{3}(-(H[12]|Q[1-4]|M?(0[1-9]|1[0-2])))?$")]
    pub period: Option<String>,
    /// Only `entered` (the default): `computed` values are recorded by the service.
    pub source: Option<MeasurementSource>,
    /// Where the figure comes from; an entered value needs this or `link`.
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub citation: Option<String>,
    /// `http` or `https`.
    #[validate(custom(function = "validate::http_url"))]
    #[schema(
        max_length = 2048,
        pattern = r"^https?://[^\s/?#\[\]@\\\x00-\x1f\x7f-\x9f]+([/?#][^\s\x00-\x1f\x7f-\x9f]*)?$"
    )]
    pub link: Option<String>,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MeasurementFilter {
    /// Measured on or after this date.
    pub from: Option<NaiveDate>,
    /// Measured on or before this date.
    pub to: Option<NaiveDate>,
    #[validate(custom(function = "crate::domain::validate::period"))]
    pub period: Option<String>,
}

/// A target is required unless the comparator is `improves`.
fn check_target(comparator: Comparator, target: Option<f64>) -> Result<(), ApiError> {
    if comparator != Comparator::Improves && target.is_none() {
        return Err(ApiError::rule("target_value", "required"));
    }
    Ok(())
}

/// The measured item must belong to the plan.
fn check_item(conn: &mut PgConnection, plan: Uuid, item: Option<Uuid>) -> Result<(), ApiError> {
    if let Some(item) = item {
        match plan_items::find(conn, item, None) {
            Ok(row) if row.plan_id == plan => {}
            _ => {
                return Err(ApiError::unprocessable("reference_invalid")
                    .with_errors(vec![FieldError::new("plan_item_id", "reference_invalid")]));
            }
        }
    }
    Ok(())
}

/// List a plan's indicators, each with its latest value and status.
#[utoipa::path(
    tag = "indicators",
    params(("plan_id" = Uuid, Path), PageParams, IndicatorFilter),
    responses((status = 200, description = "A page of indicators.", body = Page<Indicator>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("/{plan_id}/indicators")]
pub async fn list_indicators(
    auth: AuthUser,
    plan_id: web::Path<Uuid>,
    query: ListQuery<IndicatorFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::PlansRead)?;
    let (plan_id, org) = (plan_id.into_inner(), principal.organization_id);
    let ListQuery { page, filter } = query;
    let filter = store::Filter { plan_item_id: filter.plan_item_id, scope: filter.scope };
    crud::list::<Indicator, _>(&req, &state, page, move |conn, page| {
        plans::find_readable(conn, plan_id, org)?;
        store::list(conn, plan_id, &filter, page)
    })
    .await
}

/// Read an indicator, with its latest value and status.
#[utoipa::path(
    tag = "indicators",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The indicator.", body = Indicator, headers(("ETag" = String))))
)]
#[get("/{id}")]
pub async fn get_indicator(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::PlansRead)?;
    let (id, org) = (id.into_inner(), auth.0.organization_id);
    let indicator = db::run(&state.pool, move |conn| {
        let record = IndicatorRecord::find(conn, id, None)?;
        plans::find_readable(conn, record.row.plan_id, org)?;
        Ok(record)
    })
    .await?;
    Ok(ok_with_etag(indicator.version(), &Indicator::from(indicator)))
}

/// Add an indicator to a plan.
#[utoipa::path(
    tag = "indicators",
    params(("plan_id" = Uuid, Path), crate::http::idempotency::IdempotencyKeyHeader),
    request_body = CreateIndicator,
    responses(
        (status = 201, description = "Added.", body = Indicator, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The code is taken in the plan (`indicator_code_taken`), the plan is closed, or the idempotency key is in use.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The item is not of this plan, or the idempotency key was used for another request.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{plan_id}/indicators", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn create_indicator(
    auth: AuthUser,
    ctx: RequestContext,
    plan_id: web::Path<Uuid>,
    body: ApiJson<CreateIndicator>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::PlansWrite)?;
    // `http::rules`: a target unless the comparator is `improves`.
    let body = body.0;
    let (plan_id, org, author) = (plan_id.into_inner(), principal.organization_id, principal.id);
    crud::create::<Indicator, _>(&state, Actor::of(&principal, &ctx), move |conn| {
        let plan = plans::find(conn, plan_id, org)?;
        ensure_open(plan.status)?;
        check_item(conn, plan_id, body.plan_item_id)?;
        let row = store::insert(
            conn,
            &NewIndicator {
                id: Uuid::now_v7(),
                plan_id,
                organization_id: plan.organization_id,
                plan_item_id: body.plan_item_id,
                code: body.code,
                name: body.name.trim().to_owned(),
                unit: body.unit,
                comparator: body.comparator,
                target_value: body.target_value,
                baseline: body.baseline,
                scope: body.scope.unwrap_or(IndicatorScope::Organization),
                created_by: Some(author),
            },
        )?;
        Ok(IndicatorRecord { row, latest: None, first_value: None })
    })
    .await
}

/// Change an indicator.
#[utoipa::path(
    tag = "indicators",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"` from the `ETag`; a stale one is a 412.")),
    request_body = UpdateIndicator,
    responses(
        (status = 200, description = "Changed.", body = Indicator, headers(("ETag" = String))),
        (status = 409, description = "The code is taken in the plan, or the plan is closed.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The item is not of this plan.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/{id}")]
pub async fn update_indicator(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<UpdateIndicator>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::PlansWrite)?;
    let body = body.0;
    let changes = IndicatorChanges {
        plan_item_id: body.plan_item_id,
        code: body.code,
        name: body.name.map(|n| n.trim().to_owned()),
        unit: body.unit,
        comparator: body.comparator,
        target_value: body.target_value,
        baseline: body.baseline,
        scope: body.scope,
    };
    let actor = Actor::of(&principal, &ctx);
    crud::update::<Indicator, _>(
        &state,
        actor,
        id.into_inner(),
        principal.organization_id,
        if_match,
        move |conn, current| {
            let row = &current.row;
            ensure_open(plans::find(conn, row.plan_id, None)?.status)?;
            check_target(
                changes.comparator.unwrap_or(row.comparator),
                changes.target_value.unwrap_or(row.target_value),
            )?;
            if let Some(item) = changes.plan_item_id {
                check_item(conn, row.plan_id, item)?;
            }
            let updated = store::update(conn, row.id, &changes)?;
            Ok(IndicatorRecord { row: updated, latest: current.latest.clone(), first_value: current.first_value })
        },
    )
    .await
}

/// Delete an indicator (its measurements stay in the database, out of reach).
#[utoipa::path(
    tag = "indicators",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 409, description = "The plan is closed.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/{id}")]
pub async fn delete_indicator(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::PlansWrite)?;
    let actor = Actor::of(&principal, &ctx);
    crud::delete::<Indicator, _>(
        &state,
        actor,
        id.into_inner(),
        principal.organization_id,
        if_match,
        |conn, current| ensure_open(plans::find(conn, current.row.plan_id, None)?.status),
    )
    .await
}

/// List an indicator's measurements.
#[utoipa::path(
    tag = "indicators",
    params(("id" = Uuid, Path), PageParams, MeasurementFilter),
    responses((status = 200, description = "A page of measurements, oldest entry first.", body = Page<Measurement>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("/{id}/measurements")]
pub async fn list_measurements(
    auth: AuthUser,
    id: web::Path<Uuid>,
    query: ListQuery<MeasurementFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::PlansRead)?;
    let (id, org) = (id.into_inner(), principal.organization_id);
    let ListQuery { page, filter } = query;
    let period = filter.period.map(crate::domain::plans::period_as_kept);
    let filter = store::MeasurementFilter { from: filter.from, to: filter.to, period };
    crud::list::<Measurement, _>(&req, &state, page, move |conn, page| {
        let indicator = store::find(conn, id, None)?;
        plans::find_readable(conn, indicator.plan_id, org)?;
        store::measurements(conn, id, &filter, page)
    })
    .await
}

/// Record a measurement.
///
/// Measurements are never edited: a correction is a new measurement, and the latest
/// (by date measured, then by entry) is the indicator's value. An entered value needs
/// a citation or a link; a percentage lies between 0 and 100.
#[utoipa::path(
    tag = "indicators",
    params(("id" = Uuid, Path), crate::http::idempotency::IdempotencyKeyHeader),
    request_body = CreateMeasurement,
    responses(
        (status = 201, description = "Recorded.", body = Measurement, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The idempotency key is in use.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The idempotency key was used for another request.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/measurements", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
pub async fn create_measurement(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    body: ApiJson<CreateMeasurement>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::PlansWrite)?;
    let body = body.0;
    let (id, org, author) = (id.into_inner(), principal.organization_id, principal.id);
    crud::create::<Measurement, _>(&state, Actor::of(&principal, &ctx), move |conn| {
        let indicator = store::find(conn, id, org)?;
        if indicator.unit == Unit::Percent && !(0.0..=100.0).contains(&body.value) {
            return Err(ApiError::validation(vec![
                FieldError::new("value", "out_of_range").arg("min", 0).arg("max", 100),
            ]));
        }
        Ok(store::insert_measurement(
            conn,
            &NewMeasurement {
                id: Uuid::now_v7(),
                indicator_id: id,
                organization_id: indicator.organization_id,
                value: body.value,
                measured_on: body.measured_on,
                period: body.period.map(crate::domain::plans::period_as_kept),
                source: MeasurementSource::Entered,
                citation: body.citation,
                link: body.link,
                note: body.note,
                created_by: Some(author),
            },
        )?)
    })
    .await
}
