//! The service's own database when no `DATABASE_URL` is given: a private PostgreSQL
//! under the data directory that keeps its data across restarts.
use cchc_outreach::{
    pgserver::PrivatePostgres,
    startup::{self, Application},
};
use serde_json::json;

use crate::helpers::{ADMIN, ADMIN_PASSWORD, test_settings};

/// Stops the server and removes the folder, even when the test fails.
struct Cleanup {
    dir: std::path::PathBuf,
    pg: Option<PrivatePostgres>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(pg) = self.pg.take() {
            pg.stop_immediately();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[actix_web::test]
async fn without_database_url_the_service_runs_its_own_postgres_and_keeps_the_data() {
    let dir = std::env::temp_dir().join(format!("cchc-private-{}", uuid::Uuid::now_v7().simple()));
    let mut cleanup = Cleanup { dir: dir.clone(), pg: None };
    let mut settings = test_settings();
    settings.database_url = None;
    settings.data_dir = dir.clone();
    let client = awc::Client::default();

    for round in 0..2 {
        let (url, pg) = startup::database(&settings).expect("the private server starts");
        cleanup.pg = pg;
        assert!(dir.join("postgres/pgdata/PG_VERSION").exists());
        let app = Application::build(settings.clone(), &url).await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        let server = app.server();
        let handle = server.handle();
        actix_web::rt::spawn(server);

        let mut res = client
            .post(format!("{base}/api/v1/auth/token"))
            .send_json(&json!({"grant_type": "password", "username": ADMIN, "password": ADMIN_PASSWORD}))
            .await
            .unwrap();
        let token: serde_json::Value = res.json().await.unwrap();
        let token = token["access_token"].as_str().unwrap().to_owned();
        if round == 0 {
            let res = client
                .post(format!("{base}/api/v1/organizations"))
                .bearer_auth(&token)
                .send_json(&json!({"code": "SO-NOI-VU", "name": "Sở Nội vụ"}))
                .await
                .unwrap();
            assert_eq!(res.status(), 201);
        }
        let mut res = client.get(format!("{base}/api/v1/organizations")).bearer_auth(&token).send().await.unwrap();
        let orgs: serde_json::Value = res.json().await.unwrap();
        let codes: Vec<&str> = orgs["items"].as_array().unwrap().iter().map(|o| o["code"].as_str().unwrap()).collect();
        assert_eq!(
            codes,
            ["UBND-KH", "SXD", "UBND-NT", "KDPM", "SO-NOI-VU"],
            "round {round}: the demo data and what was added are kept"
        );
        // The demo plan is loaded once, into the empty database only.
        let mut res = client.get(format!("{base}/api/v1/plans")).bearer_auth(&token).send().await.unwrap();
        let plans: serde_json::Value = res.json().await.unwrap();
        assert_eq!(
            plans["items"].as_array().unwrap().len(),
            4,
            "round {round}: the province's, the Board's, two units'"
        );
        assert_eq!(plans["items"][1]["code"], "KH-TTCCHC-2021");
        // And the demo feedback: the README's public example answers without a token,
        // the categories and the 2021 holidays are there, each once.
        let mut res = client
            .get(format!("{base}/api/v1/public/feedback/PAKN-2021-000001?organization=KDPM"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "round {round}");
        let published: serde_json::Value = res.json().await.unwrap();
        assert!(published["summary"].as_str().is_some_and(|s| s.contains("sao lục")), "{published}");
        let mut res = client.get(format!("{base}/api/v1/public/organizations/KDPM/feedback")).send().await.unwrap();
        let listed: serde_json::Value = res.json().await.unwrap();
        assert_eq!(listed["items"].as_array().unwrap().len(), 3, "round {round}: {listed}");
        let mut res =
            client.get(format!("{base}/api/v1/feedback-categories")).bearer_auth(&token).send().await.unwrap();
        let categories: serde_json::Value = res.json().await.unwrap();
        assert_eq!(categories["items"].as_array().unwrap().len(), 3, "round {round}");
        // The 2021 holidays come from the national calendar, with nothing entered.
        let kdpm = orgs["items"][1]["id"].as_str().unwrap();
        let mut res = client
            .get(format!("{base}/api/v1/calendar?from=2021-01-01&to=2021-12-31&organization_id={kdpm}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let calendar: serde_json::Value = res.json().await.unwrap();
        let days: Vec<&str> =
            calendar["items"].as_array().unwrap().iter().map(|h| h["day"].as_str().unwrap()).collect();
        assert!(days.contains(&"2021-02-12") && days.contains(&"2021-09-03"), "{days:?}");

        handle.stop(true).await;
        cleanup.pg.take().expect("started here").stop();
    }
}

/// The real binary on its private PostgreSQL, killed at the end of the test.
struct Service {
    child: std::process::Child,
    log: std::path::PathBuf,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Service {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Waits until `/readyz` answers 200 and the postmaster is not `not`; its pid.
async fn ready(client: &awc::Client, base: &str, pg: &PrivatePostgres, not: Option<i32>, service: &Service) -> i32 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let up = client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status() == 200);
        if let Some(pid) = pg.postmaster_pid().filter(|pid| up && Some(*pid) != not) {
            return pid;
        }
        assert!(std::time::Instant::now() < deadline, "the service did not get ready: {}", service.log());
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn the_service_starts_its_private_postgres_again_after_a_crash() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("cchc-supervised-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    // The server may run as another account, which must reach its folder.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut cleanup = Cleanup { dir: dir.clone(), pg: None };
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log = dir.join("service.log");
    let service = Service {
        child: std::process::Command::new(env!("CARGO_BIN_EXE_cchc-outreach"))
            .env_remove("DATABASE_URL")
            .env("CCHC_DATA_DIR", &dir)
            .env("CCHC_BIND", format!("127.0.0.1:{port}"))
            .env("CCHC_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("CCHC_LOG", "info")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
        log,
    };
    let base = format!("http://127.0.0.1:{port}");
    let client = awc::Client::builder().timeout(std::time::Duration::from_secs(10)).finish();
    // Wait for the folder the service initialises, then look at the server it runs.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while client.get(format!("{base}/readyz")).send().await.map_or(true, |r| r.status() != 200) {
        assert!(std::time::Instant::now() < deadline, "the service did not start: {}", service.log());
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let pg = PrivatePostgres::start(&dir.join("postgres"), None, None).expect("the running server");
    cleanup.pg = Some(pg.clone());
    let first = ready(&client, &base, &pg, None, &service).await;

    let mut res = client
        .post(format!("{base}/api/v1/auth/token"))
        .send_json(&json!({"grant_type": "password", "username": ADMIN, "password": ADMIN_PASSWORD}))
        .await
        .unwrap();
    let token: serde_json::Value = res.json().await.unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let create = |code: &'static str| {
        client
            .post(format!("{base}/api/v1/organizations"))
            .bearer_auth(&token)
            .send_json(&json!({"code": code, "name": format!("Đơn vị {code}")}))
    };
    assert_eq!(create("TRUOC").await.unwrap().status(), 201);

    for round in 0..2 {
        // The postmaster dies; the service answers 503 for a moment, then serves again
        // on the restarted server, with nothing lost and without being restarted itself.
        let pid = pg.postmaster_pid().unwrap();
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL).unwrap();
        let started = std::time::Instant::now();
        let again = ready(&client, &base, &pg, Some(pid), &service).await;
        eprintln!("round {round}: postmaster {pid} killed, {again} serving after {:?}", started.elapsed());
        assert_ne!(again, first);
    }
    let mut res =
        client.get(format!("{base}/api/v1/organizations?code=TRUOC")).bearer_auth(&token).send().await.unwrap();
    let found: serde_json::Value = res.json().await.unwrap();
    assert_eq!(found["items"].as_array().unwrap().len(), 1, "committed before the crash, kept: {found}");
    assert_eq!(create("SAU").await.unwrap().status(), 201, "writes work again");
    assert!(service.log().contains("starting it again"), "{}", service.log());
    drop(service);
}
