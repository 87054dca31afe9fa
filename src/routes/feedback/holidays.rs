//! The organisation's holidays, which deadlines in working days skip.

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
        feedback::{HolidayRow, holiday_fns},
    },
    domain::validate,
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
        checks::organization(conn, org)?;
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
