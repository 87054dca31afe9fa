//! Reports: a plan's progress over a period (items, departments, indicators,
//! activities per month, feedback), and feedback statistics alone. Built from the
//! aggregates in `db::reports`; rendered as JSON, CSV (`tables`) or XLSX (`xlsx`).
pub mod docx;
pub mod publications;
pub mod rollup;
pub mod tables;
pub mod triage;
pub mod xlsx;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub use crate::domain::reports::{GroupBy, ReportPeriod};
use crate::{
    db::{
        assignments::AssignmentRow,
        plan_items::{self, PlanItemRow},
        plans::PlanRow,
        reports::{self as sql, FeedbackFigures, Names, Scope},
    },
    domain::{
        activities::reach_percent,
        assignments::{AssignmentRole, AssignmentStatus, DutyState, duty_state, is_overdue},
        plans::{Channel, Comparator, ItemKind, MeasurementSource, PlanStatus, TargetStatus, Unit, target_status},
        time::local_date,
    },
    error::ApiError,
};

/// How many reporting duties of the period stand where (see `DutyState`).
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, Default, PartialEq, Eq)]
pub struct DutyCounts {
    /// Submitted by the due date.
    pub on_time: i64,
    pub late: i64,
    pub missing: i64,
    /// The period has ended, the due date not yet.
    pub due: i64,
    /// The period has not ended.
    pub upcoming: i64,
}

impl DutyCounts {
    fn add_all(&mut self, other: &DutyCounts) {
        self.on_time += other.on_time;
        self.late += other.late;
        self.missing += other.missing;
        self.due += other.due;
        self.upcoming += other.upcoming;
    }

    pub(crate) fn add(&mut self, state: DutyState) {
        match state {
            DutyState::Submitted => self.on_time += 1,
            DutyState::Late => self.late += 1,
            DutyState::Missing => self.missing += 1,
            DutyState::Due => self.due += 1,
            DutyState::Upcoming => self.upcoming += 1,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct PlanHeader {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub code: String,
    pub year: i32,
    pub title: String,
    pub status: PlanStatus,
}

/// A department's assignment on an item, with its reporting in the period.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct ItemAssignment {
    pub assignment_id: Uuid,
    pub department_id: Uuid,
    pub department_code: String,
    pub role: AssignmentRole,
    pub status: AssignmentStatus,
    pub due_on: Option<NaiveDate>,
    /// Past its due date (as of the report) and neither done nor cancelled.
    pub overdue: bool,
    /// Its reporting duties whose period ends within the report's period.
    pub reports: DutyCounts,
}

/// A plan item (or, with no `item_id`, the plan as a whole) in the period.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct ItemLine {
    /// `null` for assignments on the whole plan.
    pub item_id: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    /// 0 for a top-level item.
    pub depth: i32,
    pub reference: String,
    pub kind: Option<ItemKind>,
    pub title: String,
    pub assignments: Vec<ItemAssignment>,
    /// Verified activities held in the period that serve this item.
    pub verified_activities: i64,
    /// Their evidence files.
    pub evidence_files: i64,
}

/// Assignments of a department by status.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, Default)]
pub struct StatusCounts {
    pub assigned: i64,
    pub in_progress: i64,
    pub done: i64,
    pub cancelled: i64,
    /// Of those, past their due date and not done.
    pub overdue: i64,
}

/// A department's part in the plan over the period.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct DepartmentLine {
    pub department_id: Uuid,
    pub code: String,
    pub name: String,
    pub assignments: StatusCounts,
    /// Verified activities held in the period, by channel (every channel listed).
    pub activities_by_channel: BTreeMap<String, i64>,
    pub verified_activities: i64,
    pub evidence_files: i64,
    pub reports: DutyCounts,
}

