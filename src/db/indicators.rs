use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::{
    db::page::PageRequest,
    db::schema::{indicators, measurements},
    domain::plans::{Comparator, IndicatorScope, MeasurementSource, Unit},
    keyset, org_scoped_fns,
};

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = indicators)]
pub struct IndicatorRow {
    pub id: Uuid,
    pub plan_id: Uuid,
    pub organization_id: Uuid,
    pub plan_item_id: Option<Uuid>,
    pub code: String,
    pub name: String,
    pub unit: Unit,
    pub comparator: Comparator,
    pub target_value: Option<f64>,
    pub baseline: Option<f64>,
    pub scope: IndicatorScope,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Insertable, Clone)]
#[diesel(table_name = indicators)]
pub struct NewIndicator {
    pub id: Uuid,
    pub plan_id: Uuid,
    pub organization_id: Uuid,
    pub plan_item_id: Option<Uuid>,
    pub code: String,
    pub name: String,
    pub unit: Unit,
    pub comparator: Comparator,
    pub target_value: Option<f64>,
    pub baseline: Option<f64>,
    pub scope: IndicatorScope,
    pub created_by: Option<Uuid>,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = indicators)]
pub struct IndicatorChanges {
    pub plan_item_id: Option<Option<Uuid>>,
    pub code: Option<String>,
    pub name: Option<String>,
    pub unit: Option<Unit>,
    pub comparator: Option<Comparator>,
    pub target_value: Option<Option<f64>>,
    pub baseline: Option<Option<f64>>,
    pub scope: Option<IndicatorScope>,
}

#[derive(Default)]
pub struct Filter {
    pub plan_item_id: Option<Uuid>,
    pub scope: Option<IndicatorScope>,
}

org_scoped_fns!(indicators, IndicatorRow, IndicatorChanges, "indicator");

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = measurements)]
pub struct MeasurementRow {
    pub id: Uuid,
    pub indicator_id: Uuid,
    pub organization_id: Uuid,
    pub value: f64,
    pub measured_on: NaiveDate,
    pub period: Option<String>,
    pub source: MeasurementSource,
    pub citation: Option<String>,
    pub link: Option<String>,
    pub note: Option<String>,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = measurements)]
pub struct NewMeasurement {
    pub id: Uuid,
    pub indicator_id: Uuid,
    pub organization_id: Uuid,
    pub value: f64,
    pub measured_on: NaiveDate,
    pub period: Option<String>,
    pub source: MeasurementSource,
    pub citation: Option<String>,
    pub link: Option<String>,
    pub note: Option<String>,
    pub created_by: Option<Uuid>,
}

pub mod measurement {
    use diesel::prelude::*;
    use uuid::Uuid;

    use super::MeasurementRow;
    use crate::{db::schema::measurements, org_scoped_fns};

    org_scoped_fns!(measurements, MeasurementRow, "measurement");
}

/// An indicator with what its status is computed from: the latest measurement, and
/// the first one (what `improves` compares with when there is no baseline).
#[derive(Clone, Debug)]
pub struct IndicatorRecord {
    pub row: IndicatorRow,
    pub latest: Option<MeasurementRow>,
    pub first_value: Option<f64>,
}

impl IndicatorRecord {
    pub fn load_all(conn: &mut PgConnection, rows: Vec<IndicatorRow>) -> QueryResult<Vec<Self>> {
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let (mut latest, mut first) =
            if ids.is_empty() { Default::default() } else { (ends(conn, &ids, true)?, ends(conn, &ids, false)?) };
        Ok(rows
            .into_iter()
            .map(|row| {
                let id = row.id;
                Self { row, latest: latest.remove(&id), first_value: first.remove(&id).map(|m| m.value) }
            })
            .collect())
    }
}

/// The latest (or first) live measurement of each indicator, by date then entry time.
fn ends(conn: &mut PgConnection, ids: &[Uuid], latest: bool) -> QueryResult<HashMap<Uuid, MeasurementRow>> {
    let q = measurements::table
        .filter(measurements::indicator_id.eq_any(ids))
        .filter(measurements::deleted_at.is_null())
        .distinct_on(measurements::indicator_id)
        .select(MeasurementRow::as_select());
    let rows: Vec<MeasurementRow> = if latest {
        q.order((measurements::indicator_id, measurements::measured_on.desc(), measurements::created_at.desc()))
            .load(conn)?
    } else {
        q.order((measurements::indicator_id, measurements::measured_on.asc(), measurements::created_at.asc()))
            .load(conn)?
    };
    Ok(rows.into_iter().map(|m| (m.indicator_id, m)).collect())
}

crate::composite_record!(IndicatorRecord, "indicator");

pub fn list(
    conn: &mut PgConnection,
    plan: Uuid,
    filter: &Filter,
    page: &PageRequest,
) -> QueryResult<Vec<IndicatorRecord>> {
    let mut q = indicators::table.filter(indicators::plan_id.eq(plan)).into_boxed();
    if let Some(item) = filter.plan_item_id {
        q = q.filter(indicators::plan_item_id.eq(item));
    }
    if let Some(scope) = filter.scope {
        q = q.filter(indicators::scope.eq(scope));
    }
    let rows = keyset!(q, indicators, page).select(IndicatorRow::as_select()).load(conn)?;
    IndicatorRecord::load_all(conn, rows)
}

pub fn insert(conn: &mut PgConnection, new: &NewIndicator) -> QueryResult<IndicatorRow> {
    diesel::insert_into(indicators::table).values(new).returning(IndicatorRow::as_returning()).get_result(conn)
}

pub fn insert_measurement(conn: &mut PgConnection, new: &NewMeasurement) -> QueryResult<MeasurementRow> {
    diesel::insert_into(measurements::table).values(new).returning(MeasurementRow::as_returning()).get_result(conn)
}

#[derive(Default)]
pub struct MeasurementFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub period: Option<String>,
}

pub fn measurements(
    conn: &mut PgConnection,
    indicator: Uuid,
    filter: &MeasurementFilter,
    page: &PageRequest,
) -> QueryResult<Vec<MeasurementRow>> {
    let mut q = measurements::table.filter(measurements::indicator_id.eq(indicator)).into_boxed();
    if let Some(from) = filter.from {
        q = q.filter(measurements::measured_on.ge(from));
    }
    if let Some(to) = filter.to {
        q = q.filter(measurements::measured_on.le(to));
    }
    if let Some(period) = &filter.period {
        q = q.filter(measurements::period.eq(period.clone()));
    }
    keyset!(q, measurements, page).select(MeasurementRow::as_select()).load(conn)
}

/// The live indicators with `code` of the organisation's live plans of `year`.
pub fn of_year_by_code(conn: &mut PgConnection, org: Uuid, year: i32, code: &str) -> QueryResult<Vec<Uuid>> {
    use crate::db::schema::plans;
    indicators::table
        .inner_join(plans::table)
        .filter(indicators::organization_id.eq(org))
        .filter(indicators::code.eq(code))
        .filter(indicators::deleted_at.is_null())
        .filter(plans::deleted_at.is_null())
        .filter(plans::year.eq(year))
        .select(indicators::id)
        .load(conn)
}

/// The live indicator with `code` of a plan.
pub fn of_plan_by_code(conn: &mut PgConnection, plan: Uuid, code: &str) -> QueryResult<Option<Uuid>> {
    indicators::table
        .filter(indicators::plan_id.eq(plan))
        .filter(indicators::code.eq(code))
        .filter(indicators::deleted_at.is_null())
        .select(indicators::id)
        .first(conn)
        .optional()
}
