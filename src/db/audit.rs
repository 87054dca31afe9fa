//! The audit trail: every change writes one event in the same transaction as the
//! change (and its domain event for the feed, `db::events`). Events are append-only (a
//! trigger refuses updates and deletes).
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{
    db::{page::PageRequest, schema::audit_events},
    // Personal data is masked in the trail: it shows that a field changed, not its value.
    domain::PERSONAL_FIELDS as PERSONAL,
};

/// Who did it, from where, in which request (`http::context` makes one of a request).
#[derive(Clone, Debug)]
pub struct Actor {
    pub kind: &'static str,
    pub id: Option<Uuid>,
    pub name: Option<String>,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}

impl Actor {
    pub fn system() -> Self {
        Self { kind: "system", id: None, name: Some("system".to_owned()), request_id: None, client_addr: None }
    }
}

/// One event to record.
pub struct Event<'a> {
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: Option<Uuid>,
    pub organization_id: Option<Uuid>,
    pub changes: Value,
}

impl<'a> Event<'a> {
    pub fn created<T: serde::Serialize>(entity_type: &'a str, id: Uuid, org: Option<Uuid>, after: &T) -> Self {
        Self::change("create", entity_type, id, org, &Value::Null, &to_value(after))
    }

    pub fn updated<T: serde::Serialize>(
        entity_type: &'a str,
        id: Uuid,
        org: Option<Uuid>,
        before: &T,
        after: &T,
    ) -> Self {
        Self::change("update", entity_type, id, org, &to_value(before), &to_value(after))
    }

    pub fn deleted<T: serde::Serialize>(entity_type: &'a str, id: Uuid, org: Option<Uuid>, before: &T) -> Self {
        Self::change("delete", entity_type, id, org, &to_value(before), &Value::Null)
    }

    /// Another action (`merge`, `unmerge`, …), with what it changed.
    pub fn acted<T: serde::Serialize>(
        action: &'a str,
        entity_type: &'a str,
        id: Uuid,
        org: Option<Uuid>,
        before: &T,
        after: &T,
    ) -> Self {
        Self::change(action, entity_type, id, org, &to_value(before), &to_value(after))
    }

    fn change(
        action: &'a str,
        entity_type: &'a str,
        id: Uuid,
        org: Option<Uuid>,
        before: &Value,
        after: &Value,
    ) -> Self {
        Self { action, entity_type, entity_id: Some(id), organization_id: org, changes: diff(before, after) }
    }
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
struct NewEvent<'a> {
    id: Uuid,
    actor_kind: &'a str,
    actor_id: Option<Uuid>,
    actor_name: Option<&'a str>,
    organization_id: Option<Uuid>,
    action: &'a str,
    entity_type: &'a str,
    entity_id: Option<Uuid>,
    changes: &'a Value,
    request_id: Option<&'a str>,
    client_addr: Option<&'a str>,
}

/// Writes the audit event of a change, and its domain event for the feed, in the
/// caller's transaction: the feed and the trail cannot disagree. Sign-ins (`login_…`)
/// are audited but are not changes, so they make no event.
pub fn record(conn: &mut PgConnection, actor: &Actor, event: Event<'_>) -> QueryResult<()> {
    // Sign-ins and oversight reads are in the trail but change nothing: no event.
    if !event.action.starts_with("login_") && event.action != "oversight_read" {
        crate::db::events::record(
            conn,
            (event.action, event.entity_type),
            event.entity_id,
            event.organization_id,
            &event.changes,
        )?;
    }
    diesel::insert_into(audit_events::table)
        .values(NewEvent {
            id: Uuid::now_v7(),
            actor_kind: actor.kind,
            actor_id: actor.id,
            actor_name: actor.name.as_deref(),
            organization_id: event.organization_id,
            action: event.action,
            entity_type: event.entity_type,
            entity_id: event.entity_id,
            changes: &event.changes,
            request_id: actor.request_id.as_deref(),
            client_addr: actor.client_addr.as_deref(),
        })
        .execute(conn)
        .map(|_| ())
}

/// Bookkeeping fields every change touches; leaving them out keeps events readable.
const NOISE: &[&str] = &["version", "updated_at", "created_at"];

