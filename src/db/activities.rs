use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::{
    db::page::PageRequest,
    db::{
        lower,
        plans::{f_unaccent, search_patterns},
        schema::{activities, activity_attendees, activity_items, departments, evidence, users},
    },
    domain::{
        activities::ActivityStatus,
        plans::{Audience, Channel},
    },
    keyset, org_scoped_fns,
};

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = activities)]
pub struct ActivityRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub plan_id: Uuid,
    pub assignment_id: Option<Uuid>,
    pub department_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub channel: Channel,
    pub audience: Audience,
    pub held_from: DateTime<Utc>,
    pub held_to: Option<DateTime<Utc>>,
    pub place: Option<String>,
    pub participant_count: Option<i32>,
    pub links: Vec<Option<String>>,
    pub status: ActivityStatus,
    pub return_reason: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub verified_by: Option<Uuid>,
    pub verified_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub document_id: Option<Uuid>,
}

#[derive(Insertable)]
#[diesel(table_name = activities)]
pub struct NewActivity {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub plan_id: Uuid,
    pub assignment_id: Option<Uuid>,
    pub department_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub channel: Channel,
    pub audience: Audience,
    pub held_from: DateTime<Utc>,
    pub held_to: Option<DateTime<Utc>>,
    pub place: Option<String>,
    pub participant_count: Option<i32>,
    pub links: Vec<Option<String>>,
    pub created_by: Option<Uuid>,
    pub document_id: Option<Uuid>,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = activities)]
pub struct ActivityChanges {
    pub assignment_id: Option<Option<Uuid>>,
    pub department_id: Option<Uuid>,
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub channel: Option<Channel>,
    pub audience: Option<Audience>,
    pub held_from: Option<DateTime<Utc>>,
    pub held_to: Option<Option<DateTime<Utc>>>,
    pub place: Option<Option<String>>,
    pub participant_count: Option<Option<i32>>,
    pub links: Option<Vec<Option<String>>>,
    pub status: Option<ActivityStatus>,
    pub return_reason: Option<Option<String>>,
    pub submitted_at: Option<Option<DateTime<Utc>>>,
    pub verified_by: Option<Option<Uuid>>,
    pub verified_at: Option<Option<DateTime<Utc>>>,
    pub document_id: Option<Option<Uuid>>,
}

#[derive(Default)]
pub struct Filter {
    pub organization_id: Option<Uuid>,
    pub plan_id: Option<Uuid>,
    pub plan_item_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub channel: Option<Channel>,
    pub audience: Option<Audience>,
    pub status: Option<ActivityStatus>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub q: Option<String>,
}

org_scoped_fns!(activities, ActivityRow, ActivityChanges, "activity");

/// An activity with the items it serves and the people who attended.
#[derive(Clone, Debug)]
pub struct ActivityRecord {
    pub row: ActivityRow,
    pub item_ids: Vec<Uuid>,
    pub attendee_ids: Vec<Uuid>,
}

impl ActivityRecord {
    pub fn load_all(conn: &mut PgConnection, rows: Vec<ActivityRow>) -> QueryResult<Vec<Self>> {
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        type Links = Vec<(Uuid, Uuid)>;
        let (items, people): (Links, Links) = if ids.is_empty() {
            Default::default()
        } else {
            (
                activity_items::table
                    .filter(activity_items::activity_id.eq_any(&ids))
                    .order((activity_items::activity_id, activity_items::position))
                    .select((activity_items::activity_id, activity_items::plan_item_id))
                    .load(conn)?,
                activity_attendees::table
                    .filter(activity_attendees::activity_id.eq_any(&ids))
                    .order((activity_attendees::activity_id, activity_attendees::user_id))
                    .select((activity_attendees::activity_id, activity_attendees::user_id))
                    .load(conn)?,
            )
        };
        Ok(rows
            .into_iter()
            .map(|row| {
                let of = |pairs: &[(Uuid, Uuid)]| pairs.iter().filter(|(a, _)| *a == row.id).map(|(_, x)| *x).collect();
                Self { item_ids: of(&items), attendee_ids: of(&people), row }
            })
            .collect())
    }
}

