//! The province's roll-up of a plan (`reports::rollup`): the plans of the units below
//! that implement it, and their figures — each query over all units at once.
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    prelude::*,
    sql_query,
    sql_types::{Array, BigInt, Date, Nullable, Text, Timestamptz, Uuid as SqlUuid},
};
use uuid::Uuid;

type Ids = Array<SqlUuid>;

/// A unit below the parent plan's organisation: with its plan implementing the parent
/// plan, or (`plan_id` null) one of the organisation's own units without one.
#[derive(QueryableByName, Debug, Clone)]
pub struct Unit {
    #[diesel(sql_type = SqlUuid)]
    pub organization_id: Uuid,
    #[diesel(sql_type = Text)]
    pub code: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub reporting_periods: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub plan_id: Option<Uuid>,
}

/// The plans below `org` implementing `plan`, one row per plan; and `org`'s own direct
/// units that have none (`plan_id` null).
pub fn units(conn: &mut PgConnection, org: Uuid, plan: Uuid, below: &[Uuid]) -> QueryResult<Vec<Unit>> {
    sql_query(
        "SELECT o.id AS organization_id, o.code, o.name, o.reporting_periods, p.id AS plan_id
         FROM plans p JOIN organizations o ON o.id = p.organization_id
         WHERE p.parent_plan_id = $2 AND p.deleted_at IS NULL AND p.organization_id = ANY($3)
         UNION ALL
         SELECT o.id, o.code, o.name, o.reporting_periods, NULL
         FROM organizations o
         WHERE o.parent_id = $1 AND o.deleted_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM plans p WHERE p.organization_id = o.id AND p.parent_plan_id = $2
                           AND p.deleted_at IS NULL)
         ORDER BY code",
    )
    .bind::<SqlUuid, _>(org)
    .bind::<SqlUuid, _>(plan)
    .bind::<Ids, _>(below)
    .load(conn)
}

/// An item of a unit's plan that carries out an item of the parent plan, with its
/// assignments, verified activities and evidence in the period, and last report.
#[derive(QueryableByName, Debug, Clone)]
pub struct Implementation {
    #[diesel(sql_type = SqlUuid)]
    pub implements_item_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub item_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub plan_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub organization_id: Uuid,
    #[diesel(sql_type = Text)]
    pub reference: String,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = BigInt)]
    pub assignments: i64,
    #[diesel(sql_type = BigInt)]
    pub assignments_done: i64,
    #[diesel(sql_type = BigInt)]
    pub assignments_in_progress: i64,
    #[diesel(sql_type = BigInt)]
    pub verified_activities: i64,
    #[diesel(sql_type = BigInt)]
    pub evidence_files: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub last_report_period: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub last_report_at: Option<DateTime<Utc>>,
}

