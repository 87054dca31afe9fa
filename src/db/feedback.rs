use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::{
    db::page::PageRequest,
    db::{
        locks, lower,
        plans::{f_unaccent, search_patterns},
        schema::{
            feedback, feedback_answers, feedback_categories, feedback_counters, feedback_filings, feedback_history,
            feedback_locations, feedback_publications, feedback_senders, holidays, national_days,
        },
    },
    domain::{
        calendar::{DayKind, WorkingCalendar},
        feedback::{FeedbackChannel, FeedbackKind, FeedbackStatus, Satisfaction, SenderType},
    },
    keyset, org_scoped_fns,
};

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = feedback_categories)]
pub struct CategoryRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub code: String,
    pub name: String,
    pub default_department_id: Option<Uuid>,
    pub deadline_days: i32,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub retention_years: Option<i32>,
}

#[derive(Insertable)]
#[diesel(table_name = feedback_categories)]
pub struct NewCategory {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub code: String,
    pub name: String,
    pub default_department_id: Option<Uuid>,
    pub deadline_days: i32,
    pub created_by: Option<Uuid>,
    pub retention_years: Option<i32>,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = feedback_categories)]
pub struct CategoryChanges {
    pub code: Option<String>,
    pub name: Option<String>,
    pub default_department_id: Option<Option<Uuid>>,
    pub deadline_days: Option<i32>,
    pub retention_years: Option<Option<i32>>,
}

pub mod categories {
    use diesel::prelude::*;
    use uuid::Uuid;

    use super::{CategoryChanges, CategoryRow, NewCategory};
    use crate::{db::page::PageRequest, db::schema::feedback_categories, keyset, org_scoped_fns};

    org_scoped_fns!(feedback_categories, CategoryRow, CategoryChanges, "feedback_category");

    pub fn list(conn: &mut PgConnection, org: Option<Uuid>, page: &PageRequest) -> QueryResult<Vec<CategoryRow>> {
        let mut q = feedback_categories::table.into_boxed();
        if let Some(org) = org {
            q = q.filter(feedback_categories::organization_id.eq(org));
        }
        keyset!(q, feedback_categories, page).select(CategoryRow::as_select()).load(conn)
    }

    /// The organisation's live categories, by code.
    pub fn all_of(conn: &mut PgConnection, org: Uuid) -> QueryResult<Vec<CategoryRow>> {
        feedback_categories::table
            .filter(feedback_categories::organization_id.eq(org))
            .filter(feedback_categories::deleted_at.is_null())
            .order(feedback_categories::code)
            .select(CategoryRow::as_select())
            .load(conn)
    }

    pub fn insert(conn: &mut PgConnection, new: &NewCategory) -> QueryResult<CategoryRow> {
        diesel::insert_into(feedback_categories::table)
            .values(new)
            .returning(CategoryRow::as_returning())
            .get_result(conn)
    }
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = holidays)]
pub struct HolidayRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub day: NaiveDate,
    pub name: String,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub kind: DayKind,
}

pub mod holiday_fns {
    use chrono::NaiveDate;
    use diesel::prelude::*;
    use uuid::Uuid;

    use super::HolidayRow;
    use crate::{db::page::PageRequest, db::schema::holidays, domain::calendar::DayKind, keyset, org_scoped_fns};

    org_scoped_fns!(holidays, HolidayRow, "holiday");

    pub fn list(
        conn: &mut PgConnection,
        org: Option<Uuid>,
        range: (Option<NaiveDate>, Option<NaiveDate>),
        page: &PageRequest,
    ) -> QueryResult<Vec<HolidayRow>> {
        let mut q = holidays::table.into_boxed();
        if let Some(org) = org {
            q = q.filter(holidays::organization_id.eq(org));
        }
        if let Some(from) = range.0 {
            q = q.filter(holidays::day.ge(from));
        }
        if let Some(to) = range.1 {
            q = q.filter(holidays::day.le(to));
        }
        keyset!(q, holidays, page).select(HolidayRow::as_select()).load(conn)
    }