/// An indicator's target and its latest value in the period.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct IndicatorLine {
    pub indicator_id: Uuid,
    pub code: String,
    pub name: String,
    pub unit: Unit,
    pub comparator: Comparator,
    pub target_value: Option<f64>,
    pub baseline: Option<f64>,
    /// The latest measurement dated in the period.
    pub value: Option<f64>,
    pub measured_on: Option<NaiveDate>,
    /// Where the value came from: `entered` (with its citation) or `computed`.
    pub source: Option<MeasurementSource>,
    pub citation: Option<String>,
    pub link: Option<String>,
    pub status: TargetStatus,
}

/// Verified activities held in one month.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct MonthLine {
    /// `2021-04`.
    pub month: String,
    pub verified_activities: i64,
    pub evidence_files: i64,
}

/// Feedback figures of a set of records.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, Default, PartialEq)]
pub struct FeedbackStats {
    /// Received in the period.
    pub received: i64,
    /// Of those, answered (at any time up to the report).
    pub answered: i64,
    /// Answered on or before their deadline.
    pub answered_on_time: i64,
    /// Still open (received, accepted, in progress) with the deadline passed.
    pub overdue: i64,
    pub rejected: i64,
    pub forwarded: i64,
    /// Whose deadline was extended (gia hạn) at least once.
    #[serde(default)]
    pub extended: i64,
    /// Escalated by the deadline scan: their deadline passed unanswered.
    #[serde(default)]
    pub escalated: i64,
    /// Reopened by their senders after the answer.
    #[serde(default)]
    pub reopened: i64,
    /// Answered on or before the deadline they had before any extension.
    #[serde(default)]
    pub answered_within_original_deadline: i64,
    /// Answered after that, but within the extended deadline.
    #[serde(default)]
    pub answered_within_extension: i64,
    /// Working days from receipt to answer (weekends and holidays skipped).
    pub median_working_days: Option<f64>,
    pub p90_working_days: Option<f64>,
    /// Answers rated by their senders.
    pub rated: i64,
    pub satisfied: i64,
    pub neutral: i64,
    pub dissatisfied: i64,
    /// `satisfied / rated` in percent; `null` with nothing rated.
    pub satisfaction_rate: Option<f64>,
    /// Merged into another record about the same matter.
    #[serde(default)]
    pub merged: i64,
    /// The distinct matters received: records less those merged into another.
    #[serde(default)]
    pub matters: i64,
}

impl From<&FeedbackFigures> for FeedbackStats {
    fn from(f: &FeedbackFigures) -> Self {
        Self {
            received: f.received,
            answered: f.answered,
            answered_on_time: f.answered_on_time,
            overdue: f.overdue,
            rejected: f.rejected,
            forwarded: f.forwarded,
            merged: f.merged,
            matters: f.received - f.merged,
            extended: f.extended,
            escalated: f.escalated,
            reopened: f.reopened,
            answered_within_original_deadline: f.answered_within_original_deadline,
            answered_within_extension: f.answered_within_extension,
            median_working_days: f.median_working_days,
            p90_working_days: f.p90_working_days,
            rated: f.rated,
            satisfied: f.satisfied,
            neutral: f.neutral,
            dissatisfied: f.dissatisfied,
            satisfaction_rate: (f.rated > 0).then(|| reach_percent(f.satisfied, f.rated)),
        }
    }
}

/// The figures of one group: a channel, category, department or month.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct FeedbackGroup {
    /// The channel code, category or department id, or `YYYY-MM`; `null`: none given.
    pub key: Option<String>,
    /// The category's or department's code.
    pub code: Option<String>,
    /// The category's or department's name.
    pub name: Option<String>,
    #[serde(flatten)]
    pub stats: FeedbackStats,
}

/// The feedback part of a plan's report: the organisation's records received in the period.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct FeedbackSection {
    pub total: FeedbackStats,
    pub by_channel: Vec<FeedbackGroup>,
    pub by_category: Vec<FeedbackGroup>,
    pub by_department: Vec<FeedbackGroup>,
}

