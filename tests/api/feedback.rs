//! Feedback and hotline records: deadlines, codes, resends, personal data, transitions,
//! answers, satisfaction, publication and the public endpoints.
use std::time::Duration;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, TestResponse, capture_logs, captured_logs, test_settings};

/// The personal data of the sender in these tests; none of it may leak.
const NAME: &str = "Nguyễn Thị Hồng Nhung";
const PHONE: &str = "0912345678";
const EMAIL: &str = "hongnhung.nguyen@gmail.com";
const ADDRESS: &str = "27 Lê Thánh Tôn, phường Lộc Thọ, Nha Trang";
const NOTE: &str = "Ghi chú nội bộ: đã gọi lại cho người phản ánh";

/// An organisation with its departments, people and a hotline system.
struct Org {
    id: Uuid,
    /// TCHC (administration), QLDA1, QLDA2.
    departments: Vec<String>,
    coordinator: String,
    leader: String,
    /// A member of QLDA1, the department that answers land matters.
    answerer: String,
    /// A member of QLDA2.
    other_member: String,
    viewer: String,
    hotline_id: String,
    hotline: String,
    /// DAT-DAI: land matters, answered by QLDA1 within 10 working days.
    category: String,
}

async fn org(app: &TestApp, admin: &str, code: &str) -> Org {
    let id = app.organization(admin, code).await;
    let mut departments = Vec::new();
    for dept in ["TCHC", "QLDA1", "QLDA2"] {
        let res = app
            .post("/api/v1/departments")
            .token(admin)
            .json(json!({"code": dept, "name": format!("Phòng {dept}"), "organization_id": id}))
            .send()
            .await;
        departments.push(res.json()["id"].as_str().unwrap().to_owned());
    }
    let lower = code.to_lowercase();
    let (_, coordinator) = app.staff(admin, id, &departments[0], &format!("{lower}.tchc"), "coordinator").await;
    let (_, leader) = app.staff(admin, id, &departments[0], &format!("{lower}.leader"), "leader").await;
    let (_, answerer) = app.staff(admin, id, &departments[1], &format!("{lower}.qlda1"), "member").await;
    let (_, other_member) = app.staff(admin, id, &departments[2], &format!("{lower}.qlda2"), "member").await;
    let (_, viewer) = app.staff(admin, id, &departments[2], &format!("{lower}.viewer"), "viewer").await;
    let (hotline_id, hotline) = app.service_client(admin, id, &["feedback:write", "feedback:read"]).await;
    let res = app
        .post("/api/v1/feedback-categories")
        .token(&coordinator)
        .json(json!({"code": "DAT-DAI", "name": "Đất đai, giải phóng mặt bằng", "deadline_days": 10,
            "default_department_id": departments[1]}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let category = res.json()["id"].as_str().unwrap().to_owned();
    Org { id, departments, coordinator, leader, answerer, other_member, viewer, hotline_id, hotline, category }
}

/// A complaint as the hotline system sends it.
fn complaint(o: &Org, reference: &str) -> Value {
    json!({"received_at": "2021-03-15T09:30:00+07:00", "channel": "hotline", "kind": "complaint", "sender_type": "citizen",
        "sender_name": NAME, "sender_phone": PHONE, "sender_email": EMAIL, "sender_address": ADDRESS,
        "consent": {"publish": true},
        "subject": "Chậm giải quyết hồ sơ bồi thường", "content": "Hồ sơ bồi thường nộp từ tháng 1 chưa có kết quả.",
        "category_id": o.category, "external_reference": reference, "internal_note": NOTE})
}

async fn file(app: &TestApp, token: &str, body: Value) -> Value {
    let res = app.post("/api/v1/feedback").token(token).json(body).send().await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()
}

async fn transition(app: &TestApp, token: &str, id: &str, body: Value) -> TestResponse {
    app.post(&format!("/api/v1/feedback/{id}/transitions")).token(token).json(body).send().await
}

async fn answer(app: &TestApp, token: &str, id: &str) -> TestResponse {
    app.post(&format!("/api/v1/feedback/{id}/answers"))
        .token(token)
        .json(json!({"text": "Ban đã làm việc với đơn vị tư vấn; hồ sơ được trả kết quả ngày 25/3/2021."}))
        .send()
        .await
}

/// The hotline files a record, TCHC accepts it, QLDA1 answers it; returns its id.
async fn answered(app: &TestApp, o: &Org, body: Value) -> String {
    let id = file(app, &o.hotline, body).await["id"].as_str().unwrap().to_owned();
    assert_eq!(transition(app, &o.coordinator, &id, json!({"to": "accepted"})).await.status, 200);
    assert_eq!(answer(app, &o.answerer, &id).await.status, 201);
    id
}

fn assert_no_personal_data(what: &str, text: &str) {
    for secret in [NAME, PHONE, EMAIL, ADDRESS] {
        assert!(!text.contains(secret), "{what} shows {secret:?}: {text}");
    }
}

#[actix_web::test]
async fn a_hotline_complaint_is_answered_rated_and_published_without_personal_data() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let o = org(&app, &admin, "KDPM").await;

    // The hotline files it, with its own reference and an idempotency key.
    let res = app
        .post("/api/v1/feedback")
        .token(&o.hotline)
        .header("Idempotency-Key", "1022-004512")
        .json(complaint(&o, "1022-2021-004512"))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let filed = res.json();
    let id = filed["id"].as_str().unwrap().to_owned();
    assert_eq!(res.header("location").unwrap(), format!("/api/v1/feedback/{id}"));
    assert_eq!(filed["code"], "PAKN-2021-000001");
    assert_eq!(filed["status"], "received");
    assert_eq!(filed["source_client_id"], json!(o.hotline_id));
    assert_eq!(filed["department_id"], json!(o.departments[1]), "the category's department");
    // 15 March 2021 is a Monday: ten working days from Tuesday end on Monday 29th.
    assert_eq!(filed["deadline_on"], "2021-03-29");
    assert_eq!(filed["sender"]["phone"], "09******78", "the hotline reads back masked data");

    // TCHC accepts it (assignment to QLDA1 came from the category).
    let res = transition(&app, &o.coordinator, &id, json!({"to": "accepted", "note": "Giao phòng QLDA1"})).await;
    assert_eq!(res.json()["status"], "accepted", "{}", res.text());
    // QLDA1 starts and answers it; the answer moves it to `answered`.
    assert_eq!(transition(&app, &o.answerer, &id, json!({"to": "in_progress"})).await.status, 200);
    let res = answer(&app, &o.answerer, &id).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let record = app.get(&format!("/api/v1/feedback/{id}")).token(&o.coordinator).send().await.json();
    assert_eq!(record["status"], "answered");
    assert!(record["answered_at"].is_string());
    assert_eq!(record["overdue"], false);

    // The hotline calls the citizen back and records the rating.
    let res = app
        .post(&format!("/api/v1/feedback/{id}/satisfaction"))
        .token(&o.hotline)
        .json(json!({"rating": "satisfied", "channel": "hotline"}))
        .send()
        .await;
    assert_eq!(res.json()["satisfaction"], "satisfied", "{}", res.text());

    // Not public until TCHC publishes it.
    let public_path = "/api/v1/public/feedback/PAKN-2021-000001";
    app.get(public_path).send().await.problem(404, "not_found");
    let res = app
        .post(&format!("/api/v1/feedback/{id}/publish"))
        .token(&o.coordinator)
        .json(json!({"summary": "Hồ sơ bồi thường của công dân đã được giải quyết ngày 25/3/2021."}))
        .send()
        .await;
    assert_eq!(res.json()["published"], true, "{}", res.text());

    // Readable without signing in: no sender, no content, no internal note.
    let res = app.get(public_path).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let public = res.json();
    assert_eq!(public["code"], "PAKN-2021-000001");
    assert_eq!(public["organization_code"], "KDPM");
    assert_eq!(public["category"], json!({"code": "DAT-DAI", "name": "Đất đai, giải phóng mặt bằng"}));
    assert_eq!(public["received_on"], "2021-03-15");
    // Days as a person in Vietnam counts them, beside the instants.
    let vietnam_day = |at: &Value| {
        (chrono::DateTime::parse_from_rfc3339(at.as_str().unwrap()).unwrap() + chrono::Duration::hours(7))
            .date_naive()
            .to_string()
    };
    assert_eq!(public["answered_on"].as_str().unwrap(), vietnam_day(&public["answered_at"]));
    assert_eq!(public["published_on"].as_str().unwrap(), vietnam_day(&public["published_at"]));
    assert_eq!(public["status"], "answered");
    assert!(public["answer"].as_str().unwrap().starts_with("Ban đã làm việc"));
    assert!(public["summary"].as_str().unwrap().starts_with("Hồ sơ bồi thường"));
    for hidden in ["sender", "content", "internal_note", "department_id", "source_client_id", "external_reference"] {
        assert!(public.get(hidden).is_none(), "{hidden} is public");
    }
    assert_no_personal_data("the public record", &res.text());
    assert!(!res.text().contains(NOTE));
    let list = app.get("/api/v1/public/organizations/kdpm/feedback").send().await;
    assert_eq!(list.json()["items"].as_array().unwrap().len(), 1, "{}", list.text());
    assert_no_personal_data("the public list", &list.text());
    app.get("/api/v1/public/organizations/NOWHERE/feedback").send().await.problem(404, "not_found");

    // The history keeps every step.
    let history = app.get(&format!("/api/v1/feedback/{id}/history")).token(&o.viewer).send().await.json();
    let steps: Vec<(Value, Value)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["from_status"].clone(), h["to_status"].clone()))
        .collect();
    assert_eq!(
        steps,
        [
            (Value::Null, json!("received")),
            (json!("received"), json!("accepted")),
            (json!("accepted"), json!("in_progress")),
            (json!("in_progress"), json!("answered")),
        ]
    );
    assert_eq!(history["items"][1]["note"], "Giao phòng QLDA1");

    // Unpublished, it is gone from the public again.
    assert_eq!(app.delete(&format!("/api/v1/feedback/{id}/publish")).token(&o.coordinator).send().await.status, 200);
    app.get(public_path).send().await.problem(404, "not_found");
    assert_eq!(app.get("/api/v1/public/organizations/KDPM/feedback").send().await.json()["items"], json!([]));
    // Closing ends it.
    let res = transition(&app, &o.coordinator, &id, json!({"to": "closed"})).await;
    assert_eq!(res.json()["status"], "closed");
    assert!(res.json()["closed_at"].is_string());
}

