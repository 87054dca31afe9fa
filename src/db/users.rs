use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::{
    db::page::PageRequest,
    db::{lower, organizations::escape_like, schema::users},
    domain::roles::Role,
    keyset, org_scoped_fns,
};

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: Uuid,
    pub organization_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub username: String,
    pub full_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub active: bool,
    pub password_hash: String,
    pub password_changed_at: DateTime<Utc>,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewUser {
    pub id: Uuid,
    pub organization_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub username: String,
    pub full_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub active: bool,
    pub password_hash: String,
    pub created_by: Option<Uuid>,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub full_name: Option<String>,
    pub email: Option<Option<String>>,
    pub department_id: Option<Option<Uuid>>,
    pub role: Option<Role>,
    pub active: Option<bool>,
}

#[derive(Default)]
pub struct Filter {
    pub organization_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    pub q: Option<String>,
}

org_scoped_fns!(users, UserRow, UserChanges, "user");

pub fn list(conn: &mut PgConnection, filter: &Filter, page: &PageRequest) -> QueryResult<Vec<UserRow>> {
    let mut q = users::table.into_boxed();
    if let Some(org) = filter.organization_id {
        q = q.filter(users::organization_id.eq(org));
    }
    if let Some(dept) = filter.department_id {
        q = q.filter(users::department_id.eq(dept));
    }
    if let Some(role) = filter.role {
        q = q.filter(users::role.eq(role));
    }
    if let Some(active) = filter.active {
        q = q.filter(users::active.eq(active));
    }
    if let Some(text) = &filter.q {
        let pattern = format!("%{}%", escape_like(text));
        q = q.filter(users::full_name.ilike(pattern.clone()).or(users::username.ilike(pattern)));
    }
    keyset!(q, users, page).select(UserRow::as_select()).load(conn)
}

pub fn insert(conn: &mut PgConnection, new: &NewUser) -> QueryResult<UserRow> {
    diesel::insert_into(users::table).values(new).returning(UserRow::as_returning()).get_result(conn)
}

/// The live account with this username (case-insensitive), active or not.
pub fn by_username(conn: &mut PgConnection, username: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(lower(users::username).eq(lower(username)))
        .filter(users::deleted_at.is_null())
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn set_password(conn: &mut PgConnection, id: Uuid, hash: &str) -> QueryResult<UserRow> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(hash),
            users::password_changed_at.eq(diesel::dsl::now),
            users::updated_at.eq(diesel::dsl::now),
            users::version.eq(users::version + 1),
        ))
        .returning(UserRow::as_returning())
        .get_result(conn)
}

pub fn any_admin(conn: &mut PgConnection) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        users::table.filter(users::role.eq(Role::Admin)).filter(users::deleted_at.is_null()),
    ))
    .get_result(conn)
}

/// The active people of `org` with one of `roles`.
pub fn with_roles(conn: &mut PgConnection, org: Uuid, roles: &[&str]) -> QueryResult<Vec<Uuid>> {
    use crate::db::schema::users;
    users::table
        .filter(users::organization_id.eq(org))
        .filter(users::active.eq(true))
        .filter(users::deleted_at.is_null())
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("role = ANY (")
                .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(
                    roles.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
                )
                .sql(")"),
        )
        .select(users::id)
        .load(conn)
}
