//! The figures of reports, aggregated by PostgreSQL: counts of verified activities and
//! their evidence, first submissions of progress reports, the latest measurements in a
//! period, and feedback statistics (with working days to answer, median and 90th
//! percentile) over every grouping at once. Only the aggregates come back to Rust.
//!
//! Dates are Vietnam's: instants are shifted by seven hours before taking their date.
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    prelude::*,
    sql_query,
    sql_types::{BigInt, Date, Double, Nullable, Text, Timestamptz, Uuid as SqlUuid},
};
use uuid::Uuid;

use crate::{
    db::schema::report_snapshots,
    domain::{assignments::PeriodCounting, reports::GroupBy},
    error::ApiError,
};

/// Lets this transaction's report queries hash their groupings in memory: PostgreSQL
/// cannot estimate how few groups they make and would otherwise sort every record
/// (the actual groups are a few hundred rows).
pub fn report_settings(conn: &mut PgConnection) -> QueryResult<()> {
    sql_query("SET LOCAL work_mem = '128MB'").execute(conn).map(|_| ())
}

/// Runs a report's queries in one read-only snapshot, so that its figures agree with
/// each other, with `report_settings`.
pub fn in_snapshot<T>(
    conn: &mut PgConnection,
    f: impl FnOnce(&mut PgConnection) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    conn.build_transaction().read_only().repeatable_read().run(|conn| {
        report_settings(conn)?;
        f(conn)
    })
}

/// The verified activities of a plan held in `[from, to)`, of one department if given;
/// and the number of live evidence files of each.
const ACTIVITIES: &str = "
    acts AS (
        SELECT a.id, a.department_id, a.channel, a.held_from
        FROM activities a
        WHERE a.plan_id = $1 AND a.deleted_at IS NULL AND a.status = 'verified'
          AND a.held_from >= $2 AND a.held_from < $3
          AND ($4::uuid IS NULL OR a.department_id = $4)
    ),
    ev AS (
        -- Counted per activity from evidence_live_activity_idx: the cost follows the
        -- plan's activities, not the size of the evidence table.
        SELECT acts.id AS activity_id,
               (SELECT count(*) FROM evidence e WHERE e.activity_id = acts.id AND e.deleted_at IS NULL) AS n
        FROM acts
    )";

/// A count of activities and their evidence files under a key.
#[derive(QueryableByName, Debug)]
pub struct ActivityCount {
    #[diesel(sql_type = Nullable<Text>)]
    pub key: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub channel: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub activities: i64,
    #[diesel(sql_type = BigInt)]
    pub evidence_files: i64,
}

/// Which verified activities to count.
#[derive(Clone, Copy, Debug)]
pub struct Scope {
    pub plan: Uuid,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub department: Option<Uuid>,
    pub counting: PeriodCounting,
}

/// The first day of the month (as `counting` counts months) that the local time
/// `expr` falls in: under Decree 09/2019 the days from the 15th on belong to the next
/// month.
fn month_of(expr: &str, counting: PeriodCounting) -> String {
    match counting {
        PeriodCounting::Calendar => format!("date_trunc('month', {expr})"),
        PeriodCounting::Decree09 => format!("(date_trunc('month', {expr} - INTERVAL '14 days') + INTERVAL '1 month')"),
    }
}

fn activity_counts(conn: &mut PgConnection, scope: Scope, select: &str) -> QueryResult<Vec<ActivityCount>> {
    sql_query(format!("WITH {ACTIVITIES} {select}"))
        .bind::<SqlUuid, _>(scope.plan)
        .bind::<Timestamptz, _>(scope.from)
        .bind::<Timestamptz, _>(scope.to)
        .bind::<Nullable<SqlUuid>, _>(scope.department)
        .load(conn)
}

/// Per plan item (`key`): its verified activities and their evidence files.
pub fn activities_by_item(conn: &mut PgConnection, scope: Scope) -> QueryResult<Vec<ActivityCount>> {
    activity_counts(
        conn,
        scope,
        "SELECT ai.plan_item_id::text AS key, NULL::text AS channel, count(*) AS activities,
                COALESCE(sum(ev.n), 0)::bigint AS evidence_files
         FROM activity_items ai JOIN acts ON acts.id = ai.activity_id LEFT JOIN ev ON ev.activity_id = acts.id
         GROUP BY ai.plan_item_id",
    )
}