#[actix_web::test]
async fn deadlines_count_working_days_on_the_national_calendar_and_the_organisations_own() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let o = org(&app, &admin, "KDPM").await;
    let res = app
        .post("/api/v1/feedback-categories")
        .token(&o.coordinator)
        .json(json!({"code": "TTHC", "name": "Thủ tục hành chính", "deadline_days": 5}))
        .send()
        .await;
    let five_days = res.json()["id"].as_str().unwrap().to_owned();
    let deadline = |received: &str, category: &str| {
        let (app, token) = (&app, o.coordinator.clone());
        let body = json!({"received_at": received, "channel": "website", "kind": "question", "sender_type": "business",
            "anonymous": true, "subject": "Hỏi thủ tục", "content": "Nội dung", "category_id": category});
        async move { file(app, &token, body).await["deadline_on"].as_str().unwrap().to_owned() }
    };
    // Tết Tân Sửu, from the national calendar with nothing entered: Wednesday 10 to
    // Tuesday 16 February 2021 off.
    // Friday 5 Feb, 5 working days: Mon 8, Tue 9, (Tết), Wed 17, Thu 18, Fri 19.
    assert_eq!(deadline("2021-02-05T10:00:00+07:00", &five_days).await, "2021-02-19");
    // Received on Saturday 23:30 in Vietnam (16:30 UTC): Monday is the first day.
    assert_eq!(deadline("2021-01-30T16:30:00Z", &five_days).await, "2021-02-05");
    // Thursday 4 Feb, 17:30 UTC, is already Friday in Vietnam: Mon 8, Tue 9, Wed 17, Thu 18, Fri 19.
    assert_eq!(deadline("2021-02-04T17:30:00Z", &five_days).await, "2021-02-19");
    // Ten working days from Tuesday 9 Feb: all of Tết skipped.
    assert_eq!(deadline("2021-02-09T08:00:00+07:00", &o.category).await, "2021-03-02");
    // 2025: Friday 2 May off in exchange for Saturday 26 April, worked. From Friday 25
    // April: Sat 26, Mon 28, Tue 29, (30/4–4/5), Mon 5, Tue 6.
    assert_eq!(deadline("2025-04-25T10:00:00+07:00", &five_days).await, "2025-05-06");

    // The organisation's own day off, on top of the national ones.
    let own = |day: &str, kind: &str| {
        let (app, token) = (&app, o.coordinator.clone());
        let body = json!({"day": day, "kind": kind, "name": "Ngày của đơn vị"});
        async move { app.post("/api/v1/holidays").token(&token).json(body).send().await }
    };
    let res = own("2021-02-17", "day_off").await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["kind"], "day_off");
    own("2021-02-17", "day_off").await.problem(409, "holiday_taken");
    assert_eq!(deadline("2021-02-05T10:00:00+07:00", &five_days).await, "2021-02-22");
    // Taken back, it counts again for records received after.
    assert_eq!(app.delete("/api/v1/holidays/2021-02-17").token(&o.coordinator).send().await.status, 204);
    assert_eq!(deadline("2021-02-05T10:00:00+07:00", &five_days).await, "2021-02-19");
    app.delete("/api/v1/holidays/2021-02-17").token(&o.coordinator).send().await.problem(404, "not_found");
    // A make-up Saturday of its own: from Monday 15 Feb, 17, 18, 19, Sat 20, Mon 22.
    assert_eq!(own("2021-02-20", "working_day").await.status, 201);
    assert_eq!(deadline("2021-02-15T10:00:00+07:00", &five_days).await, "2021-02-22");
    // A working day only where the day would not be worked.
    let refused = own("2021-02-23", "working_day").await.problem(422, "working_day_not_needed");
    assert!(refused["detail"].as_str().unwrap().contains("23/02/2021"), "{refused}");
    assert_eq!(own("2021-02-16", "working_day").await.status, 201, "a national day off it works");
    let holidays = app.get("/api/v1/holidays?from=2021-02-11&to=2021-02-28").token(&o.viewer).send().await.json();
    let mut days: Vec<&str> =
        holidays["items"].as_array().unwrap().iter().map(|h| h["day"].as_str().unwrap()).collect();
    days.sort_unstable();
    assert_eq!(days, ["2021-02-16", "2021-02-20"], "only its own entries");

    // The calendar shows both, says which wins, and counts the working days.
    let cal = app.get("/api/v1/calendar?from=2021-02-08&to=2021-02-21").token(&o.viewer).send().await;
    assert_eq!(cal.status, 200, "{}", cal.text());
    let cal = cal.json();
    let rows: Vec<(&str, &str, &str, bool)> = cal["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["day"].as_str().unwrap(),
                d["kind"].as_str().unwrap(),
                d["source"].as_str().unwrap(),
                d["working"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("2021-02-10", "day_off", "national", false),
            ("2021-02-11", "day_off", "national", false),
            ("2021-02-12", "day_off", "national", false),
            ("2021-02-13", "day_off", "national", false),
            ("2021-02-14", "day_off", "national", false),
            ("2021-02-15", "day_off", "national", false),
            ("2021-02-16", "day_off", "national", true),
            ("2021-02-16", "working_day", "organization", true),
            ("2021-02-20", "working_day", "organization", true),
        ]
    );
    assert!(cal["items"][0]["citation"].as_str().unwrap().contains("4875/TB-LĐTBXH"), "{cal}");
    // 8, 9, 16, 17, 18, 19, 20.
    assert_eq!((cal["working_days"].as_i64(), cal["next_cursor"].clone()), (Some(7), Value::Null));
    let too_long = app.get("/api/v1/calendar?from=2021-01-01&to=2022-06-01").token(&o.viewer).send().await;
    assert_eq!(too_long.field_errors(), [("to".to_owned(), "invalid_value".to_owned())]);

    // Set by hand only with a reason, and only by the coordinator or a leader.
    let mut body = complaint(&o, "hand");
    body["deadline_on"] = json!("2021-04-30");
    let res = app.post("/api/v1/feedback").token(&o.coordinator).json(body.clone()).send().await;
    assert_eq!(res.field_errors(), [("deadline_reason".to_owned(), "deadline_reason_required".to_owned())]);
    body["deadline_reason"] = json!("Cần xác minh thực địa");
    app.post("/api/v1/feedback").token(&o.answerer).json(body.clone()).send().await.problem(403, "forbidden");
    let filed = file(&app, &o.leader, body).await;
    assert_eq!(
        (filed["deadline_on"].as_str(), filed["deadline_reason"].as_str()),
        (Some("2021-04-30"), Some("Cần xác minh thực địa"))
    );
    // Past its deadline and unanswered: overdue, and found by the filter.
    assert_eq!(filed["overdue"], true);
    let overdue = app.get("/api/v1/feedback?overdue=true&limit=200").token(&o.coordinator).send().await.json();
    assert_eq!(overdue["items"].as_array().unwrap().len(), 9);
    let not_overdue = app.get("/api/v1/feedback?overdue=false").token(&o.coordinator).send().await.json();
    assert_eq!(not_overdue["items"], json!([]));
}

