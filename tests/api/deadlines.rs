//! Deadlines that act: the clock walks a record through Tết 2021 — no warning while the
//! holiday week is ahead, a warning two working days before, the deadline day, the
//! escalation (once, with its event) and reminders until a progress note, then an
//! extension counted in working days; each person's inbox.
use std::time::Duration;

use cchc_outreach::clock::Clock;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::helpers::{TestApp, test_settings};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

async fn inbox(app: &TestApp, token: &str) -> Vec<Value> {
    let res = app.get("/api/v1/me/notifications").token(token).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()["items"].as_array().unwrap().clone()
}

fn kinds(items: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = items.iter().map(|n| n["kind"].as_str().unwrap().to_owned()).collect();
    out.sort();
    out
}

/// A service whose clock stands at `start` (the test moves it) and whose deadline scan
/// runs every second.
async fn app_at(start: &str) -> TestApp {
    let mut settings = test_settings();
    settings.clock = Clock::fixed(at(start));
    settings.deadlines.scan_every = Duration::from_secs(1);
    settings.jobs.poll = Duration::from_millis(50);
    TestApp::spawn_with(settings).await
}

/// The inbox once it holds `n` notices (the scan runs every second here).
async fn inbox_of(app: &TestApp, token: &str, n: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let items = inbox(app, token).await;
        if items.len() >= n || std::time::Instant::now() > deadline {
            return items;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The feed's events of `kind`, once there are `n` (a transaction elsewhere in the
/// cluster may hold the feed back for a moment).
async fn events_of(app: &TestApp, token: &str, kind: &str, n: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let page = app.get(&format!("/api/v1/events?type={kind}")).token(token).send().await.json();
        let items = page["items"].as_array().unwrap().clone();
        if items.len() >= n || std::time::Instant::now() > deadline {
            return items;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Lets at least one more scan run.
pub(crate) async fn a_scan(app: &TestApp) {
    let before = app.sql_count(
        "SELECT extract(epoch FROM run_at)::bigint * 1000 AS n FROM jobs WHERE kind = 'recurring.deadlines'",
    );
    for _ in 0..100 {
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        let now = app.sql_count(
            "SELECT extract(epoch FROM run_at)::bigint * 1000 AS n FROM jobs WHERE kind = 'recurring.deadlines'",
        );
        if now > before {
            return;
        }
    }
    panic!("the deadline scan did not run");
}

#[actix_web::test]
async fn a_deadline_warns_escalates_reminds_and_can_be_extended_across_tet() {
    let app = app_at("2021-02-01T09:00:00+07:00").await;
    let clock = app.settings.clock.clone();
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let (tchc, qlda, other) = (
        app.department(&admin, org, "TCHC").await,
        app.department(&admin, org, "QLDA1").await,
        app.department(&admin, org, "KHTH").await,
    );
    let (_, coordinator) = app.staff(&admin, org, &tchc, "tchc.coord", "coordinator").await;
    let (_, leader) = app.staff(&admin, org, &tchc, "tchc.leader", "leader").await;
    let (_, member) = app.staff(&admin, org, &qlda, "qlda.member", "member").await;
    let (_, bystander) = app.staff(&admin, org, &other, "khth.member", "member").await;

    let filed = app
        .post("/api/v1/feedback")
        .token(&coordinator)
        .json(json!({"channel": "hotline", "kind": "complaint", "sender_type": "citizen",
            "sender_name": "Trần Thị Bình", "sender_phone": "0987654321", "subject": "Chậm cấp phép",
            "content": "Nội dung", "department_id": qlda, "received_at": "2021-02-01T09:00:00+07:00"}))
        .send()
        .await;
    assert_eq!(filed.status, 201, "{}", filed.text());
    let record = filed.json();
    let id = record["id"].as_str().unwrap().to_owned();
    // Ten working days from 1 February 2021, Tết (10–16 February) not counted.
    assert_eq!(record["deadline_on"], "2021-02-22");
    let res = app
        .post(&format!("/api/v1/feedback/{id}/transitions"))
        .token(&coordinator)
        .json(json!({"to": "accepted"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());

    // The Tuesday before Tết: four working days are left (17, 18, 19, 22), no warning.
    clock.set(at("2021-02-09T09:00:00+07:00"));
    a_scan(&app).await;
    a_scan(&app).await;
    assert!(inbox(&app, &member).await.is_empty(), "no warning yet");

    // Thursday 18 February: two working days left — the warning, to the department only.
    clock.set(at("2021-02-18T09:00:00+07:00"));
    let got = inbox_of(&app, &member, 1).await;
    assert_eq!(kinds(&got), ["feedback.deadline_near"]);
    let title = got[0]["title"].as_str().unwrap();
    assert!(title.contains(record["code"].as_str().unwrap()) && title.contains("còn 2 ngày làm việc"), "{title}");
    assert!(!title.contains("Bình") && !title.contains("0987654321"), "no personal data: {title}");
    assert_eq!(got[0]["subject_url"], format!("/api/v1/feedback/{id}"));
    assert!(inbox(&app, &bystander).await.is_empty(), "another department hears nothing");
    assert!(inbox(&app, &coordinator).await.is_empty(), "the warning is the department's");
    a_scan(&app).await;
    assert_eq!(inbox(&app, &member).await.len(), 1, "a warning is given once");

    // The deadline day.
    clock.set(at("2021-02-22T09:00:00+07:00"));
    let got = inbox_of(&app, &member, 2).await;
    assert_eq!(kinds(&got), ["feedback.deadline_near", "feedback.due_today"]);

    // The day after: escalation to the coordinator and the leader, and the department
    // is asked for a progress note.
    clock.set(at("2021-02-23T09:00:00+07:00"));
    let got = inbox_of(&app, &member, 4).await;
    assert_eq!(
        kinds(&got),
        ["feedback.deadline_near", "feedback.due_today", "feedback.overdue", "feedback.progress_note_due"]
    );
    for token in [&coordinator, &leader] {
        assert_eq!(kinds(&inbox_of(&app, token, 1).await), ["feedback.overdue"]);
    }
    a_scan(&app).await;
    let shown = app.get(&format!("/api/v1/feedback/{id}")).token(&coordinator).send().await.json();
    assert!(shown["escalated_at"].is_string() && shown["overdue"] == json!(true), "{shown}");
    let events = events_of(&app, &coordinator, "feedback.overdue", 1).await;
    assert_eq!(events.len(), 1, "one escalation event however often the scan runs");
    assert_eq!(events[0]["subject"]["id"], json!(id));
    assert!(!events[0].to_string().contains("0987654321"));

    // Another day without a note: another reminder; after the note, none.
    clock.set(at("2021-02-24T09:00:00+07:00"));
    let got = inbox_of(&app, &member, 5).await;
    assert_eq!(got.iter().filter(|n| n["kind"] == "feedback.progress_note_due").count(), 2);
    let past = app
        .post(&format!("/api/v1/feedback/{id}/progress-notes"))
        .token(&member)
        .json(json!({"text": "Đang chờ ý kiến Sở Xây dựng", "committed_on": "2021-02-23"}))
        .send()
        .await;
    assert_eq!(past.problem(422, "rule_violated")["errors"][0]["code"], "committed_on_past");
    let note = app
        .post(&format!("/api/v1/feedback/{id}/progress-notes"))
        .token(&member)
        .json(json!({"text": "Đang chờ ý kiến Sở Xây dựng", "committed_on": "2021-03-01"}))
        .send()
        .await;
    assert_eq!(note.status, 201, "{}", note.text());
    app.post(&format!("/api/v1/feedback/{id}/progress-notes"))
        .token(&bystander)
        .json(json!({"text": "Không phải phòng mình", "committed_on": "2021-03-01"}))
        .send()
        .await
        .problem(403, "not_assigned_department");
    clock.set(at("2021-02-25T09:00:00+07:00"));
    a_scan(&app).await;
    a_scan(&app).await;
    let got = inbox(&app, &member).await;
    assert_eq!(
        got.iter().filter(|n| n["kind"] == "feedback.progress_note_due").count(),
        2,
        "no reminder after the note"
    );
    let notes = app.get(&format!("/api/v1/feedback/{id}/progress-notes")).token(&coordinator).send().await.json();
    assert_eq!(notes["items"][0]["committed_on"], "2021-03-01");

    // An extension of three working days from today (the deadline has passed): 26
    // February, 1 and 2 March. Only one is allowed.
    let ext = app
        .post(&format!("/api/v1/feedback/{id}/extensions"))
        .token(&member)
        .json(json!({"working_days": 3, "reason": "Cần ý kiến của Sở Xây dựng"}))
        .send()
        .await;
    assert_eq!(ext.status, 201, "{}", ext.text());
    let ext = ext.json();
    assert_eq!(
        (ext["previous_deadline"].as_str(), ext["new_deadline"].as_str()),
        (Some("2021-02-22"), Some("2021-03-02"))
    );
    let shown = app.get(&format!("/api/v1/feedback/{id}")).token(&coordinator).send().await.json();
    assert_eq!(
        (shown["deadline_on"].as_str(), shown["deadline_reason"].as_str()),
        (Some("2021-03-02"), Some("Cần ý kiến của Sở Xây dựng"))
    );
    app.post(&format!("/api/v1/feedback/{id}/extensions"))
        .token(&coordinator)
        .json(json!({"working_days": 1, "reason": "Thêm"}))
        .send()
        .await
        .problem(409, "extension_limit");
    let list = app.get(&format!("/api/v1/feedback/{id}/extensions")).token(&member).send().await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let extended = events_of(&app, &coordinator, "feedback.extended", 1).await;
    assert_eq!(extended[0]["data"]["deadline_on"], "2021-03-02");

    // Answered after the first deadline, within the extended one: the statistics say so.
    let res = app
        .post(&format!("/api/v1/feedback/{id}/answers"))
        .token(&member)
        .json(json!({"text": "Đã cấp phép"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let report = app.get("/api/v1/reports/feedback?period=2021").token(&coordinator).send().await.json();
    let total = &report["total"];
    assert_eq!(
        [&total["received"], &total["extended"], &total["escalated"], &total["answered_on_time"]],
        [&json!(1), &json!(1), &json!(1), &json!(1)],
        "{total}"
    );
    assert_eq!(
        (total["answered_within_original_deadline"].as_i64(), total["answered_within_extension"].as_i64()),
        (Some(0), Some(1))
    );

    // The inbox: unread first, the count in /me, read one, read all.
    let me = app.get("/api/v1/me").token(&member).send().await.json();
    assert_eq!(me["unread_notifications"], 5);
    let first = inbox(&app, &member).await[0]["id"].as_str().unwrap().to_owned();
    let read = app.post(&format!("/api/v1/me/notifications/{first}/read")).token(&member).send().await;
    assert_eq!((read.status, read.json()["read"].as_bool()), (200, Some(true)));
    let after = inbox(&app, &member).await;
    assert_eq!(after.last().unwrap()["id"], json!(first), "read ones come last");
    app.post(&format!("/api/v1/me/notifications/{first}/read"))
        .token(&coordinator)
        .send()
        .await
        .problem(404, "not_found");
    let all = app.post("/api/v1/me/notifications/read-all").token(&member).send().await.json();
    assert_eq!(all["marked"], 4);
    assert_eq!(app.get("/api/v1/me").token(&member).send().await.json()["unread_notifications"], 0);
    let page = app.get("/api/v1/me/notifications?limit=2").token(&member).send().await.json();
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let rest = app.get(&format!("/api/v1/me/notifications?limit=2&after={cursor}")).token(&member).send().await.json();
    assert_eq!(rest["items"].as_array().unwrap().len(), 2);
    assert_ne!(rest["items"][0]["id"], page["items"][0]["id"]);
    let (_, client) = app.service_client(&admin, org, &["feedback:read"]).await;
    app.get("/api/v1/me/notifications").token(&client).send().await.problem(403, "forbidden");
}

#[actix_web::test]
async fn reports_and_assignments_are_reminded_then_late_then_missing() {
    let app = app_at("2021-03-15T09:00:00+07:00").await;
    let clock = app.settings.clock.clone();
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let dept = app.department(&admin, org, "QLDA1").await;
    let (_, coordinator) = app.staff(&admin, org, &dept, "qlda.coord", "coordinator").await;
    let (_, member) = app.staff(&admin, org, &dept, "qlda.member", "member").await;
    let created = |path: String, body: Value| {
        let (app, coordinator) = (&app, coordinator.clone());
        async move {
            let res = app.post(&path).token(&coordinator).json(body).send().await;
            assert_eq!(res.status, 201, "{path}: {}", res.text());
            res.json()["id"].as_str().unwrap().to_owned()
        }
    };
    let plan =
        created("/api/v1/plans".into(), json!({"code": "KH-2021", "year": 2021, "title": "Kế hoạch 2021"})).await;
    let item = created(
        format!("/api/v1/plans/{plan}/items"),
        json!({"reference": "II.1", "kind": "task", "title": "Tuyên truyền"}),
    )
    .await;
    let assignment = created(
        "/api/v1/assignments".into(),
        json!({"plan_item_id": item, "department_id": dept, "role": "lead", "reporting": "quarterly", "due_on": "2021-06-30"}),
    )
    .await;
    let res = app
        .post(&format!("/api/v1/plans/{plan}/transitions"))
        .token(&coordinator)
        .json(json!({"to": "issued"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let duties = app.get(&format!("/api/v1/assignments/{assignment}/reports")).token(&member).send().await.json();
    // Decree 09/2019: the first quarter is 15/12/2020 – 14/03/2021, due five days after.
    assert_eq!(duties["items"][0]["period"], "2021-Q1");
    assert_eq!(duties["items"][0]["due_on"], "2021-03-19");

    // Monday 15 March: four working days before the due date, nothing yet.
    a_scan(&app).await;
    a_scan(&app).await;
    assert!(inbox(&app, &member).await.is_empty());
    // Tuesday 16 March: three working days left — the reminder, to the department and the coordinator.
    clock.set(at("2021-03-16T09:00:00+07:00"));
    let got = inbox_of(&app, &member, 1).await;
    assert_eq!(kinds(&got), ["reporting_duty.due_soon"]);
    assert!(got[0]["title"].as_str().unwrap().contains("2021-Q1"));
    assert_eq!(got[0]["subject_url"], format!("/api/v1/assignments/{assignment}"));
    assert_eq!(kinds(&inbox_of(&app, &coordinator, 1).await), ["reporting_duty.due_soon"]);
    // Monday 22 March, not submitted: late, with its event, once.
    clock.set(at("2021-03-22T09:00:00+07:00"));
    let got = inbox_of(&app, &member, 2).await;
    assert_eq!(kinds(&got), ["reporting_duty.due_soon", "reporting_duty.late"]);
    a_scan(&app).await;
    let events = events_of(&app, &coordinator, "reporting_duty.late", 1).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["subject"]["id"], json!(assignment));
    assert_eq!(
        (events[0]["data"]["period"].as_str(), events[0]["data"]["state"].as_str()),
        (Some("2021-Q1"), Some("missing"))
    );

    // The second quarter's report is submitted in time; the first never is. Past the
    // second quarter's due date (19 June), the first is missing; and the assignment,
    // due 30 June, is reminded and then overdue.
    clock.set(at("2021-06-15T09:00:00+07:00"));
    let res = app
        .post(&format!("/api/v1/assignments/{assignment}/reports/2021-Q2"))
        .token(&member)
        .json(json!({"summary": "Quý II: đã tổ chức 2 hội nghị"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    clock.set(at("2021-06-28T09:00:00+07:00"));
    let got = inbox_of(&app, &member, 4).await;
    assert_eq!(
        kinds(&got),
        ["assignment.due_soon", "reporting_duty.due_soon", "reporting_duty.late", "reporting_duty.missing"]
    );
    clock.set(at("2021-07-01T09:00:00+07:00"));
    let got = inbox_of(&app, &member, 5).await;
    assert!(kinds(&got).contains(&"assignment.overdue".to_owned()), "{got:?}");
    let overdue = events_of(&app, &coordinator, "assignment.overdue", 1).await;
    assert_eq!(overdue[0]["data"]["overdue"], true);
    let chased: Vec<&str> =
        got.iter().map(|n| n["title"].as_str().unwrap()).filter(|t| t.contains("2021-Q2")).collect();
    assert_eq!(chased, Vec::<&str>::new(), "the quarter submitted in time is not chased");
}

/// A small SMTP server on a random port, speaking the protocol's commands as a relay
/// would (EHLO, MAIL, RCPT, DATA, QUIT); keeps each message as received.
pub(crate) fn smtp_listener() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let messages = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = messages.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut out = stream.try_clone().unwrap();
            let mut lines = BufReader::new(stream);
            let _ = out.write_all(b"220 relay.test ESMTP\r\n");
            let mut line = String::new();
            while lines.read_line(&mut line).is_ok_and(|n| n > 0) {
                let command = line.trim_end().to_ascii_uppercase();
                let reply: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
                    b"250-relay.test\r\n250 8BITMIME\r\n"
                } else if command.starts_with("DATA") {
                    let _ = out.write_all(b"354 go ahead\r\n");
                    let mut data = String::new();
                    let mut part = String::new();
                    while lines.read_line(&mut part).is_ok_and(|n| n > 0) && part != ".\r\n" {
                        data.push_str(&part);
                        part.clear();
                    }
                    kept.lock().unwrap().push(data);
                    b"250 queued\r\n"
                } else if command.starts_with("QUIT") {
                    let _ = out.write_all(b"221 bye\r\n");
                    break;
                } else {
                    b"250 ok\r\n"
                };
                let _ = out.write_all(reply);
                line.clear();
            }
        }
    });
    (port, messages)
}

#[actix_web::test]
async fn notices_are_emailed_over_smtp_once_each() {
    let (port, messages) = smtp_listener();
    let mut settings = test_settings();
    settings.clock = Clock::fixed(at("2021-02-18T09:00:00+07:00"));
    settings.deadlines.scan_every = Duration::from_secs(1);
    settings.jobs.poll = Duration::from_millis(50);
    settings.smtp_url = Some(cchc_outreach::config::Secret::new(format!("smtp://127.0.0.1:{port}")));
    settings.mail_from = "Ban QLDA <cchc@kdpm.khanhhoa.gov.vn>".to_owned();
    let app = TestApp::spawn_with(settings).await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let dept = app.department(&admin, org, "QLDA1").await;
    let (_, coordinator) = app.staff(&admin, org, &dept, "qlda.coord", "coordinator").await;
    let res = app
        .post("/api/v1/users")
        .token(&admin)
        .json(json!({"username": "qlda.an", "full_name": "Lê Văn An", "role": "member", "password": crate::helpers::PASSWORD,
            "organization_id": org, "department_id": dept, "email": "an.lv@kdpm.khanhhoa.gov.vn"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    // A colleague with an address who wants no warnings by e-mail.
    let res = app
        .post("/api/v1/users")
        .token(&admin)
        .json(json!({"username": "qlda.binh", "full_name": "Trần Bình", "role": "member", "password": crate::helpers::PASSWORD,
            "organization_id": org, "department_id": dept, "email": "binh.t@kdpm.khanhhoa.gov.vn"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let binh = app.token("qlda.binh", crate::helpers::PASSWORD).await;
    let prefs = "/api/v1/me/notification-preferences";
    assert_eq!(app.get(prefs).token(&binh).send().await.json()["email_off"], json!([]));
    let set = app
        .call(actix_web::http::Method::PUT, prefs)
        .token(&binh)
        .json(json!({"email_off": ["feedback.deadline_near"]}))
        .send()
        .await;
    assert_eq!(set.status, 200, "{}", set.text());
    app.call(actix_web::http::Method::PUT, prefs)
        .token(&binh)
        .json(json!({"email_off": ["everything"]}))
        .send()
        .await
        .problem(400, "validation_failed");
    assert_eq!(app.get(prefs).token(&binh).send().await.json()["email_off"], json!(["feedback.deadline_near"]));
    let filed = app
        .post("/api/v1/feedback")
        .token(&coordinator)
        .json(json!({"channel": "hotline", "kind": "complaint", "sender_type": "citizen", "sender_phone": "0987654321",
            "subject": "Chậm cấp phép", "content": "Nội dung", "department_id": dept, "deadline_on": "2021-02-22",
            "deadline_reason": "Theo quy chế", "received_at": "2021-02-18T08:00:00+07:00"}))
        .send()
        .await;
    assert_eq!(filed.status, 201, "{}", filed.text());
    let code = filed.json()["code"].as_str().unwrap().to_owned();
    let id = filed.json()["id"].as_str().unwrap().to_owned();
    let res = app
        .post(&format!("/api/v1/feedback/{id}/transitions"))
        .token(&coordinator)
        .json(json!({"to": "accepted"}))
        .send()
        .await;
    assert_eq!(res.status, 200);
    // Two working days to the deadline: the warning, in the inbox and by e-mail.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while messages.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    a_scan(&app).await;
    a_scan(&app).await;
    let got = messages.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "one message, however often the scan runs: {got:?}");
    let mail = &got[0];
    assert!(mail.contains("To: an.lv@kdpm.khanhhoa.gov.vn"), "{mail}");
    assert!(
        mail.contains("From: \"Ban QLDA\" <cchc@kdpm.khanhhoa.gov.vn>")
            || mail.contains("From: Ban QLDA <cchc@kdpm.khanhhoa.gov.vn>"),
        "{mail}"
    );
    assert!(mail.contains("@cchc-outreach>"), "the Message-ID is the message's own: {mail}");
    assert!(!mail.contains("0987654321"), "nothing of the sender");
    assert!(mail.contains("Subject: =?utf-8?") || mail.contains(&code), "{mail}");
    let sent = app.sql_count("SELECT count(*) AS n FROM outbound_messages WHERE status = 'sent' AND recipient_masked = 'a***@kdpm.khanhhoa.gov.vn'");
    assert_eq!(sent, 1);
    assert!(!got.iter().any(|m| m.contains("binh.t@")), "who turned the kind off gets no e-mail of it");
    assert_eq!(kinds(&inbox(&app, &binh).await), ["feedback.deadline_near"], "but has it in the inbox");
}

/// More open records than a page of the scan (`db::deadlines::SCAN_PAGE`, each page its
/// own transaction): every one is escalated, once, however many scans run — the pages
/// follow each other without a gap or an overlap.
#[actix_web::test]
async fn a_scan_goes_through_every_page_of_open_records_once() {
    let app = app_at("2021-06-01T09:00:00+07:00").await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let qlda = app.department(&admin, org, "QLDA1").await;
    let rows = cchc_outreach::db::deadlines::SCAN_PAGE as u64 * 2 + 7;
    // Anonymous hotline records of May 2021 with a deadline of 15 May, taken up by a
    // department and never answered.
    app.bulk_feedback(org, rows, 1).await;
    app.sql(&format!(
        "UPDATE feedback SET status = 'in_progress', department_id = '{qlda}'
         WHERE organization_id = '{org}' AND anonymous AND channel = 'hotline' AND deadline_on = '2021-05-15'"
    ));
    // The first scan makes thousands of escalations: give it time on a loaded machine.
    let escalated = || {
        app.sql_count(&format!(
            "SELECT count(*) AS n FROM feedback WHERE organization_id = '{org}' AND deadline_on = '2021-05-15'
               AND escalated_at IS NOT NULL"
        ))
    };
    let until = std::time::Instant::now() + Duration::from_secs(90);
    while escalated() < rows as i64 && std::time::Instant::now() < until {
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(escalated(), rows as i64, "every page's records escalated");
    a_scan(&app).await;
    a_scan(&app).await;
    let events = app.sql_count(&format!(
        "SELECT count(*) AS n FROM events WHERE type = 'feedback.overdue' AND organization_id = '{org}'"
    ));
    let distinct = app.sql_count(&format!(
        "SELECT count(DISTINCT subject_id) AS n FROM events WHERE type = 'feedback.overdue' AND organization_id = '{org}'"
    ));
    assert_eq!((events, distinct), (rows as i64, rows as i64), "one escalation event a record, after three scans");
}
