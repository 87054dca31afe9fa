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
        assert_eq!(codes, ["UBND-KH", "KDPM", "SO-NOI-VU"], "round {round}: the demo data and what was added are kept");
        // The demo plan is loaded once, into the empty database only.
        let mut res = client.get(format!("{base}/api/v1/plans")).bearer_auth(&token).send().await.unwrap();
        let plans: serde_json::Value = res.json().await.unwrap();
        assert_eq!(plans["items"].as_array().unwrap().len(), 1, "round {round}");
        assert_eq!(plans["items"][0]["code"], "KH-TTCCHC-2021");

        handle.stop(true).await;
        cleanup.pg.take().expect("started here").stop();
    }
}