    pub fn insert(
        conn: &mut PgConnection,
        id: Uuid,
        org: Uuid,
        (day, kind): (NaiveDate, DayKind),
        name: &str,
        by: Uuid,
    ) -> QueryResult<HolidayRow> {
        diesel::insert_into(holidays::table)
            .values((
                holidays::id.eq(id),
                holidays::organization_id.eq(org),
                holidays::day.eq(day),
                holidays::kind.eq(kind),
                holidays::name.eq(name),
                holidays::created_by.eq(by),
            ))
            .returning(HolidayRow::as_returning())
            .get_result(conn)
    }

    /// The live holiday of `org` on `day`.
    pub fn on(conn: &mut PgConnection, org: Uuid, day: NaiveDate) -> QueryResult<HolidayRow> {
        holidays::table
            .filter(holidays::organization_id.eq(org))
            .filter(holidays::day.eq(day))
            .filter(holidays::deleted_at.is_null())
            .select(HolidayRow::as_select())
            .first(conn)
    }
}

/// A day of the national calendar.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = national_days)]
pub struct NationalDayRow {
    pub day: NaiveDate,
    pub kind: DayKind,
    pub name: String,
    pub basis: String,
    pub source: String,
}

/// The national days in `[from, to]`, and the organisation's own, by day.
pub fn calendar_between(
    conn: &mut PgConnection,
    org: Uuid,
    (from, to): (NaiveDate, NaiveDate),
) -> QueryResult<(Vec<NationalDayRow>, Vec<HolidayRow>)> {
    let national = national_days::table
        .filter(national_days::day.between(from, to))
        .order(national_days::day)
        .select(NationalDayRow::as_select())
        .load(conn)?;
    let own = holidays::table
        .filter(holidays::organization_id.eq(org))
        .filter(holidays::day.between(from, to))
        .filter(holidays::deleted_at.is_null())
        .order(holidays::day)
        .select(HolidayRow::as_select())
        .load(conn)?;
    Ok((national, own))
}

/// Whether the national calendar has `day` off.
pub fn national_day_off(conn: &mut PgConnection, day: NaiveDate) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        national_days::table.filter(national_days::day.eq(day)).filter(national_days::kind.eq(DayKind::DayOff)),
    ))
    .get_result(conn)
}

/// The working calendar of `org` from `from` on (a deadline never reaches two years
/// past): the national days and the organisation's own.
pub fn working_calendar(conn: &mut PgConnection, org: Uuid, from: NaiveDate) -> QueryResult<WorkingCalendar> {
    let (national, own) = calendar_between(conn, org, (from, from + chrono::Duration::days(800)))?;
    Ok(WorkingCalendar::new(national.iter().map(|n| (n.day, n.kind)), own.iter().map(|h| (h.day, h.kind))))
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = feedback)]
pub struct FeedbackRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub code: String,
    pub received_at: DateTime<Utc>,
    pub channel: FeedbackChannel,
    pub kind: FeedbackKind,
    pub sender_type: SenderType,
    pub anonymous: bool,
    pub subject: String,
    pub content: String,
    pub category_id: Option<Uuid>,
    pub plan_item_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub deadline_on: NaiveDate,
    pub deadline_reason: Option<String>,
    pub external_reference: Option<String>,
    pub source_client_id: Option<Uuid>,
    pub status: FeedbackStatus,
    pub status_reason: Option<String>,
    pub forwarded_to: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub satisfaction: Option<Satisfaction>,
    pub satisfaction_channel: Option<FeedbackChannel>,
    pub satisfaction_at: Option<DateTime<Utc>>,
    pub internal_note: Option<String>,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub escalated_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = feedback)]
pub struct NewFeedback {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub code: String,
    pub received_at: DateTime<Utc>,
    pub channel: FeedbackChannel,
    pub kind: FeedbackKind,
    pub sender_type: SenderType,
    pub anonymous: bool,
    pub subject: String,
    pub content: String,
    pub category_id: Option<Uuid>,
    pub plan_item_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub deadline_on: NaiveDate,
    pub deadline_reason: Option<String>,
    pub external_reference: Option<String>,
    pub source_client_id: Option<Uuid>,
    pub internal_note: Option<String>,
    pub created_by: Option<Uuid>,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = feedback)]