crate::composite_record!(ActivityRecord, "activity");

pub fn list(conn: &mut PgConnection, filter: &Filter, page: &PageRequest) -> QueryResult<Vec<ActivityRecord>> {
    let mut q = activities::table.into_boxed();
    if let Some(org) = filter.organization_id {
        q = q.filter(activities::organization_id.eq(org));
    }
    if let Some(plan) = filter.plan_id {
        q = q.filter(activities::plan_id.eq(plan));
    }
    if let Some(item) = filter.plan_item_id {
        q = q.filter(diesel::dsl::exists(
            activity_items::table
                .filter(activity_items::activity_id.eq(activities::id))
                .filter(activity_items::plan_item_id.eq(item)),
        ));
    }
    if let Some(dept) = filter.department_id {
        q = q.filter(activities::department_id.eq(dept));
    }
    if let Some(channel) = filter.channel {
        q = q.filter(activities::channel.eq(channel));
    }
    if let Some(audience) = filter.audience {
        q = q.filter(activities::audience.eq(audience));
    }
    if let Some(status) = filter.status {
        q = q.filter(activities::status.eq(status));
    }
    if let Some(from) = filter.from {
        q = q.filter(activities::held_from.ge(from));
    }
    if let Some(to) = filter.to {
        q = q.filter(activities::held_from.lt(to));
    }
    for pattern in filter.q.as_deref().map(search_patterns).unwrap_or_default() {
        q = q.filter(activities::search.like(lower(f_unaccent(pattern)).nullable()));
    }
    let rows = keyset!(q, activities, page).select(ActivityRow::as_select()).load(conn)?;
    ActivityRecord::load_all(conn, rows)
}

pub fn insert(conn: &mut PgConnection, new: &NewActivity) -> QueryResult<ActivityRow> {
    diesel::insert_into(activities::table).values(new).returning(ActivityRow::as_returning()).get_result(conn)
}

pub fn set_items(conn: &mut PgConnection, activity: Uuid, items: &[Uuid]) -> QueryResult<()> {
    diesel::delete(activity_items::table.filter(activity_items::activity_id.eq(activity))).execute(conn)?;
    let rows: Vec<_> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            (
                activity_items::activity_id.eq(activity),
                activity_items::plan_item_id.eq(*item),
                activity_items::position.eq(i as i32),
            )
        })
        .collect();
    diesel::insert_into(activity_items::table).values(rows).execute(conn)?;
    Ok(())
}

pub fn set_attendees(conn: &mut PgConnection, activity: Uuid, people: &[Uuid]) -> QueryResult<()> {
    diesel::delete(activity_attendees::table.filter(activity_attendees::activity_id.eq(activity))).execute(conn)?;
    let rows: Vec<_> = people
        .iter()
        .map(|p| (activity_attendees::activity_id.eq(activity), activity_attendees::user_id.eq(*p)))
        .collect();
    diesel::insert_into(activity_attendees::table).values(rows).execute(conn)?;
    Ok(())
}

/// Which of `ids` are live activities of the plan.
pub fn of_plan(conn: &mut PgConnection, plan: Uuid, ids: &[Uuid]) -> QueryResult<HashSet<Uuid>> {
    Ok(activities::table
        .filter(activities::plan_id.eq(plan))
        .filter(activities::id.eq_any(ids))
        .filter(activities::deleted_at.is_null())
        .select(activities::id)
        .load::<Uuid>(conn)?
        .into_iter()
        .collect())
}

/// Which of `ids` are live people of the organisation.
pub fn people_of_org(conn: &mut PgConnection, org: Uuid, ids: &[Uuid]) -> QueryResult<HashSet<Uuid>> {
    Ok(users::table
        .filter(users::organization_id.eq(org))
        .filter(users::id.eq_any(ids))
        .filter(users::deleted_at.is_null())
        .select(users::id)
        .load::<Uuid>(conn)?
        .into_iter()
        .collect())
}

