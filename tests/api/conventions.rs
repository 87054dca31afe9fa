//! The shared conventions: problem+json for every error, strict bodies, languages,
//! request ids, an unavailable database, and Swagger UI served offline.
use serde_json::json;

use crate::helpers::TestApp;

#[actix_web::test]
async fn unknown_routes_and_wrong_methods_are_problems() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/no-such-thing").send().await;
    let body = res.problem(404, "route_not_found");
    assert_eq!(body["instance"], "/api/v1/no-such-thing");

    let res = app.call(actix_web::http::Method::PUT, "/api/v1/departments").send().await;
    res.problem(405, "method_not_allowed");
    assert_eq!(res.header("allow").as_deref(), Some("GET, POST"));
    let res =
        app.call(actix_web::http::Method::TRACE, "/api/v1/users/0193c3a0-0000-7000-8000-000000000000").send().await;
    res.problem(405, "method_not_allowed");
    assert_eq!(res.header("allow").as_deref(), Some("GET, PATCH, DELETE"));
    // A malformed id is simply not found.
    let token = app.admin_token().await;
    app.get("/api/v1/users/not-a-uuid").token(&token).send().await.problem(404, "not_found");
}

#[actix_web::test]
async fn bad_bodies_are_refused_with_a_reason_and_change_nothing() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let before = app.sql_count("SELECT count(*) AS n FROM organizations");
    let post = |body: &'static str, ct: &'static str| app.post("/api/v1/organizations").token(&token).raw(ct, body);

    post("{\"code\": \"X\",", "application/json").send().await.problem(400, "malformed_json");
    post("[1, 2]", "application/json").send().await.problem(400, "json_object_expected");
    post("code=X&name=Y", "application/x-www-form-urlencoded").send().await.problem(415, "unsupported_media_type");
    app.post("/api/v1/organizations").token(&token).raw("", "{}").send().await.problem(415, "unsupported_media_type");
    let huge = format!("{{\"code\": \"BIG\", \"name\": \"{}\"}}", "x".repeat(70 * 1024));
    app.post("/api/v1/organizations")
        .token(&token)
        .raw("application/json", huge)
        .send()
        .await
        .problem(413, "payload_too_large");

    let cases = [
        (json!({"code": "A", "name": "A", "colour": "red"}), "colour", "unknown_field"),
        (json!({"id": "0193c3a0-0000-7000-8000-000000000000", "code": "A", "name": "A"}), "id", "read_only"),
        (json!({"code": "A", "name": "A", "version": 3}), "version", "read_only"),
        (json!({"code": "A", "name": "A", "created_at": "2021-01-01T00:00:00Z"}), "created_at", "read_only"),
        (json!({"name": "A"}), "code", "required"),
        (json!({"code": "A", "name": "   "}), "name", "not_blank"),
        (json!({"code": "A B", "name": "A"}), "code", "invalid_format"),
        (json!({"code": "A", "name": "A\u{0}B"}), "name", "nul_character"),
        (json!({"code": "A", "name": 42}), "name", "invalid_value"),
        (json!({"code": "A", "name": "A", "website": "javascript:alert(1)"}), "website", "invalid_url"),
        (json!({"code": "A", "name": "A", "parent_id": "nope"}), "parent_id", "invalid_value"),
    ];
    for (body, field, code) in cases {
        let res = app.post("/api/v1/organizations").token(&token).json(body.clone()).send().await;
        res.problem(400, "validation_failed");
        assert_eq!(res.field_errors(), vec![(field.to_owned(), code.to_owned())], "{body}");
    }
    let res = app.post("/api/v1/users").token(&token).json(json!({"username": "ab", "full_name": "X", "role": "member",
        "password": "long-enough-password", "email": "not-an-email", "organization_id": "0193c3a0-0000-7000-8000-000000000000"})).send().await;
    res.problem(400, "validation_failed");
    let fields: Vec<String> = res.field_errors().into_iter().map(|(f, c)| format!("{f}:{c}")).collect();
    assert_eq!(fields, ["email:invalid_email", "username:invalid_format"]);
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM organizations"), before);
}

#[actix_web::test]
async fn problems_speak_vietnamese_by_default_and_english_on_request() {
    let app = TestApp::spawn().await;
    let vi = app.get("/api/v1/me").send().await;
    let body = vi.problem(401, "unauthenticated");
    assert_eq!(body["title"], "Chưa xác thực");
    assert_eq!(vi.header("content-language").as_deref(), Some("vi"));
    let en = app.get("/api/v1/me").header("Accept-Language", "en-GB,en;q=0.9,vi;q=0.5").send().await;
    let body = en.problem(401, "unauthenticated");
    assert_eq!(body["title"], "Unauthenticated");
    assert_eq!(body["detail"], "A bearer token is required (Authorization: Bearer).");
    let token = app.admin_token().await;
    let res = app
        .post("/api/v1/departments")
        .token(&token)
        .header("Accept-Language", "en")
        .json(json!({"name": ""}))
        .send()
        .await;
    let body = res.problem(400, "validation_failed");
    let messages: Vec<&str> =
        body["errors"].as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap()).collect();
    assert!(messages.contains(&"Required."), "{messages:?}");
}

#[actix_web::test]
async fn every_answer_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let res = app.get("/healthz").send().await;
    assert_eq!(res.json(), json!({"status": "ok"}));
    let generated = res.header("x-request-id").unwrap();
    assert_eq!(uuid::Uuid::parse_str(&generated).unwrap().get_version_num(), 7);
    let res = app.get("/healthz").header("X-Request-Id", "portal-req-42").send().await;
    assert_eq!(res.header("x-request-id").as_deref(), Some("portal-req-42"));
    let res = app.get("/healthz").header("X-Request-Id", "bad id with spaces").send().await;
    assert_ne!(res.header("x-request-id").as_deref(), Some("bad id with spaces"));
}