/// Budget figures in whole đồng, as of the end of the report's period.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, Default, PartialEq, Eq)]
pub struct BudgetFigures {
    /// The estimate (dự toán).
    pub estimate: i64,
    /// Allocations dated up to the end of the period.
    pub allocated: i64,
    /// Spending dated up to the end of the period.
    pub spent: i64,
    /// Settled amounts of lines settled by the end of the period.
    pub settled: i64,
    /// `allocated - spent`.
    pub remaining: i64,
    /// `spent - estimate`: negative under the estimate.
    pub variance: i64,
}

impl BudgetFigures {
    fn new(estimate: i64, allocated: i64, spent: i64, settled: i64) -> Self {
        Self {
            estimate,
            allocated,
            spent,
            settled,
            remaining: allocated - spent,
            variance: crate::domain::budget::variance(estimate, spent),
        }
    }

    fn add(&mut self, other: &BudgetFigures) {
        *self = Self::new(
            self.estimate + other.estimate,
            self.allocated + other.allocated,
            self.spent + other.spent,
            self.settled + other.settled,
        );
    }
}

/// A budget line in the report.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct BudgetLineFigures {
    pub line_id: Uuid,
    pub code: String,
    pub title: String,
    pub department_id: Option<Uuid>,
    pub department_code: Option<String>,
    pub plan_item_id: Option<Uuid>,
    pub settled_on: Option<NaiveDate>,
    #[serde(flatten)]
    pub figures: BudgetFigures,
}

/// A department's budget (`null`: lines with none).
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct BudgetDepartment {
    pub department_id: Option<Uuid>,
    pub code: Option<String>,
    pub name: Option<String>,
    #[serde(flatten)]
    pub figures: BudgetFigures,
}

/// Allocations and spending dated in one quarter.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq, Eq)]
pub struct BudgetQuarter {
    /// `2021-Q2`.
    pub quarter: String,
    pub allocated: i64,
    pub spent: i64,
}

/// The plan's budget (plan III.5) as of the end of the period.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, Default, PartialEq)]
pub struct BudgetSection {
    pub total: BudgetFigures,
    /// By code.
    pub lines: Vec<BudgetLineFigures>,
    /// By department code, lines without a department last.
    pub by_department: Vec<BudgetDepartment>,
    /// Every quarter of the plan's year up to the period's end.
    pub by_quarter: Vec<BudgetQuarter>,
}

/// A plan's report over a period.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct PlanReport {
    pub plan: PlanHeader,
    pub period: ReportPeriod,
    /// The day states (overdue, due, missing) are reckoned on, in Vietnam.
    pub as_of: NaiveDate,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub generated_at: DateTime<Utc>,
    /// Set when the report covers one department only (for a department member).
    pub department_id: Option<Uuid>,
    /// The plan's items in tree order; first the plan as a whole if it has assignments.
    pub items: Vec<ItemLine>,
    pub departments: Vec<DepartmentLine>,
    pub indicators: Vec<IndicatorLine>,
    pub activities_by_month: Vec<MonthLine>,
    pub feedback: FeedbackSection,
    /// Documents to post on the website issued in the period (plan II.3.c): on time,
    /// late, unposted (empty in snapshots made before it was reported).
    #[serde(default)]
    pub publications: publications::PublicationSection,
    /// The plan's budget as of the period's end (empty in snapshots made before it was
    /// reported).
    #[serde(default)]
    pub budget: BudgetSection,
}

/// Feedback statistics of an organisation over a period.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct FeedbackReport {
    pub organization_id: Uuid,
    pub period: ReportPeriod,
    pub as_of: NaiveDate,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub generated_at: DateTime<Utc>,
    pub department_id: Option<Uuid>,
    pub group_by: GroupBy,
    pub total: FeedbackStats,
    pub groups: Vec<FeedbackGroup>,
}

/// When and for whom a report is made.
#[derive(Clone, Copy, Debug)]
pub struct Context {
    pub today: NaiveDate,
    pub now: DateTime<Utc>,
    pub report_due_days: i64,
    /// Only this department's section (a department member).
    pub department: Option<Uuid>,
}