pub struct FeedbackChanges {
    pub subject: Option<String>,
    pub content: Option<String>,
    pub kind: Option<FeedbackKind>,
    pub category_id: Option<Option<Uuid>>,
    pub plan_item_id: Option<Option<Uuid>>,
    pub department_id: Option<Option<Uuid>>,
    pub deadline_on: Option<NaiveDate>,
    pub deadline_reason: Option<Option<String>>,
    pub status: Option<FeedbackStatus>,
    pub status_reason: Option<Option<String>>,
    pub forwarded_to: Option<Option<String>>,
    pub answered_at: Option<Option<DateTime<Utc>>>,
    pub closed_at: Option<Option<DateTime<Utc>>>,
    pub satisfaction: Option<Option<Satisfaction>>,
    pub satisfaction_channel: Option<Option<FeedbackChannel>>,
    pub satisfaction_at: Option<Option<DateTime<Utc>>>,
    pub internal_note: Option<Option<String>>,
}

org_scoped_fns!(feedback, FeedbackRow, FeedbackChanges, "feedback");

#[derive(Queryable, Selectable, Insertable, AsChangeset, Clone, Debug)]
#[diesel(table_name = feedback_senders, treat_none_as_null = true)]
pub struct SenderRow {
    pub feedback_id: Uuid,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    /// What the sender consented to be told by (`email`, `sms`).
    pub notify_by: Vec<String>,
    /// Processing restricted at the sender's request (Decree 13/2023): shown masked to
    /// everyone, told nothing. Set only by `db::privacy`.
    #[diesel(skip_insertion, skip_update)]
    pub restricted_at: Option<DateTime<Utc>>,
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = feedback_publications)]
pub struct PublicationRow {
    pub feedback_id: Uuid,
    pub organization_id: Uuid,
    pub summary: String,
    pub published_by: Option<Uuid>,
    pub published_at: DateTime<Utc>,
}

/// Where the matter is: a point, a written address, or both.
#[derive(Queryable, Selectable, Insertable, AsChangeset, Clone, Debug, PartialEq)]
#[diesel(table_name = feedback_locations, treat_none_as_null = true)]
pub struct LocationRow {
    pub feedback_id: Uuid,
    pub organization_id: Uuid,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub address: Option<String>,
}

/// A record with its sender (none if anonymous), publication (none if not public) and
/// place (none if not given).
#[derive(Clone, Debug)]
pub struct FeedbackRecord {
    pub row: FeedbackRow,
    pub sender: Option<SenderRow>,
    pub publication: Option<PublicationRow>,
    pub location: Option<LocationRow>,
    /// The record it was merged into (status `merged`).
    pub merged_into: Option<Uuid>,
    /// Whether its category and department came from triage's suggestion.
    pub assigned_by_suggestion: bool,
}

/// What triage adds to records: the merge and whether routing was by suggestion.
#[derive(diesel::QueryableByName)]
struct Triaged {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
    merged_into: Option<Uuid>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    assigned_by_suggestion: bool,
}

