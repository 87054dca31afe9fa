//! The working calendar deadlines in working days are counted on: the national days the
//! service ships (Labour Code 2019, the yearly decisions; docs/calendar.md) and the
//! organisation's own days off and make-up working days (`/holidays`), which override
//! them.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::{
    auth::{AuthUser, Permission},
    db::{
        self,
        audit::Actor,
        feedback::{self as store, HolidayRow, holiday_fns},
    },
    domain::{
        calendar::{DayKind, DaySource, WorkingCalendar, is_weekend},
        validate,
    },
    error::ApiError,
    http::{
        ApiJson, IfMatch, Page, RequestContext,
        pagination::PageParams,
        query::{ApiQuery, ListQuery},
    },
    routes::{
        checks,
        crud::{self, Resource},
    },
    state::AppState,
};

use super::categories::OrgFilter;

/// A day of the organisation's own that differs from the national calendar: an extra
/// day off, or a day worked (a Saturday or Sunday, or a national day off it works).
#[derive(Serialize, ToSchema, Clone)]
pub struct Holiday {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub day: NaiveDate,
    /// `day_off` or `working_day`.
    pub kind: DayKind,
    #[schema(example = "Ngày thành lập tỉnh")]
    pub name: String,
    pub version: i32,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub updated_at: DateTime<Utc>,
}

