//! Citizens' personal data as Decree 13/2023/NĐ-CP asks: consent recorded with each
//! sender, legal holds, erasure (the sender's fields emptied and flagged, their keys and
//! files gone, the record and its figures kept) by retention or on request, the log of
//! erasures a restore re-applies, and the log of data subjects' requests.
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    prelude::*,
    sql_query,
    sql_types::{Array, Bool, Date, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid},
};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    db::audit::{self, Actor, Event},
    error::ApiError,
};

/// What a sender was told and agreed to at filing.
pub struct Consent {
    pub feedback_id: Uuid,
    pub organization_id: Uuid,
    /// `None`: the organisation's current notice.
    pub notice_version: Option<String>,
    pub notify: bool,
    pub publish: bool,
    pub given_at: DateTime<Utc>,
    pub channel: String,
    pub client_id: Option<Uuid>,
    pub recorded_by: Option<Uuid>,
}

pub fn record_consent(conn: &mut PgConnection, c: &Consent) -> QueryResult<()> {
    sql_query(
        "INSERT INTO feedback_consents
             (feedback_id, organization_id, notice_version, notify, publish, given_at, channel, client_id, recorded_by)
         SELECT $1, $2, coalesce($3, o.privacy_notice_version), $4, $5, $6, $7, $8, $9
         FROM organizations o WHERE o.id = $2
         ON CONFLICT (feedback_id) DO NOTHING",
    )
    .bind::<SqlUuid, _>(c.feedback_id)
    .bind::<SqlUuid, _>(c.organization_id)
    .bind::<Nullable<Text>, _>(c.notice_version.as_deref())
    .bind::<Bool, _>(c.notify)
    .bind::<Bool, _>(c.publish)
    .bind::<Timestamptz, _>(c.given_at)
    .bind::<Text, _>(&c.channel)
    .bind::<Nullable<SqlUuid>, _>(c.client_id)
    .bind::<Nullable<SqlUuid>, _>(c.recorded_by)
    .execute(conn)
    .map(drop)
}

/// A sender's consent as recorded, and what was withdrawn since.
#[derive(QueryableByName, Serialize, ToSchema, Clone, Debug)]
pub struct ConsentRecord {
    /// The privacy notice the sender saw or was read.
    #[diesel(sql_type = Text)]
    pub notice_version: String,
    /// To the handling of the feedback (the purpose itself).
    #[diesel(sql_type = Bool)]
    pub handling: bool,
    /// To be told by e-mail or SMS, as given at filing.
    #[diesel(sql_type = Bool)]
    pub notify: bool,
    /// To the publication of the (anonymised) result.
    #[diesel(sql_type = Bool)]
    pub publish: bool,
    #[diesel(sql_type = Timestamptz)]
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub given_at: DateTime<Utc>,
    /// The channel it was given through.
    #[diesel(sql_type = Text)]
    pub channel: String,
    /// The service client that filed it, if one.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub client_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub notify_withdrawn_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub publish_withdrawn_at: Option<DateTime<Utc>>,
}

impl ConsentRecord {
    /// Whether the result may be published: consented to at filing, not withdrawn since.
    pub fn allows_publication(&self) -> bool {
        self.publish && self.publish_withdrawn_at.is_none()
    }
}

pub fn consent_of(conn: &mut PgConnection, feedback: Uuid) -> QueryResult<Option<ConsentRecord>> {
    sql_query(
        "SELECT notice_version, handling, notify, publish, given_at, channel, client_id,
                notify_withdrawn_at, publish_withdrawn_at
         FROM feedback_consents WHERE feedback_id = $1",
    )
    .bind::<SqlUuid, _>(feedback)
    .get_result(conn)
    .optional()
}