/// Per department (`key`) and channel.
pub fn activities_by_department(conn: &mut PgConnection, scope: Scope) -> QueryResult<Vec<ActivityCount>> {
    activity_counts(
        conn,
        scope,
        "SELECT acts.department_id::text AS key, acts.channel, count(*) AS activities,
                COALESCE(sum(ev.n), 0)::bigint AS evidence_files
         FROM acts LEFT JOIN ev ON ev.activity_id = acts.id
         GROUP BY acts.department_id, acts.channel",
    )
}

/// Per month of the period (`key`, `YYYY-MM`, every month even without activities).
pub fn activities_by_month(conn: &mut PgConnection, scope: Scope) -> QueryResult<Vec<ActivityCount>> {
    let month = |expr: &str| month_of(expr, scope.counting);
    activity_counts(
        conn,
        scope,
        &format!(
            "SELECT to_char(m.month, 'YYYY-MM') AS key, NULL::text AS channel, count(acts.id) AS activities,
                    COALESCE(sum(ev.n), 0)::bigint AS evidence_files
             FROM generate_series(
                    {first},
                    {last},
                    INTERVAL '1 month') AS m(month)
             LEFT JOIN acts ON {held} = m.month
             LEFT JOIN ev ON ev.activity_id = acts.id
             GROUP BY m.month ORDER BY m.month",
            first = month("($2 AT TIME ZONE INTERVAL '07:00')"),
            last = month("($3 AT TIME ZONE INTERVAL '07:00' - INTERVAL '1 microsecond')"),
            held = month("(acts.held_from AT TIME ZONE INTERVAL '07:00')"),
        ),
    )
}

/// The first submission of each period's report of these assignments.
#[derive(QueryableByName, Debug)]
pub struct FirstSubmission {
    #[diesel(sql_type = SqlUuid)]
    pub assignment_id: Uuid,
    #[diesel(sql_type = Text)]
    pub period: String,
    #[diesel(sql_type = Timestamptz)]
    pub submitted_at: DateTime<Utc>,
}

pub fn first_submissions(conn: &mut PgConnection, assignments: &[Uuid]) -> QueryResult<Vec<FirstSubmission>> {
    sql_query(
        "SELECT assignment_id, period, min(submitted_at) AS submitted_at
         FROM progress_reports
         WHERE assignment_id = ANY($1) AND deleted_at IS NULL
         GROUP BY assignment_id, period",
    )
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(assignments)
    .load(conn)
}

/// An indicator's latest measurement in a period, and the first one ever (the
/// reference `improves` compares with when there is no baseline).
#[derive(QueryableByName, Debug)]
pub struct IndicatorValue {
    #[diesel(sql_type = SqlUuid)]
    pub indicator_id: Uuid,
    #[diesel(sql_type = Nullable<Double>)]
    pub value: Option<f64>,
    #[diesel(sql_type = Nullable<Date>)]
    pub measured_on: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Text>)]
    pub source: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub citation: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub link: Option<String>,
    #[diesel(sql_type = Nullable<Double>)]
    pub first_value: Option<f64>,
}