#[actix_web::test]
async fn fifty_concurrent_filings_get_fifty_gap_free_codes() {
    let mut settings = test_settings();
    settings.db_pool_size = 8;
    settings.db_timeout = Duration::from_secs(30);
    let app = TestApp::spawn_with(settings).await;
    let admin = app.admin_token().await;
    let o = org(&app, &admin, "KDPM").await;
    let mut pending = Vec::new();
    for i in 0..50 {
        let call = app.post("/api/v1/feedback").token(&o.hotline).json(complaint(&o, &format!("REF-{i}")));
        pending.push(actix_web::rt::spawn(call.send()));
    }
    let mut codes = Vec::new();
    for handle in pending {
        let res = handle.await.unwrap();
        assert_eq!(res.status, 201, "{}", res.text());
        codes.push(res.json()["code"].as_str().unwrap().to_owned());
    }
    codes.sort();
    let expected: Vec<String> = (1..=50).map(|n| format!("PAKN-2021-{n:06}")).collect();
    assert_eq!(codes, expected);
    // A new year starts again at 1; another organisation has its own numbers.
    let mut body = complaint(&o, "next-year");
    body["received_at"] = json!("2022-01-03T08:00:00+07:00");
    assert_eq!(file(&app, &o.hotline, body).await["code"], "PAKN-2022-000001");
    let other = org(&app, &admin, "SXD").await;
    assert_eq!(file(&app, &other.hotline, complaint(&other, "REF-0")).await["code"], "PAKN-2021-000001");
    // A refused filing does not use a number up.
    let mut bad = complaint(&o, "bad");
    bad["plan_item_id"] = json!(Uuid::now_v7());
    app.post("/api/v1/feedback").token(&o.hotline).json(bad).send().await.problem(422, "reference_invalid");
    assert_eq!(file(&app, &o.hotline, complaint(&o, "REF-50")).await["code"], "PAKN-2021-000051");
}

