//! Hostile callers, failing infrastructure and limits: headers, CORS, rate limits,
//! slow and oversized requests, role changes, a database outage, several instances
//! and a graceful shutdown.
use std::{
    io::{Read, Write},
    net::TcpStream,
    time::{Duration, Instant},
};

use cchc_outreach::{pgserver::PrivatePostgres, startup::Application};
use diesel::{Connection, PgConnection, RunQueryDsl, sql_query};
use serde_json::{Value, json};

use crate::helpers::{ADMIN, ADMIN_PASSWORD, MAX_FAILURES, PASSWORD, TestApp, multipart, resolved, test_settings};

#[actix_web::test]
async fn every_answer_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for (path, token) in [("/api/v1/me", Some(&admin)), ("/api/v1/me", None), ("/healthz", None), ("/nowhere", None)] {
        let mut call = app.get(path);
        if let Some(t) = token {
            call = call.token(t);
        }
        let res = call.send().await;
        assert_eq!(res.header("x-content-type-options").as_deref(), Some("nosniff"), "{path}");
        assert_eq!(res.header("x-frame-options").as_deref(), Some("DENY"), "{path}");
        assert!(res.header("content-security-policy").unwrap().starts_with("default-src 'none'"), "{path}");
    }
    let me = app.get("/api/v1/me").token(&admin).send().await;
    assert_eq!(me.header("cache-control").as_deref(), Some("no-store"), "answers to a token are never cached");
    // The published results may be cached by others, unless asked for with a token.
    let public = app.get("/api/v1/public/organizations/NOWHERE/feedback").send().await;
    assert_eq!(public.status, 404);
    let swagger = app.get("/swagger-ui/").send().await;
    let csp = swagger.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-eval") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    // No CORS unless configured: a browser on another origin cannot read answers.
    let res = app.get("/api/v1/me").token(&admin).header("Origin", "https://evil.example").send().await;
    assert_eq!(res.status, 200);
    assert!(res.header("access-control-allow-origin").is_none());
    let preflight = app
        .call(actix_web::http::Method::OPTIONS, "/api/v1/plans")
        .header("Origin", "https://evil.example")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await;
    assert!(preflight.header("access-control-allow-origin").is_none());
}

#[actix_web::test]
async fn cors_answers_only_the_listed_origins() {
    let mut settings = test_settings();
    settings.cors_origins = vec!["https://dichvucong.khanhhoa.gov.vn".to_owned()];
    let app = TestApp::spawn_with(settings).await;
    let admin = app.admin_token().await;
    let preflight = |origin: &str| {
        app.call(actix_web::http::Method::OPTIONS, "/api/v1/feedback")
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization, content-type, idempotency-key")
    };
    let ok = preflight("https://dichvucong.khanhhoa.gov.vn").send().await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.header("access-control-allow-origin").as_deref(), Some("https://dichvucong.khanhhoa.gov.vn"));
    assert!(ok.header("access-control-allow-headers").unwrap().to_lowercase().contains("idempotency-key"));
    let refused = preflight("https://evil.example").send().await;
    assert!(refused.header("access-control-allow-origin").is_none());
    let res = app.get("/api/v1/me").token(&admin).header("Origin", "https://dichvucong.khanhhoa.gov.vn").send().await;
    assert_eq!(res.header("access-control-allow-origin").as_deref(), Some("https://dichvucong.khanhhoa.gov.vn"));
    assert!(res.header("access-control-expose-headers").unwrap().to_lowercase().contains("etag"));
}