impl From<HolidayRow> for Holiday {
    fn from(r: HolidayRow) -> Self {
        Self {
            id: r.id,
            organization_id: r.organization_id,
            day: r.day,
            kind: r.kind,
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
#[schema(example = json!({"day": "2021-06-12", "kind": "working_day", "name": "Làm bù cho ngày nghỉ 14/6/2021"}))]
pub struct CreateHoliday {
    pub day: NaiveDate,
    /// `day_off` (default): not worked, on top of the national days off; `working_day`:
    /// worked although a Saturday, a Sunday or a national day off (only on those).
    pub kind: Option<DayKind>,
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

/// List the organisation's own days off and working days.
///
/// Only its own entries; the national calendar and the result of both are at
/// `GET /api/v1/calendar`.
#[utoipa::path(
    tag = "feedback",
    params(PageParams, HolidayFilter),
    responses((status = 200, description = "A page of holidays.", body = Page<Holiday>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("")]
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

/// Add a day off or a working day of the organisation's own.
///
/// Deadlines of records received from now on count it. A `working_day` is only for a
/// day that would otherwise not be worked (a Saturday, Sunday or national day off).
#[utoipa::path(
    tag = "feedback",
    params(crate::http::idempotency::IdempotencyKeyHeader),
    request_body = CreateHoliday,
    responses(
        (status = 201, description = "Added.", body = Holiday, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The day is already a holiday (`holiday_taken`), or the idempotency key is in use.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A working day on a day that is worked anyway (`working_day_not_needed`), the named organisation does not exist, or the idempotency key was used for another request.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("", wrap = "actix_web::middleware::from_fn(crate::http::idempotency::middleware)")]
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
        checks::organization(conn, org)?;
        let kind = body.kind.unwrap_or(DayKind::DayOff);
        if kind == DayKind::WorkingDay && !is_weekend(body.day) && !store::national_day_off(conn, body.day)? {
            return Err(ApiError::unprocessable("working_day_not_needed").arg("day", body.day.to_string()));
        }
        Ok(holiday_fns::insert(conn, Uuid::now_v7(), org, (body.day, kind), body.name.trim(), by)?)
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
#[delete("/{date}")]
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

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CalendarParams {
    /// First day (default: 1 January of this year in Vietnam).
    pub from: Option<NaiveDate>,
    /// Last day (default: 31 December of `from`'s year); at most 366 days after `from`.
    pub to: Option<NaiveDate>,
    /// System administrator only: that organisation's.
    pub organization_id: Option<Uuid>,
}

/// A day that differs from the Monday–Friday week, as the organisation counts it.
#[derive(Serialize, ToSchema)]
pub struct CalendarDay {
    pub day: NaiveDate,
    /// `day_off` or `working_day`.
    pub kind: DayKind,
    #[schema(example = "Tết Nguyên đán (mùng 1)")]
    pub name: String,
    /// `national` or `organization` (the organisation's entry wins on the same day).
    pub source: DaySource,
    /// National days: `announced` (by the decision cited) or `computed` (from the law and
    /// the lunar calendar, before a decision was published); `null` for the organisation's.
    #[schema(example = "announced")]
    pub basis: Option<String>,
    /// National days: the law and decision it comes from.
    #[schema(example = "BLLĐ 2019 Điều 112; Thông báo 4875/TB-LĐTBXH (Bộ LĐTBXH, 12/2020)")]
    pub citation: Option<String>,
    /// Whether it is worked, all entries taken together.
    pub working: bool,
}

/// The working calendar between two days.
#[derive(Serialize, ToSchema)]
pub struct Calendar {
    pub organization_id: Uuid,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The working days in `[from, to]`.
    pub working_days: i64,
    /// Each day that differs from the Monday–Friday week (national and the
    /// organisation's; both when both have the day), by day.
    pub items: Vec<CalendarDay>,
    /// Always `null`: the range is at most a year, in one answer.
    pub next_cursor: Option<String>,
}

/// The organisation's working calendar: national days and its own.
///
/// What deadlines in working days are counted on: Monday to Friday, less the national
/// days off (Labour Code 2019 art. 112: Tết Dương lịch, five days of Tết by the lunar
/// calendar, Hùng Kings' day, 30/4, 1/5, 2/9 and the day beside it, days in lieu and
/// bridge days as decided each year; and 24/11), plus the Saturdays worked in exchange,
/// with the organisation's own entries on top. Years 2021–2030; the sources are in
/// docs/calendar.md.
#[utoipa::path(
    tag = "feedback",
    params(CalendarParams),
    responses((status = 200, description = "The calendar.", body = Calendar))
)]
#[get("")]
pub async fn get_calendar(
    auth: AuthUser,
    query: ApiQuery<CalendarParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackRead)?;
    let params = query.0;
    let org = principal.acting_org(params.organization_id)?;
    let from = params.from.unwrap_or_else(|| {
        use chrono::Datelike;
        NaiveDate::from_ymd_opt(state.clock.today().year(), 1, 1).expect("1 January")
    });
    let to = match params.to {
        Some(to) => to,
        None => {
            use chrono::Datelike;
            NaiveDate::from_ymd_opt(from.year(), 12, 31).expect("31 December")
        }
    };
    if to < from || (to - from).num_days() > 366 {
        return Err(ApiError::rules(vec![
            crate::error::FieldError::new("to", "invalid_value")
                .reason("on or after from, at most 366 days later", "phải từ ngày from trở đi, không quá 366 ngày"),
        ]));
    }
    let (national, own) = db::run(&state.pool, move |conn| {
        checks::organization(conn, org)?;
        Ok(store::calendar_between(conn, org, (from, to))?)
    })
    .await?;
    let calendar = WorkingCalendar::new(national.iter().map(|n| (n.day, n.kind)), own.iter().map(|h| (h.day, h.kind)));
    let mut items: Vec<CalendarDay> = national
        .into_iter()
        .map(|n| CalendarDay {
            working: calendar.is_working(n.day),
            day: n.day,
            kind: n.kind,
            name: n.name,
            source: DaySource::National,
            basis: Some(n.basis),
            citation: Some(n.source),
        })
        .chain(own.into_iter().map(|h| CalendarDay {
            working: calendar.is_working(h.day),
            day: h.day,
            kind: h.kind,
            name: h.name,
            source: DaySource::Organization,
            basis: None,
            citation: None,
        }))
        .collect();
    items.sort_by_key(|d| (d.day, d.source));
    let working_days = from.iter_days().take_while(|d| *d <= to).filter(|d| calendar.is_working(*d)).count();
    Ok(HttpResponse::Ok().json(Calendar {
        organization_id: org,
        from,
        to,
        working_days: working_days as i64,
        items,
        next_cursor: None,
    }))
}
