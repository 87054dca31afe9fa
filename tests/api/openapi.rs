//! The committed contract is exactly what the server serves.
use serde_json::Value;

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
                    assert!(content.contains_key("application/problem+json"), "{method} {path} {status}");
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
