//! Webhooks: deliveries to a real HTTP receiver on a random port that checks each
//! signature with the Standard Webhooks project's own library; retries with growing
//! waits; 410 and a run-out schedule turn a subscription off; two instances deliver
//! once; a `kill -9` loses nothing; private addresses refused; no personal data.
use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use cchc_outreach::{config::Settings, domain::webhooks::RetrySchedule};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, test_settings};

/// One request as the receiver saw it.
#[derive(Clone)]
pub struct Received {
    pub at: Instant,
    pub path: String,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    pub fn id(&self) -> String {
        self.headers["webhook-id"].to_str().unwrap().to_owned()
    }
    /// Whether `secret` verifies the signature, by the specification's library.
    pub fn verifies(&self, secret: &str) -> bool {
        standardwebhooks::Webhook::new(secret).unwrap().verify(&self.body, &self.headers).is_ok()
    }
}

#[derive(Default)]
struct Shared {
    log: Mutex<Vec<Received>>,
    /// Status codes to answer, in turn; 200 once they run out.
    answers: Mutex<VecDeque<u16>>,
    /// How long each answer takes.
    delay: Duration,
}

/// A receiver on `127.0.0.1:<random port>`.
pub struct Receiver {
    pub url: String,
    shared: Arc<Shared>,
}

async fn receive(req: HttpRequest, body: web::Bytes, shared: web::Data<Arc<Shared>>) -> HttpResponse {
    let mut headers = http::HeaderMap::new();
    for (name, value) in req.headers() {
        headers.append(
            http::HeaderName::from_bytes(name.as_str().as_bytes()).unwrap(),
            http::HeaderValue::from_bytes(value.as_bytes()).unwrap(),
        );
    }
    let path = req.path().to_owned();
    shared.log.lock().unwrap().push(Received { at: Instant::now(), path, headers, body: body.to_vec() });
    let status = shared.answers.lock().unwrap().pop_front().unwrap_or(200);
    if !shared.delay.is_zero() {
        actix_web::rt::time::sleep(shared.delay).await;
    }
    let mut answer = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
    if (300..400).contains(&status) {
        answer.insert_header(("location", "/elsewhere"));
    }
    answer.body("ok")
}