#[actix_web::test]
async fn each_token_and_each_address_has_its_own_allowance() {
    let mut settings = test_settings();
    settings.rate_limit_per_token = 4;
    let app = TestApp::spawn_with(settings).await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let (_, viewer) = app.person(&admin, org, "viewer", "viewer").await;
    // Creating the organisation and the viewer used two of the administrator's four.
    let mut remaining = Vec::new();
    for _ in 0..2 {
        let res = app.get("/api/v1/me").token(&admin).send().await;
        assert_eq!(res.status, 200);
        assert_eq!(res.header("ratelimit-limit").as_deref(), Some("4"));
        remaining.push(res.header("ratelimit-remaining").unwrap().parse::<u32>().unwrap());
    }
    assert_eq!(remaining, [1, 0]);
    let res = app.get("/api/v1/me").token(&admin).send().await;
    res.problem(429, "rate_limited");
    let wait: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=15).contains(&wait), "{wait}");
    // Another token still has its own.
    assert_eq!(app.get("/api/v1/me").token(&viewer).send().await.status, 200);
    // Health checks are not counted.
    assert_eq!(app.get("/healthz").send().await.status, 200);

    let mut settings = test_settings();
    settings.rate_limit_per_token = 0;
    settings.rate_limit_per_address = 3;
    let app = TestApp::spawn_with(settings).await;
    let admin = app.admin_token().await; // one
    assert_eq!(app.get("/api/v1/me").token(&admin).send().await.status, 200); // two
    assert_eq!(app.get("/api/v1/me").send().await.status, 401); // three, without a token
    app.get("/api/v1/me").token(&admin).send().await.problem(429, "rate_limited");
}