pub fn implementations(
    conn: &mut PgConnection,
    plans: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<Vec<Implementation>> {
    sql_query(
        "WITH items AS (
             SELECT i.id, i.implements_item_id, i.plan_id, i.organization_id, i.reference, i.title
             FROM plan_items i
             WHERE i.plan_id = ANY($1) AND i.deleted_at IS NULL AND i.implements_item_id IS NOT NULL),
         a AS (
             SELECT s.plan_item_id, count(*) AS n,
                    count(*) FILTER (WHERE s.status = 'done') AS done,
                    count(*) FILTER (WHERE s.status = 'in_progress') AS in_progress
             FROM assignments s JOIN items ON items.id = s.plan_item_id
             WHERE s.deleted_at IS NULL AND s.status <> 'cancelled'
             GROUP BY s.plan_item_id),
         acts AS (
             SELECT ai.plan_item_id, act.id
             FROM activity_items ai JOIN items ON items.id = ai.plan_item_id
             JOIN activities act ON act.id = ai.activity_id
             WHERE act.deleted_at IS NULL AND act.status = 'verified' AND act.held_from >= $2 AND act.held_from < $3),
         ev AS (
             SELECT acts.plan_item_id, count(*) AS activities,
                    sum((SELECT count(*) FROM evidence e WHERE e.activity_id = acts.id AND e.deleted_at IS NULL)) AS files
             FROM acts GROUP BY acts.plan_item_id),
         r AS (
             SELECT DISTINCT ON (s.plan_item_id) s.plan_item_id, pr.period, pr.submitted_at
             FROM progress_reports pr JOIN assignments s ON s.id = pr.assignment_id
             JOIN items ON items.id = s.plan_item_id
             WHERE pr.deleted_at IS NULL
             ORDER BY s.plan_item_id, pr.submitted_at DESC)
         SELECT items.implements_item_id, items.id AS item_id, items.plan_id, items.organization_id, items.reference,
                items.title, coalesce(a.n, 0) AS assignments, coalesce(a.done, 0) AS assignments_done,
                coalesce(a.in_progress, 0) AS assignments_in_progress,
                coalesce(ev.activities, 0) AS verified_activities, coalesce(ev.files, 0)::bigint AS evidence_files,
                r.period AS last_report_period, r.submitted_at AS last_report_at
         FROM items LEFT JOIN a ON a.plan_item_id = items.id LEFT JOIN ev ON ev.plan_item_id = items.id
         LEFT JOIN r ON r.plan_item_id = items.id
         ORDER BY items.implements_item_id, items.organization_id, items.reference",
    )
    .bind::<Ids, _>(plans)
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .load(conn)
}

/// The live assignments of these plans (for their reporting duties).
pub fn assignments(conn: &mut PgConnection, plans: &[Uuid]) -> QueryResult<Vec<crate::db::assignments::AssignmentRow>> {
    use crate::db::schema::assignments;
    assignments::table
        .filter(assignments::plan_id.eq_any(plans))
        .filter(assignments::deleted_at.is_null())
        .order(assignments::id)
        .select(crate::db::assignments::AssignmentRow::as_select())
        .load(conn)
}

pub fn plans(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<crate::db::plans::PlanRow>> {
    use crate::db::schema::plans;
    plans::table.filter(plans::id.eq_any(ids)).select(crate::db::plans::PlanRow::as_select()).load(conn)
}

/// A unit's feedback received in the period: nothing of any record but counts.
#[derive(QueryableByName, Debug, Clone, Default)]
pub struct UnitFeedback {
    #[diesel(sql_type = SqlUuid)]
    pub organization_id: Uuid,
    #[diesel(sql_type = BigInt)]
    pub received: i64,
    #[diesel(sql_type = BigInt)]
    pub answered: i64,
    #[diesel(sql_type = BigInt)]
    pub answered_on_time: i64,
    #[diesel(sql_type = BigInt)]
    pub overdue: i64,
    #[diesel(sql_type = BigInt)]
    pub rated: i64,
    #[diesel(sql_type = BigInt)]
    pub satisfied: i64,
}

/// Read from `feedback_tallies`, which the feedback table's triggers keep in each
/// write's transaction (one row per unit, day received and deadline), not from the records.
pub fn feedback(
    conn: &mut PgConnection,
    orgs: &[Uuid],
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> QueryResult<Vec<UnitFeedback>> {
    sql_query(
        "SELECT t.organization_id, sum(t.received)::bigint AS received, sum(t.answered)::bigint AS answered,
                sum(t.answered_on_time)::bigint AS answered_on_time,
                coalesce(sum(t.open) FILTER (WHERE t.deadline_on < $4), 0)::bigint AS overdue,
                sum(t.rated)::bigint AS rated, sum(t.satisfied)::bigint AS satisfied
         FROM feedback_tallies t
         WHERE t.organization_id = ANY($1) AND t.received_on >= $2 AND t.received_on <= $3
         GROUP BY t.organization_id",
    )
    .bind::<Ids, _>(orgs)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .bind::<Date, _>(today)
    .load(conn)
}
