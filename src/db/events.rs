//! The event feed's table: written beside each audit event, read in commit-safe order.
use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_query,
    sql_types::{BigInt, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid},
};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    db::webhooks::Message,
    domain::{
        events::{Event, Subject, event_data, event_type, subject_url},
        webhooks::matches,
    },
};

/// Writes the event of a change the audit trail records, in the caller's transaction,
/// and queues its delivery to every active subscription of the organisation that takes
/// its type: the event, the deliveries and their jobs commit with the change or not at
/// all. One round trip when no subscription is active.
pub fn record(
    conn: &mut PgConnection,
    (action, entity): (&str, &str),
    subject: Option<Uuid>,
    organization: Option<Uuid>,
    changes: &Value,
) -> QueryResult<()> {
    #[derive(QueryableByName)]
    struct Written {
        #[diesel(sql_type = Timestamptz)]
        occurred_at: DateTime<Utc>,
        /// `[{"id", "event_types"}]` of the organisation's active subscriptions.
        #[diesel(sql_type = Text)]
        hooks: String,
    }
    #[derive(serde::Deserialize)]
    struct Hook {
        id: Uuid,
        event_types: Vec<String>,
    }
    let id = Uuid::now_v7();
    let kind = event_type(action, entity, changes);
    let data = event_data(changes);
    let written: Written = sql_query(
        "WITH e AS (
             INSERT INTO events (id, type, organization_id, subject_type, subject_id, data)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING occurred_at)
         SELECT e.occurred_at, coalesce((
             SELECT json_agg(json_build_object('id', w.id, 'event_types', w.event_types))::text
             FROM webhooks w WHERE w.organization_id = $3 AND w.active AND w.deleted_at IS NULL), '[]') AS hooks
         FROM e",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(&kind)
    .bind::<Nullable<SqlUuid>, _>(organization)
    .bind::<Text, _>(entity)
    .bind::<Nullable<SqlUuid>, _>(subject)
    .bind::<Jsonb, _>(&data)
    .get_result(conn)?;
    let (Some(org), Ok(hooks)) = (organization, serde_json::from_str::<Vec<Hook>>(&written.hooks)) else {
        return Ok(());
    };
    let hooks: Vec<Uuid> = hooks.into_iter().filter(|h| matches(&h.event_types, &kind)).map(|h| h.id).collect();
    if hooks.is_empty() {
        return Ok(());
    }
    let event = Event {
        id,
        kind: kind.clone(),
        occurred_at: written.occurred_at,
        organization_id: Some(org),
        subject: Subject { kind: entity.to_owned(), id: subject, url: subject.and_then(|s| subject_url(entity, s)) },
        data,
    };
    let payload = serde_json::to_string(&event).expect("an event serialises");
    let subject_key = format!("{entity}/{}", subject.map(|s| s.to_string()).unwrap_or_default());
    let message =
        Message { event_id: id, event_type: &kind, organization_id: org, subject_key: &subject_key, payload: &payload };
    for hook in hooks {
        crate::db::webhooks::enqueue(conn, hook, &message)?;
    }
    Ok(())
}

/// Forgets events older than `days`, a batch at a time (several instances may run it
/// at once); returns how many went.
pub fn purge_older_than(conn: &mut PgConnection, days: i64) -> QueryResult<usize> {
    let mut removed = 0;
    loop {
        let n = sql_query(
            "DELETE FROM events WHERE seq IN (
                 SELECT seq FROM events WHERE occurred_at < now() - make_interval(days => $1::int)
                 ORDER BY seq LIMIT 10000 FOR UPDATE SKIP LOCKED)",
        )
        .bind::<BigInt, _>(days)
        .execute(conn)?;
        removed += n;
        if n < 10000 {
            return Ok(removed);
        }
    }
}

#[derive(QueryableByName, Debug)]
pub struct EventRow {
    #[diesel(sql_type = BigInt)]
    pub seq: i64,
    #[diesel(sql_type = Text)]
    pub txid: String,
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Timestamptz)]
    pub occurred_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub organization_id: Option<Uuid>,
    #[diesel(sql_type = Text)]
    pub subject_type: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub subject_id: Option<Uuid>,
    #[diesel(sql_type = Jsonb)]
    pub data: Value,
}

/// Which events to read.
pub enum TypeFilter {
    Any,
    Exactly(String),
    /// `feedback.*`: types that start with `feedback.`.
    Prefix(String),
}

/// Events after `after` (of `org`, or of all for `None`), in (txid, seq) order, only of
/// transactions older than every transaction still running: whatever commits later has
/// a larger txid than anything handed out, so a cursor never passes an event that is
/// still to commit.
pub fn feed(
    conn: &mut PgConnection,
    org: Option<Uuid>,
    after: Option<(u64, i64)>,
    types: &TypeFilter,
    limit: i64,
) -> QueryResult<Vec<EventRow>> {
    let (exact, prefix) = match types {
        TypeFilter::Any => (None, None),
        TypeFilter::Exactly(t) => (Some(t.clone()), None),
        TypeFilter::Prefix(p) => (None, Some(p.clone())),
    };
    sql_query(
        "SELECT seq, txid::text AS txid, id, type AS kind, occurred_at, organization_id, subject_type, subject_id, data
         FROM events
         WHERE ($1::uuid IS NULL OR organization_id = $1)
           AND ($2::text IS NULL OR (txid, seq) > ($2::xid8, $3::bigint))
           AND txid < pg_snapshot_xmin(pg_current_snapshot())
           AND ($4::text IS NULL OR type = $4)
           AND ($5::text IS NULL OR left(type, length($5)) = $5)
         ORDER BY txid, seq
         LIMIT $6",
    )
    .bind::<Nullable<SqlUuid>, _>(org)
    .bind::<Nullable<Text>, _>(after.map(|(txid, _)| txid.to_string()))
    .bind::<BigInt, _>(after.map_or(0, |(_, seq)| seq))
    .bind::<Nullable<Text>, _>(exact)
    .bind::<Nullable<Text>, _>(prefix)
    .bind::<BigInt, _>(limit)
    .load(conn)
}
