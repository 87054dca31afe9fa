use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::{
    db::page::PageRequest,
    db::schema::{assignments, plan_items, progress_reports},
    domain::assignments::{AssignmentRole, AssignmentStatus, Period, ReportStatus, Reporting, covered_span, periods},
    keyset, org_scoped_fns,
};

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = assignments)]
pub struct AssignmentRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub plan_id: Uuid,
    pub plan_item_id: Option<Uuid>,
    pub department_id: Uuid,
    pub role: AssignmentRole,
    pub duty: Option<String>,
    pub starts_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
    pub reporting: Reporting,
    pub status: AssignmentStatus,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Insertable, Clone)]
#[diesel(table_name = assignments)]
pub struct NewAssignment {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub plan_id: Uuid,
    pub plan_item_id: Option<Uuid>,
    pub department_id: Uuid,
    pub role: AssignmentRole,
    pub duty: Option<String>,
    pub starts_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
    pub reporting: Reporting,
    pub created_by: Option<Uuid>,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = assignments)]
pub struct AssignmentChanges {
    pub department_id: Option<Uuid>,
    pub role: Option<AssignmentRole>,
    pub duty: Option<Option<String>>,
    pub starts_on: Option<Option<NaiveDate>>,
    pub due_on: Option<Option<NaiveDate>>,
    pub reporting: Option<Reporting>,
    pub status: Option<AssignmentStatus>,
}

#[derive(Default, Clone)]
pub struct Filter {
    pub organization_id: Option<Uuid>,
    pub plan_id: Option<Uuid>,
    pub plan_item_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub role: Option<AssignmentRole>,
    pub status: Option<AssignmentStatus>,
    /// `(overdue?, today in Vietnam)`.
    pub overdue: Option<(bool, NaiveDate)>,
    pub due_before: Option<NaiveDate>,
    pub due_after: Option<NaiveDate>,
}

org_scoped_fns!(assignments, AssignmentRow, AssignmentChanges, "assignment");

const CLOSED: [AssignmentStatus; 2] = [AssignmentStatus::Done, AssignmentStatus::Cancelled];

pub fn list(conn: &mut PgConnection, filter: &Filter, page: &PageRequest) -> QueryResult<Vec<AssignmentRow>> {
    let mut q = assignments::table.into_boxed();
    if let Some(org) = filter.organization_id {
        q = q.filter(assignments::organization_id.eq(org));
    }
    if let Some(plan) = filter.plan_id {
        q = q.filter(assignments::plan_id.eq(plan));
    }
    if let Some(item) = filter.plan_item_id {
        q = q.filter(assignments::plan_item_id.eq(item));
    }
    if let Some(dept) = filter.department_id {
        q = q.filter(assignments::department_id.eq(dept));
    }
    if let Some(role) = filter.role {
        q = q.filter(assignments::role.eq(role));
    }
    if let Some(status) = filter.status {
        q = q.filter(assignments::status.eq(status));
    }
    match filter.overdue {
        Some((true, today)) => q = q.filter(assignments::due_on.lt(today)).filter(assignments::status.ne_all(CLOSED)),
        Some((false, today)) => {
            q = q.filter(
                assignments::due_on.is_null().or(assignments::due_on.ge(today)).or(assignments::status.eq_any(CLOSED)),
            )
        }
        None => {}
    }
    if let Some(before) = filter.due_before {
        q = q.filter(assignments::due_on.lt(before));
    }
    if let Some(after) = filter.due_after {
        q = q.filter(assignments::due_on.gt(after));
    }
    keyset!(q, assignments, page).select(AssignmentRow::as_select()).load(conn)
}

/// An assignment with its item's reference and title (none for a plan-wide one).
pub type WithItem = (AssignmentRow, Option<String>, Option<String>);

/// A department's live assignments by due date (undated last), with each item's
/// reference and title.
pub fn of_department(conn: &mut PgConnection, department: Uuid, filter: &Filter) -> QueryResult<Vec<WithItem>> {
    let mut q = assignments::table
        .left_join(plan_items::table)
        .filter(assignments::department_id.eq(department))
        .filter(assignments::deleted_at.is_null())
        .into_boxed();
    if let Some(status) = filter.status {
        q = q.filter(assignments::status.eq(status));
    }
    if let Some(plan) = filter.plan_id {
        q = q.filter(assignments::plan_id.eq(plan));
    }
    if let Some((true, today)) = filter.overdue {
        q = q.filter(assignments::due_on.lt(today)).filter(assignments::status.ne_all(CLOSED));
    }
    q.order((assignments::due_on.asc().nulls_last(), plan_items::reference.asc().nulls_first(), assignments::id.asc()))
        .select((AssignmentRow::as_select(), plan_items::reference.nullable(), plan_items::title.nullable()))
        .load(conn)
}

pub fn insert(conn: &mut PgConnection, new: &NewAssignment) -> QueryResult<AssignmentRow> {
    diesel::insert_into(assignments::table).values(new).returning(AssignmentRow::as_returning()).get_result(conn)
}