#[actix_web::test]
async fn a_resend_by_reference_or_idempotency_key_files_nothing_new() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let o = org(&app, &admin, "KDPM").await;
    let first = file(&app, &o.hotline, complaint(&o, "1022-1")).await;
    // The same external reference and fields again (the hotline lost the answer): the same record.
    let res = app.post("/api/v1/feedback").token(&o.hotline).json(complaint(&o, "1022-1")).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["id"], first["id"]);
    assert_eq!(res.header("location").unwrap(), format!("/api/v1/feedback/{}", first["id"].as_str().unwrap()));
    // The same reference with other fields is refused, as a reused idempotency key is.
    let mut again = complaint(&o, "1022-1");
    again["subject"] = json!("Gửi lại");
    app.post("/api/v1/feedback").token(&o.hotline).json(again).send().await.problem(422, "external_reference_reused");
    let kept = app.get(&format!("/api/v1/feedback/{}", first["id"].as_str().unwrap())).token(&o.hotline).send().await;
    assert_eq!(kept.json()["subject"], first["subject"]);
    // The same idempotency key and body: the first answer replayed.
    let keyed = || {
        app.post("/api/v1/feedback").token(&o.hotline).header("Idempotency-Key", "k-2").json(complaint(&o, "1022-2"))
    };
    let one = keyed().send().await;
    let two = keyed().send().await;
    assert_eq!((one.status, two.status, two.header("idempotency-replayed").as_deref()), (201, 201, Some("true")));
    assert_eq!(one.json()["id"], two.json()["id"]);
    // Another system's reference may look the same: it is its own record.
    let (_, portal) = app.service_client(&admin, o.id, &["feedback:write"]).await;
    let theirs = file(&app, &portal, complaint(&o, "1022-1")).await;
    assert_ne!(theirs["id"], first["id"]);
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM feedback"), 3);
    assert_eq!(app.sql_count("SELECT last_number::bigint AS n FROM feedback_counters"), 3);
    // A system reads back what it sent, and only that.
    let mine = app.get("/api/v1/feedback").token(&o.hotline).send().await.json();
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);
    app.get(&format!("/api/v1/feedback/{}", theirs["id"].as_str().unwrap()))
        .token(&o.hotline)
        .send()
        .await
        .problem(404, "not_found");

    // Staff filing by hand are one source: a colleague's resend of a letter's number is
    // recognised, without any key, even when both arrive at once.
    let letter = |subject: &str| {
        let mut body = complaint(&o, "CV-2021-15");
        body["subject"] = json!(subject);
        app.post("/api/v1/feedback").token(&o.coordinator).json(body).send()
    };
    let (a, b, c) = futures_util::join!(letter("Công văn 15"), letter("Công văn 15"), letter("Công văn 15"));
    let mut statuses = [a.status, b.status, c.status];
    statuses.sort();
    assert_eq!(statuses, [200, 200, 201], "{} {} {}", a.text(), b.text(), c.text());
    assert!(a.json()["id"] == b.json()["id"] && b.json()["id"] == c.json()["id"]);
    // The same fields, in another order and by another of the staff: the same filing.
    let mut same = complaint(&o, "CV-2021-15");
    same["subject"] = json!("Công văn 15");
    let reordered: serde_json::Map<String, Value> = same.as_object().unwrap().clone().into_iter().rev().collect();
    let by_leader = app.post("/api/v1/feedback").token(&o.leader).json(Value::Object(reordered)).send().await;
    assert_eq!((by_leader.status, by_leader.json()["id"].clone()), (200, a.json()["id"].clone()));
    assert!(by_leader.header("etag").is_some());
    // Other fields under the same reference are not silently answered with the old record.
    let res = letter("Công văn 15 (lần 2)").await;
    let body = res.problem(422, "external_reference_reused");
    assert!(body["detail"].as_str().unwrap().contains("CV-2021-15"), "{body}");
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM feedback WHERE external_reference = 'CV-2021-15'"), 1);
    assert_eq!(
        app.sql_count(
            "SELECT count(*) AS n FROM feedback WHERE external_reference = 'CV-2021-15' AND subject = 'Công văn 15'"
        ),
        1,
        "the record filed first is unchanged"
    );
    // The hotline's own number is not the staff's.
    assert_eq!(file(&app, &o.coordinator, complaint(&o, "1022-1")).await["external_reference"], "1022-1");
    // A record deleted since is not filed again.
    let id = a.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(app.delete(&format!("/api/v1/feedback/{id}")).token(&o.coordinator).send().await.status, 204);
    let res = app.post("/api/v1/feedback").token(&o.coordinator).json(complaint(&o, "CV-2021-15")).send().await;
    res.problem(409, "external_reference_deleted");
    assert_eq!(app.sql_count("SELECT last_number::bigint AS n FROM feedback_counters"), 5, "numbers gap-free");
}