/// The sender withdraws consent to being told (messages stop at once: each is checked
/// against `notify_by` as it goes out) and/or to publication (a published result is
/// withdrawn at once, and publishing it again is refused).
pub fn withdraw(
    conn: &mut PgConnection,
    feedback: Uuid,
    notify: bool,
    publish: bool,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    if notify {
        sql_query("UPDATE feedback_senders SET notify_by = '{}' WHERE feedback_id = $1")
            .bind::<SqlUuid, _>(feedback)
            .execute(conn)?;
    }
    if publish {
        // What was published on the strength of that consent is public no longer.
        sql_query("DELETE FROM feedback_publications WHERE feedback_id = $1")
            .bind::<SqlUuid, _>(feedback)
            .execute(conn)?;
    }
    sql_query(
        "UPDATE feedback_consents SET
             notify_withdrawn_at = CASE WHEN $2 THEN coalesce(notify_withdrawn_at, $4) ELSE notify_withdrawn_at END,
             publish_withdrawn_at = CASE WHEN $3 THEN coalesce(publish_withdrawn_at, $4) ELSE publish_withdrawn_at END
         WHERE feedback_id = $1",
    )
    .bind::<SqlUuid, _>(feedback)
    .bind::<Bool, _>(notify)
    .bind::<Bool, _>(publish)
    .bind::<Timestamptz, _>(at)
    .execute(conn)
    .map(drop)
}

/// Why a record is held, if it is.
pub fn hold_of(conn: &mut PgConnection, feedback: Uuid) -> QueryResult<Option<String>> {
    #[derive(QueryableByName)]
    struct Hold {
        #[diesel(sql_type = Text)]
        reason: String,
    }
    let found: Option<Hold> = sql_query("SELECT reason FROM feedback_holds WHERE feedback_id = $1")
        .bind::<SqlUuid, _>(feedback)
        .get_result(conn)
        .optional()?;
    Ok(found.map(|h| h.reason))
}

pub fn set_hold(conn: &mut PgConnection, feedback: Uuid, org: Uuid, reason: &str, by: Option<Uuid>) -> QueryResult<()> {
    sql_query(
        "INSERT INTO feedback_holds (feedback_id, organization_id, reason, set_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (feedback_id) DO UPDATE SET reason = excluded.reason, set_by = excluded.set_by, set_at = now()",
    )
    .bind::<SqlUuid, _>(feedback)
    .bind::<SqlUuid, _>(org)
    .bind::<Text, _>(reason)
    .bind::<Nullable<SqlUuid>, _>(by)
    .execute(conn)
    .map(drop)
}

pub fn lift_hold(conn: &mut PgConnection, feedback: Uuid) -> QueryResult<bool> {
    Ok(sql_query("DELETE FROM feedback_holds WHERE feedback_id = $1").bind::<SqlUuid, _>(feedback).execute(conn)? > 0)
}

/// The organisation's live records whose sender has one of `keys` (the keyed hashes of
/// a phone or an e-mail): found through the index of keys, never by reading the
/// senders' fields.
pub fn records_of(conn: &mut PgConnection, org: Uuid, keys: &[Vec<u8>]) -> QueryResult<Vec<Uuid>> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    let ids: Vec<Id> = sql_query(
        "SELECT DISTINCT k.feedback_id AS id FROM feedback_sender_keys k
         JOIN feedback f ON f.id = k.feedback_id
         WHERE k.organization_id = $1 AND k.key = ANY($2) ORDER BY 1",
    )
    .bind::<SqlUuid, _>(org)
    .bind::<Array<diesel::sql_types::Bytea>, _>(keys)
    .load(conn)?;
    Ok(ids.into_iter().map(|i| i.id).collect())
}

/// Restricts the processing of these records' senders: masked to everyone, told nothing.
pub fn restrict(conn: &mut PgConnection, ids: &[Uuid], at: DateTime<Utc>) -> QueryResult<usize> {
    sql_query(
        "UPDATE feedback_senders SET restricted_at = coalesce(restricted_at, $2), notify_by = '{}'
         WHERE feedback_id = ANY($1)",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Timestamptz, _>(at)
    .execute(conn)
}

/// Why an erasure was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    Retention,
    Request,
    Reapplied,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Self::Retention => "retention",
            Self::Request => "request",
            Self::Reapplied => "reapplied",
        }
    }
}