/// The plan's live assignments that report periodically.
pub fn reporting_of_plan(conn: &mut PgConnection, plan: Uuid) -> QueryResult<Vec<AssignmentRow>> {
    assignments::table
        .filter(assignments::plan_id.eq(plan))
        .filter(assignments::deleted_at.is_null())
        .filter(assignments::reporting.ne(Reporting::None))
        .filter(assignments::status.ne(AssignmentStatus::Cancelled))
        .order(assignments::id)
        .select(AssignmentRow::as_select())
        .load(conn)
}

/// The live assignments of a plan due by `by`, neither done nor cancelled.
pub fn open_with_due_date(conn: &mut PgConnection, plan: Uuid, by: NaiveDate) -> QueryResult<Vec<AssignmentRow>> {
    assignments::table
        .filter(assignments::plan_id.eq(plan))
        .filter(assignments::deleted_at.is_null())
        .filter(assignments::due_on.le(by))
        .filter(assignments::status.ne_all(CLOSED))
        .order(assignments::id)
        .select(AssignmentRow::as_select())
        .load(conn)
}

/// Whether live progress reports hang on the assignment.
pub fn has_reports(conn: &mut PgConnection, id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        progress_reports::table
            .filter(progress_reports::assignment_id.eq(id))
            .filter(progress_reports::deleted_at.is_null()),
    ))
    .get_result(conn)
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = progress_reports)]
pub struct ReportRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub assignment_id: Uuid,
    pub period: String,
    pub version_no: i32,
    pub summary: String,
    pub progress_percent: Option<i32>,
    pub activity_ids: Vec<Option<Uuid>>,
    pub status: ReportStatus,
    pub due_on: NaiveDate,
    pub late: bool,
    pub submitted_by: Option<Uuid>,
    pub submitted_at: DateTime<Utc>,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub review_note: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = progress_reports)]
pub struct NewReport {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub assignment_id: Uuid,
    pub period: String,
    pub version_no: i32,
    pub summary: String,
    pub progress_percent: Option<i32>,
    pub activity_ids: Vec<Option<Uuid>>,
    pub due_on: NaiveDate,
    pub late: bool,
    pub submitted_by: Option<Uuid>,
    pub submitted_at: DateTime<Utc>,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = progress_reports)]
pub struct ReportChanges {
    pub summary: Option<String>,
    pub progress_percent: Option<Option<i32>>,
    pub activity_ids: Option<Vec<Option<Uuid>>>,
    pub status: Option<ReportStatus>,
    pub submitted_by: Option<Option<Uuid>>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub reviewed_by: Option<Option<Uuid>>,
    pub reviewed_at: Option<Option<DateTime<Utc>>>,
    pub review_note: Option<Option<String>>,
}

/// Every version of every period's report of these assignments, oldest first.
pub fn reports_of(conn: &mut PgConnection, assignment_ids: &[Uuid]) -> QueryResult<Vec<ReportRow>> {
    progress_reports::table
        .filter(progress_reports::assignment_id.eq_any(assignment_ids))
        .filter(progress_reports::deleted_at.is_null())
        .order((progress_reports::assignment_id, progress_reports::period, progress_reports::version_no))
        .select(ReportRow::as_select())
        .load(conn)
}

/// The versions of one period's report, oldest first.
pub fn versions(conn: &mut PgConnection, assignment: Uuid, period: &str) -> QueryResult<Vec<ReportRow>> {
    progress_reports::table
        .filter(progress_reports::assignment_id.eq(assignment))
        .filter(progress_reports::period.eq(period))
        .filter(progress_reports::deleted_at.is_null())
        .order(progress_reports::version_no)
        .select(ReportRow::as_select())
        .load(conn)
}

/// The latest version, locked.
pub fn lock_latest(conn: &mut PgConnection, assignment: Uuid, period: &str) -> QueryResult<Option<ReportRow>> {
    progress_reports::table
        .filter(progress_reports::assignment_id.eq(assignment))
        .filter(progress_reports::period.eq(period))
        .filter(progress_reports::deleted_at.is_null())
        .order(progress_reports::version_no.desc())
        .select(ReportRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

pub fn insert_report(conn: &mut PgConnection, new: &NewReport) -> QueryResult<ReportRow> {
    diesel::insert_into(progress_reports::table).values(new).returning(ReportRow::as_returning()).get_result(conn)
}

pub fn update_report(conn: &mut PgConnection, id: Uuid, changes: &ReportChanges) -> QueryResult<ReportRow> {
    diesel::update(progress_reports::table.find(id))
        .set((
            changes,
            progress_reports::version.eq(progress_reports::version + 1),
            progress_reports::updated_at.eq(diesel::dsl::now),
        ))
        .returning(ReportRow::as_returning())
        .get_result(conn)
}

impl AssignmentRow {
    /// Its reporting periods, over the span it covers within `plan`, counted as its
    /// organisation counts them.
    pub fn duty_periods(
        &self,
        plan: &crate::db::plans::PlanRow,
        due_days: i64,
        counting: crate::domain::assignments::PeriodCounting,
    ) -> Vec<Period> {
        let (from, to) = covered_span((self.starts_on, self.due_on), (plan.period_from, plan.period_to), plan.year);
        periods(self.reporting, from, to, due_days, counting)
    }
}
