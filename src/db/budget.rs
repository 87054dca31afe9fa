//! Budget lines of plans, their allocations and spending entries (with the invoice or
//! receipt kept like evidence). A line's `allocated` and `spent` are kept by triggers
//! from its live entries, in the same transaction.
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::{
    db::page::PageRequest,
    db::schema::{budget_allocations, budget_lines, budget_spendings},
    domain::budget::PayeeKind,
    keyset, org_scoped_fns,
};

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = budget_lines)]
pub struct LineRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub plan_id: Uuid,
    pub plan_item_id: Option<Uuid>,
    pub activity_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub basis_document_id: Option<Uuid>,
    pub code: String,
    pub title: String,
    pub estimate: i64,
    pub allocated: i64,
    pub spent: i64,
    pub settled_on: Option<NaiveDate>,
    pub settled_amount: Option<i64>,
    pub settlement_note: Option<String>,
    pub note: Option<String>,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = budget_lines)]
pub struct NewLine {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub plan_id: Uuid,
    pub plan_item_id: Option<Uuid>,
    pub activity_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub basis_document_id: Option<Uuid>,
    pub code: String,
    pub title: String,
    pub estimate: i64,
    pub note: Option<String>,
    pub created_by: Option<Uuid>,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = budget_lines)]
pub struct LineChanges {
    pub plan_item_id: Option<Option<Uuid>>,
    pub activity_id: Option<Option<Uuid>>,
    pub department_id: Option<Option<Uuid>>,
    pub basis_document_id: Option<Option<Uuid>>,
    pub code: Option<String>,
    pub title: Option<String>,
    pub estimate: Option<i64>,
    pub settled_on: Option<Option<NaiveDate>>,
    pub settled_amount: Option<Option<i64>>,
    pub settlement_note: Option<Option<String>>,
    pub note: Option<Option<String>>,
}

#[derive(Default)]
pub struct LineFilter {
    pub organization_id: Option<Uuid>,
    pub plan_id: Option<Uuid>,
    pub plan_item_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
}

pub mod lines {
    use super::*;
    org_scoped_fns!(budget_lines, LineRow, LineChanges, "budget_line");

    pub fn list(conn: &mut PgConnection, filter: &LineFilter, page: &PageRequest) -> QueryResult<Vec<LineRow>> {
        let mut q = budget_lines::table.into_boxed();
        if let Some(org) = filter.organization_id {
            q = q.filter(budget_lines::organization_id.eq(org));
        }
        if let Some(plan) = filter.plan_id {
            q = q.filter(budget_lines::plan_id.eq(plan));
        }
        if let Some(item) = filter.plan_item_id {
            q = q.filter(budget_lines::plan_item_id.eq(item));
        }
        if let Some(department) = filter.department_id {
            q = q.filter(budget_lines::department_id.eq(department));
        }
        keyset!(q, budget_lines, page).select(LineRow::as_select()).load(conn)
    }

    pub fn insert(conn: &mut PgConnection, new: &NewLine) -> QueryResult<LineRow> {
        diesel::insert_into(budget_lines::table).values(new).returning(LineRow::as_returning()).get_result(conn)
    }

    /// The plan's live lines, by code.
    pub fn of_plan(conn: &mut PgConnection, plan: Uuid) -> QueryResult<Vec<LineRow>> {
        budget_lines::table
            .filter(budget_lines::plan_id.eq(plan))
            .filter(budget_lines::deleted_at.is_null())
            .order((budget_lines::code.asc(), budget_lines::id.asc()))
            .select(LineRow::as_select())
            .load(conn)
    }

    /// Whether the line has live allocations or spending.
    pub fn has_entries(conn: &mut PgConnection, line: Uuid) -> QueryResult<bool> {
        let allocations = budget_allocations::table
            .filter(budget_allocations::line_id.eq(line))
            .filter(budget_allocations::deleted_at.is_null());
        let spendings = budget_spendings::table
            .filter(budget_spendings::line_id.eq(line))
            .filter(budget_spendings::deleted_at.is_null());
        diesel::select(diesel::dsl::exists(allocations).or(diesel::dsl::exists(spendings))).get_result(conn)
    }
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = budget_allocations)]
pub struct AllocationRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub line_id: Uuid,
    pub allocated_on: NaiveDate,
    pub amount: i64,
    pub decision_number: String,
    pub note: Option<String>,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = budget_allocations)]
