//! The event feed: written with every change, without personal data, and never
//! skipping an event that commits late.
use diesel::{Connection, PgConnection, RunQueryDsl, sql_query};
use serde_json::{Value, json};

use crate::helpers::TestApp;

async fn feed(app: &TestApp, token: &str, query: &str) -> Value {
    let res = app.get(&format!("/api/v1/events?{query}")).token(token).send().await;
    assert_eq!(res.status, 200, "{query}: {}", res.text());
    res.json()
}

/// The feed, read again until it holds at least `n` events: another test's writing
/// transaction, anywhere in the cluster, may hold it back for a moment.
async fn feed_of(app: &TestApp, token: &str, query: &str, n: usize) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let page = feed(app, token, query).await;
        if page["items"].as_array().unwrap().len() >= n || std::time::Instant::now() > deadline {
            return page;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn types(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect()
}

#[actix_web::test]
async fn changes_become_events_without_personal_data_and_stay_in_their_organisation() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let other = app.organization(&admin, "SXD").await;
    let dept = app
        .post("/api/v1/departments")
        .token(&admin)
        .json(json!({"code": "TCHC", "name": "Phòng TCHC", "organization_id": org}))
        .send()
        .await
        .id();
    let (_, coordinator) = app.staff(&admin, org, &dept.to_string(), "tchc", "coordinator").await;
    let filed = app
        .post("/api/v1/feedback")
        .token(&coordinator)
        .json(json!({"channel": "hotline", "kind": "complaint", "sender_type": "citizen",
            "sender_name": "Nguyễn Văn An", "sender_phone": "0912345678", "sender_email": "an@thu.vn",
            "sender_address": "12 Trần Phú, Nha Trang", "subject": "Chậm giải quyết hồ sơ", "content": "Nội dung",
            "internal_note": "Gọi lại sau 17h", "department_id": dept}))
        .send()
        .await;
    assert_eq!(filed.status, 201, "{}", filed.text());
    let id = filed.json()["id"].as_str().unwrap().to_owned();
    let res = app
        .post(&format!("/api/v1/feedback/{id}/transitions"))
        .token(&coordinator)
        .json(json!({"to": "accepted"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());

    let page = feed_of(&app, &coordinator, "type=feedback.*", 2).await;
    assert_eq!(types(&page), ["feedback.received", "feedback.status_changed"], "{page}");
    let received = &page["items"][0];
    assert_eq!(received["subject"], json!({"type": "feedback", "id": id, "url": format!("/api/v1/feedback/{id}")}));
    assert_eq!(received["organization_id"], json!(org));
    assert_eq!(received["data"]["subject"], "Chậm giải quyết hồ sơ");
    assert_eq!(page["items"][1]["data"]["status"], "accepted");
    let text = page.to_string();
    for personal in ["Nguyễn", "0912345678", "an@thu.vn", "Trần Phú", "Gọi lại", "\"sender\"", "internal_note"]
    {
        assert!(!text.contains(personal), "{personal} in {text}");
    }
    // Everything of the organisation, in order: the department and the person first.
    let all = types(&feed_of(&app, &coordinator, "", 5).await);
    assert_eq!(&all[all.len() - 2..], ["feedback.received", "feedback.status_changed"], "{all:?}");
    assert!(all.contains(&"user.created".to_owned()) && all.contains(&"department.created".to_owned()), "{all:?}");
    // Signing in is audited, but changes nothing: no event (the coordinator signed in).
    assert_eq!(all.iter().filter(|t| t.starts_with("user.")).count(), 1, "{all:?}");

    // A cursor goes on from where it was; the last one stays put while nothing happens.
    let first = feed(&app, &coordinator, "limit=1").await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let rest = feed_of(&app, &coordinator, &format!("after={cursor}"), all.len() - 1).await;
    assert_eq!(types(&rest).len(), all.len() - 1);
    let end = rest["next_cursor"].as_str().unwrap().to_owned();
    let idle = feed(&app, &coordinator, &format!("after={end}")).await;
    assert_eq!((idle["items"].clone(), idle["next_cursor"].as_str()), (json!([]), Some(end.as_str())));

    // Another organisation sees none of it; a service client needs events:read.
    let (_, theirs) = app.service_client(&admin, other, &["events:read"]).await;
    let seen = feed_of(&app, &theirs, "", 1).await;
    assert!(seen["items"].as_array().unwrap().iter().all(|e| e["organization_id"] == json!(other)), "{seen}");
    assert!(!seen.to_string().contains(&id));
    let (_, plans_only) = app.service_client(&admin, org, &["plans:read"]).await;
    app.get("/api/v1/events").token(&plans_only).send().await.problem(403, "forbidden");
    for bad in ["after=1", "after=x.y", "type=feedback", "type=Feedback.*", "limit=0", "limit=501"] {
        app.get(&format!("/api/v1/events?{bad}")).token(&coordinator).send().await.problem(400, "validation_failed");
    }
}

/// Two transactions write events; the one that began first commits last. A consumer
/// reading in between must not move past the first one's event.
#[actix_web::test]
async fn an_event_that_commits_late_is_not_skipped() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let insert = |conn: &mut PgConnection, kind: &str| {
        sql_query(format!(
            "INSERT INTO events (id, type, subject_type, data) VALUES (gen_random_uuid(), '{kind}', 'test', '{{}}')"
        ))
        .execute(conn)
        .unwrap();
    };
    let start = feed(&app, &admin, "").await["next_cursor"].clone();
    let query = start.as_str().map_or("type=test.*".to_owned(), |c| format!("after={c}&type=test.*"));

    let mut slow = PgConnection::establish(&app.database_url).unwrap();
    let mut quick = PgConnection::establish(&app.database_url).unwrap();
    sql_query("BEGIN").execute(&mut slow).unwrap();
    insert(&mut slow, "test.slow");
    sql_query("BEGIN").execute(&mut quick).unwrap();
    insert(&mut quick, "test.quick");
    sql_query("COMMIT").execute(&mut quick).unwrap();

    // The quick one has committed, but the slow one, which came first, has not: the
    // feed waits rather than hand out the quick one and move the cursor past the slow.
    let between = feed(&app, &admin, &query).await;
    assert_eq!(types(&between), Vec::<String>::new(), "{between}");

    sql_query("COMMIT").execute(&mut slow).unwrap();
    let both = feed_of(&app, &admin, &query, 2).await;
    assert_eq!(types(&both), ["test.slow", "test.quick"], "in the order of their transactions");
}

#[actix_web::test]
async fn events_past_their_retention_are_forgotten_and_the_rest_kept() {
    let app = TestApp::spawn().await;
    app.sql(
        "INSERT INTO events (id, type, subject_type, data, occurred_at)
         VALUES (gen_random_uuid(), 'test.old', 'test', '{}', now() - interval '91 days'),
                (gen_random_uuid(), 'test.recent', 'test', '{}', now() - interval '89 days')",
    );
    let mut conn = PgConnection::establish(&app.database_url).unwrap();
    assert_eq!(cchc_outreach::db::events::purge_older_than(&mut conn, 90).unwrap(), 1);
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM events WHERE type = 'test.old'"), 0);
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM events WHERE type = 'test.recent'"), 1);
    assert_eq!(app.settings.event_retention_days, 90, "the default");
}