#[actix_web::test]
async fn personal_data_is_masked_for_others_and_never_public_logged_or_audited() {
    capture_logs();
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let o = org(&app, &admin, "KDPM").await;
    let res = app
        .post("/api/v1/feedback")
        .token(&o.hotline)
        .header("X-Request-Id", "pii-check-create")
        .json(complaint(&o, "pii"))
        .send()
        .await;
    assert_eq!(res.status, 201);
    let id = res.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/feedback/{id}");

    // Unmasked: the coordinator, a leader, the assigned department.
    for (who, token) in [("coordinator", &o.coordinator), ("leader", &o.leader), ("QLDA1", &o.answerer)] {
        let record = app.get(&path).token(token).send().await.json();
        assert_eq!(
            record["sender"],
            json!({"name": NAME, "phone": PHONE, "email": EMAIL, "address": ADDRESS, "notify_by": []}),
            "{who} sees the sender"
        );
        assert_eq!(record["sender_unmasked"], true);
    }
    // Masked: everyone else, and every list.
    let masked = json!({"name": "N*** T*** H*** N***", "phone": "09******78", "email": "h***@gmail.com", "address": "***", "notify_by": []});
    for (who, token) in
        [("QLDA2", &o.other_member), ("viewer", &o.viewer), ("hotline", &o.hotline), ("administrator", &admin)]
    {
        let res = app.get(&path).token(token).send().await;
        assert_eq!(res.json()["sender"], masked, "{who}");
        assert_eq!(res.json()["sender_unmasked"], false);
        assert_no_personal_data(who, &res.text());
    }
    for token in [&o.coordinator, &o.answerer, &o.hotline] {
        let list = app.get("/api/v1/feedback").token(token).send().await;
        assert_eq!(list.json()["items"][0]["sender"], masked);
        assert_no_personal_data("a list", &list.text());
    }
    // Nor in the answers of changes.
    let res = transition(&app, &o.coordinator, &id, json!({"to": "accepted"})).await;
    assert_no_personal_data("a transition", &res.text());
    let res = app.patch(&path).token(&o.coordinator).json(json!({"subject": "Chậm bồi thường"})).send().await;
    assert_eq!(res.status, 200);
    assert_no_personal_data("a change", &res.text());

    // The audit trail keeps it masked.
    let audit = app.get(&format!("/api/v1/audit-events?entity_id={id}")).token(&admin).send().await;
    assert!(audit.json()["items"].as_array().unwrap().len() >= 3, "{}", audit.text());
    assert!(audit.text().contains("09******78"));
    assert_no_personal_data("the audit trail", &audit.text());
    for secret in [NAME, PHONE, EMAIL, ADDRESS] {
        let query = format!("SELECT count(*) AS n FROM audit_events WHERE changes::text LIKE '%{secret}%'");
        assert_eq!(app.sql_count(&query), 0, "{secret} in the audit table");
    }

    // Published, the public sees none of it.
    answer(&app, &o.answerer, &id).await;
    app.post(&format!("/api/v1/feedback/{id}/publish"))
        .token(&o.coordinator)
        .json(json!({"summary": "Đã giải quyết."}))
        .send()
        .await;
    let public = app.get("/api/v1/public/feedback/PAKN-2021-000001?organization=KDPM").send().await;
    assert_eq!(public.status, 200, "{}", public.text());
    assert_no_personal_data("the public record", &public.text());
    let list = app.get("/api/v1/public/organizations/KDPM/feedback").send().await;
    assert_no_personal_data("the public list", &list.text());

    // The logs of all this (captured at debug level) hold none of it either.
    let logs = captured_logs();
    assert!(logs.contains("pii-check-create"), "the logs were captured");
    assert_no_personal_data("the logs", &logs);

    // An anonymous record keeps nothing about its sender.
    let mut anonymous = complaint(&o, "anon");
    anonymous["anonymous"] = json!(true);
    let res = app.post("/api/v1/feedback").token(&o.coordinator).json(anonymous).send().await;
    assert_eq!(res.field_errors(), [("anonymous".to_owned(), "anonymous_with_sender".to_owned())]);
    let filed = file(
        &app,
        &o.coordinator,
        json!({"channel": "letter", "kind": "feedback", "sender_type": "citizen", "anonymous": true,
            "subject": "Thư không ký tên", "content": "Nội dung thư"}),
    )
    .await;
    assert_eq!(filed["sender"], Value::Null);
    let stored =
        format!("SELECT count(*) AS n FROM feedback_senders WHERE feedback_id = '{}'", filed["id"].as_str().unwrap());
    assert_eq!(app.sql_count(&stored), 0);
}

