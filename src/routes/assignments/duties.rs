//! Reporting duties: the reports each assignment owes, period by period, and their state.
use std::collections::HashMap;

use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::{
    auth::{AuthUser, Permission},
    db::{
        self,
        assignments::{self as store, AssignmentRow, ReportRow},
        organizations, plans,
    },
    domain::{
        assignments::{DutyState, PeriodCounting, Reporting, duty_state},
        time::local_date,
    },
    error::ApiError,
    http::query::ApiQuery,
    state::AppState,
};

use super::progress_reports::ProgressReport;

/// One expected report of an assignment.
#[derive(Serialize, ToSchema)]
pub struct ReportingDuty {
    pub assignment_id: Uuid,
    pub department_id: Uuid,
    pub plan_item_id: Option<Uuid>,
    /// E.g. `2021-Q1`.
    pub period: String,
    /// The whole period, as the organisation counts it (`reporting_periods`)…
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// …and the part of it the duty covers (inside the plan and the assignment).
    pub covers_from: NaiveDate,
    pub covers_to: NaiveDate,
    /// Only part of the period is covered; the report is still due with the full
    /// period's.
    pub partial: bool,
    /// The cut-off (*chốt số liệu*): the report covers up to the end of the period.
    pub cutoff_on: NaiveDate,
    pub due_on: NaiveDate,
    /// `upcoming`, `due`, `submitted`, `late` or `missing`, on today's date in Vietnam.
    pub state: DutyState,
    /// The latest version of the report, if any.
    pub report: Option<ProgressReport>,
}

/// The reporting duties of one assignment.
#[derive(Serialize, ToSchema)]
pub struct Duties {
    pub assignment_id: Uuid,
    pub reporting: Reporting,
    /// How the periods are counted (the organisation's `reporting_periods`).
    pub reporting_periods: PeriodCounting,
    /// The duties, oldest first (all of them: an assignment has a few dozen at most).
    pub items: Vec<ReportingDuty>,
    /// Always `null`: every duty is in this answer.
    pub next_cursor: Option<String>,
}

/// Duties of `assignments`, with their reports (all versions, any order).
fn duties(
    assignments: &[AssignmentRow],
    plan: &plans::PlanRow,
    reports: Vec<ReportRow>,
    today: NaiveDate,
    due_days: i64,
    counting: PeriodCounting,
) -> Vec<ReportingDuty> {
    let mut by_period: HashMap<(Uuid, String), Vec<ReportRow>> = HashMap::new();
    for report in reports {
        by_period.entry((report.assignment_id, report.period.clone())).or_default().push(report);
    }
    let mut out = Vec::new();
    for assignment in assignments {
        for period in assignment.duty_periods(plan, due_days, counting) {
            let mut versions = by_period.remove(&(assignment.id, period.code.clone())).unwrap_or_default();
            versions.sort_by_key(|r| r.version_no);
            let first_submitted = versions.first().map(|r| local_date(r.submitted_at));
            let state = duty_state(today, &period, first_submitted);
            out.push(ReportingDuty {
                assignment_id: assignment.id,
                department_id: assignment.department_id,
                plan_item_id: assignment.plan_item_id,
                partial: period.partial(),
                period: period.code,
                starts_on: period.starts_on,
                ends_on: period.ends_on,
                covers_from: period.covers_from,
                covers_to: period.covers_to,
                cutoff_on: period.ends_on,
                due_on: period.due_on,
                state,
                report: versions.pop().map(ProgressReport::from),
            });
        }
    }
    out
}

/// An assignment's reporting duties.
///
/// From its reporting frequency, over its dates (by default the plan's period): each
/// period with its cut-off, due date (`CCHC_REPORT_DUE_DAYS` after the period ends),
/// state and latest report. A period the plan covers only in part — the 2021 plan
/// starts on 24 March, so its first quarter is 24–31 March — is a duty too, marked
/// `partial`, due with the full period.
#[utoipa::path(
    tag = "assignments",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The duties, oldest first.", body = Duties))
)]
#[get("/{id}/reports")]
pub async fn list_reporting_duties(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::AssignmentsRead)?;
    let (id, org) = (id.into_inner(), principal.organization_id);
    let (today, due_days) = (state.clock.today(), state.settings.report_due_days);
    let (assignment, list, counting) = db::run(&state.pool, move |conn| {
        let assignment = store::find(conn, id, org)?;
        let plan = plans::find(conn, assignment.plan_id, None)?;
        let counting = organizations::period_counting(conn, plan.organization_id)?;
        let reports = store::reports_of(conn, &[id])?;
        let list = duties(std::slice::from_ref(&assignment), &plan, reports, today, due_days, counting);
        Ok((assignment, list, counting))
    })
    .await?;
    Ok(HttpResponse::Ok().json(Duties {
        assignment_id: assignment.id,
        reporting: assignment.reporting,
        reporting_periods: counting,
        items: list,
        next_cursor: None,
    }))
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DutyFilter {
    pub state: Option<DutyState>,
    pub department_id: Option<Uuid>,
    /// E.g. `2021-Q2`.
    #[validate(custom(function = "crate::domain::validate::period"))]
    pub period: Option<String>,
}

/// The reporting duties of a whole plan.
#[derive(Serialize, ToSchema)]
pub struct PlanDuties {
    pub plan_id: Uuid,
    /// The day the states are reckoned on (Vietnam).
    pub as_of: NaiveDate,
    /// How the periods are counted (the organisation's `reporting_periods`).
    pub reporting_periods: PeriodCounting,
    /// By assignment, then period (all of them, filtered).
    pub items: Vec<ReportingDuty>,
    /// Always `null`: every duty is in this answer.
    pub next_cursor: Option<String>,
}

/// Every reporting duty of a plan: who has reported, who is late, who is missing.
///
/// All in one answer, by assignment then period; filter by `state` (e.g. `missing`),
/// department or period.
#[utoipa::path(
    tag = "assignments",
    params(("plan_id" = Uuid, Path), DutyFilter),
    responses((status = 200, description = "The plan's duties.", body = PlanDuties))
)]
#[get("/{plan_id}/reporting-duties")]
pub async fn list_plan_reporting_duties(
    auth: AuthUser,
    plan_id: web::Path<Uuid>,
    query: ApiQuery<DutyFilter>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::AssignmentsRead)?;
    let (plan_id, org) = (plan_id.into_inner(), principal.organization_id);
    let filter = query.0;
    let (today, due_days) = (state.clock.today(), state.settings.report_due_days);
    let period = filter.period.as_deref().and_then(crate::domain::plans::canonical_period);
    let (list, counting) = db::run(&state.pool, move |conn| {
        let plan = plans::find(conn, plan_id, org)?;
        let counting = organizations::period_counting(conn, plan.organization_id)?;
        let assignments = store::reporting_of_plan(conn, plan_id)?;
        let ids: Vec<Uuid> = assignments.iter().map(|a| a.id).collect();
        let reports = store::reports_of(conn, &ids)?;
        Ok((duties(&assignments, &plan, reports, today, due_days, counting), counting))
    })
    .await?;
    let items = list
        .into_iter()
        .filter(|d| filter.state.is_none_or(|s| s == d.state))
        .filter(|d| filter.department_id.is_none_or(|dept| dept == d.department_id))
        .filter(|d| period.as_deref().is_none_or(|p| p == d.period))
        .collect();
    Ok(HttpResponse::Ok().json(PlanDuties {
        plan_id,
        as_of: today,
        reporting_periods: counting,
        items,
        next_cursor: None,
    }))
}
