//! An organisation's message templates (table `message_templates`), one per kind and
//! channel; the built-in one (`domain::messages::builtin`) where it has none.
use chrono::{DateTime, Utc};
use diesel::{
    OptionalExtension,
    prelude::*,
    sql_query,
    sql_types::{Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid},
};
use uuid::Uuid;

use crate::domain::messages::{MessageChannel, MessageKind, Template, builtin};

#[derive(QueryableByName, Clone, Debug)]
pub struct TemplateRow {
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub channel: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub subject: Option<String>,
    #[diesel(sql_type = Text)]
    pub body: String,
    #[diesel(sql_type = Integer)]
    pub version: i32,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub updated_by: Option<Uuid>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "kind, channel, subject, body, version, updated_by, updated_at";

pub fn all(conn: &mut PgConnection, org: Uuid) -> QueryResult<Vec<TemplateRow>> {
    sql_query(format!("SELECT {COLUMNS} FROM message_templates WHERE organization_id = $1"))
        .bind::<SqlUuid, _>(org)
        .load(conn)
}

pub fn find(
    conn: &mut PgConnection,
    org: Uuid,
    kind: MessageKind,
    channel: MessageChannel,
) -> QueryResult<Option<TemplateRow>> {
    sql_query(format!(
        "SELECT {COLUMNS} FROM message_templates WHERE organization_id = $1 AND kind = $2 AND channel = $3"
    ))
    .bind::<SqlUuid, _>(org)
    .bind::<Text, _>(kind.as_str())
    .bind::<Text, _>(channel.as_str())
    .get_result(conn)
    .optional()
}

/// What a message of `kind` on `channel` is written from.
pub fn effective(
    conn: &mut PgConnection,
    org: Uuid,
    kind: MessageKind,
    channel: MessageChannel,
) -> QueryResult<Template> {
    Ok(find(conn, org, kind, channel)?
        .map_or_else(|| builtin(kind, channel), |row| Template { subject: row.subject, body: row.body }))
}

/// Writes the organisation's own template (a new version of it).
pub fn put(
    conn: &mut PgConnection,
    org: Uuid,
    kind: MessageKind,
    channel: MessageChannel,
    template: &Template,
    by: Uuid,
) -> QueryResult<TemplateRow> {
    sql_query(format!(
        "INSERT INTO message_templates (organization_id, kind, channel, subject, body, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (organization_id, kind, channel) DO UPDATE
             SET subject = excluded.subject, body = excluded.body, updated_by = excluded.updated_by,
                 updated_at = now(), version = message_templates.version + 1
         RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(org)
    .bind::<Text, _>(kind.as_str())
    .bind::<Text, _>(channel.as_str())
    .bind::<Nullable<Text>, _>(template.subject.as_deref())
    .bind::<Text, _>(&template.body)
    .bind::<SqlUuid, _>(by)
    .get_result(conn)
}

/// Goes back to the built-in template; the one removed, if there was one.
pub fn remove(
    conn: &mut PgConnection,
    org: Uuid,
    kind: MessageKind,
    channel: MessageChannel,
) -> QueryResult<Option<TemplateRow>> {
    sql_query(format!(
        "DELETE FROM message_templates WHERE organization_id = $1 AND kind = $2 AND channel = $3 RETURNING {COLUMNS}"
    ))
    .bind::<SqlUuid, _>(org)
    .bind::<Text, _>(kind.as_str())
    .bind::<Text, _>(channel.as_str())
    .get_result(conn)
    .optional()
}
