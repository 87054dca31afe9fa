//! Citizens' personal data as Decree 13/2023 asks (issue 22): consent recorded and
//! honoured, retention, a person's access, restriction and erasure by the keyed hash of
//! their phone or e-mail, legal holds, the register, and a restore from a backup
//! followed by the erasure log's re-application.
use std::{path::PathBuf, time::Duration};

use cchc_outreach::domain::time::Clock;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::helpers::{TestApp, multipart, test_settings};

const PHOTO: &[u8] = include_bytes!("../fixtures/photo.jpg");
const PDF: &[u8] = include_bytes!("../fixtures/minutes.pdf");
const PHONE: &str = "0912 345 678";
const PHONE_DIGITS: &str = "0912345678";
const EMAIL: &str = "nguyen.van.an@example.vn";
const NAME: &str = "Nguyễn Văn An";

fn at(instant: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(instant).unwrap().with_timezone(&Utc)
}

struct Org {
    app: TestApp,
    clock: Clock,
    admin: String,
    org: uuid::Uuid,
    org_admin: String,
    coordinator: String,
    category_short: String,
    tchc: String,
}

async fn org() -> Org {
    let clock = Clock::fixed(at("2020-01-10T03:00:00Z"));
    let mut settings = test_settings();
    settings.clock = clock.clone();
    let app = TestApp::spawn_with(settings).await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let tchc = app.department(&admin, org, "TCHC").await;
    let (_, coordinator) = app.staff(&admin, org, &tchc, "tchc.dm", "coordinator").await;
    let (_, org_admin) = app.staff(&admin, org, &tchc, "tchc.qt", "org_admin").await;
    let res = app
        .post("/api/v1/feedback-categories")
        .token(&coordinator)
        .json(json!({"code": "NGAN", "name": "Lưu ngắn", "deadline_days": 10, "default_department_id": tchc,
            "retention_years": 1}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["retention_years"], 1);
    let category_short = res.json()["id"].as_str().unwrap().to_owned();
    Org { app, clock, admin, org, org_admin, coordinator, category_short, tchc }
}

/// Files a record from the person (or another), returns `(id, code, pin)`.
async fn file(o: &Org, channel: &str, phone: &str, category: Option<&str>, extra: Value) -> (String, String, String) {
    let mut body = json!({"channel": channel, "kind": "complaint", "sender_type": "citizen",
        "sender_name": NAME, "sender_phone": phone, "subject": format!("Phản ánh qua {channel}"),
        "content": "Hồ sơ chậm giải quyết."});
    match category {
        Some(c) => body["category_id"] = json!(c),
        None => body["department_id"] = json!(o.tchc),
    }
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let res = o.app.post("/api/v1/feedback").token(&o.coordinator).json(body).send().await;
    assert_eq!(res.status, 201, "{}", res.text());
    let b = res.json();
    (
        b["id"].as_str().unwrap().to_owned(),
        b["code"].as_str().unwrap().to_owned(),
        b["tracking_pin"].as_str().unwrap().to_owned(),
    )
}

async fn answer(o: &Org, id: &str) {
    let res = o
        .app
        .post(&format!("/api/v1/feedback/{id}/transitions"))
        .token(&o.coordinator)
        .json(json!({"to": "accepted"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = o
        .app
        .post(&format!("/api/v1/feedback/{id}/answers"))
        .token(&o.coordinator)
        .json(json!({"text": "Đã giải quyết."}))
        .send()
        .await;
    assert!(res.status == 201 || res.status == 200, "{}", res.text());
}

/// A data subject's request, as the data-protection officer sends it.
async fn subject(o: &Org, action: &str, token: &str, body: Value) -> crate::helpers::TestResponse {
    o.app.post(&format!("/api/v1/data-protection/subjects/{action}")).token(token).json(body).send().await
}

fn messages(o: &Org, id: &str) -> i64 {
    o.app.sql_count(&format!("SELECT count(*) AS n FROM outbound_messages WHERE feedback_id = '{id}'"))
}

#[actix_web::test]
async fn consent_is_recorded_with_the_sender_and_a_withdrawal_stops_every_message() {
    let o = org().await;
    let (id, code, pin) = file(
        &o,
        "email",
        PHONE,
        None,
        json!({"sender_email": EMAIL, "notify_by": ["email", "sms"],
        "consent": {"notice_version": "TB-CCHC-02", "publish": true}}),
    )
    .await;
    let consent = o.app.get(&format!("/api/v1/feedback/{id}/consent")).token(&o.coordinator).send().await.json();
    let c = &consent["consent"];
    assert_eq!(c["notice_version"], "TB-CCHC-02");
    assert_eq!(
        (c["handling"].clone(), c["notify"].clone(), c["publish"].clone()),
        (json!(true), json!(true), json!(true))
    );
    assert_eq!(c["channel"], "email");
    assert_eq!(c["given_at"].as_str().map(at), Some(at("2020-01-10T03:00:00Z")));
    assert!(c["notify_withdrawn_at"].is_null());
    // Without a version named, the organisation's notice is recorded.
    let (other, ..) = file(&o, "hotline", "0987 654 321", None, json!({"notify_by": ["sms"]})).await;
    let consent = o.app.get(&format!("/api/v1/feedback/{other}/consent")).token(&o.coordinator).send().await.json();
    assert_eq!(consent["consent"]["notice_version"], "NĐ13-2023/1");
    assert_eq!(consent["consent"]["publish"], false);
    assert!(consent["consent"]["client_id"].is_null(), "filed by staff");
    // Filed by a portal (a service client): the client is recorded with the consent.
    let (client, portal) = o.app.service_client(&o.admin, o.org, &["feedback:write", "feedback:read"]).await;
    let res = o
        .app
        .post("/api/v1/feedback")
        .token(&portal)
        .json(json!({"channel": "portal", "kind": "question", "sender_type": "citizen", "sender_name": NAME,
            "sender_email": EMAIL, "subject": "Hỏi qua cổng", "content": "Nội dung", "department_id": o.tchc}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let by_portal = res.json()["id"].as_str().unwrap().to_owned();
    let consent = o.app.get(&format!("/api/v1/feedback/{by_portal}/consent")).token(&o.coordinator).send().await.json();
    assert_eq!(consent["consent"]["client_id"], client.as_str(), "{consent}");
    assert_eq!(consent["consent"]["channel"], "portal");

    // Told of the receipt by both channels, then of an extension.
    let receipts = messages(&o, &id);
    assert_eq!(receipts, 2);
    let res = o
        .app
        .post(&format!("/api/v1/feedback/{id}/transitions"))
        .token(&o.coordinator)
        .json(json!({"to": "accepted"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let extend = |o: &Org| {
        o.app
            .post(&format!("/api/v1/feedback/{id}/extensions"))
            .token(&o.coordinator)
            .json(json!({"working_days": 2, "reason": "Cần xác minh thêm"}))
            .send()
    };
    let res = extend(&o).await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(messages(&o, &id), receipts + 2);
    // The sender withdraws with the PIN: recorded, and nothing goes out any more.
    let res = o
        .app
        .put(&format!("/api/v1/public/feedback/{code}/notify-by"))
        .json(json!({"pin": pin, "notify_by": []}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let consent = o.app.get(&format!("/api/v1/feedback/{id}/consent")).token(&o.coordinator).send().await.json();
    assert!(consent["consent"]["notify_withdrawn_at"].is_string(), "{consent}");
    let before = messages(&o, &id);
    let res = o
        .app
        .post(&format!("/api/v1/feedback/{id}/answers"))
        .token(&o.coordinator)
        .json(json!({"text": "Đã giải quyết."}))
        .send()
        .await;
    assert!(res.status == 201 || res.status == 200, "{}", res.text());
    assert_eq!(messages(&o, &id), before, "no message after the withdrawal");
    // The same answer to a sender who did not withdraw is told (the check above is not
    // a step that sends nothing anyway).
    let told = messages(&o, &other);
    answer(&o, &other).await;
    assert_eq!(messages(&o, &other), told + 1, "the answer, by SMS");
    // Publication follows the consent: the second sender did not give it.
    let publish = |o: &Org, id: &str| {
        o.app
            .post(&format!("/api/v1/feedback/{id}/publish"))
            .token(&o.coordinator)
            .json(json!({"summary": "Đã giải quyết."}))
            .send()
    };
    publish(&o, &other).await.problem(409, "publication_not_consented");
    let published = |o: &Org, id: &str| {
        o.app.sql_count(&format!("SELECT count(*) AS n FROM feedback_publications WHERE feedback_id = '{id}'"))
    };
    assert_eq!(published(&o, &other), 0);
    let res = publish(&o, &id).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["published"], true, "{}", res.text());
    // Withdrawn, the result is public no longer and is not published again.
    let res = o
        .app
        .post(&format!("/api/v1/feedback/{id}/consent/withdraw"))
        .token(&o.coordinator)
        .json(json!({"publish": true}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(published(&o, &id), 0, "the publication is withdrawn with the consent");
    let record = o.app.get(&format!("/api/v1/feedback/{id}")).token(&o.coordinator).send().await.json();
    assert_eq!(record["published"], false, "{record}");
    publish(&o, &id).await.problem(409, "publication_not_consented");
    // Staff record a withdrawal of consent to publication as the sender told them.
    let res = o
        .app
        .post(&format!("/api/v1/feedback/{other}/consent/withdraw"))
        .token(&o.coordinator)
        .json(json!({"notify": true, "publish": true}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.json()["consent"]["publish_withdrawn_at"].is_string());
    assert_eq!(
        o.app.sql_count(&format!(
            "SELECT count(*) AS n FROM feedback_senders WHERE feedback_id = '{other}' AND cardinality(notify_by) = 0"
        )),
        1
    );
}

#[actix_web::test]
async fn retention_anonymises_what_is_past_it_keeps_the_rest_and_the_figures() {
    let o = org().await;
    let (short, ..) = file(&o, "hotline", PHONE, Some(&o.category_short), json!({})).await;
    let (long, ..) = file(&o, "email", "0987 654 321", None, json!({})).await;
    let (held, ..) = file(&o, "letter", "0977 111 222", Some(&o.category_short), json!({})).await;
    let (open, ..) = file(&o, "hotline", "0966 333 444", Some(&o.category_short), json!({})).await;
    // A photo the sender sent with the first.
    let (ct, body) = multipart(&[("file", Some("ảnh.jpg"), PHOTO)]);
    let res =
        o.app.post(&format!("/api/v1/feedback/{short}/attachments")).token(&o.coordinator).raw(&ct, body).send().await;
    assert_eq!(res.status, 201, "{}", res.text());
    o.clock.set(at("2020-01-15T03:00:00Z"));
    for id in [&short, &long, &held] {
        answer(&o, id).await;
    }
    let res = o
        .app
        .put(&format!("/api/v1/feedback/{held}/legal-hold"))
        .token(&o.coordinator)
        .json(json!({"reason": "Khiếu nại đang được thanh tra xác minh"}))
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    let figures =
        |o: &Org| o.app.get("/api/v1/reports/feedback?period=2020&group_by=channel").token(&o.coordinator).send();

    // A year and a bit later: the one-year category's answered record is due, the held
    // one is kept, the five-year one and the open one are not due.
    o.clock.set(at("2021-02-01T03:00:00Z"));
    let before = figures(&o).await.json();
    let dry = o.app.get("/api/v1/data-protection/retention").token(&o.org_admin).send().await;
    assert_eq!(dry.status, 200, "{}", dry.text());
    let dry = dry.json();
    let ids = |list: &Value| -> Vec<String> {
        list.as_array().unwrap().iter().map(|d| d["feedback_id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(ids(&dry["due"]), vec![short.clone()]);
    assert_eq!(ids(&dry["held"]), vec![held.clone()]);
    assert_eq!(dry["due"][0]["erase_on"], "2021-01-15");
    assert_eq!(dry["due"][0]["retention_years"], 1);
    // Nothing changed by the dry run.
    assert_eq!(o.app.sql_count("SELECT count(*) AS n FROM erasures"), 0);

    // The daily run (the job on the shared queue calls this).
    assert_eq!(o.app.sql_count("SELECT count(*) AS n FROM jobs WHERE kind = 'recurring.retention'"), 1);
    let pool = cchc_outreach::db::pool(&o.app.database_url, 2, Duration::from_secs(5));
    let run = cchc_outreach::db::privacy::run_retention(&pool, o.clock.today()).await.unwrap();
    let (erased, files) = (run.records, run.files);
    assert_eq!(erased, 1);
    assert_eq!(files.len(), 1, "the photo's file");
    let sender = |id: &str| {
        o.app.sql_count(&format!(
            "SELECT count(*) AS n FROM feedback_senders WHERE feedback_id = '{id}' AND name IS NULL AND phone IS NULL
             AND email IS NULL AND address IS NULL AND erased_at IS NOT NULL"
        ))
    };
    assert_eq!(sender(&short), 1, "erased");
    for kept in [&long, &held, &open] {
        assert_eq!(sender(kept), 0, "{kept} kept");
    }
    let record = o.app.get(&format!("/api/v1/feedback/{short}")).token(&o.coordinator).send().await.json();
    assert_eq!(record["status"], "answered", "the record stays");
    assert!(record["sender"]["name"].is_null() && record["sender"]["phone"].is_null(), "{record}");
    let live = o.app.get(&format!("/api/v1/feedback/{short}/attachments")).token(&o.coordinator).send().await.json();
    assert_eq!(live["items"], json!([]));
    // The figures are those of before.
    let after = figures(&o).await.json();
    assert_eq!(after["total"], before["total"]);
    assert_eq!(after["groups"], before["groups"]);
    // A second run finds nothing more.
    let again = cchc_outreach::db::privacy::run_retention(&pool, o.clock.today()).await.unwrap();
    assert_eq!(again.records, 0);
}

#[actix_web::test]
async fn evidence_that_shows_a_person_is_erased_when_the_retention_runs_out() {
    let o = org().await;
    let res = o
        .app
        .patch(&format!("/api/v1/organizations/{}", o.org))
        .token(&o.admin)
        .json(json!({"retention_years": 1}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let plan = o
        .app
        .post("/api/v1/plans")
        .token(&o.admin)
        .json(json!({"code": "KH-2020", "year": 2020, "title": "Kế hoạch tuyên truyền", "organization_id": o.org}))
        .send()
        .await
        .id();
    let item = o
        .app
        .post(&format!("/api/v1/plans/{plan}/items"))
        .token(&o.admin)
        .json(json!({"reference": "II.1", "kind": "content", "title": "Quán triệt kế hoạch"}))
        .send()
        .await
        .id();
    let res = o
        .app
        .post("/api/v1/activities")
        .token(&o.coordinator)
        .json(json!({"title": "Hội nghị quán triệt kế hoạch CCHC", "plan_item_ids": [item], "department_id": o.tchc,
            "channel": "meeting", "audience": "staff", "held_from": "2020-01-08T08:00:00+07:00"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let activity = res.json()["id"].as_str().unwrap().to_owned();
    let upload = |parts: &[(&str, Option<&str>, &[u8])]| {
        let (ct, body) = multipart(parts);
        o.app.post(&format!("/api/v1/activities/{activity}/evidence")).token(&o.coordinator).raw(&ct, body).send()
    };
    // Neither yes nor no is refused, and nothing is kept.
    let res = upload(&[("file", Some("Ảnh hội nghị.jpg"), PHOTO), ("shows_person", None, b"yes")]).await;
    res.problem(400, "validation_failed");
    assert_eq!(res.field_errors(), [("shows_person".to_owned(), "invalid_value".to_owned())]);
    assert_eq!(stored_files(&o.app.settings.data_dir.join("evidence")), 0, "nothing refused was kept");
    assert_eq!(o.app.sql_count("SELECT count(*) AS n FROM evidence"), 0);
    // The photo of the people there, marked (the n-th mark goes with the n-th file); the
    // minutes, not.
    let res = upload(&[
        ("file", Some("Ảnh hội nghị.jpg"), PHOTO),
        ("file", Some("Biên bản.pdf"), PDF),
        ("shows_person", None, b"true"),
        ("shows_person", None, b"false"),
    ])
    .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let items = res.json()["items"].clone();
    assert_eq!((items[0]["shows_person"].clone(), items[1]["shows_person"].clone()), (json!(true), json!(false)));
    let (photo, minutes) = (items[0]["id"].as_str().unwrap().to_owned(), items[1]["id"].as_str().unwrap().to_owned());
    let store = o.app.settings.data_dir.join("evidence");
    assert_eq!(stored_files(&store), 2);
    let dry = |o: &Org| o.app.get("/api/v1/data-protection/retention").token(&o.org_admin).send();

    // The day before a year has passed since the meeting: not due.
    o.clock.set(at("2021-01-07T03:00:00Z"));
    assert_eq!(dry(&o).await.json()["evidence"], json!([]));
    o.clock.set(at("2021-01-08T03:00:00Z"));
    let due = dry(&o).await.json()["evidence"].clone();
    assert_eq!(due.as_array().unwrap().len(), 1, "{due}");
    assert_eq!(
        (due[0]["evidence_id"].as_str(), due[0]["held_on"].as_str(), due[0]["erase_on"].as_str()),
        (Some(photo.as_str()), Some("2020-01-08"), Some("2021-01-08"))
    );
    assert_eq!(stored_files(&store), 2, "the dry run changes nothing");

    let pool = cchc_outreach::db::pool(&o.app.database_url, 2, Duration::from_secs(5));
    let run = cchc_outreach::db::privacy::run_retention(&pool, o.clock.today()).await.unwrap();
    assert_eq!((run.records, run.evidence, run.files.len()), (0, 1, 1));
    let evidence_store = cchc_outreach::storage::EvidenceStore::open(None, &o.app.settings.data_dir).unwrap();
    cchc_outreach::db::privacy::remove_files(&pool, &evidence_store, run.files).await;
    assert_eq!(stored_files(&store), 1, "the photo's file is gone, the minutes' kept");
    o.app
        .get(&format!("/api/v1/evidence/{photo}/content"))
        .token(&o.coordinator)
        .send()
        .await
        .problem(410, "evidence_erased");
    let res = o.app.get(&format!("/api/v1/evidence/{minutes}/content")).token(&o.coordinator).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let erased = o.app.get(&format!("/api/v1/evidence/{photo}")).token(&o.coordinator).send().await.json();
    assert!(erased["erased_at"].is_string(), "{erased}");
    assert_eq!(erased["file_name"], "đã xóa", "the name may name a person");
    // Still the activity's evidence: counted as before.
    let list = o.app.get(&format!("/api/v1/activities/{activity}/evidence")).token(&o.coordinator).send().await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    let audited = format!(
        "SELECT count(*) AS n FROM audit_events WHERE entity_type = 'evidence' AND entity_id = '{photo}' AND action = 'erase'"
    );
    assert_eq!(o.app.sql_count(&audited), 1);
    assert_eq!(dry(&o).await.json()["evidence"], json!([]));
    let again = cchc_outreach::db::privacy::run_retention(&pool, o.clock.today()).await.unwrap();
    assert_eq!(again.evidence, 0, "once is enough");
}

#[actix_web::test]
async fn a_person_gets_what_is_held_restricts_and_erases_it_but_for_a_held_record() {
    let o = org().await;
    let (by_phone, code_phone, _) =
        file(&o, "hotline", PHONE, None, json!({"sender_address": "12 Trần Phú, Nha Trang"})).await;
    // The same person by e-mail, the phone written otherwise.
    let (by_email, code_email, _) = file(&o, "email", "+84 912 345 678", None, json!({"sender_email": EMAIL})).await;
    let (someone_else, ..) = file(&o, "hotline", "0987 654 321", None, json!({})).await;
    let (ct, body) = multipart(&[("file", Some("CCCD Nguyen Van An.jpg"), PHOTO)]);
    let res = o
        .app
        .post(&format!("/api/v1/feedback/{by_email}/attachments"))
        .token(&o.coordinator)
        .raw(&ct, body)
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let request = |extra: Value| {
        let mut body =
            json!({"legal_basis": "Điều 14, 15, 16 Nghị định 13/2023/NĐ-CP", "request_reference": "YC-2021-007"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };

    // Only the data-protection roles act on requests.
    let res = subject(&o, "export", &o.coordinator, request(json!({"phone": PHONE}))).await;
    assert_eq!(res.status, 403);
    // Access: both records, whichever way the phone is written, never the other person's.
    let res = subject(&o, "export", &o.org_admin, request(json!({"phone": PHONE_DIGITS}))).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let data = res.json();
    let codes: Vec<&str> = data["records"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert_eq!(codes, vec![code_phone.as_str(), code_email.as_str()]);
    let first = &data["records"][0];
    assert_eq!(
        (first["name"].as_str(), first["phone"].as_str(), first["address"].as_str()),
        (Some(NAME), Some(PHONE), Some("12 Trần Phú, Nha Trang"))
    );
    assert_eq!(first["channel"], "hotline");
    assert_eq!(data["records"][1]["email"], EMAIL);
    assert_eq!(data["records"][1]["channel"], "email");
    assert_eq!(data["records"][1]["attachments"], json!(["CCCD Nguyen Van An.jpg"]));
    assert_eq!(data["consents"].as_array().unwrap().len(), 2);
    // By e-mail: the e-mail's record; as plain text to hand over.
    let text = subject(&o, "export?format=text", &o.org_admin, request(json!({"email": EMAIL.to_uppercase()}))).await;
    assert_eq!(text.status, 200);
    assert!(text.header("content-type").unwrap().starts_with("text/plain"));
    assert!(
        text.text().contains(&code_email) && text.text().contains(NAME) && !text.text().contains(&code_phone),
        "{}",
        text.text()
    );
    assert_eq!(
        o.app.sql_count(
            "SELECT count(*) AS n FROM data_requests WHERE action = 'access' AND request_reference = 'YC-2021-007'"
        ),
        2
    );

    // Restriction: masked even to the coordinator, told nothing.
    let res = subject(&o, "restrict", &o.org_admin, request(json!({"phone": PHONE}))).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let record = o.app.get(&format!("/api/v1/feedback/{by_phone}")).token(&o.coordinator).send().await.json();
    assert_eq!(record["sender_unmasked"], false, "{record}");
    assert_ne!(record["sender"]["phone"], PHONE);

    // A legal hold on the e-mail's record; then erasure.
    let res = o
        .app
        .put(&format!("/api/v1/feedback/{by_email}/legal-hold"))
        .token(&o.coordinator)
        .json(json!({"reason": "Đang giải quyết khiếu nại lần hai"}))
        .send()
        .await;
    assert_eq!(res.status, 204);
    let res = subject(&o, "erase", &o.org_admin, request(json!({"phone": PHONE}))).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let outcome = res.json();
    assert_eq!(outcome["done"], json!([code_phone]));
    assert_eq!(outcome["held"], json!([{"code": code_email, "reason": "Đang giải quyết khiếu nại lần hai"}]));
    // Gone from the record, the sender table, the keys (no search finds it) ...
    let gone = |id: &str| {
        o.app.sql_count(&format!(
            "SELECT count(*) AS n FROM feedback_senders WHERE feedback_id = '{id}' AND name IS NULL AND phone IS NULL AND address IS NULL AND erased_at IS NOT NULL"
        ))
    };
    assert_eq!(gone(&by_phone), 1);
    assert_eq!(gone(&by_email), 0, "held");
    assert_eq!(
        o.app.sql_count(&format!("SELECT count(*) AS n FROM feedback_sender_keys WHERE feedback_id = '{by_phone}'")),
        0
    );
    let again = subject(&o, "export", &o.org_admin, request(json!({"phone": PHONE}))).await.json();
    let codes: Vec<&str> = again["records"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert_eq!(codes, vec![code_email.as_str()], "only the held record is still found");
    let record = o.app.get(&format!("/api/v1/feedback/{by_phone}")).token(&o.coordinator).send().await.json();
    assert!(record["sender"]["name"].is_null() && record["sender"]["phone"].is_null(), "{record}");
    // ... the held record keeps its attachment; the lifted hold lets it go with the next erasure.
    let res = o.app.delete(&format!("/api/v1/feedback/{by_email}/legal-hold")).token(&o.coordinator).send().await;
    assert_eq!(res.status, 204);
    let res = subject(&o, "erase", &o.org_admin, request(json!({"email": EMAIL}))).await;
    assert_eq!(res.json()["done"], json!([code_email]));
    assert_eq!(
        o.app.sql_count(&format!(
            "SELECT count(*) AS n FROM feedback_attachments WHERE feedback_id = '{by_email}' AND deleted_at IS NULL"
        )),
        0
    );
    assert_eq!(
        o.app.sql_count(&format!(
            "SELECT count(*) AS n FROM feedback_senders WHERE feedback_id = '{someone_else}' AND phone IS NOT NULL"
        )),
        1,
        "another person untouched"
    );
    // The audit trail shows the erasures, masked; it never held the phone in full.
    assert!(o.app.sql_count("SELECT count(*) AS n FROM audit_events WHERE action = 'erase'") >= 2);
    assert_eq!(o.app.sql_count(&format!("SELECT count(*) AS n FROM audit_events WHERE changes::text LIKE '%{PHONE}%' OR changes::text LIKE '%{EMAIL}%'")), 0);
    assert_eq!(
        o.app.sql_count(&format!(
            "SELECT count(*) AS n FROM events WHERE data::text LIKE '%{PHONE}%' OR data::text LIKE '%{NAME}%'"
        )),
        0
    );
    assert_eq!(
        o.app.sql_count(
            "SELECT count(*) AS n FROM data_requests WHERE action = 'erase' AND legal_basis LIKE 'Điều 14%'"
        ),
        2
    );
    // Another organisation's administrator finds nothing of it.
    let other = o.app.organization(&o.admin, "SXD").await;
    let dept = o.app.department(&o.admin, other, "TCHC").await;
    let (_, outsider) = o.app.staff(&o.admin, other, &dept, "sxd.qt", "org_admin").await;
    let res = subject(&o, "export", &outsider, request(json!({"phone": "0987 654 321"}))).await.json();
    assert_eq!(res["records"], json!([]));
    assert_eq!(
        o.app
            .put(&format!("/api/v1/feedback/{someone_else}/legal-hold"))
            .token(&outsider)
            .json(json!({"reason": "x"}))
            .send()
            .await
            .status,
        404
    );
    let _ = o.org;
}

#[actix_web::test]
async fn the_register_says_what_the_access_table_enforces() {
    let o = org().await;
    let res = o.app.get("/api/v1/data-protection/register").token(&o.coordinator).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let register = res.json();
    // Who the access table grants a permission: its roles and clients' scopes.
    let holders = |permission| -> Vec<String> {
        let granted = cchc_outreach::auth::permissions::grant(permission);
        granted
            .roles
            .iter()
            .map(|r| r.as_str().to_owned())
            .chain(granted.scopes.iter().map(|s| format!("scope:{}", s.as_str())))
            .collect()
    };
    let masked = holders(cchc_outreach::auth::Permission::FeedbackRead);
    let entries = register["entries"].as_array().unwrap();
    let (feedback, evidence): (Vec<&Value>, Vec<&Value>) =
        entries.iter().partition(|e| e["data"].as_str().unwrap().starts_with("feedback"));
    assert!(feedback.len() >= 4);
    // Evidence that shows a person: whole to whoever reads activities, masked to no one.
    let whole = holders(cchc_outreach::auth::Permission::ActivitiesRead);
    assert_eq!(evidence.len(), 1, "{register}");
    assert_eq!(evidence[0]["unmasked_for"], json!(whole));
    assert_eq!(evidence[0]["masked_for"], json!([]));
    assert!(evidence[0]["retention"].as_str().unwrap().contains("retention_years"));
    for entry in &feedback {
        assert_eq!(entry["masked_for"], json!(masked), "{entry}");
        let unmasked: Vec<&str> =
            entry["unmasked_for"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert!(unmasked.contains(&"coordinator") && unmasked.contains(&"leader"), "{entry}");
        assert!(entry["retention"].as_str().unwrap().contains("retention_years"));
    }
    // And as enforced: a role the register names sees the sender, one it names only
    // among the masked does not (the organisation's administrator here, of TCHC, on a
    // record of another department: of the assigned department, they would see it).
    let unmasked = &feedback[0]["unmasked_for"];
    assert!(!unmasked.as_array().unwrap().contains(&json!("org_admin")) && masked.contains(&"org_admin".to_owned()));
    let other = o.app.department(&o.admin, o.org, "KHTC").await;
    let (id, ..) = file(&o, "hotline", PHONE, None, json!({"department_id": other})).await;
    for (token, role, sees) in [(&o.coordinator, "coordinator", true), (&o.org_admin, "org_admin", false)] {
        assert_eq!(unmasked.as_array().unwrap().contains(&json!(role)), sees);
        let record = o.app.get(&format!("/api/v1/feedback/{id}")).token(token).send().await.json();
        assert_eq!(record["sender_unmasked"], sees, "{role}: {record}");
        assert_eq!(record["sender"]["name"] == NAME, sees, "{role}: {record}");
    }
    let dp = cchc_outreach::auth::permissions::grant(cchc_outreach::auth::Permission::DataProtection);
    let roles: Vec<String> = dp.roles.iter().map(|r| r.as_str().to_owned()).collect();
    assert_eq!(register["data_protection_roles"], json!(roles));
    for never in ["events", "webhooks", "exports"] {
        assert!(register["never_in"].as_array().unwrap().contains(&json!(never)));
    }
}

/// The PostgreSQL client programs of the newest server installed.
fn pg_bin(program: &str) -> Option<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin): &(u32, PathBuf)| bin.join(program).exists())
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, bin)| bin.join(program))
}

#[actix_web::test]
async fn a_restore_from_a_backup_followed_by_the_erasure_log_leaves_no_erased_person_behind() {
    let (Some(pg_dump), Some(pg_restore)) = (pg_bin("pg_dump"), pg_bin("pg_restore")) else {
        eprintln!("SKIPPED: no pg_dump/pg_restore under /usr/lib/postgresql (install the Debian package postgresql)");
        return;
    };
    let o = org().await;
    let (id, code, _) = file(&o, "hotline", PHONE, None, json!({"sender_email": EMAIL})).await;
    // The photo the person sent with it, in the file store.
    let (ct, body) = multipart(&[("file", Some("ảnh.jpg"), PHOTO)]);
    let res =
        o.app.post(&format!("/api/v1/feedback/{id}/attachments")).token(&o.coordinator).raw(&ct, body).send().await;
    assert_eq!(res.status, 201, "{}", res.text());
    let store = o.app.settings.data_dir.join("evidence");
    assert_eq!(stored_files(&store), 1);
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("before.dump");
    // The backup, taken while the person's data is held: the database with pg_dump, the
    // file store as a copy of its directory (docs/operations.md).
    let out =
        std::process::Command::new(&pg_dump).args(["-Fc", "-f"]).arg(&dump).arg(&o.app.database_url).output().unwrap();
    assert!(out.status.success(), "pg_dump: {}", String::from_utf8_lossy(&out.stderr));
    let store_backup = dir.path().join("evidence");
    copy_tree(&store, &store_backup);
    let request =
        json!({"phone": PHONE, "legal_basis": "Điều 16 Nghị định 13/2023/NĐ-CP", "request_reference": "YC-9"});
    let res = subject(&o, "erase", &o.org_admin, request).await;
    assert_eq!(res.json()["done"], json!([code]));
    // The erasure log, kept outside the database's backups.
    let log = o.app.get("/api/v1/data-protection/erasures").token(&o.org_admin).send().await.json();
    assert_eq!(log["items"].as_array().unwrap().len(), 1);
    assert_eq!(log["items"][0]["feedback_id"], id.as_str());
    assert!(!log.to_string().contains(PHONE_DIGITS) && !log.to_string().contains(NAME), "no personal data in the log");
    assert_eq!(stored_files(&store), 0, "the photo left the store with the erasure");

    // The database is restored from the backup: the person is back.
    // Off the test's own thread, which the service shares.
    let (url, file) = (o.app.database_url.clone(), dump.clone());
    let out = actix_web::web::block(move || {
        std::process::Command::new(&pg_restore)
            .args(["--clean", "--if-exists", "--no-owner", "-d"])
            .arg(&url)
            .arg(&file)
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    assert!(out.status.success(), "pg_restore: {}", String::from_utf8_lossy(&out.stderr));
    let back = format!("SELECT count(*) AS n FROM feedback_senders WHERE feedback_id = '{id}' AND phone IS NOT NULL");
    assert_eq!(o.app.sql_count(&back), 1, "the restored backup brought the person back");
    assert_eq!(o.app.sql_count("SELECT count(*) AS n FROM erasures"), 0, "and lost the log");
    // So is the file store, from its copy: the photo is back.
    copy_tree(&store_backup, &store);
    assert_eq!(stored_files(&store), 1, "the restored store brought the photo back");
    // The log is applied again: no erased person is left.
    let ids: Vec<Value> = log["items"].as_array().unwrap().iter().map(|e| e["feedback_id"].clone()).collect();
    // The restore can take longer than the client's kept-alive connection lives: a
    // request that finds it closed is sent again on a new one.
    let reapply = || {
        o.app.post("/api/v1/data-protection/erasures/reapply").token(&o.org_admin).json(json!({"feedback_ids": ids}))
    };
    let res = match reapply().try_send().await {
        Some(res) => res,
        None => reapply().send().await,
    };
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["erased_again"], 1);
    assert_eq!(o.app.sql_count(&back), 0);
    assert_eq!(
        o.app.sql_count(&format!("SELECT count(*) AS n FROM feedback_sender_keys WHERE feedback_id = '{id}'")),
        0
    );
    assert_eq!(stored_files(&store), 0, "the restored photo is removed again");
    let res = o
        .app
        .post("/api/v1/data-protection/erasures/reapply")
        .token(&o.org_admin)
        .json(json!({"feedback_ids": ids}))
        .send()
        .await;
    assert_eq!(res.json()["erased_again"], 0, "once is enough");
}

/// The regular files under `dir`, at any depth (none when it does not exist).
fn stored_files(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .map(|e| e.unwrap().path())
        .map(|p| if p.is_dir() { stored_files(&p) } else { usize::from(p.is_file()) })
        .sum()
}

/// Copies the tree at `from` into `to` (created as needed), as a file-level backup or
/// restore of the store would.
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}