/// The figures of `dimension` as groups, with codes and names of ids.
fn groups(figures: &[FeedbackFigures], dimension: &str, names: Option<&Names>) -> Vec<FeedbackGroup> {
    figures
        .iter()
        .filter(|f| f.dimension == dimension)
        .map(|f| {
            let named =
                names.and_then(|n| f.key.as_deref().and_then(|k| k.parse::<Uuid>().ok()).and_then(|id| n.get(&id)));
            FeedbackGroup {
                key: f.key.clone(),
                code: named.map(|(code, _)| code.clone()),
                name: named.map(|(_, name)| name.clone()),
                stats: FeedbackStats::from(f),
            }
        })
        .collect()
}

fn total(figures: &[FeedbackFigures]) -> FeedbackStats {
    figures.iter().find(|f| f.dimension == "total").map(FeedbackStats::from).unwrap_or_default()
}

/// Feedback statistics of `org` over `period`.
pub fn feedback_report(
    conn: &mut PgConnection,
    org: Uuid,
    period: ReportPeriod,
    group_by: GroupBy,
    ctx: Context,
) -> Result<FeedbackReport, ApiError> {
    let counting = crate::db::organizations::period_counting(conn, org)?;
    let period = period.counted(counting);
    let figures =
        sql::feedback_figures(conn, org, period.instants(), counting, ctx.department, ctx.today, &[group_by])?;
    let names = match group_by {
        GroupBy::Category => Some(sql::category_names(conn, org)?),
        GroupBy::Department => Some(sql::department_names(conn, org)?),
        GroupBy::Channel | GroupBy::Month => None,
    };
    Ok(FeedbackReport {
        organization_id: org,
        as_of: ctx.today,
        generated_at: ctx.now,
        department_id: ctx.department,
        group_by,
        total: total(&figures),
        groups: groups(&figures, group_by.dimension(), names.as_ref()),
        period,
    })
}

/// Items in tree order (siblings by position), with their depth.
pub(crate) fn tree_order(items: Vec<PlanItemRow>) -> Vec<(PlanItemRow, i32)> {
    let mut children: HashMap<Option<Uuid>, Vec<PlanItemRow>> = HashMap::new();
    for item in items {
        children.entry(item.parent_id).or_default().push(item);
    }
    for list in children.values_mut() {
        list.sort_by_key(|i| (i.position, i.id));
    }
    let mut out = Vec::new();
    let mut stack: Vec<(PlanItemRow, i32)> =
        children.remove(&None).unwrap_or_default().into_iter().rev().map(|i| (i, 0)).collect();
    while let Some((item, depth)) = stack.pop() {
        if let Some(kids) = children.remove(&Some(item.id)) {
            stack.extend(kids.into_iter().rev().map(|k| (k, depth + 1)));
        }
        out.push((item, depth));
    }
    out
}

/// The line of department `id`, made empty on first use; lines sort by code.
fn department_line<'a>(
    lines: &'a mut BTreeMap<(String, Uuid), DepartmentLine>,
    names: &Names,
    id: Uuid,
) -> &'a mut DepartmentLine {
    let (code, name) = names.get(&id).cloned().unwrap_or_default();
    lines.entry((code.clone(), id)).or_insert_with(|| DepartmentLine {
        department_id: id,
        code,
        name,
        assignments: StatusCounts::default(),
        activities_by_channel: Channel::ALL.iter().map(|c| (c.as_str().to_owned(), 0)).collect(),
        verified_activities: 0,
        evidence_files: 0,
        reports: DutyCounts::default(),
    })
}

