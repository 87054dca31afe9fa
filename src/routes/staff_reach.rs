//! Staff reach: how many of the organisation's people a plan's verified staff
//! activities reached, and who not — what the `STAFF_INFORMED` indicator is computed from.
use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::{
    auth::{AuthUser, Permission},
    db::{self, activities as store, indicators, plans},
    domain::{activities::reach_percent, assignments::covered_span, plans::MeasurementSource},
    error::ApiError,
    http::query::ApiQuery,
    state::AppState,
};

/// The code of the indicator the service computes from verified staff activities.
pub const STAFF_INDICATOR: &str = "STAFF_INFORMED";

/// Records the plan's staff reach on `day` as a computed measurement of its
/// `STAFF_INFORMED` indicator, if the plan has one. The measurement falls in the plan's
/// period: verified after the period ended, it is the reach at its last day.
pub fn record_staff_reach(conn: &mut PgConnection, org: Uuid, plan: Uuid, day: NaiveDate) -> Result<(), ApiError> {
    let Some(indicator) = indicators::of_plan_by_code(conn, plan, STAFF_INDICATOR)? else { return Ok(()) };
    let of_plan = plans::find(conn, plan, Some(org))?;
    let (from, to) = covered_span((None, None), (of_plan.period_from, of_plan.period_to), of_plan.year);
    let day = day.clamp(from, to);
    let (staff, reached) = store::staff_reach(conn, org, plan, day)?;
    let count = staff.iter().filter(|p| reached.contains(&p.id)).count() as i64;
    let total = staff.len() as i64;
    indicators::insert_measurement(
        conn,
        &indicators::NewMeasurement {
            id: Uuid::now_v7(),
            indicator_id: indicator,
            organization_id: org,
            value: reach_percent(count, total),
            measured_on: day,
            period: Some(of_plan.year.to_string()),
            source: MeasurementSource::Computed,
            citation: Some(format!("{count}/{total} cán bộ đã dự ít nhất một hoạt động tuyên truyền đã xác minh")),
            link: None,
            note: None,
            created_by: None,
        },
    )?;
    Ok(())
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReachParams {
    /// The day to reckon on (Vietnam); default today.
    pub as_of: Option<NaiveDate>,
}

/// A person not reached yet.
#[derive(Serialize, ToSchema)]
pub struct Unreached {
    pub id: Uuid,
    pub username: String,
    pub full_name: String,
}

/// The people of one department not reached yet.
#[derive(Serialize, ToSchema)]
pub struct UnreachedDepartment {
    /// `null` for people in no department.
    pub department_id: Option<Uuid>,
    pub department_code: Option<String>,
    pub department_name: Option<String>,
    pub people: Vec<Unreached>,
}

/// How many of the organisation's staff the plan's verified activities reached.
#[derive(Serialize, ToSchema)]
pub struct StaffReach {
    pub plan_id: Uuid,
    pub as_of: NaiveDate,
    /// Active people of the organisation.
    pub total: i64,
    /// Of them, those who attended at least one verified activity of the plan for
    /// staff (`staff` or `all`) held on or before `as_of`.
    pub reached: i64,
    /// `reached / total`, in percent, two decimals.
    pub percent: f64,
    /// Who has not been reached yet, by department.
    pub not_reached: Vec<UnreachedDepartment>,
}

/// Staff reach of a plan: who its verified staff activities have reached, and who not.
///
/// This is what the plan's `STAFF_INFORMED` indicator is computed from.
#[utoipa::path(
    tag = "activities",
    params(("id" = Uuid, Path, description = "The plan."), ReachParams),
    responses((status = 200, description = "Reach as of the day.", body = StaffReach))
)]
#[get("/{id}/staff-reach")]
pub async fn get_staff_reach(
    auth: AuthUser,
    id: web::Path<Uuid>,
    query: ApiQuery<ReachParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ActivitiesRead)?;
    let (plan_id, org) = (id.into_inner(), principal.organization_id);
    let as_of = query.0.as_of.unwrap_or_else(|| state.clock.today());
    let (staff, reached) = db::run(&state.pool, move |conn| {
        let plan = plans::find(conn, plan_id, org)?;
        Ok(store::staff_reach(conn, plan.organization_id, plan_id, as_of)?)
    })
    .await?;
    let total = staff.len() as i64;
    let count = staff.iter().filter(|p| reached.contains(&p.id)).count() as i64;
    let mut groups: BTreeMap<(Option<String>, Option<Uuid>), UnreachedDepartment> = BTreeMap::new();
    for person in staff.into_iter().filter(|p| !reached.contains(&p.id)) {
        groups
            .entry((person.department_code.clone(), person.department_id))
            .or_insert_with(|| UnreachedDepartment {
                department_id: person.department_id,
                department_code: person.department_code.clone(),
                department_name: person.department_name.clone(),
                people: Vec::new(),
            })
            .people
            .push(Unreached { id: person.id, username: person.username, full_name: person.full_name });
    }
    Ok(HttpResponse::Ok().json(StaffReach {
        plan_id,
        as_of,
        total,
        reached: count,
        percent: reach_percent(count, total),
        not_reached: groups.into_values().collect(),
    }))
}
