use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use crate::{
    db::page::PageRequest,
    db::{
        CitesDocuments, lower,
        organizations::escape_like,
        schema::{indicators, plan_documents, plan_items, plans},
    },
    domain::plans::PlanStatus,
    keyset, org_scoped_fns,
};

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = plans)]
pub struct PlanRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub code: String,
    pub year: i32,
    pub title: String,
    pub status: PlanStatus,
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    pub decision: Option<Value>,
    pub parent_plan_id: Option<Uuid>,
    pub implements_document_id: Option<Uuid>,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = plans)]
pub struct NewPlan {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub code: String,
    pub year: i32,
    pub title: String,
    pub status: PlanStatus,
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    pub decision: Option<Value>,
    pub parent_plan_id: Option<Uuid>,
    pub implements_document_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = plans)]
pub struct PlanChanges {
    pub code: Option<String>,
    pub year: Option<i32>,
    pub title: Option<String>,
    pub status: Option<PlanStatus>,
    pub period_from: Option<Option<NaiveDate>>,
    pub period_to: Option<Option<NaiveDate>>,
    pub decision: Option<Option<Value>>,
    pub parent_plan_id: Option<Option<Uuid>>,
    pub implements_document_id: Option<Option<Uuid>>,
}

#[derive(Default)]
pub struct Filter {
    pub organization_id: Option<Uuid>,
    pub year: Option<i32>,
    pub status: Option<PlanStatus>,
    pub q: Option<String>,
}

org_scoped_fns!(plans, PlanRow, PlanChanges, "plan");

impl CitesDocuments for PlanRow {
    fn citations(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<(Uuid, Uuid)>> {
        plan_documents::table
            .filter(plan_documents::plan_id.eq_any(ids))
            .order((plan_documents::plan_id, plan_documents::position))
            .select((plan_documents::plan_id, plan_documents::document_id))
            .load(conn)
    }
}

diesel::define_sql_function! {
    /// `unaccent` with its dictionary fixed (see the plans migration).
    fn f_unaccent(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// For `search LIKE lower(f_unaccent(…))` on a column of lower-case, unaccented text:
/// one pattern `%word%` per word of `q` (all must match), to be folded the same way in
/// SQL, so `dich vu cong` finds `Dịch vụ công`.
pub fn search_patterns(q: &str) -> Vec<String> {
    q.split_whitespace().map(|word| format!("%{}%", escape_like(word))).collect()
}

pub fn list(conn: &mut PgConnection, filter: &Filter, page: &PageRequest) -> QueryResult<Vec<PlanRow>> {
    let mut q = plans::table.into_boxed();
    if let Some(org) = filter.organization_id {
        q = q.filter(plans::organization_id.eq(org));
    }
    if let Some(year) = filter.year {
        q = q.filter(plans::year.eq(year));
    }
    if let Some(status) = filter.status {
        q = q.filter(plans::status.eq(status));
    }
    for pattern in filter.q.as_deref().map(search_patterns).unwrap_or_default() {
        q = q.filter(plans::search.like(lower(f_unaccent(pattern)).nullable()));
    }
    keyset!(q, plans, page).select(PlanRow::as_select()).load(conn)
}

/// A plan `org` may read: its own, or one that a live plan of `org` implements.
pub fn find_readable(conn: &mut PgConnection, id: Uuid, org: Option<Uuid>) -> QueryResult<PlanRow> {
    let row = find(conn, id, None)?;
    match org {
        Some(org) if row.organization_id != org => {
            let implemented_by_own: bool = diesel::select(diesel::dsl::exists(
                plans::table
                    .filter(plans::parent_plan_id.eq(id))
                    .filter(plans::organization_id.eq(org))
                    .filter(plans::deleted_at.is_null()),
            ))
            .get_result(conn)?;
            if implemented_by_own { Ok(row) } else { Err(diesel::result::Error::NotFound) }
        }
        _ => Ok(row),
    }
}

pub fn insert(conn: &mut PgConnection, new: &NewPlan) -> QueryResult<PlanRow> {
    diesel::insert_into(plans::table).values(new).returning(PlanRow::as_returning()).get_result(conn)
}

pub fn set_legal_bases(conn: &mut PgConnection, plan: Uuid, documents: &[Uuid]) -> QueryResult<()> {
    diesel::delete(plan_documents::table.filter(plan_documents::plan_id.eq(plan))).execute(conn)?;
    let rows: Vec<_> = documents
        .iter()
        .enumerate()
        .map(|(i, doc)| {
            (
                plan_documents::plan_id.eq(plan),
                plan_documents::document_id.eq(*doc),
                plan_documents::position.eq(i as i32),
            )
        })
        .collect();
    diesel::insert_into(plan_documents::table).values(rows).execute(conn)?;
    Ok(())
}

/// Whether making `parent` the parent plan of `id` would close a loop.
pub fn would_cycle(conn: &mut PgConnection, id: Uuid, parent: Uuid) -> QueryResult<bool> {
    let mut current = Some(parent);
    for _ in 0..64 {
        match current {
            None => return Ok(false),
            Some(at) if at == id => return Ok(true),
            Some(at) => {
                current = plans::table
                    .find(at)
                    .select(plans::parent_plan_id)
                    .first::<Option<Uuid>>(conn)
                    .optional()?
                    .flatten();
            }
        }
    }
    Ok(true)
}

/// Live plans of other records that implement this one.
pub fn has_children(conn: &mut PgConnection, id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        plans::table.filter(plans::parent_plan_id.eq(id)).filter(plans::deleted_at.is_null()),
    ))
    .get_result(conn)
}

/// Soft-deletes the plan's items and indicators with it.
pub fn delete_contents(conn: &mut PgConnection, id: Uuid) -> QueryResult<()> {
    diesel::update(indicators::table.filter(indicators::plan_id.eq(id)).filter(indicators::deleted_at.is_null()))
        .set((
            indicators::deleted_at.eq(diesel::dsl::now),
            indicators::updated_at.eq(diesel::dsl::now),
            indicators::version.eq(indicators::version + 1),
        ))
        .execute(conn)?;
    diesel::update(plan_items::table.filter(plan_items::plan_id.eq(id)).filter(plan_items::deleted_at.is_null()))
        .set((
            plan_items::deleted_at.eq(diesel::dsl::now),
            plan_items::updated_at.eq(diesel::dsl::now),
            plan_items::version.eq(plan_items::version + 1),
        ))
        .execute(conn)?;
    Ok(())
}
