//! Tracking without an account: the PIN shown once at filing, a wrong PIN answered
//! exactly like an unknown code, locked like sign-ins, and reopening by the sender.
use cchc_outreach::clock::Clock;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::helpers::{MAX_FAILURES, TestApp, test_settings};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

/// A problem without what differs per request.
fn shape(res: &crate::helpers::TestResponse) -> (u16, Value) {
    let mut body = res.json();
    body.as_object_mut().unwrap().remove("request_id");
    body.as_object_mut().unwrap().remove("instance");
    (res.status, body)
}

#[actix_web::test]
async fn a_sender_follows_and_reopens_with_the_pin_and_a_wrong_pin_tells_nothing() {
    let mut settings = test_settings();
    settings.clock = Clock::fixed(at("2021-03-01T09:00:00+07:00"));
    let app = TestApp::spawn_with(settings).await;
    let clock = app.settings.clock.clone();
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let dept = app.department(&admin, org, "QLDA1").await;
    let (_, coordinator) = app.staff(&admin, org, &dept, "qlda.coord", "coordinator").await;
    let (_, member) = app.staff(&admin, org, &dept, "qlda.member", "member").await;
    let body = json!({"channel": "hotline", "kind": "complaint", "sender_type": "citizen", "sender_phone": "0912345678",
        "subject": "Chậm cấp phép", "content": "Nội dung", "department_id": dept});
    let filed = app
        .post("/api/v1/feedback")
        .token(&coordinator)
        .header("Idempotency-Key", "track-1")
        .json(body.clone())
        .send()
        .await;
    assert_eq!(filed.status, 201, "{}", filed.text());
    let record = filed.json();
    let (id, code, pin) = (
        record["id"].as_str().unwrap().to_owned(),
        record["code"].as_str().unwrap().to_owned(),
        record["tracking_pin"].as_str().unwrap().to_owned(),
    );
    assert!(pin.len() == 8 && pin.bytes().all(|b| b.is_ascii_digit()), "{pin}");
    let replay =
        app.post("/api/v1/feedback").token(&coordinator).header("Idempotency-Key", "track-1").json(body).send().await;
    assert_eq!((replay.status, replay.json()["tracking_pin"].clone()), (201, Value::Null), "shown once");
    let shown = app.get(&format!("/api/v1/feedback/{id}")).token(&coordinator).send().await.text();
    assert!(!shown.contains("tracking_pin") && !shown.contains(&pin));
    let trail = app.get(&format!("/api/v1/audit-events?entity_id={id}")).token(&admin).send().await.text();
    let feed = app.get("/api/v1/events").token(&coordinator).send().await.text();
    assert!(!trail.contains(&pin) && !feed.contains(&pin), "the PIN is in neither the trail nor the feed");

    // The right PIN: where it stands; a wrong one, exactly like a code that does not exist.
    let status = app.get(&format!("/api/v1/public/feedback/{code}/status?pin={pin}")).send().await;
    assert_eq!(status.status, 200, "{}", status.text());
    let s = status.json();
    assert_eq!((s["status"].as_str(), s["received_on"].as_str()), (Some("received"), Some("2021-03-01")));
    assert!(s["answer"].is_null() && s["reopen_until"].is_null());
    assert!(!status.text().contains("0912345678"), "nothing personal");
    let wrong = if pin == "00000000" { "11111111" } else { "00000000" };
    let unknown = app.get(&format!("/api/v1/public/feedback/PAKN-2021-999999/status?pin={pin}")).send().await;
    let mistaken = app.get(&format!("/api/v1/public/feedback/{code}/status?pin={wrong}")).send().await;
    assert_eq!(shape(&mistaken), shape(&unknown));
    assert_eq!(unknown.status, 404);
    app.get(&format!("/api/v1/public/feedback/{code}/status?pin=12ab")).send().await.problem(400, "validation_failed");

    // Answered: the answer and the days it may be reopened in.
    let res = app
        .post(&format!("/api/v1/feedback/{id}/transitions"))
        .token(&coordinator)
        .json(json!({"to": "accepted"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    clock.set(at("2021-03-03T09:00:00+07:00"));
    let res = app
        .post(&format!("/api/v1/feedback/{id}/answers"))
        .token(&member)
        .json(json!({"text": "Đã cấp phép ngày 03/03"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let s = app.get(&format!("/api/v1/public/feedback/{code}/status?pin={pin}")).send().await.json();
    assert_eq!(
        (s["answer"].as_str(), s["answered_on"].as_str(), s["reopen_until"].as_str()),
        (Some("Đã cấp phép ngày 03/03"), Some("2021-03-03"), Some("2021-03-13"))
    );

    // Reopened by the sender: in progress, with a new deadline, in the feed and reports.
    clock.set(at("2021-03-08T09:00:00+07:00"));
    let reopen = |pin: String| {
        let (app, code) = (&app, code.clone());
        async move {
            app.post(&format!("/api/v1/public/feedback/{code}/reopen"))
                .json(json!({"pin": pin, "reason": "Chưa nhận được giấy phép"}))
                .send()
                .await
        }
    };
    reopen(wrong.to_owned()).await.problem(404, "not_found");
    let done = reopen(pin.clone()).await;
    assert_eq!(done.status, 200, "{}", done.text());
    let s = done.json();
    // Ten working days from Monday 8 March 2021.
    assert_eq!((s["status"].as_str(), s["deadline_on"].as_str()), (Some("in_progress"), Some("2021-03-22")));
    let record = app.get(&format!("/api/v1/feedback/{id}")).token(&coordinator).send().await.json();
    assert_eq!((record["status"].as_str(), record["answered_at"].as_str()), (Some("in_progress"), None));
    let history = app.get(&format!("/api/v1/feedback/{id}/history")).token(&coordinator).send().await.json();
    let last = history["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["to_status"].as_str(), last["note"].as_str()),
        (Some("in_progress"), Some("Chưa nhận được giấy phép"))
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let page = app.get("/api/v1/events?type=feedback.reopened").token(&coordinator).send().await.json();
        if !page["items"].as_array().unwrap().is_empty() {
            assert_eq!(page["items"][0]["subject"]["id"], json!(id));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "feedback.reopened reaches the feed");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let report = app.get("/api/v1/reports/feedback?period=2021").token(&coordinator).send().await.json();
    assert_eq!(report["total"]["reopened"], 1);
    reopen(pin.clone()).await.problem(409, "reopen_not_allowed");

    // Too late: answered, and the days to reopen in have passed.
    let res = app
        .post(&format!("/api/v1/feedback/{id}/answers"))
        .token(&member)
        .json(json!({"text": "Đã gửi giấy phép"}))
        .send()
        .await;
    assert_eq!(res.status, 201);
    clock.set(at("2021-03-20T09:00:00+07:00"));
    reopen(pin.clone()).await.problem(409, "reopen_not_allowed");

    // Wrong PINs lock the record like failed sign-ins: then even the right one is a 404.
    let max: usize = MAX_FAILURES.parse().unwrap();
    for _ in 0..max {
        app.get(&format!("/api/v1/public/feedback/{code}/status?pin={wrong}")).send().await.problem(404, "not_found");
    }
    let locked = app.get(&format!("/api/v1/public/feedback/{code}/status?pin={pin}")).send().await;
    assert_eq!(shape(&locked), shape(&unknown), "locked looks like unknown");
}