/// What erasing one record's sender did.
pub struct Erased {
    /// The stored files of its attachments, for the caller to remove from the store once
    /// the transaction commits (if nothing else refers to them).
    pub files: Vec<String>,
}

/// Erases the sender of `feedback`: the personal fields emptied and flagged, the
/// consent to be told gone, the keyed hashes deleted (no search finds it), the citizen's
/// attachments removed, the messages' masked recipients blanked; the record, its figures
/// and its published result stay. Logged (`erasures`) and audited, masked. `None`
/// when the record is under legal hold (read after locking it).
pub fn erase(
    conn: &mut PgConnection,
    feedback: Uuid,
    org: Uuid,
    reason: Reason,
    basis: Option<(&str, &str)>,
    actor: &Actor,
) -> QueryResult<Option<Erased>> {
    // The record locked, then its hold read: a hold set meanwhile waits for this
    // transaction, or is seen here and stops the erasure.
    sql_query("SELECT id FROM feedback WHERE id = $1 FOR UPDATE").bind::<SqlUuid, _>(feedback).execute(conn)?;
    if hold_of(conn, feedback)?.is_some() {
        return Ok(None);
    }
    sql_query(
        "UPDATE feedback_senders SET name = NULL, phone = NULL, email = NULL, address = NULL, notify_by = '{}',
             erased_at = coalesce(erased_at, now())
         WHERE feedback_id = $1",
    )
    .bind::<SqlUuid, _>(feedback)
    .execute(conn)?;
    sql_query("DELETE FROM feedback_sender_keys WHERE feedback_id = $1").bind::<SqlUuid, _>(feedback).execute(conn)?;
    sql_query("UPDATE outbound_messages SET recipient_masked = '', body = NULL WHERE feedback_id = $1")
        .bind::<SqlUuid, _>(feedback)
        .execute(conn)?;
    #[derive(QueryableByName)]
    struct File {
        #[diesel(sql_type = Text)]
        sha256: String,
    }
    let files: Vec<File> = sql_query(
        "UPDATE feedback_attachments SET deleted_at = now(), updated_at = now(), version = version + 1,
             file_name = 'đã xóa'
         WHERE feedback_id = $1 AND deleted_at IS NULL RETURNING sha256",
    )
    .bind::<SqlUuid, _>(feedback)
    .load(conn)?;
    sql_query(
        "INSERT INTO erasures (id, organization_id, feedback_id, reason, legal_basis, request_reference, performed_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind::<SqlUuid, _>(Uuid::now_v7())
    .bind::<SqlUuid, _>(org)
    .bind::<SqlUuid, _>(feedback)
    .bind::<Text, _>(reason.as_str())
    .bind::<Nullable<Text>, _>(basis.map(|b| b.0))
    .bind::<Nullable<Text>, _>(basis.map(|b| b.1))
    .bind::<Nullable<SqlUuid>, _>(actor.id)
    .execute(conn)?;
    let changes = json!({
        "sender": {"before": "***", "after": null},
        "attachments_removed": {"before": null, "after": files.len()},
        "erasure": {"before": null, "after": reason.as_str()},
    });
    audit::record(
        conn,
        actor,
        Event {
            action: "erase",
            entity_type: "feedback",
            entity_id: Some(feedback),
            organization_id: Some(org),
            changes,
        },
    )?;
    Ok(Some(Erased { files: files.into_iter().map(|f| f.sha256).collect() }))
}

/// Of `hashes`, those still referred to by a live attachment, any evidence file or a
/// receipt: the rest may leave the store.
pub fn still_used(conn: &mut PgConnection, hashes: &[String]) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct File {
        #[diesel(sql_type = Text)]
        sha256: String,
    }
    let used: Vec<File> = sql_query(
        "SELECT sha256 FROM feedback_attachments WHERE sha256 = ANY($1) AND deleted_at IS NULL
         UNION SELECT sha256 FROM evidence WHERE sha256 = ANY($1) AND erased_at IS NULL
         UNION SELECT receipt_sha256 FROM budget_spendings WHERE receipt_sha256 = ANY($1)",
    )
    .bind::<Array<Text>, _>(hashes)
    .load(conn)?;
    Ok(used.into_iter().map(|f| f.sha256).collect())
}