#[actix_web::test]
async fn an_unreachable_database_is_a_503_and_health_stays_up() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    assert_eq!(app.get("/readyz").send().await.status, 200);
    // Cut the service off: refuse new connections and end the open ones.
    app.server_sql(&format!("ALTER DATABASE {} ALLOW_CONNECTIONS false", app.database));
    app.server_sql(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()",
        app.database
    ));
    let res = app.get("/api/v1/departments").token(&token).send().await;
    let body = res.problem(503, "database_unavailable");
    let text = res.text();
    for leak in ["postgres", "connection", "diesel", "r2d2", "src/", "SQL"] {
        assert!(!text.contains(leak), "the answer leaks {leak:?}: {text}");
    }
    assert!(res.header("retry-after").is_some(), "{body}");
    app.get("/readyz").send().await.problem(503, "database_unavailable");
    assert_eq!(app.get("/healthz").send().await.status, 200);
    // And it recovers by itself.
    app.server_sql(&format!("ALTER DATABASE {} ALLOW_CONNECTIONS true", app.database));
    assert_eq!(app.get("/readyz").send().await.status, 200);
    assert_eq!(app.get("/api/v1/departments").token(&token).send().await.status, 200);
}

#[actix_web::test]
async fn swagger_ui_is_served_by_the_service_itself() {
    let app = TestApp::spawn().await;
    let res = app.get("/swagger-ui").send().await;
    assert_eq!(res.status, 302);
    assert_eq!(res.header("location").as_deref(), Some("/swagger-ui/"));
    let page = app.get("/swagger-ui/").send().await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("swagger-ui"), "{}", page.text());
    let config = app.get("/swagger-ui/swagger-initializer.js").send().await;
    assert_eq!(config.status, 200);
    assert!(config.text().contains("/api-docs/openapi.json"), "{}", config.text());
    let bundle = app.get("/swagger-ui/swagger-ui-bundle.js").send().await;
    assert_eq!(bundle.status, 200);
    assert!(bundle.body.len() > 100_000, "the whole bundle, from the binary");
}

/// In Vietnamese, problems say it all in Vietnamese: the expected form of a value, the
/// labels of statuses, dates as dd/mm/yyyy — no serde, chrono or English codes inside.
#[actix_web::test]
async fn vietnamese_problems_carry_no_english_inside() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let plan = app
        .post("/api/v1/plans")
        .token(&admin)
        .json(json!({"code": "KH", "year": 2021, "title": "Kế hoạch", "organization_id": org}))
        .send()
        .await
        .id();
    let dept = app
        .post("/api/v1/departments")
        .token(&admin)
        .json(json!({"code": "VP", "name": "Văn phòng", "organization_id": org}))
        .send()
        .await
        .id();
    app.staff(&admin, org, &dept.to_string(), "nhanvien", "member").await;
    let texts = |body: serde_json::Value| {
        let mut all = vec![body["detail"].as_str().unwrap_or_default().to_owned()];
        all.extend(body["errors"].as_array().into_iter().flatten().map(|e| e["message"].as_str().unwrap().to_owned()));
        all
    };
    let mut said = Vec::new();
    let post = |path: String, body: serde_json::Value| app.post(&path).token(&admin).json(body);
    for (path, body) in [
        ("/api/v1/plans".to_owned(), json!({"code": "KH2", "year": "2021", "title": "X", "organization_id": org})),
        (
            "/api/v1/plans".to_owned(),
            json!({"code": "KH3", "year": 2021, "title": "X", "status": "done", "organization_id": org}),
        ),
        (
            "/api/v1/plans".to_owned(),
            json!({"code": "KH4", "year": 2021, "title": "X", "period_from": "30/06/2021", "organization_id": org}),
        ),
        (
            "/api/v1/plans".to_owned(),
            json!({"code": "KH5", "year": 2021, "title": "X", "organization_id": "không-phải-uuid"}),
        ),
        (format!("/api/v1/plans/{plan}/transitions"), json!({"to": "closed"})),
        (
            "/api/v1/plans".to_owned(),
            json!({"code": "KH6", "year": 2021, "title": "X", "period_from": "2021-06-30", "period_to": "2021-01-01", "organization_id": org}),
        ),
    ] {
        let res = post(path.clone(), body).send().await;
        assert!(res.status >= 400, "{path}: {}", res.text());
        said.extend(texts(res.json()));
    }
    let res = app.post("/api/v1/plans").token(&admin).raw("application/json", "{\"code\": ").send().await;
    said.extend(texts(res.json()));
    let res = app.get("/api/v1/plans?limit=many&limit=2").token(&admin).send().await;
    said.extend(texts(res.json()));
    let res = app.delete(&format!("/api/v1/departments/{dept}")).token(&admin).send().await;
    assert_eq!(res.status, 409, "{}", res.text());
    said.extend(texts(res.json()));
    let joined = said.join("\n");
    for english in [
        "expected",
        "invalid",
        "before",
        "after",
        "duplicate",
        "whole number",
        "users",
        "variant",
        "line ",
        "column",
        "string",
        "integer",
        "input",
        "\"draft\"",
        "“draft”",
        "“closed”",
        "in_progress",
        "character",
    ] {
        assert!(!joined.contains(english), "“{english}” in Vietnamese problems:\n{joined}");
    }
    for vietnamese in
        ["dự thảo", "đã kết thúc", "cần một số nguyên", "YYYY-MM-DD", "cần một UUID", "người dùng", "dòng 1"]
    {
        assert!(joined.contains(vietnamese), "“{vietnamese}” missing:\n{joined}");
    }
}
