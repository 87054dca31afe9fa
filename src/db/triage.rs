//! Triage's queries: the records alike to one (open ones in a window, for duplicates;
//! answered ones, for suggestions), senders by keyed hash, merges, and what was
//! suggested and chosen. The weighing of what they find is `domain::triage`.
use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_query,
    sql_types::{Array, BigInt, Bool, Bytea, Double, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid},
};
use uuid::Uuid;

use crate::db::schema::{feedback_merges, feedback_sender_keys, feedback_suggestions, feedback_triage};

/// Stores the keys of a record's sender (`auth::password::SenderKey`).
pub fn set_sender_keys(conn: &mut PgConnection, feedback: Uuid, org: Uuid, keys: &[Vec<u8>]) -> QueryResult<()> {
    set_many_sender_keys(conn, &[(feedback, org, keys.to_vec())])
}

/// Stores the keys of several records' senders in one statement: (record, its
/// organisation, the keys).
pub fn set_many_sender_keys(conn: &mut PgConnection, senders: &[(Uuid, Uuid, Vec<Vec<u8>>)]) -> QueryResult<()> {
    let rows: Vec<_> = senders
        .iter()
        .flat_map(|(feedback, org, keys)| {
            keys.iter().map(move |k| {
                (
                    feedback_sender_keys::feedback_id.eq(*feedback),
                    feedback_sender_keys::organization_id.eq(*org),
                    feedback_sender_keys::key.eq(k),
                )
            })
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    diesel::insert_into(feedback_sender_keys::table).values(rows).on_conflict_do_nothing().execute(conn)?;
    Ok(())
}

/// Senders whose records have no keys yet (records filed before keys were kept), after
/// `after`, by record id.
#[derive(QueryableByName, Debug)]
pub struct Unkeyed {
    #[diesel(sql_type = SqlUuid)]
    pub feedback_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub organization_id: Uuid,
    #[diesel(sql_type = Nullable<Text>)]
    pub phone: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub email: Option<String>,
}

pub fn unkeyed(conn: &mut PgConnection, after: Uuid, limit: i64) -> QueryResult<Vec<Unkeyed>> {
    sql_query(
        "SELECT s.feedback_id, f.organization_id, s.phone, s.email
         FROM feedback_senders s JOIN feedback f ON f.id = s.feedback_id
         -- `after` bounds every side, so each batch reads from where the last ended: with
         -- it on the senders only, the merge joins read feedback and the keys from their
         -- start every batch (quadratic: millions of records took hours).
         WHERE s.feedback_id > $1 AND f.id > $1 AND (s.phone IS NOT NULL OR s.email IS NOT NULL)
           AND NOT EXISTS (SELECT 1 FROM feedback_sender_keys k WHERE k.feedback_id = s.feedback_id AND k.feedback_id > $1)
         ORDER BY s.feedback_id LIMIT $2",
    )
    .bind::<SqlUuid, _>(after)
    .bind::<BigInt, _>(limit)
    .load(conn)
}

/// A record alike to another, with what the database knows of how alike.
#[derive(QueryableByName, Debug, Clone)]
pub struct Alike {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub code: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub category_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub department_id: Option<Uuid>,
    /// Weighted Dice coefficient of their word pairs, 0–1.
    #[diesel(sql_type = Double)]
    pub text: f64,
    #[diesel(sql_type = BigInt)]
    pub shared_terms: i64,
    #[diesel(sql_type = Bool)]
    pub same_sender: bool,
    #[diesel(sql_type = Bool)]
    pub same_category: bool,
    #[diesel(sql_type = Nullable<Double>)]
    pub distance_m: Option<f64>,
    #[diesel(sql_type = BigInt)]
    pub days_apart: i64,
}

/// What a search compares with: a record filed (`id`, excluded from what it finds) or
/// about to be filed (`id` none), by its text and the rest.
#[derive(Debug, Clone)]
pub struct Probe {
    pub id: Option<Uuid>,
    pub organization_id: Uuid,
    /// Subject and content, as the record keeps them (`subject || ' ' || content`).
    pub text: String,
    pub category_id: Option<Uuid>,
    pub received_at: DateTime<Utc>,
    pub point: Option<(f64, f64)>,
    /// Its sender's keys (`auth::password::SenderKey`).
    pub keys: Vec<Vec<u8>>,
}

#[derive(QueryableByName)]
struct Stored {
    #[diesel(sql_type = SqlUuid)]
    organization_id: Uuid,
    #[diesel(sql_type = Text)]
    text: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    category_id: Option<Uuid>,
    #[diesel(sql_type = Timestamptz)]
    received_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Double>)]
    lat: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    long: Option<f64>,
    #[diesel(sql_type = Array<Bytea>)]
    keys: Vec<Vec<u8>>,
}