fn triaged(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<HashMap<Uuid, (Option<Uuid>, bool)>> {
    let rows: Vec<Triaged> = diesel::sql_query(
        "SELECT r.id, m.parent_id AS merged_into, coalesce(t.assigned_by_suggestion, false) AS assigned_by_suggestion
         FROM unnest($1::uuid[]) AS r(id)
         LEFT JOIN feedback_merges m ON m.feedback_id = r.id
         LEFT JOIN feedback_triage t ON t.feedback_id = r.id
         WHERE m.feedback_id IS NOT NULL OR t.assigned_by_suggestion",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(ids)
    .load(conn)?;
    Ok(rows.into_iter().map(|t| (t.id, (t.merged_into, t.assigned_by_suggestion))).collect())
}

impl FeedbackRecord {
    pub fn load_all(conn: &mut PgConnection, rows: Vec<FeedbackRow>) -> QueryResult<Vec<Self>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let mut senders: HashMap<Uuid, SenderRow> = feedback_senders::table
            .filter(feedback_senders::feedback_id.eq_any(&ids))
            .select(SenderRow::as_select())
            .load(conn)?
            .into_iter()
            .map(|s| (s.feedback_id, s))
            .collect();
        let mut publications: HashMap<Uuid, PublicationRow> = feedback_publications::table
            .filter(feedback_publications::feedback_id.eq_any(&ids))
            .select(PublicationRow::as_select())
            .load(conn)?
            .into_iter()
            .map(|p| (p.feedback_id, p))
            .collect();
        let mut locations: HashMap<Uuid, LocationRow> = feedback_locations::table
            .filter(feedback_locations::feedback_id.eq_any(&ids))
            .select(LocationRow::as_select())
            .load(conn)?
            .into_iter()
            .map(|l| (l.feedback_id, l))
            .collect();
        let mut triaged = triaged(conn, &ids)?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let (merged_into, assigned_by_suggestion) = triaged.remove(&row.id).unwrap_or_default();
                Self {
                    sender: senders.remove(&row.id),
                    publication: publications.remove(&row.id),
                    location: locations.remove(&row.id),
                    merged_into,
                    assigned_by_suggestion,
                    row,
                }
            })
            .collect())
    }

    /// The same record with another row (its sender, publication and place kept).
    pub fn with_row(&self, row: FeedbackRow) -> Self {
        Self { row, ..self.clone() }
    }
}

/// The columns of `Joined`, from `feedback` left-joined to its sender and publication.
macro_rules! joined_columns {
    () => {
        (
            FeedbackRow::as_select(),
            Option::<SenderRow>::as_select(),
            Option::<PublicationRow>::as_select(),
            Option::<LocationRow>::as_select(),
        )
    };
}

// One record with its sender, publication and place in one joined query.
crate::composite_record!(FeedbackRecord, "feedback", |conn, id, org| {
    let mut q = feedback::table
        .left_join(feedback_senders::table)
        .left_join(feedback_publications::table)
        .left_join(feedback_locations::table)
        .filter(feedback::id.eq(id))
        .filter(feedback::deleted_at.is_null())
        .into_boxed();
    if let Some(org) = org {
        q = q.filter(feedback::organization_id.eq(org));
    }
    let mut record = q.select(joined_columns!()).first::<Joined>(conn).map(FeedbackRecord::from)?;
    if let Some((merged_into, by_suggestion)) = triaged(conn, &[record.row.id])?.remove(&record.row.id) {
        (record.merged_into, record.assigned_by_suggestion) = (merged_into, by_suggestion);
    }
    Ok(record)
});

/// A feedback row with its sender, publication and place, as a left join gives them.
type Joined = (FeedbackRow, Option<SenderRow>, Option<PublicationRow>, Option<LocationRow>);

impl From<Joined> for FeedbackRecord {
    fn from((row, sender, publication, location): Joined) -> Self {
        Self { row, sender, publication, location, merged_into: None, assigned_by_suggestion: false }
    }
}

/// Sets the record's place (`None`: it has none).
pub fn set_location(conn: &mut PgConnection, id: Uuid, location: Option<&LocationRow>) -> QueryResult<()> {
    match location {
        Some(l) => diesel::insert_into(feedback_locations::table)
            .values(l)
            .on_conflict(feedback_locations::feedback_id)
            .do_update()
            .set(l)
            .execute(conn)?,
        None => diesel::delete(feedback_locations::table.find(id)).execute(conn)?,
    };
    Ok(())
}