/// A record whose sender the retention rule erases (or would).
#[derive(QueryableByName, Serialize, ToSchema, Clone, Debug)]
pub struct Due {
    #[diesel(sql_type = SqlUuid)]
    pub feedback_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub organization_id: Uuid,
    #[diesel(sql_type = Text)]
    pub code: String,
    /// The day the record was closed (Vietnam).
    #[diesel(sql_type = Date)]
    pub closed_on: NaiveDate,
    /// The category's retention, else the organisation's.
    #[diesel(sql_type = Integer)]
    pub retention_years: i32,
    /// The first day it may be erased.
    #[diesel(sql_type = Date)]
    pub erase_on: NaiveDate,
    /// Under legal hold: not erased.
    #[diesel(sql_type = Nullable<Text>)]
    pub held: Option<String>,
}

/// The closed records of `org` (all with `None`) whose retention has run out by
/// `today` and whose sender or files are not erased yet, held ones included (marked).
pub fn due(
    conn: &mut PgConnection,
    org: Option<Uuid>,
    today: NaiveDate,
    limit: i64,
    with_held: bool,
) -> QueryResult<Vec<Due>> {
    sql_query(
        "SELECT * FROM (
             SELECT f.id AS feedback_id, f.organization_id, f.code,
                    (coalesce(f.closed_at, f.answered_at, f.deleted_at,
                              (SELECT max(fh.at) FROM feedback_history fh
                               WHERE fh.feedback_id = f.id AND fh.to_status = f.status),
                              f.updated_at) AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS closed_on,
                    coalesce(c.retention_years, o.retention_years) AS retention_years,
                    h.reason AS held
             FROM feedback f
             JOIN organizations o ON o.id = f.organization_id
             LEFT JOIN feedback_categories c ON c.id = f.category_id
             LEFT JOIN feedback_holds h ON h.feedback_id = f.id
             WHERE ($1::uuid IS NULL OR f.organization_id = $1)
               AND ($4 OR h.feedback_id IS NULL)
               AND (f.status IN ('answered', 'closed', 'rejected', 'forwarded', 'merged') OR f.deleted_at IS NOT NULL)
               AND (EXISTS (SELECT 1 FROM feedback_senders s WHERE s.feedback_id = f.id AND s.erased_at IS NULL
                            AND (s.name IS NOT NULL OR s.phone IS NOT NULL OR s.email IS NOT NULL OR s.address IS NOT NULL))
                    OR EXISTS (SELECT 1 FROM feedback_attachments a WHERE a.feedback_id = f.id AND a.deleted_at IS NULL))
         ) d
         CROSS JOIN LATERAL (SELECT (d.closed_on + make_interval(years => d.retention_years))::date AS erase_on) e
         WHERE e.erase_on <= $2
         ORDER BY e.erase_on, d.code LIMIT $3",
    )
    .bind::<Nullable<SqlUuid>, _>(org)
    .bind::<Date, _>(today)
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .bind::<Bool, _>(with_held)
    .load(conn)
}