/// The probe of a record already filed.
pub fn probe_of(conn: &mut PgConnection, id: Uuid) -> QueryResult<Probe> {
    let s: Stored = sql_query(
        "SELECT f.organization_id, f.subject || ' ' || f.content AS text, f.category_id, f.received_at, l.lat, l.long,
                coalesce((SELECT array_agg(k.key) FROM feedback_sender_keys k WHERE k.feedback_id = f.id), '{}') AS keys
         FROM feedback f LEFT JOIN feedback_locations l ON l.feedback_id = f.id WHERE f.id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .get_result(conn)?;
    Ok(Probe {
        id: Some(id),
        organization_id: s.organization_id,
        text: s.text,
        category_id: s.category_id,
        received_at: s.received_at,
        point: s.lat.zip(s.long),
        keys: s.keys,
    })
}

/// A probe's terms with their weights (rarer in the organisation weighs more), and the
/// rarest of them the index is asked for.
#[derive(QueryableByName, Debug, Default)]
struct Weights {
    #[diesel(sql_type = Array<Integer>)]
    terms: Vec<i32>,
    #[diesel(sql_type = Array<Double>)]
    idfs: Vec<f64>,
    #[diesel(sql_type = Array<Integer>)]
    rare: Vec<i32>,
}

/// Weighs the probe's terms: `ln((N + 2) / (records + 1))` over the organisation's N
/// records. The rarest 32 that some other record has too (a filed record counts itself)
/// are what the index is asked for — not common ones (in over 2% of the organisation's
/// records, at least 200), which tell little and cost the index the most. Asked apart,
/// so that the search is planned for these very terms.
fn weights(conn: &mut PgConnection, p: &Probe) -> QueryResult<Weights> {
    sql_query(
        "WITH n AS (SELECT coalesce(sum(received), 0) AS records FROM feedback_tallies WHERE organization_id = $1),
         w AS (
             SELECT q.term, coalesce(c.records, 0) AS records,
                    ln((n.records + 2.0) / (coalesce(c.records, 0) + 1.0))::float8 AS idf
             FROM n CROSS JOIN unnest(feedback_terms($1, $2)) AS q(term)
             LEFT JOIN feedback_term_counts c ON c.organization_id = $1 AND c.term = q.term)
         SELECT coalesce(array_agg(w.term), '{}') AS terms, coalesce(array_agg(w.idf), '{}') AS idfs,
                coalesce((SELECT array_agg(r.term) FROM (
                    SELECT w.term FROM w, n
                    WHERE w.records >= $3 AND w.records <= greatest(200, n.records / 50)
                    ORDER BY w.idf DESC, w.term LIMIT 32) r), '{}') AS rare
         FROM w",
    )
    .bind::<SqlUuid, _>(p.organization_id)
    .bind::<Text, _>(&p.text)
    .bind::<BigInt, _>(if p.id.is_some() { 2 } else { 1 })
    .get_result(conn)
}

/// The parts shared by both searches: the probe (`me`), its weighted terms (`w`), their
/// sum (`total`) and its sender's keys.
const ME: &str = "
    me AS (
        SELECT $1::uuid AS id, $2::uuid AS organization_id, $3::uuid AS category_id,
               $4::timestamptz AS received_at, $5::float8 AS lat, $6::float8 AS long),
    w AS (SELECT * FROM unnest($8::int[], $9::float8[]) AS w(term, idf)),
    total AS (SELECT coalesce(sum(idf), 0) AS idf, count(*) AS terms FROM w),
    keys AS (SELECT unnest($7::bytea[]) AS key)";

/// How alike each candidate is, and the other signals, for the candidates in `cand`.
const SIGNALS: &str = "
    SELECT f.id, f.code, f.status, f.category_id, f.department_id,
           (CASE WHEN total.idf > 0 THEN
               least(1.0, 2 * s.idf / (total.idf + total.idf / total.terms * greatest(cardinality(f.terms), 1)))
           ELSE 0 END)::float8 AS text,
           s.terms AS shared_terms,
           EXISTS (SELECT 1 FROM feedback_sender_keys k WHERE k.feedback_id = f.id AND k.key IN (SELECT key FROM keys))
               AS same_sender,
           coalesce(me.category_id = f.category_id, false) AS same_category,
           CASE WHEN me.lat IS NOT NULL AND l.lat IS NOT NULL
                THEN earth_distance(feedback_earth(me.lat, me.long), feedback_earth(l.lat, l.long)) END AS distance_m,
           floor(abs(extract(epoch FROM f.received_at - me.received_at)) / 86400)::bigint AS days_apart
    FROM cand JOIN feedback f ON f.id = cand.id CROSS JOIN me CROSS JOIN total
    LEFT JOIN feedback_locations l ON l.feedback_id = f.id
    CROSS JOIN LATERAL (SELECT coalesce(sum(w.idf), 0) AS idf, count(*) AS terms FROM w WHERE w.term = ANY (f.terms)) s";

fn bind_probe<'a>(
    query: &'a str,
    p: &'a Probe,
    w: &'a Weights,
) -> diesel::query_builder::BoxedSqlQuery<'a, diesel::pg::Pg, diesel::query_builder::SqlQuery> {
    sql_query(query)
        .into_boxed()
        .bind::<Nullable<SqlUuid>, _>(p.id)
        .bind::<SqlUuid, _>(p.organization_id)
        .bind::<Nullable<SqlUuid>, _>(p.category_id)
        .bind::<Timestamptz, _>(p.received_at)
        .bind::<Nullable<Double>, _>(p.point.map(|p| p.0))
        .bind::<Nullable<Double>, _>(p.point.map(|p| p.1))
        .bind::<Array<Bytea>, _>(&p.keys)
        .bind::<Array<Integer>, _>(&w.terms)
        .bind::<Array<Double>, _>(&w.idfs)
        .bind::<Array<Integer>, _>(&w.rare)
}

