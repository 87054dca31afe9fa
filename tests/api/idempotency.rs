//! `Idempotency-Key`: replays, mismatches, retries in flight, and secrets not replayed.
//! The crash test with the real binary is in `crash.rs`.
use diesel::{Connection, PgConnection, RunQueryDsl, sql_query};
use serde_json::{Value, json};

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
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM idempotency_keys"), 3);

    let res =
        app.post("/api/v1/departments").token(&token).header("Idempotency-Key", "has space").json(body).send().await;
    res.problem(400, "invalid_header");
}

#[actix_web::test]
async fn a_retry_while_the_first_is_running_is_a_conflict() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let body = json!({"code": "SLOW", "name": "Chậm"});
    let send = |body: Value| {
        let (app, token) = (&app, token.clone());
        async move {
            app.post("/api/v1/organizations").token(&token).header("Idempotency-Key", "busy").json(body).send().await
        }
    };
    // Inserts into organizations wait while this transaction holds the table: the first
    // request is then running, its key taken, its effects not yet committed.
    let mut blocker = PgConnection::establish(&app.database_url).unwrap();
    sql_query("BEGIN").execute(&mut blocker).unwrap();
    sql_query("LOCK TABLE organizations IN SHARE ROW EXCLUSIVE MODE").execute(&mut blocker).unwrap();
    let first = {
        let (url, token, body) = (app.url("/api/v1/organizations"), token.clone(), body.clone());
        actix_web::rt::spawn(async move {
            let client = awc::Client::builder().timeout(std::time::Duration::from_secs(30)).finish();
            let mut res = client
                .post(url)
                .insert_header(("Authorization", format!("Bearer {token}")))
                .insert_header(("Idempotency-Key", "busy"))
                .send_json(&body)
                .await
                .unwrap();
            (res.status().as_u16(), res.body().await.unwrap().to_vec())
        })
    };
    let mut waiting = 0;
    for _ in 0..100 {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        waiting = app
            .sql_count("SELECT count(*) AS n FROM pg_locks WHERE relation = 'organizations'::regclass AND NOT granted");
        if waiting > 0 {
            break;
        }
    }
    assert_eq!(waiting, 1, "the first request waits inside its transaction");
    send(body.clone()).await.problem(409, "idempotency_in_progress");
    sql_query("COMMIT").execute(&mut blocker).unwrap();
    let (status, first_body) = first.await.unwrap();
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&first_body));
    let again = send(body.clone()).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotency-replayed").as_deref(), Some("true"));
    assert_eq!(again.body, first_body);
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM organizations"), 1);

    // An instance that dies mid-request holds the key no longer than its connection
    // lives: the retry right after runs, with no wait for a reservation to go stale.
    let me = app.get("/api/v1/me").token(&token).send().await.json();
    let principal = uuid::Uuid::parse_str(me["id"].as_str().unwrap()).unwrap();
    let lock = cchc_outreach::db::locks::id(b"idempotency", &[principal.as_bytes(), b"dying"]);
    let mut dying = PgConnection::establish(&app.database_url).unwrap();
    sql_query("BEGIN").execute(&mut dying).unwrap();
    sql_query(format!("SELECT pg_advisory_xact_lock({lock})")).execute(&mut dying).unwrap();
    let other = json!({"code": "DYING", "name": "Giữa chừng"});
    let retry =
        || app.post("/api/v1/organizations").token(&token).header("Idempotency-Key", "dying").json(other.clone());
    retry().send().await.problem(409, "idempotency_in_progress");
    let pid = app.sql_count("SELECT pid::bigint AS n FROM pg_locks WHERE locktype = 'advisory' AND granted LIMIT 1");
    drop(dying);
    // The server notices the closed connection within moments.
    let gone = std::time::Instant::now();
    while app.sql_count(&format!("SELECT count(*) AS n FROM pg_stat_activity WHERE pid = {pid}")) > 0 {
        assert!(gone.elapsed() < std::time::Duration::from_secs(5), "the backend outlived its connection");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let res = retry().send().await;
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