/// An erasure as the log keeps it: no personal data.
#[derive(QueryableByName, Serialize, serde::Deserialize, ToSchema, Clone, Debug)]
pub struct ErasureEntry {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub feedback_id: Uuid,
    #[diesel(sql_type = Text)]
    pub code: String,
    /// `retention`, `request` or `reapplied`.
    #[diesel(sql_type = Text)]
    pub reason: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub legal_basis: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub request_reference: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub performed_at: DateTime<Utc>,
}

/// The organisation's erasures (all with `None`), oldest first.
pub fn erasures(conn: &mut PgConnection, org: Option<Uuid>) -> QueryResult<Vec<ErasureEntry>> {
    sql_query(
        "SELECT e.id, e.feedback_id, f.code, e.reason, e.legal_basis, e.request_reference, e.performed_at
         FROM erasures e JOIN feedback f ON f.id = e.feedback_id
         WHERE $1::uuid IS NULL OR e.organization_id = $1 ORDER BY e.performed_at, e.id",
    )
    .bind::<Nullable<SqlUuid>, _>(org)
    .load(conn)
}

/// Of `ids`, the records of `org` (any with `None`) that still hold personal data of
/// their sender or a live attachment: what a restored backup brought back.
pub fn not_erased(conn: &mut PgConnection, org: Option<Uuid>, ids: &[Uuid]) -> QueryResult<Vec<(Uuid, Uuid)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
        #[diesel(sql_type = SqlUuid)]
        organization_id: Uuid,
    }
    let rows: Vec<Row> = sql_query(
        "SELECT f.id, f.organization_id FROM feedback f
         WHERE f.id = ANY($1) AND ($2::uuid IS NULL OR f.organization_id = $2)
           AND NOT EXISTS (SELECT 1 FROM feedback_holds h WHERE h.feedback_id = f.id)
           AND (EXISTS (SELECT 1 FROM feedback_senders s WHERE s.feedback_id = f.id
                        AND (s.erased_at IS NULL OR s.name IS NOT NULL OR s.phone IS NOT NULL
                             OR s.email IS NOT NULL OR s.address IS NOT NULL))
                OR EXISTS (SELECT 1 FROM feedback_sender_keys k WHERE k.feedback_id = f.id)
                OR EXISTS (SELECT 1 FROM feedback_attachments a WHERE a.feedback_id = f.id AND a.deleted_at IS NULL))",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Nullable<SqlUuid>, _>(org)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.id, r.organization_id)).collect())
}

/// Records a data subject's request acted on.
pub fn log_request(
    conn: &mut PgConnection,
    org: Uuid,
    action: &str,
    (basis, reference): (&str, &str),
    records: usize,
    held: usize,
    by: Option<Uuid>,
) -> QueryResult<Uuid> {
    let id = Uuid::now_v7();
    sql_query(
        "INSERT INTO data_requests (id, organization_id, action, legal_basis, request_reference, records, held, performed_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(org)
    .bind::<Text, _>(action)
    .bind::<Text, _>(basis)
    .bind::<Text, _>(reference)
    .bind::<Integer, _>(records as i32)
    .bind::<Integer, _>(held as i32)
    .bind::<Nullable<SqlUuid>, _>(by)
    .execute(conn)?;
    Ok(id)
}

/// What is held about a sender in one record, for the data subject.
#[derive(QueryableByName, Serialize, ToSchema, Clone, Debug)]
pub struct Held {
    #[diesel(sql_type = SqlUuid)]
    pub feedback_id: Uuid,
    #[diesel(sql_type = Text)]
    pub code: String,
    #[diesel(sql_type = Timestamptz)]
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub received_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub channel: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Text)]
    pub subject: String,
    #[diesel(sql_type = Text)]
    pub content: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub phone: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub email: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub address: Option<String>,
    #[diesel(sql_type = Array<Text>)]
    pub notify_by: Vec<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub restricted_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub erased_at: Option<DateTime<Utc>>,
    /// The names of the files the sender sent (live ones).
    #[diesel(sql_type = Array<Text>)]
    pub attachments: Vec<String>,
    /// The messages sent to them: `kind/channel/status`.
    #[diesel(sql_type = Array<Text>)]
    pub messages: Vec<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub legal_hold: Option<String>,
}