/// A plan's report over `period`.
pub fn plan_report(
    conn: &mut PgConnection,
    plan: PlanRow,
    period: ReportPeriod,
    ctx: Context,
) -> Result<PlanReport, ApiError> {
    let org = plan.organization_id;
    let counting = crate::db::organizations::period_counting(conn, org)?;
    let period = period.counted(counting);
    let scope = Scope {
        plan: plan.id,
        from: period.instants().0,
        to: period.instants().1,
        department: ctx.department,
        counting,
    };
    let names = sql::department_names(conn, org)?;

    // Assignments (a plan has tens, not millions) and the first submission of each
    // period's report, aggregated in SQL; duty states follow from the reporting cycle.
    let all: Vec<AssignmentRow> = sql::assignments_of_plan(conn, plan.id, ctx.department)?;
    let ids: Vec<Uuid> = all.iter().map(|a| a.id).collect();
    let firsts: HashMap<(Uuid, String), NaiveDate> = sql::first_submissions(conn, &ids)?
        .into_iter()
        .map(|f| ((f.assignment_id, f.period), local_date(f.submitted_at)))
        .collect();
    let duty_counts = |a: &AssignmentRow| {
        let mut counts = DutyCounts::default();
        for p in a.duty_periods(&plan, ctx.report_due_days, counting) {
            if p.ends_on >= period.from && p.ends_on <= period.to {
                counts.add(duty_state(ctx.today, &p, firsts.get(&(a.id, p.code.clone())).copied()));
            }
        }
        counts
    };
    let lines: Vec<(Option<Uuid>, ItemAssignment)> = all
        .iter()
        .map(|a| {
            (
                a.plan_item_id,
                ItemAssignment {
                    assignment_id: a.id,
                    department_id: a.department_id,
                    department_code: names.get(&a.department_id).map(|(c, _)| c.clone()).unwrap_or_default(),
                    role: a.role,
                    status: a.status,
                    due_on: a.due_on,
                    overdue: is_overdue(a.due_on, a.status, ctx.today),
                    reports: duty_counts(a),
                },
            )
        })
        .collect();

    // Items.
    let by_item: HashMap<Uuid, (i64, i64)> = sql::activities_by_item(conn, scope)?
        .into_iter()
        .filter_map(|c| Some((c.key?.parse().ok()?, (c.activities, c.evidence_files))))
        .collect();
    let of_item = |item: Option<Uuid>| -> Vec<ItemAssignment> {
        lines.iter().filter(|(i, _)| *i == item).map(|(_, a)| a.clone()).collect()
    };
    let mut items = Vec::new();
    let whole = of_item(None);
    if !whole.is_empty() {
        items.push(ItemLine {
            item_id: None,
            parent_id: None,
            depth: 0,
            reference: String::new(),
            kind: None,
            title: plan.title.clone(),
            assignments: whole,
            verified_activities: 0,
            evidence_files: 0,
        });
    }
    for (item, depth) in tree_order(plan_items::all_of_plan(conn, plan.id)?) {
        let assignments = of_item(Some(item.id));
        let (activities, evidence) = by_item.get(&item.id).copied().unwrap_or_default();
        if ctx.department.is_some() && assignments.is_empty() && activities == 0 {
            continue;
        }
        items.push(ItemLine {
            item_id: Some(item.id),
            parent_id: item.parent_id,
            depth,
            reference: item.reference,
            kind: Some(item.kind),
            title: item.title,
            assignments,
            verified_activities: activities,
            evidence_files: evidence,
        });
    }

    // Departments: those with assignments or activities.
    let by_department = sql::activities_by_department(conn, scope)?;
    let mut departments: BTreeMap<(String, Uuid), DepartmentLine> = BTreeMap::new();
    for (_, a) in &lines {
        let line = department_line(&mut departments, &names, a.department_id);
        match a.status {
            AssignmentStatus::Assigned => line.assignments.assigned += 1,
            AssignmentStatus::InProgress => line.assignments.in_progress += 1,
            AssignmentStatus::Done => line.assignments.done += 1,
            AssignmentStatus::Cancelled => line.assignments.cancelled += 1,
        }
        line.assignments.overdue += i64::from(a.overdue);
        line.reports.add_all(&a.reports);
    }
    for c in by_department {
        let Some(id) = c.key.as_deref().and_then(|k| k.parse::<Uuid>().ok()) else { continue };
        let line = department_line(&mut departments, &names, id);
        if let Some(channel) = c.channel {
            *line.activities_by_channel.entry(channel).or_default() += c.activities;
        }
        line.verified_activities += c.activities;
        line.evidence_files += c.evidence_files;
    }

    // Indicators.
    let values: HashMap<Uuid, sql::IndicatorValue> = sql::indicator_values(conn, &[plan.id], period.from, period.to)?
        .into_iter()
        .map(|v| (v.indicator_id, v))
        .collect();
    let rows = sql::indicators_of_plans(conn, &[plan.id])?;
    let indicators = rows
        .into_iter()
        .map(|i| {
            let v = values.get(&i.id);
            let value = v.and_then(|v| v.value);
            let reference = i.baseline.or(v.and_then(|v| v.first_value));
            IndicatorLine {
                indicator_id: i.id,
                status: target_status(i.comparator, i.unit, i.target_value, reference, value),
                code: i.code,
                name: i.name,
                unit: i.unit,
                comparator: i.comparator,
                target_value: i.target_value,
                baseline: i.baseline,
                value,
                measured_on: v.and_then(|v| v.measured_on),
                source: v.and_then(|v| v.source.as_deref()).and_then(MeasurementSource::parse),
                citation: v.and_then(|v| v.citation.clone()),
                link: v.and_then(|v| v.link.clone()),
            }
        })
        .collect();

    let activities_by_month = sql::activities_by_month(conn, scope)?
        .into_iter()
        .map(|c| MonthLine {
            month: c.key.unwrap_or_default(),
            verified_activities: c.activities,
            evidence_files: c.evidence_files,
        })
        .collect();

    let figures = sql::feedback_figures(
        conn,
        org,
        period.instants(),
        counting,
        ctx.department,
        ctx.today,
        &[GroupBy::Channel, GroupBy::Category, GroupBy::Department],
    )?;
    let categories = sql::category_names(conn, org)?;
    let feedback = FeedbackSection {
        total: total(&figures),
        by_channel: groups(&figures, "channel", None),
        by_category: groups(&figures, "category", Some(&categories)),
        by_department: groups(&figures, "department", Some(&names)),
    };

    let publications = publications::section(conn, org, (period.from, period.to), ctx.today)?;
    let budget = budget_section(conn, &plan, period.to, ctx.department, &names)?;

    Ok(PlanReport {
        plan: PlanHeader {
            id: plan.id,
            organization_id: org,
            code: plan.code.clone(),
            year: plan.year,
            title: plan.title.clone(),
            status: plan.status,
        },
        as_of: ctx.today,
        generated_at: ctx.now,
        department_id: ctx.department,
        items,
        departments: departments.into_values().collect(),
        indicators,
        activities_by_month,
        feedback,
        publications,
        budget,
        period,
    })
}

