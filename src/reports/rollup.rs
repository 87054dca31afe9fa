//! The roll-up of a parent plan (the province's) over the units below that implement
//! it: per parent item, who carries it and how far; per unit, reporting duties,
//! indicators beside the province's targets, feedback, a score and a rank; and the
//! units that have no plan implementing it yet. Figures only: no personal data.
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::PgConnection;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Context, DutyCounts, PlanHeader, ReportPeriod, tree_order};
use crate::{
    db::{
        plan_items,
        plans::PlanRow,
        reports as reports_sql,
        rollup::{self as sql, Unit},
    },
    domain::{
        activities::reach_percent,
        assignments::{PeriodCounting, duty_state},
        plans::{Comparator, TargetStatus, Unit as MeasureUnit, target_status},
        time::local_date,
    },
    error::ApiError,
};

/// A unit's item that carries out a parent item.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct Implementation {
    pub organization_id: Uuid,
    pub organization_code: String,
    pub plan_id: Uuid,
    pub item_id: Uuid,
    pub reference: String,
    pub title: String,
    /// Its live assignments (not cancelled), and how many of them are done or under way.
    pub assignments: i64,
    pub assignments_done: i64,
    pub assignments_in_progress: i64,
    /// Verified activities held in the period, and their evidence files.
    pub verified_activities: i64,
    pub evidence_files: i64,
    /// The last progress report on it: its period and when it was submitted.
    pub last_report_period: Option<String>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub last_report_at: Option<DateTime<Utc>>,
}

/// An item of the parent plan, with the units' items that carry it out.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct ParentItem {
    pub item_id: Uuid,
    pub reference: String,
    pub title: String,
    pub depth: i32,
    /// How many units carry it out.
    pub units: usize,
    pub implementations: Vec<Implementation>,
}

/// A unit's indicator beside the parent plan's target of the same code.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct UnitIndicator {
    pub code: String,
    pub name: String,
    pub unit: MeasureUnit,
    pub comparator: Comparator,
    pub target_value: Option<f64>,
    /// The parent plan's target for the indicator of the same code, if it has one.
    pub parent_target_value: Option<f64>,
    pub value: Option<f64>,
    pub measured_on: Option<NaiveDate>,
    pub status: TargetStatus,
}

/// A unit's feedback received in the period (counts only).
#[derive(Serialize, ToSchema, Clone, Debug, Default)]
pub struct UnitFeedback {
    pub received: i64,
    pub answered: i64,
    pub answered_on_time: i64,
    pub overdue: i64,
    pub rated: i64,
    pub satisfied: i64,
    /// `satisfied / rated`, percent.
    pub satisfaction_rate: Option<f64>,
}

/// A unit with its plan implementing the parent plan.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct UnitLine {
    pub organization_id: Uuid,
    pub code: String,
    pub name: String,
    pub plan: PlanHeader,
    /// The unit's reporting duties whose period ends in the roll-up's.
    pub reports: DutyCounts,
    pub indicators: Vec<UnitIndicator>,
    pub feedback: UnitFeedback,
    /// Percent of the period's closed reporting duties submitted on time.
    pub reports_on_time_rate: Option<f64>,
    /// Percent of its indicators meeting their targets.
    pub indicators_met_rate: Option<f64>,
    /// Percent of the period's feedback answered by its deadline.
    pub feedback_on_time_rate: Option<f64>,
    /// The mean of the three rates it has (0–100); `null` with none.
    pub score: Option<f64>,
    /// 1 for the highest score; `null` without a score.
    pub rank: Option<usize>,
}

/// A unit directly below that has no plan implementing the parent plan.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct MissingUnit {
    pub organization_id: Uuid,
    pub code: String,
    pub name: String,
}

#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct Rollup {
    pub plan: PlanHeader,
    pub period: ReportPeriod,
    pub as_of: NaiveDate,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub generated_at: DateTime<Utc>,
    /// The parent plan's items in tree order.
    pub items: Vec<ParentItem>,
    /// Ranked: highest score first, then by code.
    pub units: Vec<UnitLine>,
    pub missing: Vec<MissingUnit>,
}

fn header(p: &PlanRow) -> PlanHeader {
    PlanHeader {
        id: p.id,
        organization_id: p.organization_id,
        code: p.code.clone(),
        year: p.year,
        title: p.title.clone(),
        status: p.status,
    }
}

fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| reach_percent(part, whole))
}

/// The score: the mean of the rates a unit has, to one decimal.
pub fn score(rates: &[Option<f64>]) -> Option<f64> {
    let known: Vec<f64> = rates.iter().flatten().copied().collect();
    (!known.is_empty()).then(|| (known.iter().sum::<f64>() / known.len() as f64 * 10.0).round() / 10.0)
}

/// The roll-up of `plan` (of the caller's organisation) over `below`, the
/// organisations under it.
pub fn rollup(
    conn: &mut PgConnection,
    plan: PlanRow,
    below: &[Uuid],
    period: ReportPeriod,
    ctx: Context,
) -> Result<Rollup, ApiError> {
    let counting = crate::db::organizations::period_counting(conn, plan.organization_id)?;
    let period = period.counted(counting);
    let (from, to) = period.instants();
    let units: Vec<Unit> = sql::units(conn, plan.organization_id, plan.id, below)?;
    let (with_plan, missing): (Vec<Unit>, Vec<Unit>) = units.into_iter().partition(|u| u.plan_id.is_some());
    let plan_ids: Vec<Uuid> = with_plan.iter().filter_map(|u| u.plan_id).collect();
    let plans: HashMap<Uuid, PlanRow> = sql::plans(conn, &plan_ids)?.into_iter().map(|p| (p.id, p)).collect();
    let code_of: HashMap<Uuid, String> = with_plan.iter().map(|u| (u.organization_id, u.code.clone())).collect();

    // Per parent item.
    let mut by_parent: HashMap<Uuid, Vec<Implementation>> = HashMap::new();
    for i in sql::implementations(conn, &plan_ids, from, to)? {
        by_parent.entry(i.implements_item_id).or_default().push(Implementation {
            organization_code: code_of.get(&i.organization_id).cloned().unwrap_or_default(),
            organization_id: i.organization_id,
            plan_id: i.plan_id,
            item_id: i.item_id,
            reference: i.reference,
            title: i.title,
            assignments: i.assignments,
            assignments_done: i.assignments_done,
            assignments_in_progress: i.assignments_in_progress,
            verified_activities: i.verified_activities,
            evidence_files: i.evidence_files,
            last_report_period: i.last_report_period,
            last_report_at: i.last_report_at,
        });
    }
    let items = tree_order(plan_items::all_of_plan(conn, plan.id)?)
        .into_iter()
        .map(|(item, depth)| {
            let implementations = by_parent.remove(&item.id).unwrap_or_default();
            let mut orgs: Vec<Uuid> = implementations.iter().map(|i| i.organization_id).collect();
            orgs.sort();
            orgs.dedup();
            ParentItem {
                item_id: item.id,
                reference: item.reference,
                title: item.title,
                depth,
                units: orgs.len(),
                implementations,
            }
        })
        .collect();

    // Reporting duties, per unit: the first submission of each period's report.
    let assignments = sql::assignments(conn, &plan_ids)?;
    let ids: Vec<Uuid> = assignments.iter().map(|a| a.id).collect();
    let firsts: HashMap<(Uuid, String), NaiveDate> = reports_sql::first_submissions(conn, &ids)?
        .into_iter()
        .map(|f| ((f.assignment_id, f.period), local_date(f.submitted_at)))
        .collect();
    let mut duties: HashMap<Uuid, DutyCounts> = HashMap::new();
    let counting_of: HashMap<Uuid, PeriodCounting> = with_plan
        .iter()
        .filter_map(|u| Some((u.plan_id?, PeriodCounting::parse(&u.reporting_periods).unwrap_or(counting))))
        .collect();
    for a in &assignments {
        let Some(p) = plans.get(&a.plan_id) else { continue };
        let unit_counting = counting_of.get(&a.plan_id).copied().unwrap_or(counting);
        let counts = duties.entry(a.plan_id).or_default();
        for d in a.duty_periods(p, ctx.report_due_days, unit_counting) {
            if d.ends_on >= period.from && d.ends_on <= period.to {
                counts.add(duty_state(ctx.today, &d, firsts.get(&(a.id, d.code.clone())).copied()));
            }
        }
    }

    // Indicators beside the parent plan's targets: the plan report's queries, over
    // every unit's plan at once.
    let parent_targets: HashMap<String, Option<f64>> = reports_sql::indicators_of_plans(conn, &[plan.id])?
        .into_iter()
        .map(|i| (i.code.to_lowercase(), i.target_value))
        .collect();
    let values: HashMap<Uuid, reports_sql::IndicatorValue> =
        reports_sql::indicator_values(conn, &plan_ids, period.from, period.to)?
            .into_iter()
            .map(|v| (v.indicator_id, v))
            .collect();
    let mut indicators: HashMap<Uuid, Vec<UnitIndicator>> = HashMap::new();
    for i in reports_sql::indicators_of_plans(conn, &plan_ids)? {
        let v = values.get(&i.id);
        let value = v.and_then(|v| v.value);
        let reference = i.baseline.or(v.and_then(|v| v.first_value));
        indicators.entry(i.plan_id).or_default().push(UnitIndicator {
            status: target_status(i.comparator, i.unit, i.target_value, reference, value),
            parent_target_value: parent_targets.get(&i.code.to_lowercase()).copied().flatten(),
            code: i.code,
            name: i.name,
            unit: i.unit,
            comparator: i.comparator,
            target_value: i.target_value,
            value,
            measured_on: v.and_then(|v| v.measured_on),
        });
    }

    // Feedback, per unit organisation.
    let orgs: Vec<Uuid> = with_plan.iter().map(|u| u.organization_id).collect();
    let feedback: HashMap<Uuid, sql::UnitFeedback> = sql::feedback(conn, &orgs, period.from, period.to, ctx.today)?
        .into_iter()
        .map(|f| (f.organization_id, f))
        .collect();

    let mut lines: Vec<UnitLine> = with_plan
        .into_iter()
        .filter_map(|u| {
            let plan_id = u.plan_id?;
            let p = plans.get(&plan_id)?;
            let reports = duties.remove(&plan_id).unwrap_or_default();
            let indicators = indicators.remove(&plan_id).unwrap_or_default();
            let f = feedback.get(&u.organization_id).cloned().unwrap_or_default();
            let closed = reports.on_time + reports.late + reports.missing;
            let met = indicators.iter().filter(|i| i.status == TargetStatus::Met).count() as i64;
            let reports_on_time_rate = rate(reports.on_time, closed);
            let indicators_met_rate = rate(met, indicators.len() as i64);
            let feedback_on_time_rate = rate(f.answered_on_time, f.received);
            Some(UnitLine {
                organization_id: u.organization_id,
                code: u.code,
                name: u.name,
                plan: header(p),
                reports,
                indicators,
                feedback: UnitFeedback {
                    received: f.received,
                    answered: f.answered,
                    answered_on_time: f.answered_on_time,
                    overdue: f.overdue,
                    rated: f.rated,
                    satisfied: f.satisfied,
                    satisfaction_rate: rate(f.satisfied, f.rated),
                },
                score: score(&[reports_on_time_rate, indicators_met_rate, feedback_on_time_rate]),
                reports_on_time_rate,
                indicators_met_rate,
                feedback_on_time_rate,
                rank: None,
            })
        })
        .collect();
    lines.sort_by(|a, b| b.score.unwrap_or(-1.0).total_cmp(&a.score.unwrap_or(-1.0)).then_with(|| a.code.cmp(&b.code)));
    for (i, line) in lines.iter_mut().enumerate() {
        if line.score.is_some() {
            line.rank = Some(i + 1);
        }
    }
    Ok(Rollup {
        plan: header(&plan),
        period,
        as_of: ctx.today,
        generated_at: ctx.now,
        items,
        units: lines,
        missing: missing
            .into_iter()
            .map(|u| MissingUnit { organization_id: u.organization_id, code: u.code, name: u.name })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::score;

    #[test]
    fn the_score_is_the_mean_of_the_rates_a_unit_has() {
        assert_eq!(score(&[Some(100.0), Some(50.0), None]), Some(75.0));
        assert_eq!(score(&[Some(100.0), Some(50.0), Some(0.0)]), Some(50.0));
        assert_eq!(score(&[Some(66.666), None, None]), Some(66.7));
        assert_eq!(score(&[None, None, None]), None);
    }
}
