//! Reports sent upward (table `report_submissions`): a unit's report on a plan for a
//! period, frozen when submitted, then acknowledged or returned by the parent.
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::{db::page::PageRequest, db::schema::report_submissions, keyset, org_scoped_fns};

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = report_submissions)]
pub struct SubmissionRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub parent_organization_id: Uuid,
    pub plan_id: Uuid,
    pub period: String,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub version_no: i32,
    pub status: String,
    pub due_on: NaiveDate,
    pub late: bool,
    pub sha256: String,
    pub size_bytes: i64,
    pub note: Option<String>,
    pub decision_note: Option<String>,
    pub submitted_by: Option<Uuid>,
    pub submitted_at: DateTime<Utc>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = report_submissions)]
pub struct NewSubmission {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub parent_organization_id: Uuid,
    pub plan_id: Uuid,
    pub period: String,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub version_no: i32,
    pub due_on: NaiveDate,
    pub late: bool,
    pub body: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub note: Option<String>,
    pub submitted_by: Option<Uuid>,
    pub submitted_at: DateTime<Utc>,
}

org_scoped_fns!(report_submissions, SubmissionRow, "report_submission");

/// The submission of `plan` for `period` that stands (submitted or acknowledged).
pub fn standing(conn: &mut PgConnection, plan: Uuid, period: &str) -> QueryResult<Option<SubmissionRow>> {
    report_submissions::table
        .filter(report_submissions::plan_id.eq(plan))
        .filter(report_submissions::period.eq(period))
        .filter(report_submissions::status.eq_any(["submitted", "acknowledged"]))
        .select(SubmissionRow::as_select())
        .first(conn)
        .optional()
}

/// The version number the next submission of `plan` for `period` takes.
pub fn next_version(conn: &mut PgConnection, plan: Uuid, period: &str) -> QueryResult<i32> {
    let last: Option<i32> = report_submissions::table
        .filter(report_submissions::plan_id.eq(plan))
        .filter(report_submissions::period.eq(period))
        .select(diesel::dsl::max(report_submissions::version_no))
        .first(conn)?;
    Ok(last.unwrap_or(0) + 1)
}

pub fn insert(conn: &mut PgConnection, new: &NewSubmission) -> QueryResult<SubmissionRow> {
    diesel::insert_into(report_submissions::table).values(new).returning(SubmissionRow::as_returning()).get_result(conn)
}

/// A submission as its parent sees it (`None`: not one sent to `parent`), locked.
pub fn lock_for_parent(conn: &mut PgConnection, id: Uuid, parent: Option<Uuid>) -> QueryResult<SubmissionRow> {
    let q = report_submissions::table.filter(report_submissions::id.eq(id));
    match parent {
        Some(parent) => q
            .filter(report_submissions::parent_organization_id.eq(parent))
            .select(SubmissionRow::as_select())
            .for_update()
            .first(conn),
        None => q.select(SubmissionRow::as_select()).for_update().first(conn),
    }
}

/// A submission its unit or its parent may read.
pub fn find_for(conn: &mut PgConnection, id: Uuid, org: Option<Uuid>) -> QueryResult<SubmissionRow> {
    let mut q = report_submissions::table.filter(report_submissions::id.eq(id)).into_boxed();
    if let Some(org) = org {
        q = q
            .filter(report_submissions::organization_id.eq(org).or(report_submissions::parent_organization_id.eq(org)));
    }
    q.select(SubmissionRow::as_select()).first(conn)
}

pub fn body(conn: &mut PgConnection, id: Uuid) -> QueryResult<String> {
    report_submissions::table.find(id).select(report_submissions::body).first(conn)
}

pub fn decide(
    conn: &mut PgConnection,
    id: Uuid,
    status: &str,
    note: Option<&str>,
    by: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<SubmissionRow> {
    diesel::update(report_submissions::table.find(id))
        .set((
            report_submissions::status.eq(status),
            report_submissions::decision_note.eq(note),
            report_submissions::decided_by.eq(by),
            report_submissions::decided_at.eq(at),
            report_submissions::version.eq(report_submissions::version + 1),
            report_submissions::updated_at.eq(diesel::dsl::now),
        ))
        .returning(SubmissionRow::as_returning())
        .get_result(conn)
}

pub fn of_plan(conn: &mut PgConnection, plan: Uuid, page: &PageRequest) -> QueryResult<Vec<SubmissionRow>> {
    let q = report_submissions::table.filter(report_submissions::plan_id.eq(plan)).into_boxed();
    keyset!(q, report_submissions, page).select(SubmissionRow::as_select()).load(conn)
}

#[derive(Default)]
pub struct InboxFilter {
    pub period: Option<String>,
    pub unit: Option<Uuid>,
    pub status: Option<String>,
}

/// The submissions sent to `parent` (every one for the administrator).
pub fn inbox(
    conn: &mut PgConnection,
    parent: Option<Uuid>,
    filter: &InboxFilter,
    page: &PageRequest,
) -> QueryResult<Vec<SubmissionRow>> {
    let mut q = report_submissions::table.into_boxed();
    if let Some(parent) = parent {
        q = q.filter(report_submissions::parent_organization_id.eq(parent));
    }
    if let Some(period) = &filter.period {
        q = q.filter(report_submissions::period.eq(period.clone()));
    }
    if let Some(unit) = filter.unit {
        q = q.filter(report_submissions::organization_id.eq(unit));
    }
    if let Some(status) = &filter.status {
        q = q.filter(report_submissions::status.eq(status.clone()));
    }
    keyset!(q, report_submissions, page).select(SubmissionRow::as_select()).load(conn)
}

/// The first time each period's report of these plans was submitted and not returned.
pub fn first_submitted(conn: &mut PgConnection, plans: &[Uuid]) -> QueryResult<Vec<(Uuid, String, DateTime<Utc>)>> {
    report_submissions::table
        .filter(report_submissions::plan_id.eq_any(plans))
        .filter(report_submissions::status.ne("returned"))
        .group_by((report_submissions::plan_id, report_submissions::period))
        .select((
            report_submissions::plan_id,
            report_submissions::period,
            diesel::dsl::min(report_submissions::submitted_at).assume_not_null(),
        ))
        .load(conn)
}