/// The plan's budget as of `to`: each line's estimate, what was allocated and spent up
/// to `to`, and its settlement if settled by then; per department and per quarter.
fn budget_section(
    conn: &mut PgConnection,
    plan: &PlanRow,
    to: NaiveDate,
    department: Option<Uuid>,
    names: &Names,
) -> Result<BudgetSection, ApiError> {
    use crate::{
        db::budget::{allocations, lines, spendings},
        domain::budget::quarter_of,
    };
    let all = lines::of_plan(conn, plan.id)?;
    // Every live line: a budget is often entered after the fact, so a line counts in
    // any period; its entries count by their own dates.
    let lines: Vec<_> = all.into_iter().filter(|l| department.is_none() || l.department_id == department).collect();
    let mut allocated: HashMap<Uuid, i64> = HashMap::new();
    let mut spent: HashMap<Uuid, i64> = HashMap::new();
    let mut quarters: BTreeMap<String, BudgetQuarter> = BTreeMap::new();
    let quarter = |quarters: &mut BTreeMap<String, BudgetQuarter>, name: String| {
        quarters.entry(name.clone()).or_insert(BudgetQuarter { quarter: name, allocated: 0, spent: 0 }).clone()
    };
    for q in 1..=4 {
        let first = NaiveDate::from_ymd_opt(plan.year, (q - 1) * 3 + 1, 1).expect("a quarter's first day");
        if first <= to {
            quarter(&mut quarters, quarter_of(first));
        }
    }
    let wanted: std::collections::HashSet<Uuid> = lines.iter().map(|l| l.id).collect();
    for (line, day, amount) in allocations::of_plan(conn, plan.id, to)? {
        if wanted.contains(&line) {
            *allocated.entry(line).or_default() += amount;
            quarter(&mut quarters, quarter_of(day));
            quarters.get_mut(&quarter_of(day)).expect("made above").allocated += amount;
        }
    }
    for (line, day, amount) in spendings::of_plan(conn, plan.id, to)? {
        if wanted.contains(&line) {
            *spent.entry(line).or_default() += amount;
            quarter(&mut quarters, quarter_of(day));
            quarters.get_mut(&quarter_of(day)).expect("made above").spent += amount;
        }
    }
    let mut out = BudgetSection::default();
    let mut departments: BTreeMap<(bool, String, Option<Uuid>), BudgetDepartment> = BTreeMap::new();
    for line in lines {
        let settled = match (line.settled_on, line.settled_amount) {
            (Some(on), Some(amount)) if on <= to => amount,
            _ => 0,
        };
        let figures = BudgetFigures::new(
            line.estimate,
            allocated.get(&line.id).copied().unwrap_or_default(),
            spent.get(&line.id).copied().unwrap_or_default(),
            settled,
        );
        let named = line.department_id.and_then(|d| names.get(&d)).cloned();
        out.total.add(&figures);
        departments
            .entry((line.department_id.is_none(), named.clone().map(|n| n.0).unwrap_or_default(), line.department_id))
            .or_insert_with(|| BudgetDepartment {
                department_id: line.department_id,
                code: named.clone().map(|n| n.0),
                name: named.clone().map(|n| n.1),
                figures: BudgetFigures::default(),
            })
            .figures
            .add(&figures);
        out.lines.push(BudgetLineFigures {
            line_id: line.id,
            code: line.code,
            title: line.title,
            department_id: line.department_id,
            department_code: named.map(|n| n.0),
            plan_item_id: line.plan_item_id,
            settled_on: line.settled_on.filter(|on| *on <= to),
            figures,
        });
    }
    out.by_department = departments.into_values().collect();
    out.by_quarter = quarters.into_values().collect();
    Ok(out)
}