/// A person counted for staff reach.
#[derive(Queryable, Clone, Debug)]
pub struct StaffMember {
    pub id: Uuid,
    pub username: String,
    pub full_name: String,
    pub department_id: Option<Uuid>,
    pub department_code: Option<String>,
    pub department_name: Option<String>,
}

/// The organisation's active people, and which of them attended a verified activity of
/// the plan meant for staff, held on or before `as_of` (a date in Vietnam).
pub fn staff_reach(
    conn: &mut PgConnection,
    org: Uuid,
    plan: Uuid,
    as_of: NaiveDate,
) -> QueryResult<(Vec<StaffMember>, HashSet<Uuid>)> {
    let staff: Vec<StaffMember> = users::table
        .left_join(departments::table)
        .filter(users::organization_id.eq(org))
        .filter(users::active.eq(true))
        .filter(users::deleted_at.is_null())
        .order((departments::code.asc().nulls_last(), users::full_name, users::id))
        .select((
            users::id,
            users::username,
            users::full_name,
            users::department_id,
            departments::code.nullable(),
            departments::name.nullable(),
        ))
        .load(conn)?;
    // The end of `as_of` in Vietnam (UTC+7).
    let until = (as_of + chrono::Duration::days(1)).and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
        - chrono::Duration::hours(7);
    let reached: Vec<Uuid> = activity_attendees::table
        .inner_join(activities::table)
        .filter(activities::plan_id.eq(plan))
        .filter(activities::organization_id.eq(org))
        .filter(activities::status.eq(ActivityStatus::Verified))
        .filter(activities::audience.eq_any([Audience::Staff, Audience::All]))
        .filter(activities::deleted_at.is_null())
        .filter(activities::held_from.lt(until))
        .select(activity_attendees::user_id)
        .distinct()
        .load(conn)?;
    Ok((staff, reached.into_iter().collect()))
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = evidence)]
pub struct EvidenceRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub activity_id: Uuid,
    pub sha256: String,
    pub size_bytes: i64,
    pub content_type: String,
    pub file_name: String,
    pub caption: Option<String>,
    pub uploaded_by: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub shows_person: bool,
    pub erased_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = evidence)]
pub struct NewEvidence {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub activity_id: Uuid,
    pub sha256: String,
    pub size_bytes: i64,
    pub content_type: String,
    pub file_name: String,
    pub caption: Option<String>,
    pub uploaded_by: Option<Uuid>,
    pub shows_person: bool,
}

pub mod evidence_fns {
    use diesel::prelude::*;
    use uuid::Uuid;

    use super::EvidenceRow;
    use crate::{db::schema::evidence, org_scoped_fns};

    org_scoped_fns!(evidence, EvidenceRow, "evidence");
}

pub fn insert_evidence(conn: &mut PgConnection, new: &NewEvidence) -> QueryResult<EvidenceRow> {
    diesel::insert_into(evidence::table).values(new).returning(EvidenceRow::as_returning()).get_result(conn)
}

pub fn evidence_of(conn: &mut PgConnection, activity: Uuid, page: &PageRequest) -> QueryResult<Vec<EvidenceRow>> {
    let q = evidence::table.filter(evidence::activity_id.eq(activity)).into_boxed();
    keyset!(q, evidence, page).select(EvidenceRow::as_select()).load(conn)
}

/// Which of these content hashes any evidence row (even a deleted one) refers to.
pub fn referenced(conn: &mut PgConnection, hashes: &[String]) -> QueryResult<HashSet<String>> {
    Ok(evidence::table
        .filter(evidence::sha256.eq_any(hashes))
        .select(evidence::sha256)
        .distinct()
        .load::<String>(conn)?
        .into_iter()
        .collect())
}