/// Of the indicators of `plans` (one plan's report, or every unit's in a roll-up).
pub fn indicator_values(
    conn: &mut PgConnection,
    plans: &[Uuid],
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<IndicatorValue>> {
    sql_query(
        "SELECT i.id AS indicator_id, latest.value, latest.measured_on, latest.source, latest.citation, latest.link,
                first.value AS first_value
         FROM indicators i
         LEFT JOIN LATERAL (
             SELECT m.value, m.measured_on, m.source, m.citation, m.link FROM measurements m
             WHERE m.indicator_id = i.id AND m.deleted_at IS NULL AND m.measured_on BETWEEN $2 AND $3
             ORDER BY m.measured_on DESC, m.created_at DESC, m.id DESC LIMIT 1
         ) latest ON true
         LEFT JOIN LATERAL (
             SELECT m.value FROM measurements m
             WHERE m.indicator_id = i.id AND m.deleted_at IS NULL
             ORDER BY m.measured_on, m.created_at, m.id LIMIT 1
         ) first ON true
         WHERE i.plan_id = ANY($1) AND i.deleted_at IS NULL",
    )
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(plans)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .load(conn)
}

/// Feedback figures of one group: `dimension` is `total`, `channel`, `category`,
/// `department` or `month`; `key` the channel code, category or department id, or
/// `YYYY-MM` (`null` for the total, or for records of no category or department).
#[derive(QueryableByName, Debug, Clone)]
pub struct FeedbackFigures {
    #[diesel(sql_type = Text)]
    pub dimension: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub key: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub received: i64,
    #[diesel(sql_type = BigInt)]
    pub answered: i64,
    #[diesel(sql_type = BigInt)]
    pub answered_on_time: i64,
    #[diesel(sql_type = BigInt)]
    pub overdue: i64,
    #[diesel(sql_type = BigInt)]
    pub rejected: i64,
    #[diesel(sql_type = BigInt)]
    pub forwarded: i64,
    #[diesel(sql_type = BigInt)]
    pub merged: i64,
    #[diesel(sql_type = BigInt)]
    pub extended: i64,
    #[diesel(sql_type = BigInt)]
    pub escalated: i64,
    #[diesel(sql_type = BigInt)]
    pub reopened: i64,
    #[diesel(sql_type = BigInt)]
    pub answered_within_original_deadline: i64,
    #[diesel(sql_type = BigInt)]
    pub answered_within_extension: i64,
    #[diesel(sql_type = Nullable<Double>)]
    pub median_working_days: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub p90_working_days: Option<f64>,
    #[diesel(sql_type = BigInt)]
    pub rated: i64,
    #[diesel(sql_type = BigInt)]
    pub satisfied: i64,
    #[diesel(sql_type = BigInt)]
    pub neutral: i64,
    #[diesel(sql_type = BigInt)]
    pub dissatisfied: i64,
}

/// Feedback received by `org` in `[from, to)` (of one department if given), as of
/// `today`: the total and the `groupings` asked for in one pass (`GROUPING SETS`). Working days to
/// answer count the days after the day of receipt up to the day of the answer, on the
/// organisation's working calendar (national days and its own).
///
/// Working days are small whole numbers, so each group is first counted per number of
/// working days (hashed, no sort of the records) and the median and 90th percentile
/// are read off that distribution, with `percentile_cont`'s interpolation. The records
/// are hashed once, by every grouping's column and the working days together; the
/// grouping sets add up those counts.
pub fn feedback_figures(
    conn: &mut PgConnection,
    org: Uuid,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    counting: PeriodCounting,
    department: Option<Uuid>,
    today: NaiveDate,
    groupings: &[GroupBy],
) -> QueryResult<Vec<FeedbackFigures>> {
    // Only the groupings asked for (each costs a pass over the records): the name of
    // their dimension, their column, and the key it gives.
    let grouped: Vec<(&str, &str, &str)> = groupings
        .iter()
        .map(|g| {
            let (column, key) = match g {
                GroupBy::Channel => ("channel", "channel"),
                GroupBy::Category => ("category_id", "category_id::text"),
                GroupBy::Department => ("department_id", "department_id::text"),
                GroupBy::Month => ("month", "to_char(month, 'YYYY-MM')"),
            };
            (g.dimension(), column, key)
        })
        .collect();
    let dimension = grouped
        .iter()
        .map(|(name, column, _)| format!("WHEN GROUPING({column}) = 0 THEN '{name}' "))
        .collect::<String>();
    let key = grouped.iter().map(|(_, _, key)| format!("{key}, ")).collect::<String>();
    let sets = grouped.iter().map(|(_, column, _)| format!(", ({column}, working_days)")).collect::<String>();
    let columns = grouped.iter().map(|(_, column, _)| format!("{column}, ")).collect::<String>();
    let month = month_of("(f.received_at AT TIME ZONE INTERVAL '07:00')", counting);
    sql_query(format!(
        "WITH f AS (
             SELECT f.channel, f.category_id, f.department_id, f.status, f.deadline_on, f.satisfaction,
                    {month} AS month,
                    (f.received_at AT TIME ZONE INTERVAL '07:00')::date AS received_on,
                    (f.answered_at AT TIME ZONE INTERVAL '07:00')::date AS answered_on,
                    -- The deadline before the first extension, for records extended.
                    x.original_deadline, f.escalated_at IS NOT NULL AS escalated,
                    -- Hashed once (an IN), not a scan of the reopenings per record.
                    f.id IN (SELECT r.feedback_id FROM feedback_reopenings r) AS reopened
             FROM feedback f
             LEFT JOIN (SELECT feedback_id, min(previous_deadline) AS original_deadline
                        FROM feedback_extensions WHERE organization_id = $1 GROUP BY feedback_id) x
                    ON x.feedback_id = f.id
             WHERE f.organization_id = $1 AND f.deleted_at IS NULL
               AND f.received_at >= $2 AND f.received_at < $3
               AND ($4::uuid IS NULL OR f.department_id = $4)
         ), cal AS (
             -- The working calendar: the organisation's entry for a day, else the national one.
             SELECT coalesce(o.day, n.day) AS day, coalesce(o.kind, n.kind) AS kind
             FROM (SELECT h.day, h.kind FROM holidays h WHERE h.organization_id = $1 AND h.deleted_at IS NULL) o
             FULL JOIN national_days n ON n.day = o.day
         ), hol AS (
             -- The weekdays off and the weekend days worked, each in order after a sentinel
             -- so the array is never empty: width_bucket(day, days) - 1 is the number of
             -- them up to and including day.
             SELECT array_prepend(DATE '0001-01-01', coalesce(array_agg(day ORDER BY day)
                        FILTER (WHERE kind = 'day_off' AND extract(isodow FROM day) < 6), '{{}}')) AS off,
                    array_prepend(DATE '0001-01-01', coalesce(array_agg(day ORDER BY day)
                        FILTER (WHERE kind = 'working_day' AND extract(isodow FROM day) >= 6), '{{}}')) AS worked
             FROM cal
         ), w AS (
             -- Working days from receipt to answer: weekdays in (received_on, answered_on],
             -- by arithmetic from a Monday (1900-01-01), less the weekdays off in it, plus
             -- the weekend days worked.
             SELECT f.*, CASE WHEN f.answered_on IS NULL THEN NULL ELSE greatest(0,
                 ((f.answered_on + 1 - DATE '1900-01-01') / 7 * 5 + least((f.answered_on + 1 - DATE '1900-01-01') % 7, 5))
                 - ((f.received_on + 1 - DATE '1900-01-01') / 7 * 5 + least((f.received_on + 1 - DATE '1900-01-01') % 7, 5))
                 - (width_bucket(f.answered_on, hol.off) - width_bucket(f.received_on, hol.off))
                 + (width_bucket(f.answered_on, hol.worked) - width_bucket(f.received_on, hol.worked))
             ) END AS working_days
             FROM f, hol
         ), r AS (
             -- The records counted once, per value of the groupings' columns and count of
             -- working days: one hashing of every record, however many groupings; the
             -- grouping sets below then add up these few thousand rows, not the records.
             SELECT {columns}working_days,
                    count(*) AS received,
                    count(answered_on) AS answered,
                    count(*) FILTER (WHERE answered_on <= deadline_on) AS answered_on_time,
                    count(*) FILTER (WHERE status IN ('received', 'accepted', 'in_progress') AND deadline_on < $5) AS overdue,
                    count(*) FILTER (WHERE status = 'rejected') AS rejected,
                    count(*) FILTER (WHERE status = 'forwarded') AS forwarded,
                    count(*) FILTER (WHERE status = 'merged') AS merged,
                    count(original_deadline) AS extended,
                    count(*) FILTER (WHERE escalated) AS escalated,
                    count(*) FILTER (WHERE reopened) AS reopened,
                    count(*) FILTER (WHERE answered_on <= coalesce(original_deadline, deadline_on))
                        AS answered_within_original_deadline,
                    count(*) FILTER (WHERE answered_on > original_deadline AND answered_on <= deadline_on)
                        AS answered_within_extension,
                    count(satisfaction) AS rated,
                    count(*) FILTER (WHERE satisfaction = 'satisfied') AS satisfied,
                    count(*) FILTER (WHERE satisfaction = 'neutral') AS neutral,
                    count(*) FILTER (WHERE satisfaction = 'dissatisfied') AS dissatisfied
             FROM w
             GROUP BY {columns}working_days
         ), g AS (
             SELECT CASE {dimension}ELSE 'total' END AS dimension,
                    COALESCE({key}NULL) AS key,
                    working_days,
                    sum(received) AS received, sum(answered) AS answered, sum(answered_on_time) AS answered_on_time,
                    sum(overdue) AS overdue, sum(rejected) AS rejected, sum(forwarded) AS forwarded,
                    sum(merged) AS merged, sum(extended) AS extended, sum(escalated) AS escalated,
                    sum(reopened) AS reopened, sum(answered_within_original_deadline) AS answered_within_original_deadline,
                    sum(answered_within_extension) AS answered_within_extension, sum(rated) AS rated,
                    sum(satisfied) AS satisfied, sum(neutral) AS neutral, sum(dissatisfied) AS dissatisfied
             FROM r
             GROUP BY GROUPING SETS ((working_days){sets})
         ), d AS (
             -- Per group: the records with a working-day count, and how many of them come
             -- up to and including this count (the sorted position of its last one).
             SELECT g.*,
                    sum(answered) FILTER (WHERE working_days IS NOT NULL) OVER (PARTITION BY dimension, key) AS n,
                    sum(answered) FILTER (WHERE working_days IS NOT NULL)
                        OVER (PARTITION BY dimension, key ORDER BY working_days NULLS LAST
                              ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS upto
             FROM g
         ), p AS (
             -- The values at the sorted positions (0-based) around 0.5 (n - 1) and 0.9 (n - 1).
             SELECT dimension, key, max(n)::float8 - 1 AS last,
                    min(working_days) FILTER (WHERE upto > floor(0.5 * (n - 1)))::float8 AS m_lo,
                    min(working_days) FILTER (WHERE upto > ceil(0.5 * (n - 1)))::float8 AS m_hi,
                    min(working_days) FILTER (WHERE upto > floor(0.9 * (n - 1)))::float8 AS q_lo,
                    min(working_days) FILTER (WHERE upto > ceil(0.9 * (n - 1)))::float8 AS q_hi,
                    sum(received)::bigint AS received, sum(answered)::bigint AS answered,
                    sum(answered_on_time)::bigint AS answered_on_time, sum(overdue)::bigint AS overdue,
                    sum(rejected)::bigint AS rejected, sum(forwarded)::bigint AS forwarded,
                    sum(merged)::bigint AS merged,
                    sum(extended)::bigint AS extended, sum(escalated)::bigint AS escalated,
                    sum(reopened)::bigint AS reopened,
                    sum(answered_within_original_deadline)::bigint AS answered_within_original_deadline,
                    sum(answered_within_extension)::bigint AS answered_within_extension,
                    sum(rated)::bigint AS rated, sum(satisfied)::bigint AS satisfied,
                    sum(neutral)::bigint AS neutral, sum(dissatisfied)::bigint AS dissatisfied
             FROM d GROUP BY dimension, key
         )
         SELECT dimension, key, received, answered, answered_on_time, overdue, rejected, forwarded, merged,
                extended, escalated, reopened, answered_within_original_deadline, answered_within_extension,
                -- As percentile_cont computes it, in float8: lo + (hi - lo) * fraction.
                m_lo + (m_hi - m_lo) * (0.5::float8 * last - floor(0.5::float8 * last)) AS median_working_days,
                q_lo + (q_hi - q_lo) * (0.9::float8 * last - floor(0.9::float8 * last)) AS p90_working_days,
                rated, satisfied, neutral, dissatisfied
         FROM p
         ORDER BY dimension, key NULLS LAST"
    ))
    .bind::<SqlUuid, _>(org)
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .bind::<Nullable<SqlUuid>, _>(department)
    .bind::<Date, _>(today)
    .load(conn)
}

// ---- Snapshots ---------------------------------------------------------------------

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = report_snapshots)]
pub struct SnapshotRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub plan_id: Uuid,
    pub period: String,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub reporting_periods: PeriodCounting,
    pub body: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = report_snapshots)]