pub struct NewAllocation {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub line_id: Uuid,
    pub allocated_on: NaiveDate,
    pub amount: i64,
    pub decision_number: String,
    pub note: Option<String>,
    pub created_by: Option<Uuid>,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = budget_allocations)]
pub struct AllocationChanges {
    pub allocated_on: Option<NaiveDate>,
    pub amount: Option<i64>,
    pub decision_number: Option<String>,
    pub note: Option<Option<String>>,
}

pub mod allocations {
    use super::*;
    org_scoped_fns!(budget_allocations, AllocationRow, AllocationChanges, "budget_allocation");

    pub fn of_line(conn: &mut PgConnection, line: Uuid, page: &PageRequest) -> QueryResult<Vec<AllocationRow>> {
        let q = budget_allocations::table.filter(budget_allocations::line_id.eq(line)).into_boxed();
        keyset!(q, budget_allocations, page).select(AllocationRow::as_select()).load(conn)
    }

    pub fn insert(conn: &mut PgConnection, new: &NewAllocation) -> QueryResult<AllocationRow> {
        diesel::insert_into(budget_allocations::table)
            .values(new)
            .returning(AllocationRow::as_returning())
            .get_result(conn)
    }

    /// The live allocations of the plan's lines dated up to `to`: `(line, day, amount)`.
    pub fn of_plan(conn: &mut PgConnection, plan: Uuid, to: NaiveDate) -> QueryResult<Vec<(Uuid, NaiveDate, i64)>> {
        budget_allocations::table
            .inner_join(budget_lines::table.on(budget_lines::id.eq(budget_allocations::line_id)))
            .filter(budget_lines::plan_id.eq(plan))
            .filter(budget_lines::deleted_at.is_null())
            .filter(budget_allocations::deleted_at.is_null())
            .filter(budget_allocations::allocated_on.le(to))
            .select((budget_allocations::line_id, budget_allocations::allocated_on, budget_allocations::amount))
            .load(conn)
    }
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = budget_spendings)]
pub struct SpendingRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub line_id: Uuid,
    pub spent_on: NaiveDate,
    pub amount: i64,
    pub payee_kind: PayeeKind,
    pub description: String,
    pub receipt_sha256: Option<String>,
    pub receipt_size_bytes: Option<i64>,
    pub receipt_content_type: Option<String>,
    pub receipt_file_name: Option<String>,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = budget_spendings)]
pub struct NewSpending {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub line_id: Uuid,
    pub spent_on: NaiveDate,
    pub amount: i64,
    pub payee_kind: PayeeKind,
    pub description: String,
    pub created_by: Option<Uuid>,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = budget_spendings)]
pub struct SpendingChanges {
    pub spent_on: Option<NaiveDate>,
    pub amount: Option<i64>,
    pub payee_kind: Option<PayeeKind>,
    pub description: Option<String>,
    pub receipt_sha256: Option<Option<String>>,
    pub receipt_size_bytes: Option<Option<i64>>,
    pub receipt_content_type: Option<Option<String>>,
    pub receipt_file_name: Option<Option<String>>,
}

pub mod spendings {
    use super::*;
    org_scoped_fns!(budget_spendings, SpendingRow, SpendingChanges, "budget_spending");

    pub fn of_line(conn: &mut PgConnection, line: Uuid, page: &PageRequest) -> QueryResult<Vec<SpendingRow>> {
        let q = budget_spendings::table.filter(budget_spendings::line_id.eq(line)).into_boxed();
        keyset!(q, budget_spendings, page).select(SpendingRow::as_select()).load(conn)
    }

    pub fn insert(conn: &mut PgConnection, new: &NewSpending) -> QueryResult<SpendingRow> {
        diesel::insert_into(budget_spendings::table).values(new).returning(SpendingRow::as_returning()).get_result(conn)
    }

    /// The live spending of the plan's lines dated up to `to`: `(line, day, amount)`.
    pub fn of_plan(conn: &mut PgConnection, plan: Uuid, to: NaiveDate) -> QueryResult<Vec<(Uuid, NaiveDate, i64)>> {
        budget_spendings::table
            .inner_join(budget_lines::table.on(budget_lines::id.eq(budget_spendings::line_id)))
            .filter(budget_lines::plan_id.eq(plan))
            .filter(budget_lines::deleted_at.is_null())
            .filter(budget_spendings::deleted_at.is_null())
            .filter(budget_spendings::spent_on.le(to))
            .select((budget_spendings::line_id, budget_spendings::spent_on, budget_spendings::amount))
            .load(conn)
    }
}
