use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::{
    db::page::PageRequest,
    db::{
        CitesDocuments, lower,
        plans::{f_unaccent, search_patterns},
        schema::{indicators, plan_item_documents, plan_items},
    },
    domain::plans::{Audience, Channel, ItemKind},
    keyset, org_scoped_fns,
};

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = plan_items)]
pub struct PlanItemRow {
    pub id: Uuid,
    pub plan_id: Uuid,
    pub organization_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub position: i32,
    pub reference: String,
    pub kind: ItemKind,
    pub audience: Option<Audience>,
    pub channel: Option<Channel>,
    pub title: String,
    pub body: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    /// The parent plan's item this one carries out.
    pub implements_item_id: Option<Uuid>,
}

#[derive(Insertable, Clone)]
#[diesel(table_name = plan_items)]
pub struct NewPlanItem {
    pub id: Uuid,
    pub plan_id: Uuid,
    pub organization_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub position: i32,
    pub reference: String,
    pub kind: ItemKind,
    pub audience: Option<Audience>,
    pub channel: Option<Channel>,
    pub title: String,
    pub body: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub implements_item_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
}

/// Changes to an item's own fields; its place in the tree changes through `place`.
#[derive(AsChangeset, Default)]
#[diesel(table_name = plan_items)]
pub struct PlanItemChanges {
    pub reference: Option<String>,
    pub kind: Option<ItemKind>,
    pub audience: Option<Option<Audience>>,
    pub channel: Option<Option<Channel>>,
    pub title: Option<String>,
    pub body: Option<Option<String>>,
    pub due_on: Option<Option<NaiveDate>>,
    pub implements_item_id: Option<Option<Uuid>>,
}

#[derive(Default)]
pub struct Filter {
    pub kind: Option<ItemKind>,
    pub audience: Option<Audience>,
    pub channel: Option<Channel>,
    pub parent_id: Option<Uuid>,
    pub q: Option<String>,
}

org_scoped_fns!(plan_items, PlanItemRow, PlanItemChanges, "plan_item");