/// Records with a point within `radius_m` metres of (`lat`, `long`): the earth box
/// through the GiST index, then the exact great-circle distance.
fn near(
    lat: f64,
    long: f64,
    radius_m: f64,
) -> diesel::expression::SqlLiteral<diesel::sql_types::Bool, impl diesel::query_builder::QueryFragment<diesel::pg::Pg>>
{
    use diesel::sql_types::Float8;
    diesel::dsl::sql::<diesel::sql_types::Bool>(
        "feedback.id IN (SELECT l.feedback_id FROM feedback_locations l WHERE l.lat IS NOT NULL AND earth_box(ll_to_earth(",
    )
    .bind::<Float8, _>(lat)
    .sql(", ")
    .bind::<Float8, _>(long)
    .sql("), ")
    .bind::<Float8, _>(radius_m)
    .sql(") @> feedback_earth(l.lat, l.long) AND earth_distance(ll_to_earth(")
    .bind::<Float8, _>(lat)
    .sql(", ")
    .bind::<Float8, _>(long)
    .sql("), feedback_earth(l.lat, l.long)) <= ")
    .bind::<Float8, _>(radius_m)
    .sql(")")
}

#[derive(Default, Clone)]
pub struct Filter {
    pub organization_id: Option<Uuid>,
    /// A service client sees the records it sent.
    pub source_client_id: Option<Uuid>,
    pub status: Option<FeedbackStatus>,
    pub channel: Option<FeedbackChannel>,
    pub kind: Option<FeedbackKind>,
    pub category_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    /// `(overdue?, today in Vietnam)`.
    pub overdue: Option<(bool, NaiveDate)>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub q: Option<String>,
    /// `(lat, long, radius in metres)`.
    pub near: Option<(f64, f64, f64)>,
}

const OPEN: [FeedbackStatus; 3] = [FeedbackStatus::Received, FeedbackStatus::Accepted, FeedbackStatus::InProgress];

pub fn list(conn: &mut PgConnection, filter: &Filter, page: &PageRequest) -> QueryResult<Vec<FeedbackRecord>> {
    let mut q = feedback::table.into_boxed();
    if let Some(org) = filter.organization_id {
        q = q.filter(feedback::organization_id.eq(org));
    }
    if let Some(client) = filter.source_client_id {
        q = q.filter(feedback::source_client_id.eq(client));
    }
    if let Some(status) = filter.status {
        q = q.filter(feedback::status.eq(status));
    }
    if let Some(channel) = filter.channel {
        q = q.filter(feedback::channel.eq(channel));
    }
    if let Some(kind) = filter.kind {
        q = q.filter(feedback::kind.eq(kind));
    }
    if let Some(category) = filter.category_id {
        q = q.filter(feedback::category_id.eq(category));
    }
    if let Some(dept) = filter.department_id {
        q = q.filter(feedback::department_id.eq(dept));
    }
    match filter.overdue {
        Some((true, today)) => q = q.filter(feedback::deadline_on.lt(today)).filter(feedback::status.eq_any(OPEN)),
        Some((false, today)) => q = q.filter(feedback::deadline_on.ge(today).or(feedback::status.ne_all(OPEN))),
        None => {}
    }
    if let Some(from) = filter.from {
        q = q.filter(feedback::received_at.ge(from));
    }
    if let Some(to) = filter.to {
        q = q.filter(feedback::received_at.lt(to));
    }
    for pattern in filter.q.as_deref().map(search_patterns).unwrap_or_default() {
        // `search` (generated: the unaccented code, subject and content) is left out of
        // `schema.rs`, which holds 32 columns a table at most.
        let search = diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Text>>("feedback.search");
        q = q.filter(search.like(lower(f_unaccent(pattern)).nullable()));
    }
    if let Some((lat, long, radius)) = filter.near {
        q = q.filter(near(lat, long, radius));
    }
    // The page first, then its senders and publications by id: joined in one query,
    // PostgreSQL merge-joins the senders' whole index up to a deep page.
    let rows = keyset!(q, feedback, page).select(FeedbackRow::as_select()).load(conn)?;
    FeedbackRecord::load_all(conn, rows)
}

/// The next number of the organisation's year, taken under the counter row's lock: the
/// transaction that takes it either commits with it or gives it back.
pub fn next_number(conn: &mut PgConnection, org: Uuid, year: i32) -> QueryResult<i32> {
    diesel::insert_into(feedback_counters::table)
        .values((
            feedback_counters::organization_id.eq(org),
            feedback_counters::year.eq(year),
            feedback_counters::last_number.eq(1),
        ))
        .on_conflict((feedback_counters::organization_id, feedback_counters::year))
        .do_update()
        .set(feedback_counters::last_number.eq(feedback_counters::last_number + 1))
        .returning(feedback_counters::last_number)
        .get_result(conn)
}

