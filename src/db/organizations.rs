use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::{
    db::page::PageRequest,
    db::{lower, schema::organizations},
    domain::assignments::PeriodCounting,
    impl_row, keyset,
};

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = organizations)]
pub struct OrganizationRow {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub parent_id: Option<Uuid>,
    pub website: Option<String>,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub reporting_periods: PeriodCounting,
    pub auto_assign_min_score: Option<f32>,
    pub abbreviation: Option<String>,
    pub place_name: Option<String>,
    pub signer_name: Option<String>,
    pub signer_title: Option<String>,
    pub finance_department_id: Option<Uuid>,
    pub publication_days: i32,
    pub retention_years: i32,
    pub privacy_notice_version: String,
}
impl_row!(OrganizationRow);

/// An organisation belongs to itself; `only` confines reads to one organisation.
impl crate::db::Record for OrganizationRow {
    const ENTITY: &'static str = "organization";
    fn version(&self) -> i32 {
        self.version
    }
    fn organization(&self) -> Option<Uuid> {
        Some(self.id)
    }
    fn find(conn: &mut PgConnection, id: Uuid, only: Option<Uuid>) -> QueryResult<Self> {
        find(conn, id, only)
    }
    fn lock(conn: &mut PgConnection, id: Uuid, only: Option<Uuid>) -> QueryResult<Self> {
        lock(conn, id, only)
    }
    fn soft_delete(conn: &mut PgConnection, id: Uuid) -> QueryResult<Self> {
        soft_delete(conn, id)
    }
}

#[derive(Insertable)]
#[diesel(table_name = organizations)]
pub struct NewOrganization {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub parent_id: Option<Uuid>,
    pub website: Option<String>,
    pub created_by: Option<Uuid>,
    /// `None`: the default for new organisations (the decree's).
    pub reporting_periods: Option<PeriodCounting>,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = organizations)]
pub struct OrganizationChanges {
    pub code: Option<String>,
    pub name: Option<String>,
    pub name_en: Option<Option<String>>,
    pub parent_id: Option<Option<Uuid>>,
    pub website: Option<Option<String>>,
    pub reporting_periods: Option<PeriodCounting>,
    pub auto_assign_min_score: Option<Option<f32>>,
    pub abbreviation: Option<Option<String>>,
    pub place_name: Option<Option<String>>,
    pub signer_name: Option<Option<String>>,
    pub signer_title: Option<Option<String>>,
    pub finance_department_id: Option<Option<Uuid>>,
    pub publication_days: Option<i32>,
    pub retention_years: Option<i32>,
    pub privacy_notice_version: Option<String>,
}

#[derive(Default)]
pub struct Filter {
    /// Confine to this one organisation (everyone but the system administrator).
    pub only: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    pub code: Option<String>,
    pub q: Option<String>,
}

pub fn find(conn: &mut PgConnection, id: Uuid, only: Option<Uuid>) -> QueryResult<OrganizationRow> {
    if only.is_some_and(|only| only != id) {
        return Err(diesel::result::Error::NotFound);
    }
    organizations::table
        .filter(organizations::id.eq(id))
        .filter(organizations::deleted_at.is_null())
        .select(OrganizationRow::as_select())
        .first(conn)
}

/// Locks the live row for an update or delete.
/// The live organisation with this code, regardless of case.
pub fn by_code(conn: &mut PgConnection, code: &str) -> QueryResult<OrganizationRow> {
    organizations::table
        .filter(lower(organizations::code).eq(code.to_lowercase()))
        .filter(organizations::deleted_at.is_null())
        .select(OrganizationRow::as_select())
        .first(conn)
}

pub fn lock(conn: &mut PgConnection, id: Uuid, only: Option<Uuid>) -> QueryResult<OrganizationRow> {
    if only.is_some_and(|only| only != id) {
        return Err(diesel::result::Error::NotFound);
    }
    organizations::table
        .filter(organizations::id.eq(id))
        .filter(organizations::deleted_at.is_null())
        .select(OrganizationRow::as_select())
        .for_update()
        .first(conn)
}

pub fn list(conn: &mut PgConnection, filter: &Filter, page: &PageRequest) -> QueryResult<Vec<OrganizationRow>> {
    let mut q = organizations::table.into_boxed();
    if let Some(only) = filter.only {
        q = q.filter(organizations::id.eq(only));
    }
    if let Some(parent) = filter.parent_id {
        q = q.filter(organizations::parent_id.eq(parent));
    }
    if let Some(code) = &filter.code {
        q = q.filter(lower(organizations::code).eq(lower(code.as_str())));
    }
    if let Some(text) = &filter.q {
        let pattern = format!("%{}%", escape_like(text));
        q = q.filter(organizations::name.ilike(pattern.clone()).or(organizations::name_en.ilike(pattern)));
    }
    keyset!(q, organizations, page).select(OrganizationRow::as_select()).load(conn)
}