/// Open records of the probe's organisation received within `days` of it that share
/// some of its rarest terms, or its sender; only those `client` filed, if given.
pub fn open_alike(conn: &mut PgConnection, probe: &Probe, days: i32, client: Option<Uuid>) -> QueryResult<Vec<Alike>> {
    let w = weights(conn, probe)?;
    let query = format!(
        "WITH {ME},
         cand AS (
             (SELECT f.id FROM feedback f, me
              WHERE f.organization_id = me.organization_id AND f.terms && $10::int[] AND f.deleted_at IS NULL
                AND f.status IN ('received', 'accepted', 'in_progress') AND f.id IS DISTINCT FROM me.id
                AND f.received_at BETWEEN me.received_at - $11 * interval '1 day' AND me.received_at + $11 * interval '1 day'
              LIMIT 400)
             UNION
             -- The same sender's records in the window, the nearest in time first and a
             -- bounded number of them: a frequent sender's every record, each scored,
             -- made a filing's cost grow with their count (3,500 records of one
             -- benchmark phone number: 4 filings a second).
             (SELECT k.feedback_id FROM feedback_sender_keys k JOIN feedback f ON f.id = k.feedback_id, me
              WHERE k.organization_id = me.organization_id AND k.key IN (SELECT key FROM keys)
                AND k.feedback_id IS DISTINCT FROM me.id
                AND f.received_at BETWEEN me.received_at - $11 * interval '1 day' AND me.received_at + $11 * interval '1 day'
              ORDER BY abs(extract(epoch FROM f.received_at - me.received_at))
              LIMIT 100))
         {SIGNALS}
         WHERE f.deleted_at IS NULL AND f.status IN ('received', 'accepted', 'in_progress')
           AND f.received_at BETWEEN me.received_at - $11 * interval '1 day' AND me.received_at + $11 * interval '1 day'
           AND ($12::uuid IS NULL OR f.source_client_id = $12)"
    );
    bind_probe(&query, probe, &w).bind::<Integer, _>(days).bind::<Nullable<SqlUuid>, _>(client).load(conn)
}