impl Receiver {
    pub async fn start(answers: &[u16], delay: Duration) -> Self {
        let shared =
            Arc::new(Shared { answers: Mutex::new(answers.iter().copied().collect()), delay, ..Default::default() });
        let data = web::Data::new(shared.clone());
        let server = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(receive)))
            .workers(2)
            .bind(("127.0.0.1", 0))
            .unwrap();
        let url = format!("http://{}/hooks/cchc", server.addrs()[0]);
        actix_web::rt::spawn(server.run());
        Self { url, shared }
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.log.lock().unwrap().clone()
    }

    /// What arrived, once `done` holds of it (or after `seconds`).
    pub async fn until(&self, seconds: u64, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            let got = self.received();
            if done(&got) || Instant::now() > deadline {
                return got;
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The ids of the feed's `feedback.received` events, once there are `n` (a transaction
/// elsewhere in the cluster may hold the feed back for a moment).
async fn received_in_feed(app: &TestApp, token: &str, n: usize) -> std::collections::HashSet<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let feed = app.get("/api/v1/events?type=feedback.received&limit=500").token(token).send().await.json();
        let ids: std::collections::HashSet<String> =
            feed["items"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
        if ids.len() >= n || Instant::now() > deadline {
            return ids;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The subscription's deliveries, once `done` holds of them (or after 20 s): the worker
/// records an attempt after the receiver has answered, so a receiver can have a request
/// a moment before the delivery says so.
async fn deliveries_once(app: &TestApp, token: &str, hook: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let list = app.get(&format!("/api/v1/webhooks/{hook}/deliveries")).token(token).send().await;
        assert_eq!(list.status, 200, "{}", list.text());
        let items = list.json()["items"].as_array().unwrap().clone();
        if done(&items) || Instant::now() > deadline {
            return items;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

fn distinct(got: &[Received]) -> usize {
    got.iter().map(Received::id).collect::<std::collections::HashSet<_>>().len()
}

/// Settings for a receiver on loopback over plain HTTP, quick retries and polling.
pub fn local_settings(retry: &str) -> Settings {
    let mut settings = test_settings();
    settings.webhooks.allow_http = true;
    settings.webhooks.allow_private = true;
    settings.webhooks.retry = RetrySchedule::parse(retry).unwrap();
    settings.webhooks.timeout = Duration::from_secs(2);
    settings.jobs.poll = Duration::from_millis(50);
    settings.jobs.lease = Duration::from_secs(5);
    settings
}

async fn subscribe(app: &TestApp, token: &str, url: &str, types: &[&str]) -> (String, String) {
    let res = app.post("/api/v1/webhooks").token(token).json(json!({"url": url, "event_types": types})).send().await;
    assert_eq!(res.status, 201, "{}", res.text());
    let body = res.json();
    (body["id"].as_str().unwrap().to_owned(), body["secret"].as_str().unwrap().to_owned())
}

async fn file(app: &TestApp, token: &str, subject: &str) -> String {
    file_for(app, token, subject, None).await
}

async fn file_for(app: &TestApp, token: &str, subject: &str, department: Option<&str>) -> String {
    let res = app
        .post("/api/v1/feedback")
        .token(token)
        .json(json!({"channel": "hotline", "kind": "complaint", "sender_type": "citizen",
            "sender_name": "Nguyễn Văn An", "sender_phone": "0912345678", "sender_email": "an@thu.vn",
            "sender_address": "12 Trần Phú, Nha Trang", "subject": subject, "content": "Nội dung phản ánh",
            "internal_note": "Gọi lại sau 17h", "department_id": department}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()["id"].as_str().unwrap().to_owned()
}

async fn org_admin(app: &TestApp, admin: &str, code: &str) -> (Uuid, String) {
    let org = app.organization(admin, code).await;
    let (_, token) = app.person(admin, org, &format!("{}.admin", code.to_lowercase()), "org_admin").await;
    (org, token)
}

#[actix_web::test]
async fn deliveries_are_signed_carry_no_personal_data_and_follow_a_rotation() {
    let app = TestApp::spawn_with(local_settings("1,1")).await;
    let admin = app.admin_token().await;
    let (org, token) = org_admin(&app, &admin, "KDPM").await;
    let receiver = Receiver::start(&[], Duration::ZERO).await;
    let (hook, secret) = subscribe(&app, &token, &receiver.url, &["feedback.*"]).await;
    assert!(secret.starts_with("whsec_"));
    let shown = app.get(&format!("/api/v1/webhooks/{hook}")).token(&token).send().await;
    assert_eq!(shown.status, 200);
    assert!(!shown.text().contains(&secret[6..]), "the secret is shown only once");
    assert_eq!(shown.json()["organization_id"], json!(org));

    let id = file(&app, &token, "Chậm giải quyết hồ sơ").await;
    let got = receiver.until(20, |r| !r.is_empty()).await;
    assert_eq!(got.len(), 1, "one delivery");
    let first = &got[0];
    assert!(first.verifies(&secret), "the signature verifies with the Standard Webhooks library");
    assert!(!first.verifies("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "and not with another secret");
    let event = first.json();
    assert_eq!(event["type"], "feedback.received");
    assert_eq!(event["subject"], json!({"type": "feedback", "id": id, "url": format!("/api/v1/feedback/{id}")}));
    assert_eq!(event["organization_id"], json!(org));
    assert_eq!(first.id(), event["id"].as_str().unwrap(), "webhook-id is the event's id");
    assert_eq!(first.headers["content-type"], "application/json");
    let text = String::from_utf8(first.body.clone()).unwrap();
    for personal in ["Nguyễn Văn An", "0912345678", "an@thu.vn", "Trần Phú", "Gọi lại"] {
        assert!(!text.contains(personal), "{personal} is not in a delivery: {text}");
    }
    // The same event in the feed.
    assert!(received_in_feed(&app, &token, 1).await.contains(event["id"].as_str().unwrap()));

    // A type it did not subscribe to goes nowhere; a ping does.
    let dept =
        app.post("/api/v1/departments").token(&token).json(json!({"code": "TCHC", "name": "Phòng TCHC"})).send().await;
    assert_eq!(dept.status, 201);
    let ping = app.post(&format!("/api/v1/webhooks/{hook}/ping")).token(&token).send().await;
    assert_eq!(ping.status, 202, "{}", ping.text());
    let got = receiver.until(20, |r| r.len() >= 2).await;
    assert_eq!(got[1].json()["type"], "webhook.ping");
    assert!(got[1].verifies(&secret));

    // After a rotation both secrets verify until the overlap ends.
    let rotated = app.post(&format!("/api/v1/webhooks/{hook}/rotate-secret")).token(&token).send().await;
    assert_eq!(rotated.status, 200, "{}", rotated.text());
    let new_secret = rotated.json()["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    file(&app, &token, "Thái độ cán bộ").await;
    let got = receiver.until(20, |r| r.len() >= 3).await;
    let third = &got[2];
    assert_eq!(third.headers["webhook-signature"].to_str().unwrap().matches("v1,").count(), 2);
    assert!(third.verifies(&new_secret) && third.verifies(&secret), "both secrets verify during the overlap");

    // The deliveries, as the subscription's owner reads them.
    let items = deliveries_once(&app, &token, &hook, |items| {
        items.len() == 3 && items.iter().all(|d| d["status"] == "delivered")
    })
    .await;
    assert_eq!(items.len(), 3);
    for d in &items {
        assert_eq!(d["status"], "delivered", "{d}");
        assert_eq!(d["attempts"], 1);
        assert_eq!(d["last_status_code"], 200);
        assert!(d["last_latency_ms"].as_i64().unwrap() >= 0);
        assert!(!d.to_string().contains("0912345678"));
    }
    assert_eq!(items[0]["event"]["id"], event["id"]);
    let ready = app.get("/readyz").send().await.json();
    assert_eq!(ready["status"], "ready");
    assert!(ready["jobs"]["due"].is_i64() && ready["jobs"]["oldest_due_seconds"].is_number(), "{ready}");
}

#[actix_web::test]
async fn a_receiver_that_fails_twice_sees_three_attempts_with_growing_waits() {
    let app = TestApp::spawn_with(local_settings("1,3,5")).await;
    let admin = app.admin_token().await;
    let (_, token) = org_admin(&app, &admin, "KDPM").await;
    // A redirect is not followed: it counts as a failure like a 503.
    let receiver = Receiver::start(&[302, 503], Duration::ZERO).await;
    let (hook, secret) = subscribe(&app, &token, &receiver.url, &["feedback.received"]).await;
    file(&app, &token, "Phản ánh").await;
    let got = receiver.until(30, |r| r.len() >= 3).await;
    assert_eq!(got.len(), 3, "two failures, then the success");
    assert!(got.iter().all(|r| r.path == "/hooks/cchc"), "the redirect to /elsewhere was not followed");
    assert!(got.iter().all(|r| r.id() == got[0].id()), "one webhook-id on every attempt");
    assert!(got.iter().all(|r| r.verifies(&secret)));
    let (first_wait, second_wait) = (got[1].at - got[0].at, got[2].at - got[1].at);
    assert!(first_wait >= Duration::from_millis(750), "about 1 s: {first_wait:?}");
    assert!(second_wait >= Duration::from_millis(2300), "about 3 s: {second_wait:?}");
    assert!(second_wait > first_wait, "the waits grow: {first_wait:?} then {second_wait:?}");
    let items =
        deliveries_once(&app, &token, &hook, |items| items.first().is_some_and(|d| d["status"] == "delivered")).await;
    let d = &items[0];
    assert_eq!(
        (d["status"].as_str(), d["attempts"].as_i64(), d["last_status_code"].as_i64()),
        (Some("delivered"), Some(3), Some(200))
    );
    assert_eq!(receiver.received().len(), 3, "nothing after the success");
}

#[actix_web::test]
async fn gone_or_a_schedule_run_out_turns_a_subscription_off_with_an_event() {
    let app = TestApp::spawn_with(local_settings("1")).await;
    let admin = app.admin_token().await;
    let (_, token) = org_admin(&app, &admin, "KDPM").await;
    let gone = Receiver::start(&[410], Duration::ZERO).await;
    let failing = Receiver::start(&[500, 500, 500, 500], Duration::ZERO).await;
    let watcher = Receiver::start(&[], Duration::ZERO).await;
    let (gone_hook, _) = subscribe(&app, &token, &gone.url, &["feedback.*"]).await;
    let (failing_hook, _) = subscribe(&app, &token, &failing.url, &["feedback.*"]).await;
    subscribe(&app, &token, &watcher.url, &["webhook.disabled"]).await;
    file(&app, &token, "Phản ánh một").await;
    let disabled = watcher.until(30, |r| r.len() >= 2).await;
    assert_eq!(disabled.len(), 2, "both subscriptions turned off, each with an event");
    let mut reasons: Vec<(String, String)> = disabled
        .iter()
        .map(|r| {
            let e = r.json();
            assert_eq!(e["type"], "webhook.disabled");
            (e["subject"]["id"].as_str().unwrap().to_owned(), e["data"]["disabled_reason"].as_str().unwrap().to_owned())
        })
        .collect();
    reasons.sort_by_key(|(_, reason)| reason.clone());
    assert_eq!(reasons, vec![(failing_hook.clone(), "failing".to_owned()), (gone_hook.clone(), "gone".to_owned())]);
    assert_eq!(gone.received().len(), 1, "410: no retry");
    assert_eq!(failing.received().len(), 2, "the schedule of one retry: two attempts");
    for (hook, reason) in [(&gone_hook, "gone"), (&failing_hook, "failing")] {
        let shown = app.get(&format!("/api/v1/webhooks/{hook}")).token(&token).send().await.json();
        assert_eq!((shown["active"].as_bool(), shown["disabled_reason"].as_str()), (Some(false), Some(reason)));
        let list = app.get(&format!("/api/v1/webhooks/{hook}/deliveries")).token(&token).send().await.json();
        assert_eq!(list["items"][0]["status"], "failed");
    }
    // Nothing goes to a subscription that is off; retry says so; turned on, it works again.
    file(&app, &token, "Phản ánh hai").await;
    let delivery = app.get(&format!("/api/v1/webhooks/{gone_hook}/deliveries")).token(&token).send().await.json()
        ["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let retry =
        app.post(&format!("/api/v1/webhooks/{gone_hook}/deliveries/{delivery}/retry")).token(&token).send().await;
    retry.problem(409, "webhook_inactive");
    let on =
        app.patch(&format!("/api/v1/webhooks/{gone_hook}")).token(&token).json(json!({"active": true})).send().await;
    assert_eq!(on.status, 200, "{}", on.text());
    assert_eq!(on.json()["disabled_reason"], Value::Null);
    let retry =
        app.post(&format!("/api/v1/webhooks/{gone_hook}/deliveries/{delivery}/retry")).token(&token).send().await;
    assert_eq!(retry.status, 202, "{}", retry.text());
    let got = gone.until(20, |r| r.len() >= 2).await;
    assert_eq!(got.len(), 2, "the retried delivery, and nothing filed while it was off");
    assert_eq!(got[1].id(), got[0].id(), "a retry keeps the event's webhook-id");
}

#[actix_web::test]
async fn two_instances_deliver_each_event_once_and_in_order_per_subject() {
    const RECORDS: usize = 12;
    let app = TestApp::spawn_with(local_settings("1,1")).await;
    let other = app.start_another().await;
    let admin = app.admin_token().await;
    let (_, token) = org_admin(&app, &admin, "KDPM").await;
    let receiver = Receiver::start(&[], Duration::from_millis(20)).await;
    subscribe(&app, &token, &receiver.url, &["feedback.*"]).await;
    let remote = app.at(&other);
    let dept = app.post("/api/v1/departments").token(&token).json(json!({"code": "TCHC", "name": "TCHC"})).send().await;
    let dept = dept.json()["id"].as_str().unwrap().to_owned();
    let mut ids = Vec::new();
    for n in 0..RECORDS {
        let id = file_for(&app, &token, &format!("Phản ánh {n}"), Some(&dept)).await;
        // Each record moves twice more, half through the other instance.
        for to in ["accepted", "in_progress"] {
            let path = format!("/api/v1/feedback/{id}/transitions");
            let res = if n % 2 == 0 { app.post(&path) } else { remote.post(&path) };
            let res = res.token(&token).json(json!({"to": to})).send().await;
            assert_eq!(res.status, 200, "{}", res.text());
        }
        ids.push(id);
    }
    let got = receiver.until(60, |r| distinct(r) >= RECORDS * 3).await;
    actix_web::rt::time::sleep(Duration::from_secs(2)).await;
    let got_all = receiver.received();
    assert_eq!(distinct(&got), RECORDS * 3, "every event arrived");
    assert_eq!(got_all.len(), RECORDS * 3, "and none twice");
    let mut by_subject: HashMap<String, Vec<String>> = HashMap::new();
    for r in &got_all {
        let e = r.json();
        by_subject
            .entry(e["subject"]["id"].as_str().unwrap().to_owned())
            .or_default()
            .push(e["data"]["status"].as_str().unwrap_or("").to_owned());
    }
    for id in &ids {
        assert_eq!(by_subject[id], vec!["received", "accepted", "in_progress"], "in order for {id}");
    }
}

#[actix_web::test]
async fn kill_9_during_deliveries_loses_none() {
    const RECORDS: usize = 30;
    let mut settings = local_settings("1,1,1,1,1,1,1,1,1,1");
    settings.jobs.workers = 0; // Only the binary delivers.
    let app = TestApp::spawn_with(settings).await;
    let admin = app.admin_token().await;
    let (_, token) = org_admin(&app, &admin, "KDPM").await;
    let receiver = Receiver::start(&[], Duration::from_millis(150)).await;
    subscribe(&app, &token, &receiver.url, &["feedback.received"]).await;
    for n in 0..RECORDS {
        file(&app, &token, &format!("Phản ánh {n}")).await;
    }
    let env = [
        ("CCHC_WEBHOOK_ALLOW_HTTP", "true"),
        ("CCHC_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("CCHC_WEBHOOK_RETRY_SECONDS", "1,1,1,1,1,1,1,1,1,1"),
        ("CCHC_WEBHOOK_TIMEOUT_SECONDS", "1"),
        ("CCHC_JOB_LEASE_SECONDS", "3"),
        ("CCHC_JOB_POLL_MS", "50"),
        ("CCHC_JOB_WORKERS", "2"),
    ];
    let mut binary = app.start_binary(&env).await;
    receiver.until(30, |r| r.len() >= 5).await;
    binary.child.kill().unwrap(); // SIGKILL
    binary.child.wait().unwrap();
    let before = distinct(&receiver.received());
    assert!(before < RECORDS, "killed while delivering ({before} of {RECORDS})");
    let _restarted = app.start_binary(&env).await;
    let got = receiver.until(60, |r| distinct(r) >= RECORDS).await;
    assert_eq!(distinct(&got), RECORDS, "every event delivered after the restart (at least once)");
    let ids = received_in_feed(&app, &token, RECORDS).await;
    assert!(got.iter().all(|r| ids.contains(&r.id())), "webhook-id is the event's id, across the crash");
}

#[actix_web::test]
async fn private_and_plain_addresses_are_refused_unless_allowed_and_checked_at_each_delivery() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, token) = org_admin(&app, &admin, "KDPM").await;
    for (url, code) in [
        ("http://portal.example.gov.vn/hooks", "webhook_https_only"),
        ("https://127.0.0.1:8443/hooks", "webhook_private_address"),
        ("https://10.1.2.3/hooks", "webhook_private_address"),
        ("https://localhost/hooks", "webhook_private_address"),
        ("https://169.254.169.254/latest/meta-data", "webhook_address_refused"),
    ] {
        let res =
            app.post("/api/v1/webhooks").token(&token).json(json!({"url": url, "event_types": ["*"]})).send().await;
        let problem = res.problem(422, "rule_violated");
        assert_eq!(problem["errors"][0]["code"], code, "{url}: {problem}");
    }
    for (body, field) in [
        (json!({"url": "https://portal.example.gov.vn", "event_types": []}), "event_types"),
        (json!({"url": "https://portal.example.gov.vn", "event_types": ["Feedback"]}), "event_types"),
        (json!({"url": "ftp://portal.example.gov.vn", "event_types": ["*"]}), "url"),
    ] {
        let res = app.post("/api/v1/webhooks").token(&token).json(body).send().await;
        res.problem(400, "validation_failed");
        assert_eq!(res.field_errors()[0].0, field);
    }
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM webhooks"), 0, "nothing refused was kept");

    // Allowed when it was made, refused when it is sent: an instance that does not
    // allow private addresses does not call one.
    let mut open = local_settings("1,1,1,1,1,1,1,1,1,1");
    open.jobs.workers = 0;
    let receiver = Receiver::start(&[], Duration::ZERO).await;
    let opened = TestApp::spawn_with(open).await;
    let admin = opened.admin_token().await;
    let (_, token) = org_admin(&opened, &admin, "KDPM").await;
    let (hook, _) = subscribe(&opened, &token, &receiver.url, &["*"]).await;
    file(&opened, &token, "Phản ánh").await;
    let mut strict = local_settings("1,1,1,1,1,1,1,1,1,1");
    strict.webhooks.allow_private = false;
    strict.database_url = Some(opened.database_url.clone());
    let strict_app = cchc_outreach::startup::Application::build(strict, &opened.database_url).await.unwrap();
    actix_web::rt::spawn(strict_app.run_until_stopped());
    let deadline = Instant::now() + Duration::from_secs(20);
    let delivery = loop {
        let list = opened.get(&format!("/api/v1/webhooks/{hook}/deliveries")).token(&token).send().await.json();
        let first = list["items"][0].clone();
        if first["attempts"].as_i64().unwrap_or(0) >= 1 || Instant::now() > deadline {
            break first;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(delivery["last_error"].as_str().unwrap_or("").contains("webhook_private_address"), "{delivery}");
    assert_eq!(delivery["status"], "pending", "retried later: {delivery}");
    assert!(receiver.received().is_empty(), "the private address was not called");
}

#[actix_web::test]
async fn subscriptions_and_their_events_stay_in_their_organisation() {
    let app = TestApp::spawn_with(local_settings("1,1")).await;
    let admin = app.admin_token().await;
    let (org, token) = org_admin(&app, &admin, "KDPM").await;
    let (_, other) = org_admin(&app, &admin, "SXD").await;
    let receiver = Receiver::start(&[], Duration::ZERO).await;
    let (hook, _) = subscribe(&app, &token, &receiver.url, &["*"]).await;
    for path in [format!("/api/v1/webhooks/{hook}"), format!("/api/v1/webhooks/{hook}/deliveries")] {
        app.get(&path).token(&other).send().await.problem(404, "not_found");
    }
    app.post(&format!("/api/v1/webhooks/{hook}/ping")).token(&other).send().await.problem(404, "not_found");
    let list = app.get("/api/v1/webhooks").token(&other).send().await.json();
    assert_eq!(list["items"], json!([]));
    file(&app, &other, "Phản ánh của đơn vị khác").await;
    file(&app, &token, "Phản ánh của đơn vị").await;
    let got = receiver.until(20, |r| r.iter().any(|x| x.json()["type"] == "feedback.received")).await;
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let texts: Vec<String> = receiver.received().iter().map(|r| String::from_utf8(r.body.clone()).unwrap()).collect();
    assert!(!got.is_empty());
    assert!(texts.iter().all(|t| !t.contains("đơn vị khác")), "another organisation's events never arrive");
    // A service client with webhooks:manage manages its own organisation's only.
    let (_, client) = app.service_client(&admin, org, &["webhooks:manage"]).await;
    let list = app.get("/api/v1/webhooks").token(&client).send().await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}