#[actix_web::test]
async fn status_moves_only_along_allowed_transitions() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let o = org(&app, &admin, "KDPM").await;
    let no_department = json!({"channel": "email", "kind": "question", "sender_type": "investor",
        "sender_email": "investor@example.com", "subject": "Hỏi về dự án", "content": "Tiến độ dự án?"});
    let id = file(&app, &o.coordinator, no_department.clone()).await["id"].as_str().unwrap().to_owned();
    for to in ["in_progress", "answered", "closed", "received"] {
        let res = transition(&app, &o.coordinator, &id, json!({"to": to})).await;
        let problem = res.problem(409, "transition_not_allowed");
        assert_eq!(problem["allowed"], json!(["accepted", "rejected", "forwarded"]), "{to}");
    }
    transition(&app, &o.coordinator, &id, json!({"to": "accepted"})).await.problem(422, "department_required");
    let res = transition(&app, &o.coordinator, &id, json!({"to": "rejected"})).await;
    assert_eq!(res.field_errors(), [("reason".to_owned(), "required".to_owned())]);
    let res = transition(&app, &o.coordinator, &id, json!({"to": "forwarded"})).await;
    assert_eq!(res.field_errors(), [("forwarded_to".to_owned(), "required".to_owned())]);
    // Only the coordinator (or a leader) moves it; a viewer, a member or a system cannot,
    // and a system does not even see a record it did not send.
    for token in [&o.viewer, &o.answerer, &o.hotline] {
        transition(&app, token, &id, json!({"to": "forwarded", "forwarded_to": "Sở Xây dựng"}))
            .await
            .problem(403, "forbidden");
    }
    transition(&app, &o.hotline, &id, json!({"to": "in_progress"})).await.problem(404, "not_found");
    let res =
        transition(&app, &o.coordinator, &id, json!({"to": "forwarded", "forwarded_to": "Sở Xây dựng tỉnh Khánh Hòa"}))
            .await;
    assert_eq!(
        (res.json()["status"].as_str(), res.json()["forwarded_to"].as_str()),
        (Some("forwarded"), Some("Sở Xây dựng tỉnh Khánh Hòa"))
    );
    transition(&app, &o.coordinator, &id, json!({"to": "accepted"})).await.problem(409, "transition_not_allowed");

    let rejected = file(&app, &o.coordinator, no_department).await["id"].as_str().unwrap().to_owned();
    let res = transition(
        &app,
        &o.coordinator,
        &rejected,
        json!({"to": "rejected", "reason": "Không thuộc thẩm quyền của Ban"}),
    )
    .await;
    assert_eq!(res.json()["status_reason"], "Không thuộc thẩm quyền của Ban");
    answer(&app, &o.answerer, &rejected).await.problem(403, "not_assigned_department");

    // Only the assigned department answers, once accepted.
    let id = file(&app, &o.coordinator, complaint(&o, "c-1")).await["id"].as_str().unwrap().to_owned();
    answer(&app, &o.answerer, &id).await.problem(409, "feedback_not_accepted");
    transition(&app, &o.coordinator, &id, json!({"to": "accepted"})).await;
    for token in [&o.other_member, &o.coordinator, &o.leader] {
        answer(&app, token, &id).await.problem(403, "not_assigned_department");
    }
    answer(&app, &o.viewer, &id).await.problem(403, "forbidden");
    transition(&app, &o.other_member, &id, json!({"to": "in_progress"})).await.problem(403, "forbidden");
    app.post(&format!("/api/v1/feedback/{id}/publish"))
        .token(&o.coordinator)
        .json(json!({"summary": "x"}))
        .send()
        .await
        .problem(409, "feedback_not_answered");
    app.post(&format!("/api/v1/feedback/{id}/satisfaction"))
        .token(&o.coordinator)
        .json(json!({"rating": "satisfied", "channel": "hotline"}))
        .send()
        .await
        .problem(409, "feedback_not_answered");
    // Reassigned to QLDA2, it is theirs to answer.
    let res = app
        .patch(&format!("/api/v1/feedback/{id}"))
        .token(&o.coordinator)
        .json(json!({"department_id": o.departments[2]}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    answer(&app, &o.answerer, &id).await.problem(403, "not_assigned_department");
    assert_eq!(answer(&app, &o.other_member, &id).await.status, 201);
    assert_eq!(answer(&app, &o.other_member, &id).await.status, 201, "a further answer");
    let answers = app.get(&format!("/api/v1/feedback/{id}/answers")).token(&o.viewer).send().await.json();
    assert_eq!(answers["items"].as_array().unwrap().len(), 2);
    let history = app.get(&format!("/api/v1/feedback/{id}/history")).token(&o.viewer).send().await.json();
    assert_eq!(history["items"].as_array().unwrap().len(), 3, "one `answered` step for two answers");
    // Status is not a field.
    app.patch(&format!("/api/v1/feedback/{id}"))
        .token(&o.coordinator)
        .json(json!({"status": "closed"}))
        .send()
        .await
        .problem(400, "validation_failed");
}

#[actix_web::test]
async fn the_satisfaction_rate_of_a_period_feeds_the_plans_indicator() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let o = org(&app, &admin, "KDPM").await;
    let plan = app
        .post("/api/v1/plans")
        .token(&o.coordinator)
        .json(json!({"code": "KH-2021", "year": 2021, "title": "Kế hoạch tuyên truyền CCHC năm 2021"}))
        .send()
        .await
        .id();
    let res = app
        .post(&format!("/api/v1/plans/{plan}/indicators"))
        .token(&o.coordinator)
        .json(json!({"code": "SATISFACTION_RATE", "name": "Tỷ lệ hài lòng", "unit": "percent", "comparator": ">=", "target_value": 80}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let indicator = res.id();
    let rate = |id: String, rating: &str| {
        let (app, token) = (&app, o.hotline.clone());
        let body = json!({"rating": rating, "channel": "hotline"});
        async move {
            let res = app.post(&format!("/api/v1/feedback/{id}/satisfaction")).token(&token).json(body).send().await;
            assert_eq!(res.status, 200, "{}", res.text());
        }
    };
    for (i, rating) in ["satisfied", "satisfied", "dissatisfied", "satisfied"].into_iter().enumerate() {
        let mut body = complaint(&o, &format!("r-{i}"));
        body["received_at"] = json!(format!("2021-0{}-10T09:00:00+07:00", i + 3));
        rate(answered(&app, &o, body).await, rating).await;
    }
    // Answered, not yet rated: not counted. Rated in another year: not in 2021's rate.
    answered(&app, &o, complaint(&o, "unrated")).await;
    let mut next_year = complaint(&o, "2022");
    next_year["received_at"] = json!("2022-01-04T09:00:00+07:00");
    rate(answered(&app, &o, next_year).await, "neutral").await;

    let year =
        app.get("/api/v1/feedback/satisfaction?from=2021-01-01&to=2021-12-31").token(&o.viewer).send().await.json();
    assert_eq!(
        (year["rated"].as_i64(), year["satisfied"].as_i64(), year["dissatisfied"].as_i64(), year["rate"].as_f64()),
        (Some(4), Some(3), Some(1), Some(75.0))
    );
    let spring =
        app.get("/api/v1/feedback/satisfaction?from=2021-03-01&to=2021-04-30").token(&o.viewer).send().await.json();
    assert_eq!((spring["rated"].as_i64(), spring["rate"].as_f64()), (Some(2), Some(100.0)));
    let nothing =
        app.get("/api/v1/feedback/satisfaction?from=2020-01-01&to=2020-12-31").token(&o.viewer).send().await.json();
    assert_eq!((nothing["rated"].as_i64(), nothing["rate"].clone()), (Some(0), Value::Null));
    let res = app.get("/api/v1/feedback/satisfaction?from=2021-12-31&to=2021-01-01").token(&o.viewer).send().await;
    assert_eq!(res.field_errors(), [("from".to_owned(), "invalid_value".to_owned())]);

    // The 2021 plan's indicator got the rate as computed measurements; the last is 75 %.
    let measurements =
        app.get(&format!("/api/v1/indicators/{indicator}/measurements")).token(&o.viewer).send().await.json();
    let items = measurements["items"].as_array().unwrap();
    assert_eq!(items.len(), 4, "{measurements}");
    assert!(items.iter().all(|m| m["source"] == "computed" && m["period"] == "2021"));
    assert!(items.iter().all(|m| m["measured_on"].as_str() <= Some("2021-12-31")), "in the year rated: {measurements}");
    assert_eq!(items.last().unwrap()["value"].as_f64(), Some(75.0));
    let read = app.get(&format!("/api/v1/indicators/{indicator}")).token(&o.viewer).send().await.json();
    assert_eq!(read["status"], "not_met", "75 % is below the 80 % target: {read}");
}

#[actix_web::test]
async fn the_public_endpoints_are_rate_limited_per_client_address() {
    let mut settings = test_settings();
    settings.public_rate_limit = 3;
    settings.trust_forwarded_for = true;
    let app = TestApp::spawn_with(settings).await;
    let from = |addr: &str| app.get("/api/v1/public/feedback/PAKN-2021-000001").header("X-Forwarded-For", addr);
    for _ in 0..3 {
        from("203.0.113.7").send().await.problem(404, "not_found");
    }
    let res = from("203.0.113.7").send().await;
    res.problem(429, "rate_limited");
    let wait: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // Another address has its own allowance; the list counts against the same one.
    from("203.0.113.8").send().await.problem(404, "not_found");
    app.get("/api/v1/public/organizations/KDPM/feedback")
        .header("X-Forwarded-For", "203.0.113.7")
        .send()
        .await
        .problem(429, "rate_limited");
    // Signed-in calls are not limited by it.
    let admin = app.admin_token().await;
    for _ in 0..5 {
        assert_eq!(app.get("/api/v1/feedback").token(&admin).send().await.status, 200);
    }
}

#[actix_web::test]
async fn feedback_stays_inside_its_organisation() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let o = org(&app, &admin, "KDPM").await;
    let other = org(&app, &admin, "SXD").await;
    let id = file(&app, &o.coordinator, complaint(&o, "x")).await["id"].as_str().unwrap().to_owned();
    for path in [
        format!("/api/v1/feedback/{id}"),
        format!("/api/v1/feedback/{id}/history"),
        format!("/api/v1/feedback/{id}/answers"),
        format!("/api/v1/feedback-categories/{}", o.category),
    ] {
        for token in [&other.coordinator, &other.hotline] {
            app.get(&path).token(token).send().await.problem(404, "not_found");
        }
    }
    transition(&app, &other.coordinator, &id, json!({"to": "accepted"})).await.problem(404, "not_found");
    answer(&app, &other.answerer, &id).await.problem(404, "not_found");
    app.patch(&format!("/api/v1/feedback/{id}"))
        .token(&other.coordinator)
        .json(json!({"subject": "x"}))
        .send()
        .await
        .problem(404, "not_found");
    app.post(&format!("/api/v1/feedback/{id}/publish"))
        .token(&other.coordinator)
        .json(json!({"summary": "x"}))
        .send()
        .await
        .problem(404, "not_found");
    app.delete(&format!("/api/v1/feedback/{id}")).token(&other.coordinator).send().await.problem(404, "not_found");
    assert_eq!(app.get("/api/v1/feedback").token(&other.coordinator).send().await.json()["items"], json!([]));
    // Another organisation's category or department cannot be used.
    let mut body = complaint(&other, "y");
    body["category_id"] = json!(o.category);
    app.post("/api/v1/feedback").token(&other.coordinator).json(body).send().await.problem(422, "reference_invalid");
    let mut body = complaint(&other, "z");
    body["department_id"] = json!(o.departments[1]);
    app.post("/api/v1/feedback").token(&other.coordinator).json(body).send().await.problem(422, "department_not_found");
    // Category codes are unique in an organisation, regardless of case.
    let res = app
        .post("/api/v1/feedback-categories")
        .token(&other.coordinator)
        .json(json!({"code": "dat-dai", "name": "x", "deadline_days": 3}))
        .send()
        .await;
    res.problem(409, "category_code_taken");
}

#[actix_web::test]
async fn feedback_collections_follow_the_conventions() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let o = org(&app, &admin, "KDPM").await;
    let walk = |path: &'static str| {
        let (app, token) = (&app, o.coordinator.clone());
        async move {
            let mut seen = Vec::new();
            let mut next = format!("{path}?limit=2");
            loop {
                let body = app.get(&next).token(&token).send().await.json();
                seen.extend(body["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()));
                match body["next_cursor"].as_str() {
                    Some(c) => next = format!("{path}?limit=2&cursor={c}"),
                    None => break seen,
                }
            }
        }
    };
    let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true).replace('+', "%2B");
    let mut made = Vec::new();
    for (i, (path, body)) in [
        ("/api/v1/feedback-categories", json!({"code": "C1", "name": "Một", "deadline_days": 5})),
        ("/api/v1/feedback-categories", json!({"code": "C2", "name": "Hai", "deadline_days": 5})),
        ("/api/v1/holidays", json!({"day": "2021-09-02", "name": "Quốc khánh"})),
        ("/api/v1/holidays", json!({"day": "2021-04-30", "name": "Giải phóng miền Nam"})),
        ("/api/v1/holidays", json!({"day": "2021-05-01", "name": "Quốc tế Lao động"})),
    ]
    .into_iter()
    .enumerate()
    {
        let key = format!("conv-{i}");
        let first =
            app.post(path).token(&o.coordinator).header("Idempotency-Key", &key).json(body.clone()).send().await;
        let again = app.post(path).token(&o.coordinator).header("Idempotency-Key", &key).json(body).send().await;
        assert_eq!((first.status, again.header("idempotency-replayed").as_deref()), (201, Some("true")), "{path}");
        made.push(first.id().to_string());
    }
    assert_eq!(walk("/api/v1/feedback-categories").await, [vec![o.category.clone()], made[..2].to_vec()].concat());
    assert_eq!(walk("/api/v1/holidays").await, made[2..].to_vec());
    let mut records = Vec::new();
    for (i, channel) in ["hotline", "email", "website", "letter", "portal"].into_iter().enumerate() {
        let mut body = complaint(&o, &format!("conv-{i}"));
        body["channel"] = json!(channel);
        records.push(file(&app, &o.hotline, body).await["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(walk("/api/v1/feedback").await, records);

    // Filters, and search regardless of diacritics.
    let count = |query: String| {
        let (app, token) = (&app, o.coordinator.clone());
        async move {
            let res = app.get(&format!("/api/v1/feedback?{query}")).token(&token).send().await;
            assert_eq!(res.status, 200, "{query}: {}", res.text());
            res.json()["items"].as_array().unwrap().len()
        }
    };
    assert_eq!(count("q=cham%20giai%20quyet%20BOI%20THUONG".into()).await, 5);
    assert_eq!(count("q=PAKN-2021-000003".into()).await, 1);
    assert_eq!(count("q=khong%20co".into()).await, 0);
    assert_eq!(count("channel=email".into()).await, 1);
    assert_eq!(count("kind=complaint&status=received".into()).await, 5);
    assert_eq!(count("kind=question".into()).await, 0);
    assert_eq!(count(format!("category_id={}", o.category)).await, 5);
    assert_eq!(count(format!("department_id={}", o.departments[2])).await, 0);
    assert_eq!(count("from=2021-03-15T02:30:00Z&to=2021-03-15T02:30:00.000001Z".into()).await, 5);
    assert_eq!(count("to=2021-03-15T02:30:00Z".into()).await, 0);
    let res = app.get("/api/v1/feedback?channel=fax&colour=red").token(&o.coordinator).send().await;
    assert_eq!(res.status, 400);

    // If-Match on each.
    for path in [format!("/api/v1/feedback-categories/{}", made[0]), format!("/api/v1/feedback/{}", records[0])] {
        let etag = app.get(&path).token(&o.coordinator).send().await.header("etag").unwrap();
        let body = if path.contains("categories") { json!({"name": "Mới"}) } else { json!({"subject": "Mới"}) };
        let res = app.patch(&path).token(&o.coordinator).header("If-Match", &etag).json(body.clone()).send().await;
        assert_eq!(res.status, 200, "{}", res.text());
        app.patch(&path)
            .token(&o.coordinator)
            .header("If-Match", &etag)
            .json(body)
            .send()
            .await
            .problem(412, "version_mismatch");
    }
    assert_eq!(
        app.delete(&format!("/api/v1/feedback-categories/{}", made[1])).token(&o.coordinator).send().await.status,
        204
    );
    assert_eq!(app.delete("/api/v1/holidays/2021-05-01").token(&o.coordinator).send().await.status, 204);
    assert_eq!(app.delete(&format!("/api/v1/feedback/{}", records[4])).token(&o.coordinator).send().await.status, 204);
    app.get(&format!("/api/v1/feedback/{}", records[4])).token(&o.coordinator).send().await.problem(404, "not_found");

    // Change feeds with tombstones.
    for (path, changed, deleted) in [
        ("/api/v1/feedback-categories", &made[0], &made[1]),
        ("/api/v1/holidays", &made[2], &made[4]),
        ("/api/v1/feedback", &records[0], &records[4]),
    ] {
        let feed = app.get(&format!("{path}?updated_since={since}")).token(&o.coordinator).send().await.json();
        let items = feed["items"].as_array().unwrap();
        assert!(items.iter().any(|i| i["id"] == json!(changed) && i["deleted_at"].is_null()), "{path}: {feed}");
        assert!(items.iter().any(|i| i["id"] == json!(deleted) && i["deleted_at"].is_string()), "{path}: {feed}");
    }
}

/// One form for instants — answers, exports and reports alike — and `from`/`to` that
/// take a day as well as an instant.
#[actix_web::test]
async fn instants_have_one_form_and_ranges_take_days() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let o = org(&app, &admin, "KDPM").await;
    let form = regex::Regex::new(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$").unwrap();
    // 31 March 23:30 in Vietnam is 16:30 UTC: on the 31st for a person in Vietnam.
    let mut late = complaint(&o, "late-31");
    late["received_at"] = json!("2021-03-31T23:30:00+07:00");
    let late = file(&app, &o.coordinator, late).await;
    let mut early = complaint(&o, "early-1");
    early["received_at"] = json!("2021-04-01T00:30:00+07:00");
    let early = file(&app, &o.coordinator, early).await;
    assert_eq!(late["received_at"], "2021-03-31T16:30:00.000000Z");
    for field in ["received_at", "created_at", "updated_at"] {
        assert!(form.is_match(early[field].as_str().unwrap()), "{field}: {}", early[field]);
    }

    // A day means that day in Vietnam, whole; an instant means itself.
    let codes = |query: &'static str| {
        let (app, token) = (&app, o.coordinator.clone());
        async move {
            let res = app.get(&format!("/api/v1/feedback?{query}")).token(&token).send().await;
            assert_eq!(res.status, 200, "{query}: {}", res.text());
            let mut codes: Vec<String> = res.json()["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["code"].as_str().unwrap().to_owned())
                .collect();
            codes.sort();
            codes
        }
    };
    let (late_code, early_code) =
        (late["code"].as_str().unwrap().to_owned(), early["code"].as_str().unwrap().to_owned());
    assert_eq!(codes("from=2021-03-31&to=2021-03-31").await, [late_code.as_str()]);
    assert_eq!(codes("from=2021-04-01&to=2021-04-30").await, [early_code.as_str()]);
    assert_eq!(codes("from=2021-03-31T16:30:00Z&to=2021-03-31T17:00:00Z").await, [late_code.as_str()]);
    assert_eq!(codes("to=2021-03-31T16:30:00Z").await, Vec::<String>::new(), "to is excluded");
    for bad in ["from=31/03/2021", "from=2021-03-31T09:00", "to=2021-02-30"] {
        let res = app.get(&format!("/api/v1/feedback?{bad}")).token(&o.coordinator).send().await;
        let problem = res.problem(400, "validation_failed");
        assert!(problem["errors"][0].to_string().contains("YYYY-MM-DD"), "{bad}: {problem}");
    }
    let audit = app.get("/api/v1/audit-events?from=2020-01-01&to=2099-12-31&limit=1").token(&admin).send().await;
    assert_eq!(audit.status, 200, "{}", audit.text());
    assert!(form.is_match(audit.json()["items"][0]["occurred_at"].as_str().unwrap()), "{}", audit.text());

    // Exports, as CSV and NDJSON, write the same form.
    let csv = app.get("/api/v1/exports/feedback?bom=false").token(&o.coordinator).send().await;
    assert_eq!(csv.status, 200, "{}", csv.text());
    let mut reader = csv::Reader::from_reader(csv.body.as_slice());
    let header = reader.headers().unwrap().clone();
    let at = header.iter().position(|h| h == "received_at").unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert!(rows.iter().any(|r| &r[at] == "2021-03-31T16:30:00.000000Z"), "{rows:?}");
    for name in ["created_at", "updated_at"] {
        let column = header.iter().position(|h| h == name).unwrap();
        assert!(rows.iter().all(|r| form.is_match(&r[column])), "{name}");
    }
    let ndjson = app.get("/api/v1/exports/feedback?format=ndjson").token(&o.coordinator).send().await;
    for line in ndjson.text().lines() {
        let row: Value = serde_json::from_str(line).unwrap();
        for name in ["received_at", "created_at", "updated_at"] {
            assert!(form.is_match(row[name].as_str().unwrap()), "{name}: {line}");
        }
    }
    // And so does a report.
    let report = app.get("/api/v1/reports/feedback?period=2021").token(&o.coordinator).send().await.json();
    assert!(form.is_match(report["generated_at"].as_str().unwrap()), "{report}");
}