/// A plan's report for a period that has ended, frozen: the JSON as kept, its SHA-256
/// and size, and the period as the organisation counts it.
pub struct Frozen {
    pub body: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub period: ReportPeriod,
    pub counting: crate::domain::assignments::PeriodCounting,
}

/// Freezes `plan`'s report for `period` (a 409 `period_not_closed` unless it has ended).
pub fn freeze(conn: &mut PgConnection, plan: PlanRow, period: ReportPeriod, ctx: Context) -> Result<Frozen, ApiError> {
    let counting = crate::db::organizations::period_counting(conn, plan.organization_id)?;
    let period = period.counted(counting);
    if !period.is_closed(ctx.today) {
        return Err(ApiError::conflict("period_not_closed").arg("to", period.to.to_string()));
    }
    sql::report_settings(conn)?;
    let report = plan_report(conn, plan, period.clone(), ctx)?;
    let body = serde_json::to_string(&report).map_err(ApiError::internal)?;
    Ok(Frozen {
        sha256: crate::domain::sha256_hex(body.as_bytes()),
        size_bytes: i64::try_from(body.len()).map_err(ApiError::internal)?,
        body,
        period,
        counting,
    })
}

/// The lines above every sheet of a workbook: the organisation, what the report is of,
/// its period and when it was made, in Vietnam time.
pub fn title_block(
    organization: &str,
    subject: &str,
    period: &ReportPeriod,
    generated_at: DateTime<Utc>,
) -> Vec<String> {
    let made = generated_at.with_timezone(&crate::domain::time::vietnam());
    vec![
        format!("Đơn vị: {organization}"),
        subject.to_owned(),
        format!("Kỳ báo cáo: {}", period.label_vi()),
        format!("Lập lúc: {} (giờ Việt Nam)", made.format("%H:%M ngày %d/%m/%Y")),
    ]
}
