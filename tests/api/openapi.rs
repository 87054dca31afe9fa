//! The committed contract is exactly what the server serves.
use serde_json::{Value, json};

use crate::helpers::TestApp;

#[actix_web::test]
async fn the_committed_document_is_what_the_server_serves() {
    let app = TestApp::spawn().await;
    let served = app.get("/api-docs/openapi.json").send().await;
    assert_eq!(served.status, 200);
    assert_eq!(served.header("content-type").as_deref(), Some("application/json"));
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json")).unwrap();
    assert!(
        served.text() == committed,
        "openapi/openapi.json is out of date: run `cargo run -q -- openapi > openapi/openapi.json`"
    );
    assert_eq!(served.text(), cchc_outreach::openapi::document_json(), "the `openapi` command prints the same bytes");
}

#[test]
fn every_operation_says_who_may_call_it_and_documents_its_errors() {
    let doc: Value = serde_json::from_str(&cchc_outreach::openapi::document_json()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut count = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            count += 1;
            let id = op["operationId"].as_str().unwrap();
            assert!(op["description"].as_str().unwrap().contains("**Access:**"), "{id}");
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{id} has no summary");
            let public = ["healthz", "readyz", "issue_token"].contains(&id) || path.starts_with("/api/v1/public/");
            assert_eq!(op.get("security").is_none(), public, "{id}");
            let responses = op["responses"].as_object().unwrap();
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let content = response["content"].as_object().unwrap();
                    // The token endpoint answers RFC 6749's errors; the general rate limit is a problem.
                    let media = match id {
                        "issue_token" if status != "429" => "application/json",
                        _ => "application/problem+json",
                    };
                    assert!(content.contains_key(media), "{method} {path} {status}");
                }
            }
            if !public {
                assert!(responses.contains_key("401"), "{id}");
            }
            if path.starts_with("/api/v1/public/") {
                assert!(responses.contains_key("429"), "{id} documents its rate limit");
            }
            if path.contains('{') {
                assert!(responses.contains_key("404"), "{id}");
            }
        }
    }
    assert!(count >= 27, "{count}");
}

/// The patterns and rules the document states are the ones the server's code applies.
#[test]
fn the_document_states_the_servers_patterns_and_rules() {
    use cchc_outreach::{
        domain::plans::PERIOD_PATTERN,
        http::{etag::IF_MATCH_PATTERN, pagination::CURSOR_PATTERN, rules::RULES},
    };
    let doc: Value = serde_json::from_str(&cchc_outreach::openapi::document_json()).unwrap();
    let schemas = &doc["components"]["schemas"];
    let mut request_schemas = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for param in op["parameters"].as_array().into_iter().flatten() {
                let (name, schema) = (param["name"].as_str().unwrap(), &param["schema"]);
                let expected = match name {
                    "If-Match" => Some(IF_MATCH_PATTERN),
                    "cursor" => Some(CURSOR_PATTERN),
                    "period" => Some(PERIOD_PATTERN),
                    _ => None,
                };
                if let Some(pattern) = expected {
                    assert_eq!(schema["pattern"], pattern, "{method} {path} {name}");
                }
                if schema["type"] == "string" {
                    let bounded = ["pattern", "format", "enum"].iter().any(|k| schema.get(*k).is_some());
                    assert!(bounded, "{method} {path} {name} takes any string, NUL too");
                }
            }
            for content in op["requestBody"]["content"].as_object().into_iter().flat_map(|c| c.values()) {
                if let Some(name) = content["schema"]["$ref"].as_str() {
                    request_schemas.push(name.trim_start_matches("#/components/schemas/").to_owned());
                }
            }
        }
    }
    assert!(request_schemas.len() > 30, "{request_schemas:?}");
    for name in &request_schemas {
        for (field, property) in schemas[name]["properties"].as_object().into_iter().flatten() {
            let types = &property["type"];
            let string = types == "string" || types.as_array().is_some_and(|t| t.contains(&json!("string")));
            if string && property.get("format").is_none() && property.get("enum").is_none() {
                let pattern = property["pattern"].as_str().unwrap_or_else(|| panic!("{name}.{field} has no pattern"));
                if field.ends_with("period") {
                    assert_eq!(pattern, PERIOD_PATTERN, "{name}.{field}");
                }
                let nul = regex::Regex::new(pattern).unwrap().is_match("a\0b");
                assert!(!nul, "{name}.{field} admits NUL: {pattern}");
            }
        }
    }
    // Each rule between fields is written into its schema, as http::rules writes it.
    for rule in RULES {
        let all = schemas[rule.schema]["allOf"].as_array().unwrap_or_else(|| panic!("{} has no rules", rule.schema));
        assert!(all.contains(&rule.json_schema()), "{rule:?}");
    }
}
