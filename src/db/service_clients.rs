use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::{
    db::page::PageRequest,
    db::{organizations::escape_like, schema::service_clients},
    keyset, org_scoped_fns,
};

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = service_clients)]
pub struct ServiceClientRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub scopes: Vec<Option<String>>,
    pub active: bool,
    pub secret_hash: String,
    pub secret_rotated_at: DateTime<Utc>,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = service_clients)]
pub struct NewServiceClient {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub scopes: Vec<Option<String>>,
    pub active: bool,
    pub secret_hash: String,
    pub created_by: Option<Uuid>,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = service_clients)]
pub struct ServiceClientChanges {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub scopes: Option<Vec<Option<String>>>,
    pub active: Option<bool>,
}

#[derive(Default)]
pub struct Filter {
    pub organization_id: Option<Uuid>,
    pub active: Option<bool>,
    pub q: Option<String>,
}

org_scoped_fns!(service_clients, ServiceClientRow, ServiceClientChanges, "service_client");

pub fn list(conn: &mut PgConnection, filter: &Filter, page: &PageRequest) -> QueryResult<Vec<ServiceClientRow>> {
    let mut q = service_clients::table.into_boxed();
    if let Some(org) = filter.organization_id {
        q = q.filter(service_clients::organization_id.eq(org));
    }
    if let Some(active) = filter.active {
        q = q.filter(service_clients::active.eq(active));
    }
    if let Some(text) = &filter.q {
        q = q.filter(service_clients::name.ilike(format!("%{}%", escape_like(text))));
    }
    keyset!(q, service_clients, page).select(ServiceClientRow::as_select()).load(conn)
}

pub fn insert(conn: &mut PgConnection, new: &NewServiceClient) -> QueryResult<ServiceClientRow> {
    diesel::insert_into(service_clients::table).values(new).returning(ServiceClientRow::as_returning()).get_result(conn)
}

pub fn set_secret(conn: &mut PgConnection, id: Uuid, hash: &str) -> QueryResult<ServiceClientRow> {
    diesel::update(service_clients::table.find(id))
        .set((
            service_clients::secret_hash.eq(hash),
            service_clients::secret_rotated_at.eq(diesel::dsl::now),
            service_clients::updated_at.eq(diesel::dsl::now),
            service_clients::version.eq(service_clients::version + 1),
        ))
        .returning(ServiceClientRow::as_returning())
        .get_result(conn)
}