impl CitesDocuments for PlanItemRow {
    fn citations(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<(Uuid, Uuid)>> {
        plan_item_documents::table
            .filter(plan_item_documents::plan_item_id.eq_any(ids))
            .order((plan_item_documents::plan_item_id, plan_item_documents::position))
            .select((plan_item_documents::plan_item_id, plan_item_documents::document_id))
            .load(conn)
    }
}

pub fn list(conn: &mut PgConnection, plan: Uuid, filter: &Filter, page: &PageRequest) -> QueryResult<Vec<PlanItemRow>> {
    let mut q = plan_items::table.filter(plan_items::plan_id.eq(plan)).into_boxed();
    if let Some(kind) = filter.kind {
        q = q.filter(plan_items::kind.eq(kind));
    }
    if let Some(audience) = filter.audience {
        q = q.filter(plan_items::audience.eq(audience));
    }
    if let Some(channel) = filter.channel {
        q = q.filter(plan_items::channel.eq(channel));
    }
    if let Some(parent) = filter.parent_id {
        q = q.filter(plan_items::parent_id.eq(parent));
    }
    for pattern in filter.q.as_deref().map(search_patterns).unwrap_or_default() {
        q = q.filter(plan_items::search.like(lower(f_unaccent(pattern)).nullable()));
    }
    keyset!(q, plan_items, page).select(PlanItemRow::as_select()).load(conn)
}

/// Every live item of the plan, siblings in order (for the tree view).
pub fn all_of_plan(conn: &mut PgConnection, plan: Uuid) -> QueryResult<Vec<PlanItemRow>> {
    plan_items::table
        .filter(plan_items::plan_id.eq(plan))
        .filter(plan_items::deleted_at.is_null())
        .order((plan_items::position, plan_items::id))
        .select(PlanItemRow::as_select())
        .load(conn)
}

pub fn insert(conn: &mut PgConnection, new: &NewPlanItem) -> QueryResult<PlanItemRow> {
    diesel::insert_into(plan_items::table).values(new).returning(PlanItemRow::as_returning()).get_result(conn)
}

pub fn set_documents(conn: &mut PgConnection, item: Uuid, documents: &[Uuid]) -> QueryResult<()> {
    diesel::delete(plan_item_documents::table.filter(plan_item_documents::plan_item_id.eq(item))).execute(conn)?;
    let rows: Vec<_> = documents
        .iter()
        .enumerate()
        .map(|(i, doc)| {
            (
                plan_item_documents::plan_item_id.eq(item),
                plan_item_documents::document_id.eq(*doc),
                plan_item_documents::position.eq(i as i32),
            )
        })
        .collect();
    diesel::insert_into(plan_item_documents::table).values(rows).execute(conn)?;
    Ok(())
}

/// The live children of `parent` (the plan's top level for `None`), in order.
fn siblings(conn: &mut PgConnection, plan: Uuid, parent: Option<Uuid>) -> QueryResult<Vec<(Uuid, i32)>> {
    let q = plan_items::table
        .filter(plan_items::plan_id.eq(plan))
        .filter(plan_items::deleted_at.is_null())
        .order((plan_items::position, plan_items::id))
        .select((plan_items::id, plan_items::position));
    match parent {
        Some(p) => q.filter(plan_items::parent_id.eq(p)).load(conn),
        None => q.filter(plan_items::parent_id.is_null()).load(conn),
    }
}

/// Where a new item goes by default: after the last child of `parent`.
pub fn next_position(conn: &mut PgConnection, plan: Uuid, parent: Option<Uuid>) -> QueryResult<i32> {
    Ok(siblings(conn, plan, parent)?.len() as i32)
}

/// Puts `item` under `parent` at `position` (clamped to the end), and renumbers both
/// the old and the new siblings so positions stay 0, 1, 2 … without gaps.
pub fn place(
    conn: &mut PgConnection,
    plan: Uuid,
    item: Uuid,
    old_parent: Option<Uuid>,
    parent: Option<Uuid>,
    position: i32,
) -> QueryResult<()> {
    if old_parent != parent {
        let old: Vec<Uuid> =
            siblings(conn, plan, old_parent)?.into_iter().map(|(id, _)| id).filter(|id| *id != item).collect();
        renumber(conn, &old)?;
    }
    let mut new: Vec<Uuid> =
        siblings(conn, plan, parent)?.into_iter().map(|(id, _)| id).filter(|id| *id != item).collect();
    let at = (position.max(0) as usize).min(new.len());
    new.insert(at, item);
    diesel::update(plan_items::table.find(item)).set(plan_items::parent_id.eq(parent)).execute(conn)?;
    renumber(conn, &new)
}

fn renumber(conn: &mut PgConnection, ordered: &[Uuid]) -> QueryResult<()> {
    for (i, id) in ordered.iter().enumerate() {
        diesel::update(plan_items::table.find(*id).filter(plan_items::position.ne(i as i32)))
            .set(plan_items::position.eq(i as i32))
            .execute(conn)?;
    }
    Ok(())
}

/// Whether `candidate` is `item` or lies below it.
pub fn is_within(conn: &mut PgConnection, item: Uuid, candidate: Uuid) -> QueryResult<bool> {
    let mut current = Some(candidate);
    for _ in 0..256 {
        match current {
            None => return Ok(false),
            Some(at) if at == item => return Ok(true),
            Some(at) => {
                current = plan_items::table
                    .find(at)
                    .select(plan_items::parent_id)
                    .first::<Option<Uuid>>(conn)
                    .optional()?
                    .flatten();
            }
        }
    }
    Ok(true)
}

/// The item and everything below it, parents first.
pub fn subtree(conn: &mut PgConnection, plan: Uuid, item: Uuid) -> QueryResult<Vec<Uuid>> {
    let all: Vec<(Uuid, Option<Uuid>)> = plan_items::table
        .filter(plan_items::plan_id.eq(plan))
        .filter(plan_items::deleted_at.is_null())
        .select((plan_items::id, plan_items::parent_id))
        .load(conn)?;
    let mut out = vec![item];
    let mut i = 0;
    while i < out.len() {
        let at = out[i];
        out.extend(all.iter().filter(|(_, p)| *p == Some(at)).map(|(id, _)| *id));
        i += 1;
    }
    Ok(out)
}

/// What still hangs on the item: its live children and indicators, by kind.
pub fn dependents(conn: &mut PgConnection, item: Uuid) -> QueryResult<Vec<&'static str>> {
    let mut found = Vec::new();
    let children: bool = diesel::select(diesel::dsl::exists(
        plan_items::table.filter(plan_items::parent_id.eq(item)).filter(plan_items::deleted_at.is_null()),
    ))
    .get_result(conn)?;
    if children {
        found.push("plan_items");
    }
    let measured: bool = diesel::select(diesel::dsl::exists(
        indicators::table.filter(indicators::plan_item_id.eq(item)).filter(indicators::deleted_at.is_null()),
    ))
    .get_result(conn)?;
    if measured {
        found.push("indicators");
    }
    Ok(found)
}

/// Indicators that measured these items now measure the plan as a whole.
pub fn unlink_indicators(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<()> {
    diesel::update(indicators::table.filter(indicators::plan_item_id.eq_any(ids)))
        .set((
            indicators::plan_item_id.eq(None::<Uuid>),
            indicators::updated_at.eq(diesel::dsl::now),
            indicators::version.eq(indicators::version + 1),
        ))
        .execute(conn)?;
    Ok(())
}

/// Renumbers the live children of `parent` without `leaving`, which is about to go.
pub fn close_gap(conn: &mut PgConnection, plan: Uuid, parent: Option<Uuid>, leaving: Uuid) -> QueryResult<()> {
    let ordered: Vec<Uuid> =
        siblings(conn, plan, parent)?.into_iter().map(|(id, _)| id).filter(|id| *id != leaving).collect();
    renumber(conn, &ordered)
}

/// Deletes the items (soft) and unlinks the indicators that measured them.
pub fn delete_many(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<()> {
    unlink_indicators(conn, ids)?;
    diesel::update(plan_items::table.filter(plan_items::id.eq_any(ids)).filter(plan_items::deleted_at.is_null()))
        .set((
            plan_items::deleted_at.eq(diesel::dsl::now),
            plan_items::updated_at.eq(diesel::dsl::now),
            plan_items::version.eq(plan_items::version + 1),
        ))
        .execute(conn)?;
    Ok(())
}
