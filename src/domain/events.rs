//! Domain events: what a change means to a system that integrates, named from the
//! audit trail's record of it (`db::audit::record` writes both in one transaction).
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

/// What an event is about.
#[derive(Serialize, ToSchema)]
pub struct Subject {
    /// `feedback`, `activity`, `plan_item`, …
    #[schema(example = "feedback")]
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<Uuid>,
    /// Where to read it, with the consumer's own rights (`null` when it has no address
    /// of its own).
    #[schema(example = "/api/v1/feedback/01938f6e-7d3c-7b1a-9c55-3f1f0b6f1a2e")]
    pub url: Option<String>,
}

/// One event. `data` holds the fields that changed, as they are after the change —
/// never personal data (senders' names, phones, e-mails, addresses) or internal notes:
/// a consumer that needs them reads the subject.
#[derive(Serialize, ToSchema)]
pub struct Event {
    pub id: Uuid,
    /// `feedback.received`, `feedback.answered`, `activity.verified`,
    /// `progress_report.submitted`, `plan.status_changed`, `indicator.measured`, or
    /// `<resource>.created|updated|deleted`.
    #[schema(example = "feedback.received")]
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub occurred_at: DateTime<Utc>,
    pub organization_id: Option<Uuid>,
    pub subject: Subject,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// Every event type the service sends: `(type, subject type, the API schema whose fields
/// `data` carries, what it means)`. The OpenAPI document's `webhooks` section is made
/// from it, and a test checks that every event the suite causes is listed.
pub const CATALOG: &[(&str, &str, &str, &str)] = &[
    (
        "feedback.received",
        "feedback",
        "Feedback",
        "A feedback record was filed (by staff, a service client, the hotline or a citizen).",
    ),
    ("feedback.assigned", "feedback", "Feedback", "A feedback record was given to a department (or to another one)."),
    (
        "feedback.status_changed",
        "feedback",
        "Feedback",
        "A feedback record moved to another status (other than answered).",
    ),
    ("feedback.answered", "feedback", "Feedback", "A feedback record was answered."),
    (
        "feedback_answer.created",
        "feedback_answer",
        "Answer",
        "An answer to a feedback record was written (the first one also makes `feedback.answered`).",
    ),
    ("feedback.published", "feedback", "Feedback", "A feedback record's result was published on the public pages."),
    (
        "feedback.sender_erased",
        "feedback",
        "Feedback",
        "A record's sender was anonymised (retention, a request, or re-applied after a restore); `data` is `sender: null`, `attachments_removed` and `erasure` (why), never who.",
    ),
    ("feedback.held", "feedback", "Feedback", "A record was put under legal hold: its sender is not erased."),
    ("feedback.released", "feedback", "Feedback", "A record's legal hold was lifted."),
    (
        "feedback.consent_withdrawn",
        "feedback",
        "Feedback",
        "The sender withdrew consent to being told or to publication (as staff recorded it).",
    ),
    (
        "data_request.created",
        "data_request",
        "DataRequestData",
        "A citizen's request about their personal data was acted on (`access`, `restrict`, `erase`), without who.",
    ),
    ("feedback.rated", "feedback", "Feedback", "The sender's satisfaction with the answer was recorded."),
    (
        "feedback.overdue",
        "feedback",
        "Feedback",
        "A feedback record's deadline passed unanswered: escalated to the coordinators and leaders (once per deadline).",
    ),
    ("feedback.extended", "feedback", "Feedback", "A feedback record's deadline was extended (gia hạn)."),
    (
        "feedback.reopened",
        "feedback",
        "Feedback",
        "The sender reopened an answered record (through tracking): back in progress with a new deadline.",
    ),
    (
        "feedback.merged",
        "feedback",
        "Feedback",
        "A feedback record was merged into another about the same matter (`merged_into`); its sender hears of the other's answer.",
    ),
    ("feedback.unmerged", "feedback", "Feedback", "A merge was undone: the record is a matter of its own again."),
    (
        "feedback_progress_note.created",
        "feedback_progress_note",
        "ProgressNote",
        "The department wrote what it is doing about a record, and by when.",
    ),
    ("feedback.updated", "feedback", "Feedback", "Other fields of a feedback record changed."),
    ("feedback.deleted", "feedback", "Feedback", "A feedback record was deleted."),
    ("feedback_category.created", "feedback_category", "FeedbackCategory", "A feedback category was created."),
    ("feedback_category.updated", "feedback_category", "FeedbackCategory", "A feedback category changed."),
    ("feedback_category.deleted", "feedback_category", "FeedbackCategory", "A feedback category was deleted."),
    (
        "holiday.created",
        "holiday",
        "Holiday",
        "A day off or a make-up working day was added to the organisation's calendar.",
    ),
    ("holiday.deleted", "holiday", "Holiday", "A day was taken out of the organisation's calendar."),
    ("activity.created", "activity", "Activity", "A communication activity was recorded."),
    ("activity.updated", "activity", "Activity", "A communication activity changed."),
    ("activity.submitted", "activity", "Activity", "A communication activity was submitted for verification."),
    ("activity.verified", "activity", "Activity", "A communication activity was verified."),
    ("activity.returned", "activity", "Activity", "A communication activity was returned for changes."),
    ("activity.deleted", "activity", "Activity", "A communication activity was deleted."),
    (
        "feedback_attachment.created",
        "feedback_attachment",
        "Attachment",
        "A file (a photo or a PDF) was attached to a feedback record, its location metadata taken out.",
    ),
    (
        "feedback_attachment.updated",
        "feedback_attachment",
        "Attachment",
        "An attachment was marked publishable or not.",
    ),
    ("feedback_attachment.deleted", "feedback_attachment", "Attachment", "An attachment was deleted."),
    ("evidence.added", "evidence", "Evidence", "An evidence file was added to an activity."),
    ("evidence.deleted", "evidence", "Evidence", "An evidence file was deleted."),
    (
        "progress_report.submitted",
        "progress_report",
        "ProgressReport",
        "A department submitted a progress report on a reporting duty.",
    ),
    ("progress_report.updated", "progress_report", "ProgressReport", "A progress report was revised."),
    ("progress_report.accepted", "progress_report", "ProgressReport", "A progress report was accepted."),
    ("progress_report.returned", "progress_report", "ProgressReport", "A progress report was returned for changes."),
    ("plan.created", "plan", "Plan", "A plan was created."),
    ("plan.imported", "plan", "Plan", "A whole plan was imported from a plan file."),
    ("plan.updated", "plan", "Plan", "A plan's details changed."),
    ("plan.status_changed", "plan", "Plan", "A plan was issued, started or closed."),
    ("plan.deleted", "plan", "Plan", "A plan was deleted."),
    ("plan_item.created", "plan_item", "PlanItem", "An item was added to a plan."),
    ("plan_item.updated", "plan_item", "PlanItem", "A plan item changed."),
    ("plan_item.deleted", "plan_item", "PlanItem", "A plan item was deleted."),
    ("indicator.created", "indicator", "Indicator", "A measurable target was added."),
    ("indicator.updated", "indicator", "Indicator", "A measurable target changed."),
    ("indicator.deleted", "indicator", "Indicator", "A measurable target was deleted."),
    ("indicator.measured", "measurement", "Measurement", "A measurement of an indicator was recorded."),
    ("assignment.created", "assignment", "Assignment", "A task was assigned to a department."),
    ("assignment.updated", "assignment", "Assignment", "An assignment changed (its status too)."),
    ("assignment.deleted", "assignment", "Assignment", "An assignment was deleted."),
    (
        "assignment.overdue",
        "assignment",
        "Assignment",
        "An assignment's due date passed with the work neither done nor cancelled (once per due date).",
    ),
    (
        "reporting_duty.late",
        "assignment",
        "ReportingDuty",
        "A progress report's due date passed and it was not submitted (once per period); `data` has the period, its due date and `state`.",
    ),
    ("report_snapshot.created", "report_snapshot", "Snapshot", "A plan's report for a closed period was frozen."),
    ("budget_line.created", "budget_line", "BudgetLine", "A budget line was added to a plan."),
    (
        "budget_line.updated",
        "budget_line",
        "BudgetLine",
        "A budget line changed, or its settlement was recorded (its totals also move with its entries' events).",
    ),
    ("budget_line.deleted", "budget_line", "BudgetLine", "A budget line was deleted."),
    ("budget_allocation.created", "budget_allocation", "BudgetAllocation", "Funds were allocated to a budget line."),
    ("budget_allocation.updated", "budget_allocation", "BudgetAllocation", "An allocation changed."),
    ("budget_allocation.deleted", "budget_allocation", "BudgetAllocation", "An allocation was deleted."),
    ("budget_spending.created", "budget_spending", "BudgetSpending", "Spending on a budget line was recorded."),
    (
        "budget_spending.updated",
        "budget_spending",
        "BudgetSpending",
        "A spending entry changed, or its invoice or receipt was attached.",
    ),
    ("budget_spending.deleted", "budget_spending", "BudgetSpending", "A spending entry was deleted."),
    ("document.created", "document", "Document", "A legal document was recorded."),
    ("document.updated", "document", "Document", "A legal document changed."),
    ("document.deleted", "document", "Document", "A legal document was deleted."),
    ("organization.created", "organization", "Organization", "An organisation was created."),
    ("organization.updated", "organization", "Organization", "An organisation's details changed."),
    ("organization.deleted", "organization", "Organization", "An organisation was deleted."),
    ("department.created", "department", "Department", "A department was created."),
    ("department.updated", "department", "Department", "A department changed."),
    ("department.deleted", "department", "Department", "A department was deleted."),
    ("user.created", "user", "User", "A person's account was created."),
    ("user.updated", "user", "User", "A person's account changed (a new password shows as no field)."),
    ("user.deleted", "user", "User", "A person's account was deleted."),
    ("service_client.created", "service_client", "ServiceClient", "A service client was created."),
    (
        "service_client.updated",
        "service_client",
        "ServiceClient",
        "A service client changed (or its secret was rotated).",
    ),
    ("service_client.deleted", "service_client", "ServiceClient", "A service client was deleted."),
    ("webhook.created", "webhook", "Webhook", "A webhook subscription was created."),
    ("webhook.updated", "webhook", "Webhook", "A webhook subscription changed (or its secret was rotated)."),
    ("webhook.deleted", "webhook", "Webhook", "A webhook subscription was deleted."),
    (
        "report_submission.submitted",
        "report_submission",
        "ReportSubmission",
        "A unit sent its periodic report on a plan to the organisation above (its frozen report at `…/content`).",
    ),
    (
        "report_submission.acknowledged",
        "report_submission",
        "ReportSubmission",
        "The organisation above acknowledged a unit's report.",
    ),
    (
        "report_submission.returned",
        "report_submission",
        "ReportSubmission",
        "The organisation above returned a unit's report with a note; the unit submits the period again.",
    ),
    (
        "report_submission.late",
        "plan",
        "Plan",
        "A quarter's report owed to the organisation above was not sent by its due date (once per quarter; `data`: `period`, `due_on`).",
    ),
    (
        "message_template.created",
        "message_template",
        "MessageTemplate",
        "The organisation wrote its own template of a message to senders (no subject id: `data` names the kind and channel).",
    ),
    (
        "message_template.updated",
        "message_template",
        "MessageTemplate",
        "The organisation changed one of its message templates.",
    ),
    (
        "message_template.deleted",
        "message_template",
        "MessageTemplate",
        "The organisation went back to the built-in template of a message.",
    ),
    (
        "webhook.disabled",
        "webhook",
        "Webhook",
        "The service turned a subscription off: its receiver answered 410 Gone, or a delivery failed for the whole retry schedule.",
    ),
    (
        "webhook.ping",
        "webhook",
        "Webhook",
        "A test delivery asked for with `POST /api/v1/webhooks/{id}/ping`; `data` is empty. Only sent to that subscription, never in the feed.",
    ),
];

/// Fields an event never carries besides the personal ones (`PERSONAL_FIELDS`): the
/// sender as a whole, internal notes, secrets.
const WITHHELD: &[&str] = &[
    "sender",
    "internal_note",
    "password",
    "password_hash",
    "client_secret",
    "secret_hash",
    "secret",
    "previous_secret",
];

/// The type of the event a change of `entity` by `action` makes, given what changed
/// (the audit trail's `{"field": {"before", "after"}}`).
pub fn event_type(action: &str, entity: &str, changes: &Value) -> String {
    let after = |field: &str| changes.get(field).and_then(|c| c.get("after")).and_then(Value::as_str);
    let changed = |field: &str| changes.get(field).is_some();
    let named = match (entity, action) {
        ("feedback", "create") => Some("received"),
        ("feedback", "extend") => Some("extended"),
        ("feedback", "reopen") => Some("reopened"),
        ("feedback", "merge") => Some("merged"),
        ("feedback", "unmerge") => Some("unmerged"),
        ("feedback", "erase") => Some("sender_erased"),
        ("feedback", "hold") => Some("held"),
        ("feedback", "unhold") => Some("released"),
        ("feedback", "withdraw_consent") => Some("consent_withdrawn"),
        ("feedback", _) if changed("escalated_at") => Some("overdue"),
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
        ("webhook", "disable") => Some("disabled"),
        ("report_submission", "create") => Some("submitted"),
        ("report_submission", "acknowledge") => Some("acknowledged"),
        ("report_submission", "return") => Some("returned"),
        ("assignment", "overdue") => Some("overdue"),
        _ => None,
    };
    if action == "duty_late" {
        return "reporting_duty.late".to_owned();
    }
    if action == "submission_late" {
        return "report_submission.late".to_owned();
    }
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

/// Whether an event leaves `field` out: personal data, the sender, internal notes,
/// secrets.
pub fn withheld(field: &str) -> bool {
    WITHHELD.contains(&field) || super::PERSONAL_FIELDS.contains(&field)
}

/// What an event carries of a change: the fields that changed, as they are after it
/// (`null` for a deletion), less what is withheld.
pub fn event_data(changes: &Value) -> Value {
    let mut out = Map::new();
    for (field, change) in changes.as_object().into_iter().flatten() {
        if withheld(field) {
            continue;
        }
        out.insert(field.clone(), without_withheld(change.get("after").cloned().unwrap_or(Value::Null)));
    }
    Value::Object(out)
}

/// The value less what is withheld inside it (a feedback record's `location.address`).
fn without_withheld(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter().filter(|(k, _)| !withheld(k)).map(|(k, v)| (k, without_withheld(v))).collect(),
        ),
        other => other,
    }
}

/// Where a consumer reads the subject (with its own rights), if it has an address.
pub fn subject_url(entity: &str, id: uuid::Uuid) -> Option<String> {
    let collection = match entity {
        "organization" => "organizations",
        "department" => "departments",
        "user" => "users",
        "service_client" => "service-clients",
        "document" => "documents",
        "budget_line" => "budget-lines",
        "budget_allocation" => "budget-allocations",
        "budget_spending" => "budget-spendings",
        "plan" => "plans",
        "plan_item" => "plan-items",
        "indicator" => "indicators",
        "assignment" => "assignments",
        "activity" => "activities",
        "evidence" => "evidence",
        "feedback_attachment" => "feedback-attachments",
        "feedback" => "feedback",
        "feedback_category" => "feedback-categories",
        "webhook" => "webhooks",
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
