//! Accounts are kept per instance (`auth::accounts`), yet a change made through one
//! instance counts on the very next request to any other.
use std::time::Duration;

use serde_json::json;

use crate::helpers::{PASSWORD, TestApp};

/// Two instances on one database, an administrator's token, an organisation and a
/// coordinator of it (their id and token).
struct Setup {
    app: TestApp,
    second: String,
    admin: String,
    org: uuid::Uuid,
    id: uuid::Uuid,
    token: String,
}

async fn two_instances() -> Setup {
    let app = TestApp::spawn().await;
    let second = app.start_another().await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let (id, token) = app.person(&admin, org, "tchc", "coordinator").await;
    Setup { app, second, admin, org, id, token }
}

#[actix_web::test]
async fn a_change_on_one_instance_counts_on_the_next_request_to_another() {
    let Setup { app, second, admin, org, id, token } = two_instances().await;
    let other = app.at(&second);
    let me = |token: String| {
        let other = app.at(&second);
        async move { other.get("/api/v1/me").token(&token).send().await }
    };

    // Deactivated and activated again, twenty times: the other instance, which has the
    // account in its cache from the request before, follows every time.
    for round in 0..20 {
        assert_eq!(me(token.clone()).await.status, 200, "round {round}: active");
        assert_eq!(me(token.clone()).await.status, 200, "round {round}: still active");
        let off = app.patch(&format!("/api/v1/users/{id}")).token(&admin).json(json!({"active": false})).send().await;
        assert_eq!(off.status, 200, "{}", off.text());
        me(token.clone()).await.problem(401, "invalid_token");
        let on = app.patch(&format!("/api/v1/users/{id}")).token(&admin).json(json!({"active": true})).send().await;
        assert_eq!(on.status, 200, "{}", on.text());
    }

    // The other instance answered the second request of each round from its cache (the
    // first after a change asks the database).
    let (_, scraper) = app.service_client(&admin, org, &["metrics:read"]).await;
    let mut hits = 0.0;
    for _ in 0..5 {
        // The gauges are set from the instance scraped, just before they are written
        // (another test's scrape in between could show its instance's: ask again).
        let text = other.get("/metrics").token(&scraper).send().await.text();
        let value = |what: &str| {
            let series = format!(r#"cchc_account_cache{{what="{what}"}} "#);
            text.lines().find_map(|l| l.strip_prefix(&series)).and_then(|v| v.parse::<f64>().ok())
        };
        hits = value("hit").unwrap_or(0.0);
        if hits >= 20.0 && value("live") == Some(1.0) {
            break;
        }
    }
    assert!(hits >= 20.0, "the other instance's cache answered: {hits} hits");

    // A role change: the next request there has the new role and its rights only.
    assert_eq!(me(token.clone()).await.json()["role"], "coordinator");
    let plan = json!({"code": "KH-1", "year": 2021, "title": "Kế hoạch"});
    assert_eq!(other.post("/api/v1/plans").token(&token).json(plan).send().await.status, 201);
    let res = app.patch(&format!("/api/v1/users/{id}")).token(&admin).json(json!({"role": "viewer"})).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(me(token.clone()).await.json()["role"], "viewer");
    let plan = json!({"code": "KH-2", "year": 2021, "title": "Kế hoạch"});
    other.post("/api/v1/plans").token(&token).json(plan).send().await.problem(403, "forbidden");

    // A password set by the administrator ends the tokens issued before it (whole
    // seconds: the token must be a second older than the change).
    actix_web::rt::time::sleep(Duration::from_millis(1100)).await;
    let res = app
        .post(&format!("/api/v1/users/{id}/password"))
        .token(&admin)
        .json(json!({"new_password": format!("{PASSWORD}-moi")}))
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    me(token.clone()).await.problem(401, "invalid_token");

    // A service client: a rotated secret, then a deletion.
    let (client, client_token) = app.service_client(&admin, org, &["directory:read"]).await;
    assert_eq!(me(client_token.clone()).await.status, 200);
    actix_web::rt::time::sleep(Duration::from_millis(1100)).await;
    let rotated = app.post(&format!("/api/v1/service-clients/{client}/secret")).token(&admin).send().await;
    assert_eq!(rotated.status, 200, "{}", rotated.text());
    me(client_token).await.problem(401, "invalid_token");
    let secret = rotated.json()["client_secret"].as_str().unwrap().to_owned();
    let fresh = app
        .post("/api/v1/auth/token")
        .json(json!({"grant_type": "client_credentials", "client_id": client, "client_secret": secret}))
        .send()
        .await
        .json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(me(fresh.clone()).await.status, 200);
    let gone = app.delete(&format!("/api/v1/service-clients/{client}")).token(&admin).send().await;
    assert_eq!(gone.status, 204, "{}", gone.text());
    me(fresh).await.problem(401, "invalid_token");
}

#[actix_web::test]
async fn after_the_listening_session_is_cut_changes_still_count_everywhere() {
    let Setup { app, second, admin, id, token, .. } = two_instances().await;
    let other = app.at(&second);
    assert_eq!(other.get("/api/v1/me").token(&token).send().await.status, 200);
    // Both instances' listening sessions are cut, as a database restart would.
    let cut = app.sql_count(
        "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND query = 'LISTEN cchc_accounts'",
    );
    assert_eq!(cut, 2, "one listening session per instance");
    // While they are gone, and after they are back, a change counts at once.
    for wait in [0, 1500] {
        actix_web::rt::time::sleep(Duration::from_millis(wait)).await;
        let off = app.patch(&format!("/api/v1/users/{id}")).token(&admin).json(json!({"active": false})).send().await;
        assert_eq!(off.status, 200, "{}", off.text());
        other.get("/api/v1/me").token(&token).send().await.problem(401, "invalid_token");
        let on = app.patch(&format!("/api/v1/users/{id}")).token(&admin).json(json!({"active": true})).send().await;
        assert_eq!(on.status, 200, "{}", on.text());
        assert_eq!(other.get("/api/v1/me").token(&token).send().await.status, 200);
    }
    let back = app.sql_count(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN cchc_accounts'",
    );
    assert_eq!(back, 2, "both listening again");
}