pub fn held_about(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<Held>> {
    sql_query(
        "SELECT f.id AS feedback_id, f.code, f.received_at, f.channel, f.status, f.subject, f.content,
                s.name, s.phone, s.email, s.address, coalesce(s.notify_by, '{}') AS notify_by,
                s.restricted_at, s.erased_at,
                ARRAY(SELECT a.file_name FROM feedback_attachments a
                      WHERE a.feedback_id = f.id AND a.deleted_at IS NULL ORDER BY a.id) AS attachments,
                ARRAY(SELECT m.kind || '/' || m.channel || '/' || m.status FROM outbound_messages m
                      WHERE m.feedback_id = f.id ORDER BY m.id) AS messages,
                h.reason AS legal_hold
         FROM feedback f
         LEFT JOIN feedback_senders s ON s.feedback_id = f.id
         LEFT JOIN feedback_holds h ON h.feedback_id = f.id
         WHERE f.id = ANY($1) ORDER BY f.received_at, f.id",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .load(conn)
}

/// An activity's evidence file that shows a person, past the organisation's retention
/// since the activity was held: the retention run erases its file.
#[derive(QueryableByName, Serialize, ToSchema, Clone, Debug)]
pub struct EvidenceDue {
    #[diesel(sql_type = SqlUuid)]
    pub evidence_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub activity_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub organization_id: Uuid,
    /// The day the activity was held (its end, else its start; Vietnam).
    #[diesel(sql_type = Date)]
    pub held_on: NaiveDate,
    /// The organisation's.
    #[diesel(sql_type = Integer)]
    pub retention_years: i32,
    /// The first day it may be erased.
    #[diesel(sql_type = Date)]
    pub erase_on: NaiveDate,
}

/// The evidence files of `org` (all with `None`) that show a person, are not erased yet
/// and whose retention has run out by `today` — deleted ones too, whose file is kept.
pub fn evidence_due(
    conn: &mut PgConnection,
    org: Option<Uuid>,
    today: NaiveDate,
    limit: i64,
) -> QueryResult<Vec<EvidenceDue>> {
    sql_query(
        "SELECT d.*, x.erase_on FROM (
             SELECT e.id AS evidence_id, e.activity_id, e.organization_id,
                    (coalesce(a.held_to, a.held_from) AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS held_on,
                    o.retention_years
             FROM evidence e
             JOIN activities a ON a.id = e.activity_id
             JOIN organizations o ON o.id = e.organization_id
             WHERE e.shows_person AND e.erased_at IS NULL AND ($1::uuid IS NULL OR e.organization_id = $1)
         ) d
         CROSS JOIN LATERAL (SELECT (d.held_on + make_interval(years => d.retention_years))::date AS erase_on) x
         WHERE x.erase_on <= $2
         ORDER BY x.erase_on, d.evidence_id LIMIT $3",
    )
    .bind::<Nullable<SqlUuid>, _>(org)
    .bind::<Date, _>(today)
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load(conn)
}

/// Erases an evidence file that shows a person: its name and caption emptied, the row
/// flagged (it is still counted as the activity's evidence), audited. Returns its
/// content hash, for the caller to remove from the store once the transaction commits.
pub fn erase_evidence(conn: &mut PgConnection, id: Uuid, actor: &Actor) -> QueryResult<Option<String>> {
    #[derive(QueryableByName)]
    struct Erased {
        #[diesel(sql_type = Text)]
        sha256: String,
        #[diesel(sql_type = SqlUuid)]
        organization_id: Uuid,
    }
    let erased: Option<Erased> = sql_query(
        "UPDATE evidence SET erased_at = now(), file_name = 'đã xóa', caption = NULL, updated_at = now(),
             version = version + 1
         WHERE id = $1 AND erased_at IS NULL RETURNING sha256, organization_id",
    )
    .bind::<SqlUuid, _>(id)
    .get_result(conn)
    .optional()?;
    let Some(erased) = erased else { return Ok(None) };
    audit::record(
        conn,
        actor,
        Event {
            action: "erase",
            entity_type: "evidence",
            entity_id: Some(id),
            organization_id: Some(erased.organization_id),
            changes: json!({"file": {"before": "***", "after": null},
                            "erasure": {"before": null, "after": Reason::Retention.as_str()}}),
        },
    )?;
    Ok(Some(erased.sha256))
}

/// What a retention run erased.
#[derive(Debug, Default)]
pub struct RetentionRun {
    /// Records whose sender was anonymised.
    pub records: usize,
    /// Evidence files that showed a person.
    pub evidence: usize,
    /// The content hashes to remove from the store (`remove_files`).
    pub files: Vec<String>,
}

/// Runs the retention rule on `today`: anonymises every record due that is not held,
/// and erases the evidence files that show a person and are due. Used by the daily job.
pub async fn run_retention(pool: &crate::db::PgPool, today: NaiveDate) -> Result<RetentionRun, ApiError> {
    const BATCH: i64 = 500;
    let (erased, mut files) = run_record_retention(pool, today, BATCH).await?;
    let mut evidence = 0;
    loop {
        let actor = Actor::system();
        let (hashes, full) = crate::db::run(pool, move |conn| {
            conn.transaction(|conn| {
                let due = evidence_due(conn, None, today, BATCH)?;
                let full = due.len() as i64 == BATCH;
                let mut hashes = Vec::new();
                for d in due {
                    hashes.extend(erase_evidence(conn, d.evidence_id, &actor)?);
                }
                Ok((hashes, full))
            })
        })
        .await?;
        evidence += hashes.len();
        let done = !full || hashes.is_empty();
        files.extend(hashes);
        if done {
            return Ok(RetentionRun { records: erased, evidence, files });
        }
    }
}

/// The records' part of the run: how many were anonymised, and their files.
async fn run_record_retention(
    pool: &crate::db::PgPool,
    today: NaiveDate,
    batch: i64,
) -> Result<(usize, Vec<String>), ApiError> {
    let (mut erased, mut files) = (0, Vec::new());
    // In batches, each its own transaction, until a batch is not full; held records are
    // not even read, so they never fill one.
    loop {
        let actor = Actor::system();
        let (count, batch_files, full) = crate::db::run(pool, move |conn| {
            conn.transaction(|conn| {
                let due = due(conn, None, today, batch, false)?;
                let full = due.len() as i64 == batch;
                let (mut count, mut files) = (0, Vec::new());
                for d in due {
                    let erased = erase(conn, d.feedback_id, d.organization_id, Reason::Retention, None, &actor)?;
                    if let Some(e) = erased {
                        files.extend(e.files);
                        count += 1;
                    }
                }
                Ok((count, files, full))
            })
        })
        .await?;
        erased += count;
        files.extend(batch_files);
        if !full || count == 0 {
            return Ok((erased, files));
        }
    }
}

/// Removes from the store the files no live record refers to any more (after the
/// transaction that erased them committed). A failure is logged: the file is no longer
/// reachable through the service either way.
pub async fn remove_files(pool: &crate::db::PgPool, store: &crate::storage::EvidenceStore, files: Vec<String>) {
    if files.is_empty() {
        return;
    }
    let check = files.clone();
    let used = crate::db::run(pool, move |conn| Ok(still_used(conn, &check)?)).await;
    let Ok(used) = used else { return };
    for sha256 in files.iter().filter(|f| !used.contains(f)) {
        if let Err(err) = store.delete(sha256).await {
            tracing::warn!(sha256, "an erased file could not be removed from the store: {err:?}");
        }
    }
}
