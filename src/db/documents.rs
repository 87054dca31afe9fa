use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::{
    db::page::PageRequest,
    db::{lower, organizations::escape_like, schema::documents},
    keyset, org_scoped_fns,
};

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = documents)]
pub struct DocumentRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub number: String,
    pub issued_on: Option<NaiveDate>,
    pub issuer: String,
    pub title: String,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub post_required: bool,
}

#[derive(Insertable)]
#[diesel(table_name = documents)]
pub struct NewDocument {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub number: String,
    pub issued_on: Option<NaiveDate>,
    pub issuer: String,
    pub title: String,
    pub created_by: Option<Uuid>,
    pub post_required: bool,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = documents)]
pub struct DocumentChanges {
    pub number: Option<String>,
    pub issued_on: Option<Option<NaiveDate>>,
    pub issuer: Option<String>,
    pub title: Option<String>,
    pub post_required: Option<bool>,
}

#[derive(Default)]
pub struct Filter {
    pub organization_id: Option<Uuid>,
    pub number: Option<String>,
    pub issuer: Option<String>,
    pub q: Option<String>,
}

org_scoped_fns!(documents, DocumentRow, DocumentChanges, "document");

pub fn list(conn: &mut PgConnection, filter: &Filter, page: &PageRequest) -> QueryResult<Vec<DocumentRow>> {
    let mut q = documents::table.into_boxed();
    if let Some(org) = filter.organization_id {
        q = q.filter(documents::organization_id.eq(org));
    }
    if let Some(number) = &filter.number {
        q = q.filter(lower(documents::number).eq(lower(number)));
    }
    if let Some(issuer) = &filter.issuer {
        q = q.filter(lower(documents::issuer).eq(lower(issuer)));
    }
    if let Some(text) = &filter.q {
        let pattern = format!("%{}%", escape_like(text));
        q = q.filter(documents::title.ilike(pattern.clone()).or(documents::number.ilike(pattern)));
    }
    keyset!(q, documents, page).select(DocumentRow::as_select()).load(conn)
}

/// Whether `issuer` is the organisation itself (its code or abbreviation): what it
/// issues itself it must post on its website (plan II.3.c).
pub fn issued_by_itself(conn: &mut PgConnection, org: Uuid, issuer: &str) -> QueryResult<bool> {
    let own = crate::db::organizations::find(conn, org, None)?;
    let issuer = issuer.to_lowercase();
    Ok(issuer == own.code.to_lowercase() || own.abbreviation.is_some_and(|a| a.to_lowercase() == issuer))
}

pub fn insert(conn: &mut PgConnection, new: &NewDocument) -> QueryResult<DocumentRow> {
    diesel::insert_into(documents::table).values(new).returning(DocumentRow::as_returning()).get_result(conn)
}

/// The organisation's live documents with these ids; fewer rows than ids means some
/// are absent or belong to someone else.
pub fn of_org(conn: &mut PgConnection, org: Uuid, ids: &[Uuid]) -> QueryResult<Vec<Uuid>> {
    documents::table
        .filter(documents::organization_id.eq(org))
        .filter(documents::id.eq_any(ids))
        .filter(documents::deleted_at.is_null())
        .select(documents::id)
        .load(conn)
}

/// The live document of `org` with this issuer and number.
pub fn by_number(conn: &mut PgConnection, org: Uuid, issuer: &str, number: &str) -> QueryResult<Option<DocumentRow>> {
    documents::table
        .filter(documents::organization_id.eq(org))
        .filter(lower(documents::issuer).eq(lower(issuer)))
        .filter(lower(documents::number).eq(lower(number)))
        .filter(documents::deleted_at.is_null())
        .select(DocumentRow::as_select())
        .first(conn)
        .optional()
}

/// Whether live plans or items cite the document.
pub fn is_cited(conn: &mut PgConnection, id: Uuid) -> QueryResult<bool> {
    use crate::db::schema::{plan_documents, plan_item_documents, plan_items, plans};
    let by_plan: bool = diesel::select(diesel::dsl::exists(
        plan_documents::table
            .inner_join(plans::table)
            .filter(plan_documents::document_id.eq(id))
            .filter(plans::deleted_at.is_null()),
    ))
    .get_result(conn)?;
    let implemented: bool = diesel::select(diesel::dsl::exists(
        plans::table.filter(plans::implements_document_id.eq(id)).filter(plans::deleted_at.is_null()),
    ))
    .get_result(conn)?;
    let by_item: bool = diesel::select(diesel::dsl::exists(
        plan_item_documents::table
            .inner_join(plan_items::table)
            .filter(plan_item_documents::document_id.eq(id))
            .filter(plan_items::deleted_at.is_null()),
    ))
    .get_result(conn)?;
    Ok(by_plan || implemented || by_item)
}
