//! The committed contract is exactly what the server serves.
use serde_json::{Value, json};

use crate::helpers::{TestApp, resolved};

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
            // Open311 has its own credentials (`api_key`, or a bearer token) and errors.
            let open311 = path.starts_with("/open311/");
            let public =
                ["healthz", "readyz", "issue_token"].contains(&id) || path.starts_with("/api/v1/public/") || open311;
            assert_eq!(op.get("security").is_none(), public, "{id}");
            let responses = op["responses"].as_object().unwrap();
            for (status, response) in responses {
                let response = resolved(&doc, response);
                if status.starts_with('4') || status.starts_with('5') {
                    let content = response["content"].as_object().unwrap();
                    if open311 {
                        assert!(
                            content.contains_key("application/json") && content.contains_key("text/xml"),
                            "{id} {status}"
                        );
                        assert_eq!(
                            resolved(&doc, &content["application/json"]["schema"])["type"],
                            "array",
                            "{id} {status}"
                        );
                        continue;
                    }
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
            if path.starts_with("/api/v1/public/") || open311 {
                assert!(responses.contains_key("429"), "{id} documents its rate limit");
            }
            if id == "create_request" {
                assert!(responses.contains_key("403"), "{id}: Open311's answer to no or bad credentials");
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
                let param = resolved(&doc, param);
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
                // A header cannot carry NUL (RFC 9110), and any `Accept-Language` is taken.
                if schema["type"] == "string" && param["in"] != "header" {
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

/// The document says each shared thing once and refers to it: the conventions' problem
/// answers, headers and parameters, and a list's records.
#[test]
fn the_document_is_lean_and_declares_the_shared_headers() {
    let doc: Value = serde_json::from_str(&cchc_outreach::openapi::document_json()).unwrap();
    let components = &doc["components"];
    let (mut inline_problems, mut operations) = (0, 0);
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let params: Vec<&Value> = op["parameters"].as_array().unwrap().iter().map(|p| resolved(&doc, p)).collect();
            assert!(params.iter().any(|p| p["name"] == "Accept-Language" && p["in"] == "header"), "{method} {path}");
            for param in &params {
                let nullable = param["schema"]["type"].as_array().is_some_and(|t| t.contains(&json!("null")));
                assert!(!nullable, "{method} {path} {}: a parameter is absent, never null", param["name"]);
            }
            for (status, response) in op["responses"].as_object().unwrap() {
                let shared = response.get("$ref").is_some();
                let response = resolved(&doc, response);
                assert!(response["headers"].get("X-Request-Id").is_some(), "{method} {path} {status}");
                if status == "429" {
                    assert!(response["headers"].get("Retry-After").is_some(), "{method} {path} 429");
                }
                if path.starts_with("/api/v1/") && status.starts_with('2') {
                    assert!(response["headers"].get("RateLimit-Remaining").is_some(), "{method} {path} {status}");
                }
                if !shared && response["content"].get("application/problem+json").is_some() {
                    inline_problems += 1;
                }
            }
        }
    }
    // Only the answers that are an operation's own stay inline (843 before).
    assert!(
        inline_problems * 6 < operations * 7,
        "{inline_problems} inline problem answers for {operations} operations"
    );
    for (name, schema) in components["schemas"].as_object().unwrap() {
        if let Some(record) = name.strip_prefix("Listed_") {
            assert_eq!(schema["oneOf"][0]["$ref"], format!("#/components/schemas/{record}"), "{name}");
        }
    }
    let codes: Vec<&str> = components["schemas"]["Problem"]["properties"]["code"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(codes, cchc_outreach::i18n::problem_codes().collect::<Vec<_>>());
    for code in ["validation_failed", "external_reference_reused", "transition_not_allowed", "rate_limited"] {
        assert!(codes.contains(&code), "{code}");
    }
    let key = &components["parameters"]["Idempotency-Key"]["schema"];
    assert_eq!(key["type"], "string", "{key}");
    let export = &doc["paths"]["/api/v1/exports/{collection}"]["get"]["parameters"];
    let collection =
        export.as_array().unwrap().iter().map(|p| resolved(&doc, p)).find(|p| p["name"] == "collection").unwrap();
    assert_eq!(collection["schema"]["enum"], json!(cchc_outreach::routes::exports::collection_names()));
}

/// Every list answers in one shape: `items` and `next_cursor`, whatever stands beside
/// them (the plan's tree, reporting duties, histories and versions included).
#[test]
fn every_list_has_items_and_a_next_cursor() {
    let doc: Value = serde_json::from_str(&cchc_outreach::openapi::document_json()).unwrap();
    let mut lists = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        let id = op["operationId"].as_str().unwrap();
        // Open311's lists are the standard's: arrays, paged by `page` and `page_size`.
        if !id.starts_with("list_") || path.starts_with("/open311/") {
            continue;
        }
        let schema = resolved(&doc, &op["responses"]["200"]["content"]["application/json"]["schema"]);
        let shapes: Vec<&Value> = match schema["oneOf"].as_array() {
            Some(alternatives) => alternatives.iter().map(|s| resolved(&doc, s)).collect(),
            None => vec![schema],
        };
        for shape in shapes {
            let properties = &shape["properties"];
            assert_eq!(properties["items"]["type"], "array", "{id} ({path}): {shape}");
            assert!(properties.get("next_cursor").is_some(), "{id} ({path}) has no next_cursor: {shape}");
        }
        lists.push(id.to_owned());
    }
    for id in ["list_reporting_duties", "list_plan_reporting_duties", "list_feedback_history", "list_plan_items"] {
        assert!(lists.iter().any(|l| l == id), "{id} is not among the lists: {lists:?}");
    }
}

/// The main reads show an example answer, and each example has exactly the fields its
/// schema has (all that are required, none that it lacks), nested objects included.
#[test]
fn the_main_reads_have_examples_that_fit_their_schemas() {
    fn fits(doc: &Value, schema: &Value, value: &Value, at: &str) {
        let schema = resolved(doc, schema);
        if let Some(options) = schema["oneOf"].as_array() {
            if let Some(object) = options.iter().map(|o| resolved(doc, o)).find(|o| o["properties"].is_object())
                && value.is_object()
            {
                fits(doc, object, value, at);
            }
            return;
        }
        let (Some(properties), Some(object)) = (schema["properties"].as_object(), value.as_object()) else { return };
        for key in object.keys() {
            assert!(properties.contains_key(key), "{at}.{key} is not in the schema");
        }
        for required in schema["required"].as_array().into_iter().flatten() {
            assert!(object.contains_key(required.as_str().unwrap()), "{at}: {required} is missing");
        }
        for (key, property) in properties {
            if let Some(inner) = object.get(key) {
                fits(doc, property, inner, &format!("{at}.{key}"));
            }
        }
    }
    let doc: Value = serde_json::from_str(&cchc_outreach::openapi::document_json()).unwrap();
    for (path, operation) in [
        ("/api/v1/organizations/{id}", "get_organization"),
        ("/api/v1/plans/{id}", "get_plan"),
        ("/api/v1/feedback/{id}", "get_feedback"),
        ("/api/v1/public/feedback/{code}", "get_public_feedback"),
    ] {
        let op = &doc["paths"][path]["get"];
        assert_eq!(op["operationId"], operation);
        let content = &op["responses"]["200"]["content"]["application/json"];
        let example = &content["example"];
        assert!(example.is_object(), "{operation} has no example");
        fits(&doc, &content["schema"], example, operation);
    }
}
