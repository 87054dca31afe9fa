//! Domain events: what a change means to a system that integrates, named from the
//! audit trail's record of it (`db::audit::record` writes both in one transaction).
use serde_json::{Map, Value};

/// Fields an event never carries besides the personal ones (`PERSONAL_FIELDS`): the
/// sender as a whole, internal notes, secrets.
const WITHHELD: &[&str] = &["sender", "internal_note", "password", "password_hash", "client_secret", "secret_hash"];

/// The type of the event a change of `entity` by `action` makes, given what changed
/// (the audit trail's `{"field": {"before", "after"}}`).
pub fn event_type(action: &str, entity: &str, changes: &Value) -> String {
    let after = |field: &str| changes.get(field).and_then(|c| c.get("after")).and_then(Value::as_str);
    let changed = |field: &str| changes.get(field).is_some();
    let named = match (entity, action) {
        ("feedback", "create") => Some("received"),
        ("feedback", _) if after("status") == Some("answered") => Some("answered"),
        ("feedback", _) if changes.get("published").and_then(|c| c.get("after")) == Some(&Value::Bool(true)) => {
            Some("published")
        }
        ("feedback", _) if changed("satisfaction") => Some("rated"),
        ("feedback", _) if changed("status") => Some("status_changed"),
        ("feedback", _) if changed("department_id") => Some("assigned"),
        ("activity", _) => match after("status") {
            Some("submitted") => Some("submitted"),
            Some("verified") => Some("verified"),
            Some("returned") => Some("returned"),
            _ => None,
        },
        ("evidence", "create") => Some("added"),
        ("progress_report", "create") => Some("submitted"),
        ("progress_report", _) => match after("status") {
            Some("accepted") => Some("accepted"),
            Some("returned") => Some("returned"),
            _ => None,
        },
        ("plan", _) if changed("status") && action != "create" => Some("status_changed"),
        ("plan", "import") => Some("imported"),
        _ => None,
    };
    if entity == "measurement" && action == "create" {
        return "indicator.measured".to_owned();
    }
    let verb = named.unwrap_or(match action {
        "create" => "created",
        "delete" => "deleted",
        _ => "updated",
    });
    format!("{entity}.{verb}")
}

/// What an event carries of a change: the fields that changed, as they are after it
/// (`null` for a deletion), less what is withheld.
pub fn event_data(changes: &Value) -> Value {
    let mut out = Map::new();
    for (field, change) in changes.as_object().into_iter().flatten() {
        if WITHHELD.contains(&field.as_str()) || super::PERSONAL_FIELDS.contains(&field.as_str()) {
            continue;
        }
        out.insert(field.clone(), change.get("after").cloned().unwrap_or(Value::Null));
    }
    Value::Object(out)
}

/// Where a consumer reads the subject (with its own rights), if it has an address.
pub fn subject_url(entity: &str, id: uuid::Uuid) -> Option<String> {
    let collection = match entity {
        "organization" => "organizations",
        "department" => "departments",
        "user" => "users",
        "service_client" => "service-clients",
        "document" => "documents",
        "plan" => "plans",
        "plan_item" => "plan-items",
        "indicator" => "indicators",
        "assignment" => "assignments",
        "activity" => "activities",
        "evidence" => "evidence",
        "feedback" => "feedback",
        "feedback_category" => "feedback-categories",
        _ => return None,
    };
    Some(format!("/api/v1/{collection}/{id}"))
}

/// A feed position: the writing transaction and the event's sequence number.
pub fn parse_cursor(text: &str) -> Option<(u64, i64)> {
    let (txid, seq) = text.split_once('.')?;
    let digits = |s: &str, most: usize| !s.is_empty() && s.len() <= most && s.bytes().all(|b| b.is_ascii_digit());
    (digits(txid, 19) && digits(seq, 18)).then(|| Some((txid.parse().ok()?, seq.parse().ok()?)))?
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn types_say_what_happened_and_data_hold_no_personal_fields() {
        let change = |field: &str, after: Value| json!({field: {"before": null, "after": after}});
        assert_eq!(event_type("create", "feedback", &json!({})), "feedback.received");
        assert_eq!(event_type("transition", "feedback", &change("status", json!("answered"))), "feedback.answered");
        assert_eq!(
            event_type("transition", "feedback", &change("status", json!("accepted"))),
            "feedback.status_changed"
        );
        assert_eq!(event_type("update", "feedback", &change("published", json!(true))), "feedback.published");
        assert_eq!(event_type("update", "feedback", &change("department_id", json!("x"))), "feedback.assigned");
        assert_eq!(event_type("transition", "activity", &change("status", json!("verified"))), "activity.verified");
        assert_eq!(event_type("create", "measurement", &json!({})), "indicator.measured");
        assert_eq!(event_type("update", "plan_item", &json!({})), "plan_item.updated");
        assert_eq!(event_type("delete", "document", &json!({})), "document.deleted");
        let data = event_data(
            &json!({"sender_name": {"before": null, "after": "N***"}, "subject": {"before": "a", "after": "b"}}),
        );
        assert_eq!(data, json!({"subject": "b"}));
        assert_eq!(parse_cursor("123.45"), Some((123, 45)));
        for bad in ["", "1", "a.b", "1.", ".1", "1.2.3", "99999999999999999999.1", "1.9999999999999999999"] {
            assert_eq!(parse_cursor(bad), None, "{bad}");
        }
    }
}