pub fn insert(conn: &mut PgConnection, new: &NewOrganization) -> QueryResult<OrganizationRow> {
    diesel::insert_into(organizations::table).values(new).returning(OrganizationRow::as_returning()).get_result(conn)
}

pub fn update(conn: &mut PgConnection, id: Uuid, changes: &OrganizationChanges) -> QueryResult<OrganizationRow> {
    diesel::update(organizations::table.find(id))
        .set((
            changes,
            organizations::version.eq(organizations::version + 1),
            organizations::updated_at.eq(diesel::dsl::now),
        ))
        .returning(OrganizationRow::as_returning())
        .get_result(conn)
}

pub fn soft_delete(conn: &mut PgConnection, id: Uuid) -> QueryResult<OrganizationRow> {
    diesel::update(organizations::table.find(id))
        .set((
            organizations::deleted_at.eq(diesel::dsl::now),
            organizations::updated_at.eq(diesel::dsl::now),
            organizations::version.eq(organizations::version + 1),
        ))
        .returning(OrganizationRow::as_returning())
        .get_result(conn)
}

/// Whether making `parent` the parent of `id` would close a loop.
pub fn would_cycle(conn: &mut PgConnection, id: Uuid, parent: Uuid) -> QueryResult<bool> {
    let mut current = Some(parent);
    let mut steps = 0;
    while let Some(at) = current {
        if at == id {
            return Ok(true);
        }
        steps += 1;
        if steps > 64 {
            return Ok(true);
        }
        current = organizations::table
            .find(at)
            .select(organizations::parent_id)
            .first::<Option<Uuid>>(conn)
            .optional()?
            .flatten();
    }
    Ok(false)
}

/// Whether `org` is a live organisation somewhere below `above` in the tree.
pub fn is_below(conn: &mut PgConnection, org: Uuid, above: Uuid) -> QueryResult<bool> {
    Ok(below(conn, above)?.contains(&org))
}

/// The live organisations below `above`, at any depth.
pub fn below(conn: &mut PgConnection, above: Uuid) -> QueryResult<Vec<Uuid>> {
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
    }
    let rows: Vec<Id> = diesel::sql_query(
        "WITH RECURSIVE below AS (
             SELECT id, 1 AS depth FROM organizations WHERE parent_id = $1 AND deleted_at IS NULL
             UNION ALL
             SELECT o.id, b.depth + 1 FROM organizations o JOIN below b ON o.parent_id = b.id
             WHERE o.deleted_at IS NULL AND b.depth < 64)
         SELECT DISTINCT id FROM below",
    )
    .bind::<diesel::sql_types::Uuid, _>(above)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Live records that still point at the organisation, by kind, for a 409 on delete.
pub fn dependents(conn: &mut PgConnection, id: Uuid) -> QueryResult<Vec<&'static str>> {
    use crate::db::schema::{departments, service_clients, users};
    let mut found = Vec::new();
    let children: i64 = organizations::table
        .filter(organizations::parent_id.eq(id))
        .filter(organizations::deleted_at.is_null())
        .count()
        .get_result(conn)?;
    if children > 0 {
        found.push("organizations");
    }
    let depts: i64 = departments::table
        .filter(departments::organization_id.eq(id))
        .filter(departments::deleted_at.is_null())
        .count()
        .get_result(conn)?;
    if depts > 0 {
        found.push("departments");
    }
    let people: i64 = users::table
        .filter(users::organization_id.eq(id))
        .filter(users::deleted_at.is_null())
        .count()
        .get_result(conn)?;
    if people > 0 {
        found.push("users");
    }
    let clients: i64 = service_clients::table
        .filter(service_clients::organization_id.eq(id))
        .filter(service_clients::deleted_at.is_null())
        .count()
        .get_result(conn)?;
    if clients > 0 {
        found.push("service_clients");
    }
    Ok(found)
}

/// Escapes `%`, `_` and `\` for a LIKE pattern.
pub fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// Whether the database holds any organisation (deleted ones too).
/// How `org` counts its reporting periods.
pub fn period_counting(conn: &mut PgConnection, org: Uuid) -> QueryResult<PeriodCounting> {
    organizations::table.filter(organizations::id.eq(org)).select(organizations::reporting_periods).first(conn)
}

pub fn any(conn: &mut PgConnection) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(organizations::table.select(organizations::id))).get_result(conn)
}