pub fn insert(conn: &mut PgConnection, new: &NewFeedback) -> QueryResult<FeedbackRow> {
    diesel::insert_into(feedback::table).values(new).returning(FeedbackRow::as_returning()).get_result(conn)
}

pub fn set_sender(conn: &mut PgConnection, sender: &SenderRow) -> QueryResult<()> {
    diesel::insert_into(feedback_senders::table)
        .values(sender)
        .on_conflict(feedback_senders::feedback_id)
        .do_update()
        .set(sender)
        .execute(conn)
        .map(|_| ())
}

/// Keeps what a record with an external reference was filed from.
pub fn record_filing(conn: &mut PgConnection, id: Uuid, sha256: &str) -> QueryResult<()> {
    diesel::insert_into(feedback_filings::table)
        .values((feedback_filings::feedback_id.eq(id), feedback_filings::sha256.eq(sha256)))
        .execute(conn)
        .map(drop)
}

/// The record filed with this external reference by the same source (the service
/// client, or with `None` the organisation's staff), deleted or not, and the digest of
/// what it was filed from.
pub fn by_external_reference(
    conn: &mut PgConnection,
    org: Uuid,
    client: Option<Uuid>,
    reference: &str,
) -> QueryResult<Option<(FeedbackRow, Option<String>)>> {
    let q = feedback::table
        .left_join(feedback_filings::table)
        .filter(feedback::organization_id.eq(org))
        .filter(feedback::external_reference.eq(reference))
        .select((FeedbackRow::as_select(), feedback_filings::sha256.nullable()));
    match client {
        Some(client) => q.filter(feedback::source_client_id.eq(client)).first(conn).optional(),
        None => q.filter(feedback::source_client_id.is_null()).first(conn).optional(),
    }
}

/// Holds the external reference of a source until the transaction ends, so that
/// concurrent resends file it once.
pub fn lock_reference(conn: &mut PgConnection, org: Uuid, client: Option<Uuid>, reference: &str) -> QueryResult<()> {
    let source = client.unwrap_or_default();
    locks::lock(conn, locks::id(b"external_reference", &[org.as_bytes(), source.as_bytes(), reference.as_bytes()]))
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = feedback_history)]
pub struct HistoryRow {
    pub id: Uuid,
    pub feedback_id: Uuid,
    pub from_status: Option<FeedbackStatus>,
    pub to_status: FeedbackStatus,
    pub note: Option<String>,
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub actor_name: Option<String>,
    pub at: DateTime<Utc>,
}

#[allow(clippy::too_many_arguments, reason = "one row's columns")]
/// The working days a category gives to answer, if it is live.
pub fn category_deadline_days(conn: &mut PgConnection, category: Uuid) -> QueryResult<Option<u32>> {
    use crate::db::schema::feedback_categories as c;
    let days: Option<i32> = c::table
        .filter(c::id.eq(category))
        .filter(c::deleted_at.is_null())
        .select(c::deadline_days)
        .first(conn)
        .optional()?;
    Ok(days.and_then(|d| u32::try_from(d).ok()))
}