/// The organisation's answered records most alike to the probe (at most `limit`), with
/// the category and department they were answered under.
pub fn answered_alike(conn: &mut PgConnection, probe: &Probe, limit: i64) -> QueryResult<Vec<Alike>> {
    let w = weights(conn, probe)?;
    if w.rare.is_empty() {
        return Ok(Vec::new());
    }
    let query = format!(
        "WITH {ME},
         cand AS (
             SELECT f.id FROM feedback f, me
             WHERE f.organization_id = me.organization_id AND f.terms && $10::int[] AND f.deleted_at IS NULL
               AND f.status IN ('answered', 'closed') AND f.id IS DISTINCT FROM me.id
               AND (f.category_id IS NOT NULL OR f.department_id IS NOT NULL)
             ORDER BY f.id DESC LIMIT 1000)
         {SIGNALS}
         ORDER BY text DESC, f.id DESC LIMIT $11"
    );
    bind_probe(&query, probe, &w).bind::<BigInt, _>(limit).load(conn)
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = feedback_merges)]
pub struct MergeRow {
    pub feedback_id: Uuid,
    pub organization_id: Uuid,
    pub parent_id: Uuid,
    pub status_before: String,
    pub merged_by: Option<Uuid>,
    pub merged_at: DateTime<Utc>,
}

pub fn add_merge(conn: &mut PgConnection, row: &MergeRow) -> QueryResult<()> {
    diesel::insert_into(feedback_merges::table).values(row).execute(conn).map(|_| ())
}

pub fn remove_merge(conn: &mut PgConnection, child: Uuid) -> QueryResult<Option<MergeRow>> {
    diesel::delete(feedback_merges::table.find(child)).returning(MergeRow::as_returning()).get_result(conn).optional()
}

pub fn merge_of(conn: &mut PgConnection, child: Uuid) -> QueryResult<Option<MergeRow>> {
    feedback_merges::table.find(child).select(MergeRow::as_select()).first(conn).optional()
}

/// The merges of these records (for presenting them).
pub fn merges_of(conn: &mut PgConnection, children: &[Uuid]) -> QueryResult<Vec<MergeRow>> {
    feedback_merges::table
        .filter(feedback_merges::feedback_id.eq_any(children))
        .select(MergeRow::as_select())
        .load(conn)
}

