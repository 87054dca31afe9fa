//! `Idempotency-Key`: replays, mismatches, retries in flight, and secrets not replayed.
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::TestApp;

#[actix_web::test]
async fn a_retried_create_replays_the_first_answer_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let org = app.organization(&token, "KDPM").await;
    let body = json!({"code": "TCHC", "name": "Phòng Tổ chức hành chính", "organization_id": org});
    let send = |key: &'static str, body: Value| {
        let app = &app;
        let token = token.clone();
        async move { app.post("/api/v1/departments").token(&token).header("Idempotency-Key", key).json(body).send().await }
    };

    let first = send("key-1", body.clone()).await;
    assert_eq!(first.status, 201, "{}", first.text());
    assert!(first.header("idempotency-replayed").is_none());
    let again = send("key-1", body.clone()).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotency-replayed").as_deref(), Some("true"));
    assert_eq!(again.json(), first.json());
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("etag"), first.header("etag"));
    // Key order and spacing do not make another request.
    let reordered = app
        .post("/api/v1/departments")
        .token(&token)
        .header("Idempotency-Key", "key-1")
        .raw(
            "application/json",
            format!("{{ \"organization_id\": \"{org}\", \"name\": \"Phòng Tổ chức hành chính\", \"code\": \"TCHC\" }}"),
        )
        .send()
        .await;
    assert_eq!(reordered.header("idempotency-replayed").as_deref(), Some("true"));
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM departments"), 1);

    let mut other = body.clone();
    other["name"] = json!("Một phòng khác");
    send("key-1", other).await.problem(422, "idempotency_key_reused");
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM departments"), 1);

    // A failed request leaves the key free for the corrected retry.
    send("key-2", json!({"code": "TCHC", "name": "Trùng mã", "organization_id": org}))
        .await
        .problem(409, "department_code_taken");
    let fixed = send("key-2", json!({"code": "QLDA1", "name": "Phòng QLDA 1", "organization_id": org})).await;
    assert_eq!(fixed.status, 201, "{}", fixed.text());

    // Keys belong to their caller: someone else's identical key is their own.
    let (_, other_admin) = app.person(&token, org, "kdpm.admin", "org_admin").await;
    let theirs = app
        .post("/api/v1/departments")
        .token(&other_admin)
        .header("Idempotency-Key", "key-1")
        .json(json!({"code": "TCKT", "name": "Phòng Tài chính kế toán"}))
        .send()
        .await;
    assert_eq!(theirs.status, 201, "{}", theirs.text());
    assert!(theirs.header("idempotency-replayed").is_none());
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM departments"), 3);
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM idempotency_keys WHERE state = 'completed'"), 3);

    let res =
        app.post("/api/v1/departments").token(&token).header("Idempotency-Key", "has space").json(body).send().await;
    res.problem(400, "invalid_header");
}

#[actix_web::test]
async fn a_retry_while_the_first_is_running_is_a_conflict() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let me = app.get("/api/v1/me").token(&token).send().await.json();
    let body = json!({"code": "SLOW", "name": "Chậm"});
    // What an instance that is still working on the first request has stored: the
    // reservation, with the hash of method, path and canonical JSON body.
    let mut hasher = Sha256::new();
    hasher.update(b"POST /api/v1/organizations\n");
    hasher.update(serde_json::to_vec(&body).unwrap());
    let hash: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let reserve = format!(
        "INSERT INTO idempotency_keys (principal_id, key, request_hash) VALUES ('{}', 'busy', '\\x{hash}'::bytea)",
        me["id"].as_str().unwrap()
    );
    let mut conn = <diesel::PgConnection as diesel::Connection>::establish(&app.database_url).unwrap();
    diesel::RunQueryDsl::execute(diesel::sql_query(reserve), &mut conn).unwrap();

    let res = app
        .post("/api/v1/organizations")
        .token(&token)
        .header("Idempotency-Key", "busy")
        .json(body.clone())
        .send()
        .await;
    res.problem(409, "idempotency_in_progress");
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM organizations"), 0);

    // An abandoned reservation (its instance died) is taken over after a minute.
    diesel::RunQueryDsl::execute(
        diesel::sql_query("UPDATE idempotency_keys SET locked_at = now() - interval '2 minutes'"),
        &mut conn,
    )
    .unwrap();
    let res = app.post("/api/v1/organizations").token(&token).header("Idempotency-Key", "busy").json(body).send().await;
    assert_eq!(res.status, 201, "{}", res.text());
}

#[actix_web::test]
async fn a_replayed_client_creation_does_not_show_the_secret_again() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let org = app.organization(&token, "KDPM").await;
    let body = json!({"name": "Tổng đài 1022", "scopes": ["feedback:write"], "organization_id": org});
    let first = app
        .post("/api/v1/service-clients")
        .token(&token)
        .header("Idempotency-Key", "c-1")
        .json(body.clone())
        .send()
        .await;
    assert_eq!(first.status, 201);
    assert!(first.json()["client_secret"].as_str().is_some_and(|s| s.len() >= 40));
    let replay =
        app.post("/api/v1/service-clients").token(&token).header("Idempotency-Key", "c-1").json(body).send().await;
    assert_eq!(replay.status, 201);
    assert_eq!(replay.header("idempotency-replayed").as_deref(), Some("true"));
    let replayed = replay.json();
    assert_eq!(replayed["client_secret"], Value::Null);
    assert_eq!(replayed["id"], first.json()["id"]);
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM service_clients"), 1);
    let stored = app.sql_count(&format!(
        "SELECT count(*) AS n FROM idempotency_keys WHERE position('{}'::bytea in response_body) > 0",
        first.json()["client_secret"].as_str().unwrap()
    ));
    assert_eq!(stored, 0, "the secret is not kept in the database");
}