pub struct NewSnapshot {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub plan_id: Uuid,
    pub period: String,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub reporting_periods: PeriodCounting,
    pub body: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub created_by: Option<Uuid>,
}

pub mod snapshots {
    use diesel::prelude::*;
    use uuid::Uuid;

    use super::{NewSnapshot, SnapshotRow};
    use crate::{db::page::PageRequest, db::schema::report_snapshots, keyset, org_scoped_fns};

    org_scoped_fns!(report_snapshots, SnapshotRow, "report_snapshot");

    pub fn list(conn: &mut PgConnection, plan: Uuid, page: &PageRequest) -> QueryResult<Vec<SnapshotRow>> {
        let q = report_snapshots::table.filter(report_snapshots::plan_id.eq(plan)).into_boxed();
        keyset!(q, report_snapshots, page).select(SnapshotRow::as_select()).load(conn)
    }

    pub fn insert(conn: &mut PgConnection, new: &NewSnapshot) -> QueryResult<SnapshotRow> {
        diesel::insert_into(report_snapshots::table).values(new).returning(SnapshotRow::as_returning()).get_result(conn)
    }
}

/// Code and name of departments and categories, by id.
pub type Names = std::collections::HashMap<Uuid, (String, String)>;

pub fn department_names(conn: &mut PgConnection, org: Uuid) -> QueryResult<Names> {
    Ok(crate::db::schema::departments::table
        .filter(crate::db::schema::departments::organization_id.eq(org))
        .select((
            crate::db::schema::departments::id,
            crate::db::schema::departments::code,
            crate::db::schema::departments::name,
        ))
        .load::<(Uuid, String, String)>(conn)?
        .into_iter()
        .map(|(id, code, name)| (id, (code, name)))
        .collect())
}