/// `{"field": {"before": …, "after": …}}` for each field that differs between two
/// API representations (`Value::Null` for "did not exist").
pub fn diff(before: &Value, after: &Value) -> Value {
    let empty = Map::new();
    let b = before.as_object().unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let mut out = Map::new();
    let keys = b.keys().chain(a.keys().filter(|k| !b.contains_key(*k)));
    for key in keys {
        if NOISE.contains(&key.as_str()) {
            continue;
        }
        let (old, new) = (b.get(key).unwrap_or(&Value::Null), a.get(key).unwrap_or(&Value::Null));
        if old != new {
            let mut change = Map::new();
            change.insert("before".to_owned(), mask(key, old));
            change.insert("after".to_owned(), mask(key, new));
            out.insert(key.clone(), Value::Object(change));
        }
    }
    Value::Object(out)
}

/// Masks personal fields, also inside objects (a feedback record's `location.address`);
/// a record's `sender` comes masked already, its own way (`09******78`).
fn mask(field: &str, value: &Value) -> Value {
    match value {
        Value::String(s) if PERSONAL.contains(&field) => Value::String(mask_text(s)),
        Value::Object(map) if field != "sender" => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), mask(k, v))).collect())
        }
        _ => value.clone(),
    }
}

/// `nguyen.van.a@khanhhoa.gov.vn` → `n***@khanhhoa.gov.vn`; other text → `N***`.
pub fn mask_text(text: &str) -> String {
    let first: String = text.chars().take(1).collect();
    match text.split_once('@') {
        Some((_, domain)) => format!("{first}***@{domain}"),
        None => format!("{first}***"),
    }
}

#[derive(Queryable, Selectable, Debug)]
#[diesel(table_name = audit_events)]
pub struct AuditRow {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub actor_name: Option<String>,
    pub organization_id: Option<Uuid>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<Uuid>,
    pub changes: Value,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}

/// Audit events never change, so their sync order is simply their id order.
impl crate::db::page::Row for AuditRow {
    fn id(&self) -> Uuid {
        self.id
    }
    fn updated_at(&self) -> DateTime<Utc> {
        self.occurred_at
    }
    fn deleted_at(&self) -> Option<DateTime<Utc>> {
        None
    }
}

#[derive(Default)]
pub struct Filter {
    pub organization_id: Option<Uuid>,
    pub entity_type: Option<String>,
    pub entity_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

pub fn list(conn: &mut PgConnection, filter: &Filter, page: &PageRequest) -> QueryResult<Vec<AuditRow>> {
    use crate::db::page::Position;
    let mut q = audit_events::table.into_boxed();
    if let Some(org) = filter.organization_id {
        q = q.filter(audit_events::organization_id.eq(org));
    }
    if let Some(t) = &filter.entity_type {
        q = q.filter(audit_events::entity_type.eq(t.clone()));
    }
    if let Some(id) = filter.entity_id {
        q = q.filter(audit_events::entity_id.eq(id));
    }
    if let Some(id) = filter.actor_id {
        q = q.filter(audit_events::actor_id.eq(id));
    }
    if let Some(a) = &filter.action {
        q = q.filter(audit_events::action.eq(a.clone()));
    }
    if let Some(from) = filter.from.or(page.updated_since) {
        q = q.filter(audit_events::occurred_at.ge(from));
    }
    if let Some(to) = filter.to {
        q = q.filter(audit_events::occurred_at.lt(to));
    }
    match page.after {
        Some(Position::Id(id)) | Some(Position::Sync(_, id)) => q = q.filter(audit_events::id.gt(id)),
        None => {}
    }
    q.order(audit_events::id.asc()).limit(page.fetch()).select(AuditRow::as_select()).load(conn)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn diff_lists_changed_fields_and_masks_personal_data() {
        let before = json!({"name": "A", "email": "an@x.vn", "version": 1, "same": 3});
        let after = json!({"name": "B", "email": "binh@x.vn", "version": 2, "same": 3});
        assert_eq!(
            diff(&before, &after),
            json!({"name": {"before": "A", "after": "B"}, "email": {"before": "a***@x.vn", "after": "b***@x.vn"}})
        );
        assert_eq!(diff(&json!(null), &json!({"a": 1})), json!({"a": {"before": null, "after": 1}}));
    }
}