/// Sends `head` (and `body` one byte a second) on a raw connection; returns what came
/// back before the server closed it, and how long that took.
fn raw_exchange(address: &str, head: &[u8], trickle: &'static [u8]) -> (String, Duration) {
    let mut stream = TcpStream::connect(address.trim_start_matches("http://")).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let started = Instant::now();
    stream.write_all(head).unwrap();
    let mut reader = stream.try_clone().unwrap();
    let closed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = closed.clone();
    let writer = std::thread::spawn(move || {
        for b in trickle {
            if stop.load(std::sync::atomic::Ordering::Relaxed) || stream.write_all(&[*b]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    let mut answer = Vec::new();
    let _ = reader.read_to_end(&mut answer);
    let took = started.elapsed();
    closed.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = writer.join();
    (String::from_utf8_lossy(&answer).into_owned(), took)
}

#[actix_web::test]
async fn slow_oversized_and_malformed_requests_are_cut_off() {
    let mut settings = test_settings();
    settings.request_timeout = Duration::from_secs(2);
    let app = TestApp::spawn_with(settings).await;
    let admin = app.admin_token().await;
    let address = app.address.clone();
    let head = format!(
        "POST /api/v1/organizations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin}\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{{"
    );
    // A body sent one byte a second: 408 after the request timeout, connection closed.
    let (answer, took) =
        actix_web::web::block(move || raw_exchange(&address, head.as_bytes(), b"\"code\": \"SLOW\", \"name\": \"x\"}"))
            .await
            .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    eprintln!("slow body cut off after {took:?}");
    assert!(took < Duration::from_secs(8), "{took:?}");
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM organizations WHERE code = 'SLOW'"), 0);
    // Headers sent one byte a second: the connection is dropped within the header timeout.
    let address = app.address.clone();
    let (_, took) = actix_web::web::block(move || {
        raw_exchange(&address, b"GET /healthz HTTP/1.1\r\n", b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
    })
    .await
    .unwrap();
    eprintln!("slow headers cut off after {took:?}");
    assert!(took < Duration::from_secs(12), "a slow sender of headers is cut off: {took:?}");
    // Oversized headers and URLs.
    let address = app.address.clone();
    let big_header =
        format!("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: {}\r\n\r\n", "a".repeat(100_000));
    let (answer, _) = actix_web::web::block(move || raw_exchange(&address, big_header.as_bytes(), b"")).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    for (length, expected) in [(10_000, "HTTP/1.1 414"), (100_000, "HTTP/1.1 4")] {
        let address = app.address.clone();
        let long_url =
            format!("GET /api/v1/plans?q={} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "a".repeat(length));
        let (answer, _) =
            actix_web::web::block(move || raw_exchange(&address, long_url.as_bytes(), b"")).await.unwrap();
        assert!(answer.starts_with(expected), "{length}: {answer}");
    }
    // A JSON body over the limit is refused as it arrives; a page over 200 is a 400.
    let res = app
        .post("/api/v1/organizations")
        .token(&admin)
        .raw("application/json", format!("{{\"code\":\"BIG\",\"name\":\"{}\"}}", "x".repeat(70_000)))
        .send()
        .await;
    res.problem(413, "payload_too_large");
    app.get("/api/v1/organizations?limit=201").token(&admin).send().await.problem(400, "validation_failed");
    // The service still answers.
    assert_eq!(app.get("/api/v1/me").token(&admin).send().await.status, 200);
}

#[actix_web::test]
async fn a_changed_role_takes_effect_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let (id, token) = app.person(&admin, org, "tchc", "coordinator").await;
    let plan = json!({"code": "KH-1", "year": 2021, "title": "Kế hoạch"});
    assert_eq!(app.post("/api/v1/plans").token(&token).json(plan.clone()).send().await.status, 201);
    let res = app.patch(&format!("/api/v1/users/{id}")).token(&admin).json(json!({"role": "viewer"})).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let mut again = plan.clone();
    again["code"] = json!("KH-2");
    app.post("/api/v1/plans").token(&token).json(again).send().await.problem(403, "forbidden");
    assert_eq!(app.get("/api/v1/me").token(&token).send().await.json()["role"], "viewer");
}

/// The postmaster's process id, from its pid file.
fn postmaster_pid(pg: &PrivatePostgres) -> String {
    std::fs::read_to_string(pg.data_dir().join("postmaster.pid")).unwrap().lines().next().unwrap().to_owned()
}

/// Stops the private server and removes its folder, even when the test fails.
struct Private {
    dir: std::path::PathBuf,
    pg: Option<PrivatePostgres>,
}

impl Drop for Private {
    fn drop(&mut self) {
        if let Some(pg) = self.pg.take() {
            pg.stop_immediately();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[actix_web::test]
async fn a_database_outage_is_a_quick_503_and_nothing_acknowledged_is_lost() {
    let dir = std::env::temp_dir().join(format!("cchc-outage-{}", uuid::Uuid::now_v7().simple()));
    let root = dir.join("postgres");
    let pg = PrivatePostgres::start(&root, None, None).expect("a private PostgreSQL");
    let mut private = Private { dir: dir.clone(), pg: Some(pg) };
    let url = private.pg.as_ref().unwrap().url("outage");
    let mut conn = PgConnection::establish(&private.pg.as_ref().unwrap().url("postgres")).unwrap();
    sql_query("CREATE DATABASE outage").execute(&mut conn).unwrap();
    drop(conn);
    let mut settings = test_settings();
    settings.data_dir = dir.join("data");
    settings.db_timeout = Duration::from_millis(1000);
    settings.db_pool_size = 8;
    let app = Application::build(settings, &url).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    let client = awc::Client::builder().timeout(Duration::from_secs(30)).finish();
    let mut res = client
        .post(format!("{base}/api/v1/auth/token"))
        .send_json(&json!({"grant_type": "password", "username": ADMIN, "password": ADMIN_PASSWORD}))
        .await
        .unwrap();
    let token = res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();

    // 200 creations, eight at a time; each acknowledged with a 201.
    let mut acknowledged = 0;
    for batch in 0..25 {
        let mut pending = Vec::new();
        for i in 0..8 {
            let req = client
                .post(format!("{base}/api/v1/organizations"))
                .bearer_auth(&token)
                .send_json(&json!({"code": format!("ORG-{batch}-{i}"), "name": format!("Tổ chức {batch}-{i}")}));
            pending.push(actix_web::rt::spawn(req));
        }
        for p in pending {
            if p.await.unwrap().is_ok_and(|r| r.status().as_u16() == 201) {
                acknowledged += 1;
            }
        }
    }
    assert_eq!(acknowledged, 200);

    // PostgreSQL is killed outright.
    let pid = postmaster_pid(private.pg.as_ref().unwrap());
    assert!(std::process::Command::new("kill").args(["-9", &pid]).status().unwrap().success());
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let mut res = client.get(format!("{base}/api/v1/organizations")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 503);
    assert!(started.elapsed() < Duration::from_secs(5), "answered within the pool timeout: {:?}", started.elapsed());
    assert_eq!(res.headers().get("content-type").unwrap(), "application/problem+json");
    assert!(res.headers().contains_key("retry-after"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "database_unavailable");
    assert_eq!(client.get(format!("{base}/readyz")).send().await.unwrap().status().as_u16(), 503);
    assert_eq!(client.get(format!("{base}/healthz")).send().await.unwrap().status().as_u16(), 200);

    // It comes back (crash recovery), and so does the service, by itself.
    drop(private.pg.take()); // the killed server's handle; its folder stays
    let pg = PrivatePostgres::start(&root, None, None).expect("PostgreSQL restarts after the crash");
    private.pg = Some(pg);
    let deadline = Instant::now() + Duration::from_secs(30);
    let count = loop {
        let mut res =
            client.get(format!("{base}/api/v1/organizations?limit=1")).bearer_auth(&token).send().await.unwrap();
        if res.status().as_u16() == 200 {
            let _ = res.body().await;
            break client_count(&client, &base, &token).await;
        }
        assert!(Instant::now() < deadline, "the service did not recover");
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(count, 200, "every acknowledged creation survived");
    assert_eq!(client.get(format!("{base}/readyz")).send().await.unwrap().status().as_u16(), 200);
}

/// The organisations created by the outage test, walking every page.
async fn client_count(client: &awc::Client, base: &str, token: &str) -> usize {
    let mut count = 0;
    let mut url = format!("{base}/api/v1/organizations?limit=100");
    loop {
        let mut res = client.get(&url).bearer_auth(token).send().await.unwrap();
        let page: Value = res.json().limit(10 * 1024 * 1024).await.unwrap();
        count += page["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["code"].as_str().unwrap().starts_with("ORG-"))
            .count();
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("{base}/api/v1/organizations?limit=100&cursor={c}"),
            None => return count,
        }
    }
}

#[actix_web::test]
async fn two_instances_on_one_database_behave_as_one_service() {
    let app = TestApp::spawn().await;
    let second = app.start_another().await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;

    // An idempotency key used on one is honoured by the other.
    let body = json!({"code": "TCHC", "name": "Phòng Tổ chức - Hành chính", "organization_id": org});
    let first = app
        .post("/api/v1/departments")
        .token(&admin)
        .header("Idempotency-Key", "dept-1")
        .json(body.clone())
        .send()
        .await;
    assert_eq!(first.status, 201);
    let again = app
        .at(&second)
        .post("/api/v1/departments")
        .token(&admin)
        .header("Idempotency-Key", "dept-1")
        .json(body)
        .send()
        .await;
    assert_eq!((again.status, again.header("idempotency-replayed").as_deref()), (201, Some("true")));
    assert_eq!(again.json()["id"], first.json()["id"]);
    let dept = first.json()["id"].as_str().unwrap().to_owned();

    // A sign-in lockout earned on one holds on the other.
    app.staff(&admin, org, &dept, "locked", "member").await;
    for _ in 0..MAX_FAILURES.parse::<usize>().unwrap() {
        let res = app
            .post("/api/v1/auth/token")
            .json(json!({"grant_type": "password", "username": "locked", "password": "wrong password here"}))
            .send()
            .await;
        assert!(matches!(res.status, 400 | 429));
    }
    let res = app
        .at(&second)
        .post("/api/v1/auth/token")
        .json(json!({"grant_type": "password", "username": "locked", "password": PASSWORD}))
        .send()
        .await;
    res.token_error(429, "temporarily_unavailable", "login_locked");

    // Evidence uploaded through one downloads through the other (a shared store).
    let plan = app
        .post("/api/v1/plans")
        .token(&admin)
        .json(json!({"code": "KH", "year": 2021, "title": "Kế hoạch", "organization_id": org}))
        .send()
        .await
        .id();
    let item = app
        .post(&format!("/api/v1/plans/{plan}/items"))
        .token(&admin)
        .json(json!({"reference": "I", "kind": "task", "title": "Phổ biến"}))
        .send()
        .await
        .id();
    let activity = app
        .post("/api/v1/activities")
        .token(&admin)
        .json(json!({"title": "Họp", "plan_item_ids": [item], "department_id": dept, "channel": "meeting", "audience": "staff",
            "held_from": "2021-04-12T08:00:00+07:00"}))
        .send()
        .await
        .id();
    let pdf: &[u8] = include_bytes!("../fixtures/minutes.pdf");
    let (ct, form) = multipart(&[("file", Some("biên bản.pdf"), pdf)]);
    let uploaded =
        app.post(&format!("/api/v1/activities/{activity}/evidence")).token(&admin).raw(&ct, form).send().await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text());
    let evidence = uploaded.json()["items"][0]["id"].as_str().unwrap().to_owned();
    let download = app.at(&second).get(&format!("/api/v1/evidence/{evidence}/content")).token(&admin).send().await;
    assert_eq!(download.status, 200);
    assert_eq!(download.body, pdf);
}

#[actix_web::test]
async fn sigterm_lets_requests_in_flight_finish_and_exits_cleanly() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let rows = 40_000;
    app.bulk_feedback(org, rows, 40).await;
    // The real binary, on the same database, on a port of its own.
    let mut binary = app.start_binary(&[("CCHC_WORKERS", "2"), ("CCHC_SHUTDOWN_GRACE_SECONDS", "30")]).await;
    let (port, base) = (binary.port, binary.base.clone());
    // A long export is under way when SIGTERM arrives…
    let pid = binary.child.id().to_string();
    let mut signalled = None;
    let mut lines = 0u64;
    let (status, _) = app
        .at(&base)
        .get("/api/v1/exports/feedback?format=ndjson")
        .token(&admin)
        .stream(|chunk| {
            lines += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
            if signalled.is_none() && lines > 1000 {
                assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
                signalled = Some(Instant::now());
                // …new connections are refused meanwhile.
                std::thread::sleep(Duration::from_millis(300));
                assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "a new connection after SIGTERM");
            }
        })
        .await;
    assert!(signalled.is_some(), "the export was still running");
    assert_eq!((status, lines), (200, rows), "the request in flight finished whole");
    // …and the process exits 0 within the grace period.
    let deadline = Instant::now() + Duration::from_secs(35);
    let code = loop {
        if let Some(code) = binary.child.try_wait().unwrap() {
            break code;
        }
        assert!(Instant::now() < deadline, "still running after the grace period");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(code.success(), "{code:?}");
}

/// Every GET with query parameters in the document, each parameter given a NUL byte and
/// then bytes that are not UTF-8: a 400 naming the parameter, never a 500.
#[actix_web::test]
async fn a_nul_or_invalid_utf8_in_any_query_parameter_is_a_400_naming_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let doc: Value = serde_json::from_str(&cchc_outreach::openapi::document_json()).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        let params: Vec<Value> =
            op["parameters"].as_array().into_iter().flatten().map(|p| resolved(&doc, p).clone()).collect();
        let concrete = params.iter().filter(|p| p["in"] == "path").fold(path.clone(), |path, p| {
            let name = p["name"].as_str().unwrap();
            let value = match name {
                "code" => "KDPM".to_owned(),
                "period" => "2021-Q1".to_owned(),
                "kind" => "receipt".to_owned(),
                "channel" => "sms".to_owned(),
                "format" => "json".to_owned(),
                _ => uuid::Uuid::now_v7().to_string(),
            };
            path.replace(&format!("{{{name}}}"), &value)
        });
        for param in params.iter().filter(|p| p["in"] == "query") {
            let name = param["name"].as_str().unwrap();
            for (bytes, code) in [("a%00b", "nul_character"), ("%C3%28", "invalid_utf8"), ("%FF", "invalid_utf8")] {
                let res = app.get(&format!("{concrete}?{name}={bytes}")).token(&admin).send().await;
                if path.starts_with("/open311/") {
                    // Open311's own errors: one per field, named.
                    assert_eq!(res.status, 400, "GET {path}?{name}={bytes}: {}", res.text());
                    let named = res.json().as_array().unwrap().iter().any(|e| {
                        e["code"] == 400 && e["description"].as_str().unwrap().starts_with(&format!("{name}: "))
                    });
                    assert!(named, "GET {path}?{name}={bytes}: {}", res.text());
                    checked += 1;
                    continue;
                }
                res.problem(400, "validation_failed");
                assert!(
                    res.field_errors().contains(&(name.to_owned(), code.to_owned())),
                    "GET {path}?{name}={bytes}: {}",
                    res.text()
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "{checked}");
    // A bad parameter name is refused too, and the list still works afterwards.
    app.get("/api/v1/feedback?q%00=x").token(&admin).send().await.problem(400, "validation_failed");
    assert_eq!(app.get("/api/v1/feedback?q=a+b").token(&admin).send().await.status, 200);
}

/// Not trusting `X-Forwarded-For` (the default): a caller cannot escape the public limit
/// by changing it, and the audit trail keeps the real address.
#[actix_web::test]
async fn an_untrusted_forwarded_for_changes_neither_the_limit_nor_the_audit_address() {
    let mut settings = test_settings();
    settings.public_rate_limit = 3;
    settings.trust_forwarded_for = false;
    let app = TestApp::spawn_with(settings).await;
    for i in 0..3 {
        app.get("/api/v1/public/feedback/PAKN-2021-000001")
            .header("X-Forwarded-For", &format!("203.0.113.{i}"))
            .send()
            .await
            .problem(404, "not_found");
    }
    app.get("/api/v1/public/feedback/PAKN-2021-000001")
        .header("X-Forwarded-For", "198.51.100.99")
        .send()
        .await
        .problem(429, "rate_limited");
    let admin = app.admin_token().await;
    let res = app
        .post("/api/v1/organizations")
        .token(&admin)
        .header("X-Forwarded-For", "198.51.100.7")
        .json(json!({"code": "KDPM", "name": "Ban"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let forged = app.sql_count("SELECT count(*) AS n FROM audit_events WHERE client_addr LIKE '198.51.100.%'");
    assert_eq!(forged, 0, "the audit address is the peer's, not the header's");
    assert!(app.sql_count("SELECT count(*) AS n FROM audit_events WHERE client_addr = '127.0.0.1'") >= 1);
}

/// The lock after repeated failed sign-ins ends after CCHC_LOGIN_LOCKOUT_SECONDS.
#[actix_web::test]
async fn a_sign_in_lock_ends_when_its_time_is_up() {
    let mut settings = test_settings();
    settings.login_lockout = Duration::from_secs(2);
    let app = TestApp::spawn_with(settings).await;
    let sign_in = |password: &str| {
        app.post("/api/v1/auth/token").json(json!({"grant_type": "password", "username": ADMIN, "password": password}))
    };
    for _ in 0..MAX_FAILURES.parse::<usize>().unwrap() {
        sign_in("wrong").send().await;
    }
    sign_in(ADMIN_PASSWORD).send().await.token_error(429, "temporarily_unavailable", "login_locked");
    std::thread::sleep(Duration::from_millis(2200));
    let res = sign_in(ADMIN_PASSWORD).send().await;
    assert_eq!(res.status, 200, "the lock is over: {}", res.text());
}

/// A token issued to a service client stops working the moment the client is
/// deactivated or deleted, though it has not expired.
#[actix_web::test]
async fn a_live_token_of_a_deactivated_or_deleted_client_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    for end in ["deactivate", "delete"] {
        let (id, token) = app.service_client(&admin, org, &["directory:read"]).await;
        assert_eq!(app.get("/api/v1/me").token(&token).send().await.status, 200);
        let res = match end {
            "deactivate" => {
                app.patch(&format!("/api/v1/service-clients/{id}"))
                    .token(&admin)
                    .json(json!({"active": false}))
                    .send()
                    .await
            }
            _ => app.delete(&format!("/api/v1/service-clients/{id}")).token(&admin).send().await,
        };
        assert!(res.status < 300, "{end}: {}", res.text());
        app.get("/api/v1/me").token(&token).send().await.problem(401, "invalid_token");
        app.get("/api/v1/departments").token(&token).send().await.problem(401, "invalid_token");
    }
}
