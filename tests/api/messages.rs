//! Word to citizens: the sender who consented is told of receipt, extension, answer,
//! publication and reopening by e-mail (a real SMTP listener) and SMS (a local HTTP
//! receiver as the gateway), once each; templates per organisation; opt-out honoured;
//! a `kill -9` while messages are queued loses none; staff digests in their language.
use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use base64::Engine;
use cchc_outreach::clock::Clock;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::{
    deadlines::smtp_listener,
    helpers::{TestApp, capture_logs, captured_logs, test_settings},
    webhooks::{Received, Receiver},
};

const EMAIL: &str = "thu.tran.pakn@gmail.com";
const PHONE: &str = "0912 777 888";
const TOKEN: &str = "sms-gateway-token-for-tests";

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

/// An e-mail as the listener kept it, its body decoded (quoted-printable or base64).
fn decoded(mail: &str) -> String {
    let (head, body) = mail.split_once("\r\n\r\n").unwrap_or((mail, ""));
    let head = head.to_ascii_lowercase();
    if head.contains("content-transfer-encoding: base64") {
        let text: String = body.split_whitespace().collect();
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(text).unwrap()).unwrap()
    } else if head.contains("content-transfer-encoding: quoted-printable") {
        let joined = body.replace("=\r\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'=' && i + 2 < bytes.len() {
                out.push(u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap(), 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    } else {
        body.to_owned()
    }
}

fn to_of(mail: &str) -> String {
    mail.lines().find(|l| l.starts_with("To: ")).unwrap_or_default().to_owned()
}

fn dmy(day: &Value) -> String {
    NaiveDate::parse_from_str(day.as_str().unwrap(), "%Y-%m-%d").unwrap().format("%d/%m/%Y").to_string()
}

struct Told {
    mails: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    gateway: Receiver,
}

impl Told {
    /// The e-mails and SMS so far, once there are at least `mails` and `sms` (or after 20 s).
    async fn at_least(&self, mails: usize, sms: usize) -> (Vec<String>, Vec<Received>) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (m, s) = (self.mails.lock().unwrap().clone(), self.gateway.received());
            if (m.len() >= mails && s.len() >= sms) || Instant::now() > deadline {
                return (m, s);
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn app_with_relays() -> (TestApp, Told) {
    let (port, mails) = smtp_listener();
    let gateway = Receiver::start(&[], Duration::ZERO).await;
    let mut settings = test_settings();
    settings.clock = Clock::fixed(at("2021-03-01T09:00:00+07:00"));
    settings.jobs.poll = Duration::from_millis(50);
    settings.smtp_url = Some(cchc_outreach::config::Secret::new(format!("smtp://127.0.0.1:{port}")));
    settings.mail_from = "Ban QLDA <cchc@kdpm.khanhhoa.gov.vn>".to_owned();
    settings.sms_gateway_url = Some(gateway.url.clone());
    settings.sms_gateway_token = Some(cchc_outreach::config::Secret::new(TOKEN));
    settings.public_url = "https://cchc.khanhhoa.gov.vn".to_owned();
    (TestApp::spawn_with(settings).await, Told { mails, gateway })
}

#[actix_web::test]
async fn a_sender_who_consented_is_told_at_each_step_once_by_email_and_sms() {
    capture_logs();
    let (app, told) = app_with_relays().await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let dept = app.department(&admin, org, "QLDA1").await;
    let (_, coordinator) = app.staff(&admin, org, &dept, "qlda.coord", "coordinator").await;
    let (_, member) = app.staff(&admin, org, &dept, "qlda.member", "member").await;

    // Consent needs the contact it names.
    let base = json!({"channel": "hotline", "kind": "complaint", "sender_type": "citizen", "sender_name": "Trần Thị Thu",
        "consent": {"publish": true},
        "subject": "Chậm cấp phép xây dựng", "content": "Hồ sơ nộp tháng 1 chưa có kết quả.", "department_id": dept});
    let mut without = base.clone();
    without["notify_by"] = json!(["email", "sms"]);
    without["sender_phone"] = json!(PHONE);
    let res = app.post("/api/v1/feedback").token(&coordinator).json(without).send().await;
    res.problem(422, "rule_violated");
    assert_eq!(res.field_errors(), [("notify_by".to_owned(), "notify_by_without_contact".to_owned())]);
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM feedback"), 0, "nothing refused was kept");

    let mut body = base.clone();
    body["notify_by"] = json!(["sms", "email", "sms"]);
    body["sender_phone"] = json!(PHONE);
    body["sender_email"] = json!(EMAIL);
    let filed = app.post("/api/v1/feedback").token(&coordinator).json(body).send().await;
    assert_eq!(filed.status, 201, "{}", filed.text());
    let record = filed.json();
    let (id, code, pin) = (
        record["id"].as_str().unwrap().to_owned(),
        record["code"].as_str().unwrap().to_owned(),
        record["tracking_pin"].as_str().unwrap().to_owned(),
    );
    assert_eq!(record["sender"]["notify_by"], json!(["email", "sms"]));
    let deadline = dmy(&record["deadline_on"]);

    // The receipt: code, legal deadline, how to track, the PIN — once per channel.
    let (mails, sms) = told.at_least(1, 1).await;
    assert_eq!((mails.len(), sms.len()), (1, 1), "one receipt per channel");
    let mail = decoded(&mails[0]);
    assert!(to_of(&mails[0]).contains(EMAIL), "{}", mails[0]);
    for part in [code.as_str(), deadline.as_str(), pin.as_str(), "Kính gửi Ông/Bà", "Tổ chức KDPM"] {
        assert!(mail.contains(part), "the receipt says {part}: {mail}");
    }
    let tracking = format!("https://cchc.khanhhoa.gov.vn/api/v1/public/feedback/{code}/status");
    assert!(mail.contains(&tracking), "{mail}");
    let text = sms[0].json();
    assert_eq!(text["to"], "+84912777888");
    let words = text["text"].as_str().unwrap();
    assert!(words.contains(&code) && words.contains(&pin) && words.contains(&deadline), "{words}");
    assert!(words.contains("đã tiếp nhận"), "with its diacritics: {words}");
    assert_eq!(sms[0].headers["authorization"], format!("Bearer {TOKEN}").as_str());
    let reference = text["reference"].as_str().unwrap().to_owned();

    // What the record's people see: kind, channel, masked contact, outcome, parts.
    let listed = app.get(&format!("/api/v1/feedback/{id}/messages")).token(&member).send().await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    let items = listed.json()["items"].as_array().unwrap().clone();
    let by_channel: HashMap<&str, &Value> = items.iter().map(|m| (m["channel"].as_str().unwrap(), m)).collect();
    assert_eq!(by_channel["sms"]["id"], reference.as_str(), "the gateway's reference is the message's id");
    assert_eq!(by_channel["sms"]["recipient"], "09******88");
    assert_eq!(by_channel["email"]["recipient"], "t***@gmail.com");
    let sms_parts = by_channel["sms"]["parts"].as_i64().unwrap();
    assert!(sms_parts >= 2, "Vietnamese with diacritics is UCS-2, 70 characters a part: {sms_parts}");
    assert!(items.iter().all(|m| m["status"] == "sent" && m["kind"] == "receipt"), "{items:?}");
    assert!(!listed.text().contains(&pin), "the text is not shown");
    assert_eq!(
        app.sql_count("SELECT count(*) AS n FROM outbound_messages WHERE status <> 'pending' AND body IS NOT NULL"),
        0,
        "a message's text is kept only until it is sent"
    );

    // Extension, answer, publication: each told once on each channel.
    let path = |p: &str| format!("/api/v1/feedback/{id}/{p}");
    let res = app.post(&path("transitions")).token(&coordinator).json(json!({"to": "accepted"})).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = app
        .post(&path("extensions"))
        .token(&member)
        .json(json!({"working_days": 5, "reason": "Cần xác minh hiện trường"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let new_deadline = dmy(&res.json()["new_deadline"]);
    let (mails, sms) = told.at_least(2, 2).await;
    let mail = decoded(&mails[1]);
    assert!(
        mail.contains(&new_deadline) && mail.contains("Cần xác minh hiện trường") && mail.contains(&deadline),
        "{mail}"
    );
    assert!(sms[1].json()["text"].as_str().unwrap().contains(&new_deadline));
    let answer = "Hồ sơ của Bà đã được cấp phép ngày 10/03/2021.";
    let res = app.post(&path("answers")).token(&member).json(json!({"text": answer})).send().await;
    assert_eq!(res.status, 201, "{}", res.text());
    let res = app.post(&path("publish")).token(&coordinator).json(json!({"summary": "Đã cấp phép"})).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let (mails, sms) = told.at_least(4, 4).await;
    assert_eq!((mails.len(), sms.len()), (4, 4));
    let answered: Vec<String> = mails.iter().map(|m| decoded(m)).collect();
    assert!(answered.iter().any(|m| m.contains(answer)), "the answer's e-mail carries it");
    assert!(answered.iter().any(|m| m.contains("Đã cấp phép") && m.contains(&format!("/public/feedback/{code}"))));

    // The sender withdraws SMS with the PIN: the reopening comes by e-mail only.
    let notify = format!("/api/v1/public/feedback/{code}/notify-by");
    let res =
        app.call(actix_web::http::Method::PUT, &notify).json(json!({"pin": pin, "notify_by": ["email"]})).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["notify_by"], json!(["email"]));
    let res = app
        .call(actix_web::http::Method::PUT, &notify)
        .json(json!({"pin": pin, "notify_by": ["email", "sms"]}))
        .send()
        .await;
    res.problem(422, "rule_violated");
    let wrong = app
        .call(actix_web::http::Method::PUT, &notify)
        .json(json!({"pin": if pin == "00000000" { "11111111" } else { "00000000" }, "notify_by": []}))
        .send()
        .await;
    assert_eq!(wrong.status, 404, "a wrong PIN is an unknown code");
    let res = app
        .post(&format!("/api/v1/public/feedback/{code}/reopen"))
        .json(json!({"pin": pin, "reason": "Chưa nhận được giấy phép"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let (mails, sms) = told.at_least(5, 4).await;
    assert_eq!((mails.len(), sms.len()), (5, 4), "opted out of SMS: e-mail only");
    assert!(decoded(&mails[4]).contains("xem xét lại"), "{}", decoded(&mails[4]));
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    assert_eq!((told.mails.lock().unwrap().len(), told.gateway.received().len()), (5, 4), "and nothing twice");
    let kinds: Vec<String> = app.get(&path("messages")).token(&member).send().await.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| format!("{}/{}", m["kind"].as_str().unwrap(), m["channel"].as_str().unwrap()))
        .collect();
    let expected: HashSet<String> = [
        "receipt/email",
        "receipt/sms",
        "extension/email",
        "extension/sms",
        "answer/email",
        "answer/sms",
        "publication/email",
        "publication/sms",
        "reopening/email",
    ]
    .iter()
    .map(|k| k.to_string())
    .collect();
    assert_eq!(kinds.iter().cloned().collect::<HashSet<_>>(), expected);
    assert_eq!(kinds.len(), 9, "{kinds:?}");

    // Personal data stays in the protected table: not in events, the trail, the
    // outbound records or the logs.
    let feed = app.get("/api/v1/events?limit=500").token(&coordinator).send().await.text();
    let trail = app.get(&format!("/api/v1/audit-events?entity_id={id}")).token(&admin).send().await.text();
    let logs = captured_logs();
    for (what, text) in [("feed", &feed), ("trail", &trail), ("logs", &logs)] {
        for secret in [EMAIL, PHONE, "912777888", pin.as_str()] {
            assert!(!text.contains(secret), "{what} holds {secret}");
        }
    }
    assert_eq!(
        app.sql_count(
            "SELECT count(*) AS n FROM outbound_messages WHERE recipient_masked LIKE '%thu.tran%' OR recipient_masked LIKE '%777%'"
        ),
        0
    );
}

#[actix_web::test]
async fn templates_are_the_organisations_own_checked_when_saved() {
    let (app, told) = app_with_relays().await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let dept = app.department(&admin, org, "QLDA1").await;
    let (_, org_admin) = app.staff(&admin, org, &dept, "kdpm.admin", "org_admin").await;
    let (_, coordinator) = app.staff(&admin, org, &dept, "qlda.coord", "coordinator").await;
    let list = app.get("/api/v1/message-templates").token(&org_admin).send().await;
    assert_eq!(list.status, 200, "{}", list.text());
    let items = list.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 10, "five kinds on two channels");
    assert!(items.iter().all(|t| t["custom"] == false));
    let sms = items.iter().find(|t| t["kind"] == "receipt" && t["channel"] == "sms").unwrap();
    assert_eq!(sms["sms"]["encoding"], "ucs2");
    assert!(sms["placeholders"].as_array().unwrap().contains(&json!("pin")));

    let put = |path: &str, body: Value| {
        app.call(actix_web::http::Method::PUT, &format!("/api/v1/message-templates/{path}"))
            .token(&org_admin)
            .json(body)
    };
    // Checked when saved.
    let res = put("answer/email", json!({"subject": "Trả lời {code}", "body": "Mã PIN {pin}"})).send().await;
    res.problem(422, "rule_violated");
    assert_eq!(res.field_errors(), [("body".to_owned(), "template_placeholder_unknown".to_owned())]);
    let said = res.json()["errors"][0]["message"].as_str().unwrap().to_owned();
    assert!(said.contains("«pin»") && said.contains("answer, reopen_until"), "names it and what may be used: {said}");
    let res = put("answer/sms", json!({"subject": "Tiêu đề", "body": "PAKN {code}"})).send().await;
    assert_eq!(res.field_errors(), [("subject".to_owned(), "template_subject_email_only".to_owned())]);
    let res = put("answer/email", json!({"body": "PAKN {code}"})).send().await;
    assert_eq!(res.field_errors(), [("subject".to_owned(), "template_subject_email_only".to_owned())]);
    let res = put("answer/sms", json!({"body": "PAKN {code"})).send().await;
    assert_eq!(res.field_errors(), [("body".to_owned(), "template_brace_unmatched".to_owned())]);
    let res = put("nothing/sms", json!({"body": "PAKN {code}"})).send().await;
    assert_eq!(res.status, 404, "{}", res.text());
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM message_templates"), 0, "nothing refused was kept");
    // Not the coordinator's to write.
    let res = app
        .call(actix_web::http::Method::PUT, "/api/v1/message-templates/receipt/sms")
        .token(&coordinator)
        .json(json!({"body": "PAKN {code}"}))
        .send()
        .await;
    assert_eq!(res.status, 403);

    let saved = put("receipt/sms", json!({"body": "KDPM nhan PAKN {code}, han {deadline}, PIN {pin}"})).send().await;
    assert_eq!(saved.status, 200, "{}", saved.text());
    let saved = saved.json();
    assert_eq!((saved["custom"].clone(), saved["version"].clone()), (json!(true), json!(1)));
    assert_eq!((saved["sms"]["encoding"].clone(), saved["sms"]["parts"].clone()), (json!("gsm"), json!(1)));
    let filed = app
        .post("/api/v1/feedback")
        .token(&coordinator)
        .json(json!({"channel": "hotline", "kind": "question", "sender_type": "citizen", "sender_phone": PHONE,
            "notify_by": ["sms"], "subject": "Hỏi thủ tục", "content": "Nội dung"}))
        .send()
        .await;
    assert_eq!(filed.status, 201, "{}", filed.text());
    let (code, pin) =
        (filed.json()["code"].as_str().unwrap().to_owned(), filed.json()["tracking_pin"].as_str().unwrap().to_owned());
    let (_, sms) = told.at_least(0, 1).await;
    assert_eq!(sms.len(), 1);
    assert!(sms[0].json()["text"].as_str().unwrap().starts_with(&format!("KDPM nhan PAKN {code}, han ")));
    assert!(sms[0].json()["text"].as_str().unwrap().ends_with(&format!("PIN {pin}")));
    // Back to the built-in one; the change is in the trail.
    let res = app
        .call(actix_web::http::Method::DELETE, "/api/v1/message-templates/receipt/sms")
        .token(&org_admin)
        .send()
        .await;
    assert_eq!((res.status, res.json()["custom"].clone()), (200, json!(false)));
    let trail = app.get("/api/v1/audit-events?entity_type=message_template").token(&admin).send().await;
    assert_eq!(trail.status, 200, "{}", trail.text());
    assert!(trail.json()["items"].as_array().unwrap().len() >= 2, "{}", trail.text());
}

/// A `kill -9` of the binary while SMS are queued: every message goes out after the
/// restart, each with its own reference; a repeat is possible only for what was on the
/// wire at the kill, and carries the same reference for the gateway to drop.
#[actix_web::test]
async fn kill_9_while_messages_are_queued_loses_none() {
    const RECORDS: usize = 20;
    let gateway = Receiver::start(&[], Duration::from_millis(150)).await;
    let mut settings = test_settings();
    settings.jobs.workers = 0; // Only the binary sends.
    let app = TestApp::spawn_with(settings).await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let dept = app.department(&admin, org, "QLDA1").await;
    let (_, coordinator) = app.staff(&admin, org, &dept, "qlda.coord", "coordinator").await;
    for n in 0..RECORDS {
        let res = app
            .post("/api/v1/feedback")
            .token(&coordinator)
            .json(json!({"channel": "hotline", "kind": "question", "sender_type": "citizen",
                "sender_phone": format!("09127770{n:02}"), "notify_by": ["sms"], "subject": format!("Hỏi {n}"), "content": "Nội dung"}))
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM jobs WHERE kind = 'sms.send'"), RECORDS as i64, "queued");
    let env = [
        ("CCHC_SMS_GATEWAY_URL", gateway.url.as_str()),
        ("CCHC_SMS_GATEWAY_TOKEN", TOKEN),
        ("CCHC_JOB_LEASE_SECONDS", "3"),
        ("CCHC_WEBHOOK_TIMEOUT_SECONDS", "1"),
        ("CCHC_WEBHOOK_RETRY_SECONDS", "1,1,1,1,1"),
        ("CCHC_JOB_POLL_MS", "50"),
        ("CCHC_JOB_WORKERS", "2"),
    ];
    let mut binary = app.start_binary(&env).await;
    gateway.until(30, |r| r.len() >= 5).await;
    binary.child.kill().unwrap(); // SIGKILL
    binary.child.wait().unwrap();
    let references = |got: &[Received]| {
        got.iter().map(|r| r.json()["reference"].as_str().unwrap().to_owned()).collect::<HashSet<_>>()
    };
    let before = references(&gateway.received()).len();
    assert!(before < RECORDS, "killed while sending ({before} of {RECORDS})");
    let _restarted = app.start_binary(&env).await;
    let got = gateway.until(60, |r| references(r).len() >= RECORDS).await;
    assert_eq!(references(&got).len(), RECORDS, "every message sent after the restart");
    assert!(got.len() - RECORDS <= 2, "a repeat only of what was on the wire at the kill ({} sent)", got.len());
    let phones: HashSet<String> = got.iter().map(|r| r.json()["to"].as_str().unwrap().to_owned()).collect();
    assert_eq!(phones.len(), RECORDS, "each to its own sender");
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.sql_count("SELECT count(*) AS n FROM outbound_messages WHERE status = 'sent'") < RECORDS as i64 {
        assert!(Instant::now() < deadline, "every message recorded as sent");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM jobs WHERE kind = 'sms.send'"), 0, "no job left");
}

/// A person who asked for a digest gets no e-mail per notice but one a day, from
/// `CCHC_DIGEST_HOUR`, in the language they chose; once however often the scan runs.
#[actix_web::test]
async fn a_digest_comes_once_a_day_in_the_persons_language() {
    let (port, mails) = smtp_listener();
    let mut settings = test_settings();
    settings.clock = Clock::fixed(at("2021-02-18T06:00:00+07:00"));
    settings.deadlines.scan_every = Duration::from_secs(1);
    settings.jobs.poll = Duration::from_millis(50);
    settings.smtp_url = Some(cchc_outreach::config::Secret::new(format!("smtp://127.0.0.1:{port}")));
    let app = TestApp::spawn_with(settings).await;
    let clock = app.settings.clock.clone();
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let dept = app.department(&admin, org, "QLDA1").await;
    let (_, coordinator) = app.staff(&admin, org, &dept, "qlda.coord", "coordinator").await;
    let res = app
        .post("/api/v1/users")
        .token(&admin)
        .json(
            json!({"username": "qlda.an", "full_name": "An Le", "role": "member", "password": crate::helpers::PASSWORD,
            "organization_id": org, "department_id": dept, "email": "an.lv@kdpm.khanhhoa.gov.vn"}),
        )
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let an = app.token("qlda.an", crate::helpers::PASSWORD).await;
    let prefs = "/api/v1/me/notification-preferences";
    let set = app
        .call(actix_web::http::Method::PUT, prefs)
        .token(&an)
        .json(json!({"email_off": [], "digest": true, "language": "en"}))
        .send()
        .await;
    assert_eq!(set.status, 200, "{}", set.text());
    assert_eq!(
        app.get(prefs).token(&an).send().await.json(),
        json!({"email_off": [], "digest": true, "language": "en"})
    );
    let res = app
        .call(actix_web::http::Method::PUT, prefs)
        .token(&an)
        .json(json!({"email_off": [], "language": "fr"}))
        .send()
        .await;
    res.problem(400, "validation_failed");
    let filed = app
        .post("/api/v1/feedback")
        .token(&coordinator)
        .json(json!({"channel": "hotline", "kind": "complaint", "sender_type": "citizen", "subject": "Chậm cấp phép",
            "content": "Nội dung", "department_id": dept, "deadline_on": "2021-02-22", "deadline_reason": "Theo quy chế",
            "received_at": "2021-02-18T05:00:00+07:00"}))
        .send()
        .await;
    assert_eq!(filed.status, 201, "{}", filed.text());
    let (id, code) =
        (filed.json()["id"].as_str().unwrap().to_owned(), filed.json()["code"].as_str().unwrap().to_owned());
    let res = app
        .post(&format!("/api/v1/feedback/{id}/transitions"))
        .token(&coordinator)
        .json(json!({"to": "accepted"}))
        .send()
        .await;
    assert_eq!(res.status, 200);
    // Before the hour: the notice, in English, in the inbox; no e-mail.
    let deadline = Instant::now() + Duration::from_secs(20);
    let inbox = loop {
        let inbox = app.get("/api/v1/me/notifications").token(&an).send().await.json();
        if !inbox["items"].as_array().unwrap().is_empty() || Instant::now() > deadline {
            break inbox;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    };
    let title = inbox["items"][0]["title"].as_str().unwrap().to_owned();
    assert_eq!(title, format!("Feedback {code}: 2 working day(s) left until its deadline 22/02/2021"));
    crate::deadlines::a_scan(&app).await;
    assert!(mails.lock().unwrap().is_empty(), "no e-mail per notice for who takes a digest");
    // From the hour on: one digest, in English, listing it.
    clock.set(at("2021-02-18T07:30:00+07:00"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while mails.lock().unwrap().is_empty() && Instant::now() < deadline {
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    crate::deadlines::a_scan(&app).await;
    crate::deadlines::a_scan(&app).await;
    let got = mails.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "one digest a day: {got:?}");
    let body = decoded(&got[0]);
    assert!(body.starts_with("Dear An Le") && body.contains(&format!("- {title}")), "{body}");
    assert!(to_of(&got[0]).contains("an.lv@kdpm.khanhhoa.gov.vn"));
}

/// Consent withdrawn stops at once what has not gone yet: the queued SMS is skipped.
#[actix_web::test]
async fn a_message_queued_before_the_sender_withdrew_is_not_sent() {
    let gateway = Receiver::start(&[], Duration::ZERO).await;
    let mut settings = test_settings();
    settings.jobs.workers = 0; // Nothing is sent until the binary runs.
    let app = TestApp::spawn_with(settings).await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let dept = app.department(&admin, org, "QLDA1").await;
    let (_, coordinator) = app.staff(&admin, org, &dept, "qlda.coord", "coordinator").await;
    let filed = app
        .post("/api/v1/feedback")
        .token(&coordinator)
        .json(json!({"channel": "hotline", "kind": "question", "sender_type": "citizen", "sender_phone": PHONE,
            "notify_by": ["sms"], "subject": "Hỏi thủ tục", "content": "Nội dung"}))
        .send()
        .await;
    assert_eq!(filed.status, 201, "{}", filed.text());
    let (code, pin) =
        (filed.json()["code"].as_str().unwrap().to_owned(), filed.json()["tracking_pin"].as_str().unwrap().to_owned());
    let res = app
        .call(actix_web::http::Method::PUT, &format!("/api/v1/public/feedback/{code}/notify-by"))
        .json(json!({"pin": pin, "notify_by": []}))
        .send()
        .await;
    assert_eq!((res.status, res.json()["notify_by"].clone()), (200, json!([])), "{}", res.text());
    let env = [("CCHC_SMS_GATEWAY_URL", gateway.url.as_str()), ("CCHC_JOB_POLL_MS", "50"), ("CCHC_JOB_WORKERS", "2")];
    let _binary = app.start_binary(&env).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.sql_count("SELECT count(*) AS n FROM outbound_messages WHERE status = 'skipped'") < 1 {
        assert!(Instant::now() < deadline, "the message was given up");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gateway.received().is_empty(), "nothing went to the gateway");
    assert_eq!(
        app.sql_count("SELECT count(*) AS n FROM outbound_messages WHERE body IS NOT NULL"),
        0,
        "nor is its text kept"
    );
}