pub fn category_names(conn: &mut PgConnection, org: Uuid) -> QueryResult<Names> {
    Ok(crate::db::schema::feedback_categories::table
        .filter(crate::db::schema::feedback_categories::organization_id.eq(org))
        .select((
            crate::db::schema::feedback_categories::id,
            crate::db::schema::feedback_categories::code,
            crate::db::schema::feedback_categories::name,
        ))
        .load::<(Uuid, String, String)>(conn)?
        .into_iter()
        .map(|(id, code, name)| (id, (code, name)))
        .collect())
}

/// The live assignments of a plan (of one department, if given), in id order.
pub fn assignments_of_plan(
    conn: &mut PgConnection,
    plan: Uuid,
    department: Option<Uuid>,
) -> QueryResult<Vec<crate::db::assignments::AssignmentRow>> {
    use crate::db::schema::assignments;
    let mut q =
        assignments::table.filter(assignments::plan_id.eq(plan)).filter(assignments::deleted_at.is_null()).into_boxed();
    if let Some(dept) = department {
        q = q.filter(assignments::department_id.eq(dept));
    }
    q.order(assignments::id).select(crate::db::assignments::AssignmentRow::as_select()).load(conn)
}

/// The live indicators of `plans`, by plan and code.
pub fn indicators_of_plans(
    conn: &mut PgConnection,
    plans: &[Uuid],
) -> QueryResult<Vec<crate::db::indicators::IndicatorRow>> {
    use crate::db::schema::indicators;
    indicators::table
        .filter(indicators::plan_id.eq_any(plans))
        .filter(indicators::deleted_at.is_null())
        .order((indicators::plan_id, indicators::code, indicators::id))
        .select(crate::db::indicators::IndicatorRow::as_select())
        .load(conn)
}