/// The records merged into `parent`.
pub fn children_of(conn: &mut PgConnection, parent: Uuid) -> QueryResult<Vec<Uuid>> {
    feedback_merges::table
        .filter(feedback_merges::parent_id.eq(parent))
        .order(feedback_merges::feedback_id)
        .select(feedback_merges::feedback_id)
        .load(conn)
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = feedback_suggestions)]
pub struct SuggestionRow {
    pub feedback_id: Uuid,
    pub organization_id: Uuid,
    /// `category` or `department`.
    pub kind: String,
    pub rank: i16,
    pub suggested_id: Uuid,
    pub score: f32,
    pub basis: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// Keeps what was suggested for a record (once: a record is suggested for when filed).
pub fn save_suggestions(conn: &mut PgConnection, rows: &[SuggestionRow], assigned: bool) -> QueryResult<()> {
    let Some(first) = rows.first() else { return Ok(()) };
    diesel::insert_into(feedback_suggestions::table).values(rows).on_conflict_do_nothing().execute(conn)?;
    diesel::insert_into(feedback_triage::table)
        .values((
            feedback_triage::feedback_id.eq(first.feedback_id),
            feedback_triage::organization_id.eq(first.organization_id),
            feedback_triage::suggested_at.eq(first.created_at),
            feedback_triage::assigned_by_suggestion.eq(assigned),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(())
}

pub fn suggestions_of(conn: &mut PgConnection, feedback: Uuid) -> QueryResult<Vec<SuggestionRow>> {
    feedback_suggestions::table
        .filter(feedback_suggestions::feedback_id.eq(feedback))
        .order((feedback_suggestions::kind, feedback_suggestions::rank))
        .select(SuggestionRow::as_select())
        .load(conn)
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = feedback_triage)]
pub struct TriageRow {
    pub feedback_id: Uuid,
    pub organization_id: Uuid,
    pub suggested_at: DateTime<Utc>,
    pub chosen_category_id: Option<Uuid>,
    pub chosen_department_id: Option<Uuid>,
    pub chosen_at: Option<DateTime<Utc>>,
    pub assigned_by_suggestion: bool,
}

pub fn triage_of(conn: &mut PgConnection, feedback: Uuid) -> QueryResult<Option<TriageRow>> {
    feedback_triage::table.find(feedback).select(TriageRow::as_select()).first(conn).optional()
}

/// Records what staff chose for a record that had suggestions: the first category and
/// the first department set after them (later changes are not the choice measured).
pub fn record_choice(
    conn: &mut PgConnection,
    feedback: Uuid,
    category: Option<Uuid>,
    department: Option<Uuid>,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    if let Some(category) = category {
        diesel::update(feedback_triage::table.find(feedback).filter(feedback_triage::chosen_category_id.is_null()))
            .set((feedback_triage::chosen_category_id.eq(category), feedback_triage::chosen_at.eq(at)))
            .execute(conn)?;
    }
    if let Some(department) = department {
        diesel::update(feedback_triage::table.find(feedback).filter(feedback_triage::chosen_department_id.is_null()))
            .set((feedback_triage::chosen_department_id.eq(department), feedback_triage::chosen_at.eq(at)))
            .execute(conn)?;
    }
    Ok(())
}

/// Per month received (Vietnam) and chosen category: records suggested for, those
/// chosen, and how many took the first suggested category and department.
#[derive(QueryableByName, Debug, Clone)]
pub struct TriageLine {
    #[diesel(sql_type = Text)]
    pub month: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub category_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub category_code: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub suggested: i64,
    #[diesel(sql_type = BigInt)]
    pub category_chosen: i64,
    #[diesel(sql_type = BigInt)]
    pub category_first_taken: i64,
    #[diesel(sql_type = BigInt)]
    pub department_chosen: i64,
    #[diesel(sql_type = BigInt)]
    pub department_first_taken: i64,
    #[diesel(sql_type = BigInt)]
    pub assigned_by_suggestion: i64,
}

pub fn report(
    conn: &mut PgConnection,
    org: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<Vec<TriageLine>> {
    sql_query(
        "SELECT to_char(f.received_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM') AS month,
                t.chosen_category_id AS category_id, c.code AS category_code,
                count(*) AS suggested,
                count(t.chosen_category_id) AS category_chosen,
                count(*) FILTER (WHERE t.chosen_category_id = sc.suggested_id) AS category_first_taken,
                count(t.chosen_department_id) AS department_chosen,
                count(*) FILTER (WHERE t.chosen_department_id = sd.suggested_id) AS department_first_taken,
                count(*) FILTER (WHERE t.assigned_by_suggestion) AS assigned_by_suggestion
         FROM feedback_triage t
         JOIN feedback f ON f.id = t.feedback_id AND f.deleted_at IS NULL
         LEFT JOIN feedback_suggestions sc ON sc.feedback_id = t.feedback_id AND sc.kind = 'category' AND sc.rank = 1
         LEFT JOIN feedback_suggestions sd ON sd.feedback_id = t.feedback_id AND sd.kind = 'department' AND sd.rank = 1
         LEFT JOIN feedback_categories c ON c.id = t.chosen_category_id
         WHERE t.organization_id = $1 AND f.received_at >= $2 AND f.received_at < $3
         GROUP BY 1, 2, 3 ORDER BY 1, 3 NULLS LAST",
    )
    .bind::<SqlUuid, _>(org)
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .load(conn)
}
