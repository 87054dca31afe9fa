use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::{
    db::page::PageRequest,
    db::{lower, organizations::escape_like, schema::departments},
    keyset, org_scoped_fns,
};

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = departments)]
pub struct DepartmentRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = departments)]
pub struct NewDepartment {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub created_by: Option<Uuid>,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = departments)]
pub struct DepartmentChanges {
    pub code: Option<String>,
    pub name: Option<String>,
    pub name_en: Option<Option<String>>,
}

#[derive(Default)]
pub struct Filter {
    pub organization_id: Option<Uuid>,
    pub code: Option<String>,
    pub q: Option<String>,
}

org_scoped_fns!(departments, DepartmentRow, DepartmentChanges, "department");

pub fn list(conn: &mut PgConnection, filter: &Filter, page: &PageRequest) -> QueryResult<Vec<DepartmentRow>> {
    let mut q = departments::table.into_boxed();
    if let Some(org) = filter.organization_id {
        q = q.filter(departments::organization_id.eq(org));
    }
    if let Some(code) = &filter.code {
        q = q.filter(lower(departments::code).eq(lower(code.as_str())));
    }
    if let Some(text) = &filter.q {
        let pattern = format!("%{}%", escape_like(text));
        q = q.filter(departments::name.ilike(pattern.clone()).or(departments::name_en.ilike(pattern)));
    }
    keyset!(q, departments, page).select(DepartmentRow::as_select()).load(conn)
}

pub fn insert(conn: &mut PgConnection, new: &NewDepartment) -> QueryResult<DepartmentRow> {
    diesel::insert_into(departments::table).values(new).returning(DepartmentRow::as_returning()).get_result(conn)
}

/// Whether live people still belong to the department (then it cannot be deleted).
/// The live department of `org` with this code (any case).
pub fn by_code(conn: &mut PgConnection, org: Uuid, code: &str) -> QueryResult<Uuid> {
    departments::table
        .filter(departments::organization_id.eq(org))
        .filter(lower(departments::code).eq(code.to_lowercase()))
        .filter(departments::deleted_at.is_null())
        .select(departments::id)
        .first(conn)
}

pub fn has_members(conn: &mut PgConnection, id: Uuid) -> QueryResult<bool> {
    use crate::db::schema::users;
    diesel::select(diesel::dsl::exists(
        users::table.filter(users::department_id.eq(id)).filter(users::deleted_at.is_null()),
    ))
    .get_result(conn)
}

/// The names of these departments, by id.
pub fn names(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<(Uuid, String)>> {
    departments::table.filter(departments::id.eq_any(ids)).select((departments::id, departments::name)).load(conn)
}

/// The codes and names of these departments: `(id, code, name)`.
pub fn codes(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<(Uuid, String, String)>> {
    departments::table
        .filter(departments::id.eq_any(ids))
        .select((departments::id, departments::code, departments::name))
        .load(conn)
}