pub fn add_history(
    conn: &mut PgConnection,
    feedback_id: Uuid,
    from: Option<FeedbackStatus>,
    to: FeedbackStatus,
    note: Option<&str>,
    actor: &crate::db::audit::Actor,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(feedback_history::table)
        .values((
            feedback_history::id.eq(Uuid::now_v7()),
            feedback_history::feedback_id.eq(feedback_id),
            feedback_history::from_status.eq(from),
            feedback_history::to_status.eq(to),
            feedback_history::note.eq(note),
            feedback_history::actor_kind.eq(actor.kind),
            feedback_history::actor_id.eq(actor.id),
            feedback_history::actor_name.eq(actor.name.as_deref()),
            feedback_history::at.eq(at),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn history(conn: &mut PgConnection, feedback_id: Uuid) -> QueryResult<Vec<HistoryRow>> {
    feedback_history::table
        .filter(feedback_history::feedback_id.eq(feedback_id))
        .order((feedback_history::at, feedback_history::id))
        .select(HistoryRow::as_select())
        .load(conn)
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = feedback_answers)]
pub struct AnswerRow {
    pub id: Uuid,
    pub feedback_id: Uuid,
    pub organization_id: Uuid,
    pub text: String,
    pub attachments: Vec<Option<String>>,
    pub answered_by: Option<Uuid>,
    pub answered_at: DateTime<Utc>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

pub fn add_answer(
    conn: &mut PgConnection,
    row: &FeedbackRow,
    text: &str,
    attachments: &[String],
    by: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<AnswerRow> {
    diesel::insert_into(feedback_answers::table)
        .values((
            feedback_answers::id.eq(Uuid::now_v7()),
            feedback_answers::feedback_id.eq(row.id),
            feedback_answers::organization_id.eq(row.organization_id),
            feedback_answers::text.eq(text),
            feedback_answers::attachments.eq(attachments.iter().cloned().map(Some).collect::<Vec<_>>()),
            feedback_answers::answered_by.eq(by),
            feedback_answers::answered_at.eq(at),
        ))
        .returning(AnswerRow::as_returning())
        .get_result(conn)
}

/// The answers of these records, oldest first.
pub fn answers(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<AnswerRow>> {
    feedback_answers::table
        .filter(feedback_answers::feedback_id.eq_any(ids))
        .filter(feedback_answers::deleted_at.is_null())
        .order((feedback_answers::feedback_id, feedback_answers::answered_at, feedback_answers::id))
        .select(AnswerRow::as_select())
        .load(conn)
}

pub fn publish(
    conn: &mut PgConnection,
    row: &FeedbackRow,
    summary: &str,
    by: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(feedback_publications::table)
        .values((
            feedback_publications::feedback_id.eq(row.id),
            feedback_publications::organization_id.eq(row.organization_id),
            feedback_publications::summary.eq(summary),
            feedback_publications::published_by.eq(by),
            feedback_publications::published_at.eq(at),
        ))
        .on_conflict(feedback_publications::feedback_id)
        .do_update()
        .set((
            feedback_publications::summary.eq(summary),
            feedback_publications::published_by.eq(by),
            feedback_publications::published_at.eq(at),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn unpublish(conn: &mut PgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::delete(feedback_publications::table.find(id)).execute(conn)
}

/// The published records of an organisation, in id order.
pub fn published(conn: &mut PgConnection, org: Uuid, page: &PageRequest) -> QueryResult<Vec<FeedbackRecord>> {
    use crate::db::page::Position;
    let mut q = feedback::table
        .inner_join(feedback_publications::table)
        .filter(feedback::organization_id.eq(org))
        .filter(feedback::deleted_at.is_null())
        .into_boxed();
    if let Some(Position::Id(after)) = page.after {
        q = q.filter(feedback::id.gt(after));
    }
    let rows: Vec<FeedbackRow> =
        q.order(feedback::id.asc()).limit(page.fetch()).select(FeedbackRow::as_select()).load(conn)?;
    FeedbackRecord::load_all(conn, rows)
}

/// Published records with this code (codes are per organisation): at most two, enough
/// to tell whether the code alone is ambiguous.
pub fn published_by_code(conn: &mut PgConnection, code: &str, org: Option<Uuid>) -> QueryResult<Vec<FeedbackRecord>> {
    let mut q = feedback::table
        .inner_join(feedback_publications::table)
        .filter(feedback::code.eq(code.to_uppercase()))
        .filter(feedback::deleted_at.is_null())
        .into_boxed();
    if let Some(org) = org {
        q = q.filter(feedback::organization_id.eq(org));
    }
    let rows: Vec<FeedbackRow> = q.order(feedback::id).limit(2).select(FeedbackRow::as_select()).load(conn)?;
    FeedbackRecord::load_all(conn, rows)
}

/// What an Open311 `GET requests` asks for (`routes::open311`).
#[derive(Default, Debug)]
pub struct Open311Filter {
    pub organization_id: Uuid,
    /// A service client that files reads the records it sent.
    pub source_client_id: Option<Uuid>,
    /// Without credentials: published records only.
    pub published_only: bool,
    /// Codes (`service_request_id`); when given, the other filters but these are ignored.
    pub codes: Vec<String>,
    pub category_ids: Option<Vec<Uuid>>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub statuses: Option<Vec<FeedbackStatus>>,
    pub updated_after: Option<DateTime<Utc>>,
    pub offset: i64,
    pub limit: i64,
}

/// Records for Open311: by code, or newest received first (oldest change first with
/// `updated_after`, so a consumer can follow the changes).
pub fn open311(conn: &mut PgConnection, f: &Open311Filter) -> QueryResult<Vec<FeedbackRecord>> {
    let mut q = feedback::table
        .filter(feedback::organization_id.eq(f.organization_id))
        .filter(feedback::deleted_at.is_null())
        .into_boxed();
    if let Some(client) = f.source_client_id {
        q = q.filter(feedback::source_client_id.eq(client));
    }
    if f.published_only {
        q = q.filter(diesel::dsl::exists(
            feedback_publications::table.filter(feedback_publications::feedback_id.eq(feedback::id)),
        ));
    }
    if !f.codes.is_empty() {
        q = q.filter(feedback::code.eq_any(&f.codes));
    } else {
        if let Some(categories) = &f.category_ids {
            q = q.filter(feedback::category_id.eq_any(categories));
        }
        if let Some(from) = f.from {
            q = q.filter(feedback::received_at.ge(from));
        }
        if let Some(to) = f.to {
            q = q.filter(feedback::received_at.le(to));
        }
        if let Some(statuses) = &f.statuses {
            q = q.filter(feedback::status.eq_any(statuses));
        }
        if let Some(after) = f.updated_after {
            q = q.filter(feedback::updated_at.gt(after));
        }
    }
    q = if f.updated_after.is_some() && f.codes.is_empty() {
        q.order((feedback::updated_at.asc(), feedback::id.asc()))
    } else {
        q.order((feedback::received_at.desc(), feedback::id.desc()))
    };
    let rows = q.offset(f.offset).limit(f.limit).select(FeedbackRow::as_select()).load(conn)?;
    FeedbackRecord::load_all(conn, rows)
}

/// The codes of these records.
pub fn codes_of(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<(Uuid, String)>> {
    feedback::table.filter(feedback::id.eq_any(ids)).select((feedback::id, feedback::code)).load(conn)
}

/// Which of these records are live and published.
pub fn published_ids(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<Uuid>> {
    feedback::table
        .inner_join(feedback_publications::table)
        .filter(feedback::id.eq_any(ids))
        .filter(feedback::deleted_at.is_null())
        .select(feedback::id)
        .load(conn)
}

/// The categories with these ids.
pub fn categories_by_id(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<CategoryRow>> {
    feedback_categories::table.filter(feedback_categories::id.eq_any(ids)).select(CategoryRow::as_select()).load(conn)
}

/// `(satisfied, neutral, dissatisfied)` among records received in `[from, to)`.
pub fn satisfaction_counts(
    conn: &mut PgConnection,
    org: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<(i64, i64, i64)> {
    let rows: Vec<(Option<Satisfaction>, i64)> = feedback::table
        .filter(feedback::organization_id.eq(org))
        .filter(feedback::deleted_at.is_null())
        .filter(feedback::received_at.ge(from))
        .filter(feedback::received_at.lt(to))
        .filter(feedback::satisfaction.is_not_null())
        .group_by(feedback::satisfaction)
        .select((feedback::satisfaction, diesel::dsl::count_star()))
        .load(conn)?;
    let count = |s: Satisfaction| rows.iter().filter(|(r, _)| *r == Some(s)).map(|(_, n)| *n).sum();
    Ok((count(Satisfaction::Satisfied), count(Satisfaction::Neutral), count(Satisfaction::Dissatisfied)))
}
