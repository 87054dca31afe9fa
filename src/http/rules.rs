//! Rules between the fields of one request body — "a reason is required to reject",
//! "an anonymous record has no sender" — that JSON Schema can state but a field's own
//! schema cannot. One table serves both sides: `ApiJson` checks the body as sent
//! against it (a 422 `rule_violated` naming the field), and `openapi` writes each rule
//! into the request's schema as `if`/`then`, so a client generated from the document
//! knows them. Rules that compare values (a date before another) or depend on the
//! caller or on stored records stay in the handlers; no schema can state them.
use serde_json::{Value, json};

use crate::error::{ApiError, FieldError};

/// When a rule applies.
#[derive(Debug)]
pub enum When {
    /// Always.
    Always,
    /// `field` is one of these strings.
    Is(&'static str, &'static [&'static str]),
    /// `field` is given and none of these strings.
    IsNot(&'static str, &'static [&'static str]),
    /// `field` is `true`.
    True(&'static str),
    /// `field` is given (present and not `null`).
    Given(&'static str),
    /// `field` is an array holding this string.
    Contains(&'static str, &'static str),
}

/// What must then hold.
#[derive(Debug)]
pub enum Then {
    /// `field` is given.
    Required(&'static str),
    /// None of these is given (each absent or `null`).
    Absent(&'static [&'static str]),
    /// At least one of these is given.
    AnyOf(&'static [&'static str]),
    /// `field` is not this string.
    Not(&'static str, &'static str),
}

/// A rule of the request body schema `schema` (the type's name, as in the document),
/// reported on `field` with `code` when broken.
#[derive(Debug)]
pub struct Rule {
    pub schema: &'static str,
    pub when: When,
    pub then: Then,
    pub field: &'static str,
    pub code: &'static str,
}

const SENDER: &[&str] = &["sender_name", "sender_phone", "sender_email", "sender_address"];

pub const RULES: &[Rule] = &[
    Rule {
        schema: "CreateFeedback",
        when: When::True("anonymous"),
        then: Then::Absent(SENDER),
        field: "anonymous",
        code: "anonymous_with_sender",
    },
    Rule {
        schema: "CreateFeedback",
        when: When::Given("deadline_on"),
        then: Then::Required("deadline_reason"),
        field: "deadline_reason",
        code: "deadline_reason_required",
    },
    Rule {
        schema: "CreateFeedback",
        when: When::Contains("notify_by", "email"),
        then: Then::Required("sender_email"),
        field: "notify_by",
        code: "notify_by_without_contact",
    },
    Rule {
        schema: "CreateFeedback",
        when: When::Contains("notify_by", "sms"),
        then: Then::Required("sender_phone"),
        field: "notify_by",
        code: "notify_by_without_contact",
    },
    Rule {
        schema: "UpdateFeedback",
        when: When::Given("deadline_on"),
        then: Then::Required("deadline_reason"),
        field: "deadline_reason",
        code: "deadline_reason_required",
    },
    Rule {
        schema: "UpdateFeedback",
        when: When::Given("deadline_reason"),
        then: Then::Required("deadline_on"),
        field: "deadline_on",
        code: "required",
    },
    Rule {
        schema: "Location",
        when: When::Given("lat"),
        then: Then::Required("long"),
        field: "location.long",
        code: "required",
    },
    Rule {
        schema: "Location",
        when: When::Given("long"),
        then: Then::Required("lat"),
        field: "location.lat",
        code: "required",
    },
    Rule {
        schema: "Location",
        when: When::Always,
        then: Then::AnyOf(&["lat", "address"]),
        field: "location",
        code: "location_empty",
    },
    Rule {
        schema: "NewServiceRequest",
        when: When::Given("lat"),
        then: Then::Required("long"),
        field: "long",
        code: "required",
    },
    Rule {
        schema: "NewServiceRequest",
        when: When::Given("long"),
        then: Then::Required("lat"),
        field: "lat",
        code: "required",
    },
    Rule {
        schema: "NewServiceRequest",
        when: When::Always,
        then: Then::AnyOf(&["lat", "address_string"]),
        field: "address_string",
        code: "location_empty",
    },
    Rule {
        schema: "FeedbackTransition",
        when: When::Is("to", &["rejected"]),
        then: Then::Required("reason"),
        field: "reason",
        code: "required",
    },
    Rule {
        schema: "FeedbackTransition",
        when: When::Is("to", &["forwarded"]),
        then: Then::Required("forwarded_to"),
        field: "forwarded_to",
        code: "required",
    },
    Rule {
        schema: "ActivityTransition",
        when: When::Is("to", &["returned"]),
        then: Then::Required("reason"),
        field: "reason",
        code: "required",
    },
    Rule {
        schema: "CreateAssignment",
        when: When::Always,
        then: Then::AnyOf(&["plan_id", "plan_item_id"]),
        field: "plan_id",
        code: "plan_or_item_required",
    },
    Rule {
        schema: "CreateIndicator",
        when: When::IsNot("comparator", &["improves"]),
        then: Then::Required("target_value"),
        field: "target_value",
        code: "required",
    },
    Rule {
        schema: "CreateMeasurement",
        when: When::Always,
        then: Then::Not("source", "computed"),
        field: "source",
        code: "computed_by_service",
    },
    Rule {
        schema: "CreateMeasurement",
        when: When::Always,
        then: Then::AnyOf(&["citation", "link"]),
        field: "citation",
        code: "citation_required",
    },
    Rule {
        schema: "CreateUser",
        when: When::Is("role", &["admin"]),
        then: Then::Absent(&["organization_id", "department_id"]),
        field: "role",
        code: "invalid_role",
    },
];

/// The rules of the request type `T`, by its name.
pub fn of<T>() -> impl Iterator<Item = &'static Rule> {
    let name = std::any::type_name::<T>().rsplit("::").next().unwrap_or_default();
    RULES.iter().filter(move |rule| rule.schema == name)
}

/// Checks `body` against `rules`: every broken one is reported.
pub fn check<'a>(rules: impl Iterator<Item = &'a Rule>, body: &Value) -> Result<(), ApiError> {
    let broken: Vec<FieldError> =
        rules.filter(|rule| !rule.holds(body)).map(|rule| FieldError::new(rule.field, rule.code)).collect();
    if broken.is_empty() { Ok(()) } else { Err(ApiError::rules(broken)) }
}

fn given(body: &Value, field: &str) -> bool {
    body.get(field).is_some_and(|v| !v.is_null())
}

fn is_one_of(body: &Value, field: &str, values: &[&str]) -> bool {
    body.get(field).and_then(Value::as_str).is_some_and(|v| values.contains(&v))
}

impl Rule {
    fn holds(&self, body: &Value) -> bool {
        let applies = match self.when {
            When::Always => true,
            When::Is(field, values) => is_one_of(body, field, values),
            When::IsNot(field, values) => given(body, field) && !is_one_of(body, field, values),
            When::True(field) => body.get(field) == Some(&Value::Bool(true)),
            When::Given(field) => given(body, field),
            When::Contains(field, value) => {
                body.get(field).and_then(Value::as_array).is_some_and(|a| a.iter().any(|v| v == value))
            }
        };
        !applies
            || match self.then {
                Then::Required(field) => given(body, field),
                Then::Absent(fields) => !fields.iter().any(|f| given(body, f)),
                Then::AnyOf(fields) => fields.iter().any(|f| given(body, f)),
                Then::Not(field, value) => !is_one_of(body, field, &[value]),
            }
    }

    /// The rule in JSON Schema 2020-12: `{"if": …, "then": …}`, or the `then` alone.
    pub fn json_schema(&self) -> Value {
        let given = |field: &str| json!({"properties": {field: {"not": {"type": "null"}}}, "required": [field]});
        let then = match self.then {
            Then::Required(field) => given(field),
            Then::Absent(fields) => {
                json!({"properties": fields.iter().map(|f| (f.to_string(), json!({"type": "null"}))).collect::<serde_json::Map<_, _>>()})
            }
            Then::AnyOf(fields) => json!({"anyOf": fields.iter().map(|f| given(f)).collect::<Vec<_>>()}),
            Then::Not(field, value) => json!({"properties": {field: {"not": {"const": value}}}}),
        };
        let condition = match self.when {
            When::Always => return then,
            When::Is(field, values) => json!({"properties": {field: {"enum": values}}, "required": [field]}),
            When::IsNot(field, values) => {
                let mut values: Vec<Value> = values.iter().map(|v| json!(v)).collect();
                values.push(Value::Null);
                json!({"properties": {field: {"not": {"enum": values}}}, "required": [field]})
            }
            When::True(field) => json!({"properties": {field: {"const": true}}, "required": [field]}),
            When::Given(field) => given(field),
            When::Contains(field, value) => {
                json!({"properties": {field: {"type": "array", "contains": {"const": value}}}, "required": [field]})
            }
        };
        json!({"if": condition, "then": then})
    }
}

#[cfg(test)]
mod tests {
    use actix_web::ResponseError;

    use super::*;

    fn schema_accepts(rule: &Rule, body: &Value) -> bool {
        let schema = json!({"allOf": [rule.json_schema()]});
        jsonschema_lite(&schema, body)
    }

    /// Enough of JSON Schema for the fragments `json_schema` writes.
    fn jsonschema_lite(schema: &Value, value: &Value) -> bool {
        let object = schema.as_object().unwrap();
        object.iter().all(|(key, sub)| match key.as_str() {
            "allOf" => sub.as_array().unwrap().iter().all(|s| jsonschema_lite(s, value)),
            "anyOf" => sub.as_array().unwrap().iter().any(|s| jsonschema_lite(s, value)),
            "not" => !jsonschema_lite(sub, value),
            "if" => !jsonschema_lite(sub, value) || jsonschema_lite(&object["then"], value),
            "then" => true,
            "required" => sub.as_array().unwrap().iter().all(|f| value.get(f.as_str().unwrap()).is_some()),
            "properties" => {
                sub.as_object().unwrap().iter().all(|(name, s)| value.get(name).is_none_or(|v| jsonschema_lite(s, v)))
            }
            "type" => match sub.as_str().unwrap() {
                "null" => value.is_null(),
                "array" => value.is_array(),
                other => panic!("type {other} is not used by the rules"),
            },
            "contains" => value.as_array().is_some_and(|a| a.iter().any(|v| jsonschema_lite(sub, v))),
            "enum" => sub.as_array().unwrap().contains(value),
            "const" => sub == value,
            other => panic!("{other} is not used by the rules"),
        })
    }

    /// Bodies made of the fields the rules name, each absent, null or one of a few values.
    fn bodies() -> Vec<Value> {
        let fields: Vec<&str> = RULES
            .iter()
            .flat_map(|r| {
                let when: Vec<&str> = match r.when {
                    When::Always => vec![],
                    When::Is(f, _) | When::IsNot(f, _) | When::True(f) | When::Given(f) | When::Contains(f, _) => {
                        vec![f]
                    }
                };
                let then: Vec<&str> = match r.then {
                    Then::Required(f) | Then::Not(f, _) => vec![f],
                    Then::Absent(fs) | Then::AnyOf(fs) => fs.to_vec(),
                };
                when.into_iter().chain(then)
            })
            .collect();
        let choices = [
            None,
            Some(Value::Null),
            Some(json!(true)),
            Some(json!("x")),
            Some(json!(["sms"])),
            Some(json!(["email"])),
        ];
        let mut out = Vec::new();
        for (i, field) in fields.iter().enumerate() {
            for value in &choices {
                for literal in ["rejected", "forwarded", "returned", "improves", "computed", "admin", ">="] {
                    let mut body = serde_json::Map::new();
                    if let Some(v) = value {
                        body.insert((*field).to_owned(), v.clone());
                    }
                    // Another field with a literal that some rule looks for.
                    let other = fields[(i + 1) % fields.len()];
                    body.entry(other.to_owned()).or_insert(json!(literal));
                    out.push(Value::Object(body));
                }
            }
        }
        out
    }

    #[test]
    fn the_written_schema_and_the_check_agree() {
        for rule in RULES {
            for body in bodies() {
                assert_eq!(rule.holds(&body), schema_accepts(rule, &body), "{rule:?} on {body}");
            }
        }
    }

    #[test]
    fn a_broken_rule_is_a_422_naming_its_field() {
        let body = json!({"to": "rejected"});
        let err = check(RULES.iter().filter(|r| r.schema == "FeedbackTransition"), &body).unwrap_err();
        assert_eq!((err.status_code().as_u16(), err.code()), (422, "rule_violated"));
        assert!(check(RULES.iter().filter(|r| r.schema == "FeedbackTransition"), &json!({"to": "accepted"})).is_ok());
    }
}
