//! `DATABASE_REPLICA_URL`: reports, exports and the event feed read a real streaming
//! replica (made here with `pg_basebackup` from a private server), and a caller's own
//! writes stay visible to them while the replica lags.
use std::time::{Duration, Instant};

use cchc_outreach::{pgserver::PrivatePostgres, startup::Application};
use diesel::{Connection, PgConnection, RunQueryDsl, sql_query};
use serde_json::{Value, json};

use crate::helpers::{ADMIN, ADMIN_PASSWORD, PASSWORD, test_settings};

/// Stops both servers and removes their folders, even when the test fails.
struct Servers {
    dir: std::path::PathBuf,
    running: Vec<PrivatePostgres>,
}

impl Drop for Servers {
    fn drop(&mut self) {
        for pg in self.running.drain(..).rev() {
            pg.stop_immediately();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Client {
    http: awc::Client,
    base: String,
}

impl Client {
    async fn send(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, String) {
        let mut req = self.http.request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let mut res = match body {
            Some(body) => req.send_json(&body).await.unwrap(),
            None => req.send().await.unwrap(),
        };
        let bytes = res.body().limit(16 * 1024 * 1024).await.unwrap();
        (res.status().as_u16(), String::from_utf8_lossy(&bytes).into_owned())
    }

    async fn token(&self, username: &str, password: &str) -> String {
        let body = json!({"grant_type": "password", "username": username, "password": password});
        let (status, text) = self.send("POST", "/api/v1/auth/token", None, Some(body)).await;
        assert_eq!(status, 200, "{text}");
        serde_json::from_str::<Value>(&text).unwrap()["access_token"].as_str().unwrap().to_owned()
    }

    /// The subjects in the caller's NDJSON export of feedback.
    async fn exported(&self, token: &str) -> Vec<String> {
        let (status, text) = self.send("GET", "/api/v1/exports/feedback?format=ndjson", Some(token), None).await;
        assert_eq!(status, 200, "{text}");
        text.lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["subject"].as_str().unwrap().to_owned())
            .collect()
    }

    /// How many `feedback.received` events the caller's feed holds.
    async fn received_events(&self, token: &str) -> usize {
        let (status, text) = self.send("GET", "/api/v1/events?type=feedback.received", Some(token), None).await;
        assert_eq!(status, 200, "{text}");
        serde_json::from_str::<Value>(&text).unwrap()["items"].as_array().unwrap().len()
    }

    /// The records received this year in the caller's feedback statistics.
    async fn received_in_report(&self, token: &str) -> i64 {
        let year = chrono::Utc::now().format("%Y");
        let (status, text) =
            self.send("GET", &format!("/api/v1/reports/feedback?period={year}"), Some(token), None).await;
        assert_eq!(status, 200, "{text}");
        serde_json::from_str::<Value>(&text).unwrap()["total"]["received"].as_i64().unwrap()
    }
}

#[actix_web::test]
async fn lagging_reads_use_the_replica_and_a_callers_own_writes_stay_visible() {
    let dir = std::env::temp_dir().join(format!("cchc-replica-{}", uuid::Uuid::now_v7().simple()));
    let mut servers = Servers { dir: dir.clone(), running: Vec::new() };
    let primary = PrivatePostgres::start(&dir.join("primary"), None, None).expect("a private PostgreSQL");
    let mut conn = PgConnection::establish(&primary.url("postgres")).unwrap();
    sql_query("CREATE DATABASE replicated").execute(&mut conn).unwrap();
    drop(conn);
    let replica = primary.start_replica(&dir.join("replica")).expect("a streaming replica from pg_basebackup");
    let (primary_url, replica_url) = (primary.url("replicated"), replica.url("replicated"));
    servers.running.push(primary);
    servers.running.push(replica);

    let mut settings = test_settings();
    settings.data_dir = dir.join("data");
    settings.replica_url = Some(replica_url.clone());
    let app = Application::build(settings, &primary_url).await.unwrap();
    let client = Client {
        http: awc::Client::builder().timeout(Duration::from_secs(30)).finish(),
        base: format!("http://127.0.0.1:{}", app.port()),
    };
    actix_web::rt::spawn(app.run_until_stopped());
    let admin = client.token(ADMIN, ADMIN_PASSWORD).await;
    let (status, text) = client
        .send("POST", "/api/v1/organizations", Some(&admin), Some(json!({"code": "REPL", "name": "Ban thử bản sao"})))
        .await;
    assert_eq!(status, 201, "{text}");
    let org = serde_json::from_str::<Value>(&text).unwrap()["id"].as_str().unwrap().to_owned();
    let mut tokens = Vec::new();
    for username in ["writer", "reader"] {
        let body = json!({"username": username, "full_name": username, "role": "org_admin", "password": PASSWORD,
            "organization_id": org});
        let (status, text) = client.send("POST", "/api/v1/users", Some(&admin), Some(body)).await;
        assert_eq!(status, 201, "{text}");
        tokens.push(client.token(username, PASSWORD).await);
    }
    let (writer, reader) = (&tokens[0], &tokens[1]);
    let file = |subject: &'static str| {
        let client = &client;
        async move {
            let body = json!({"channel": "hotline", "kind": "question", "sender_type": "citizen",
                "sender_name": "Nguyễn Văn An", "sender_phone": "0912345678", "subject": subject, "content": "Nội dung"});
            let (status, text) = client.send("POST", "/api/v1/feedback", Some(writer), Some(body)).await;
            assert_eq!(status, 201, "{text}");
        }
    };

    file("Trước khi tạm dừng").await;
    // The replica catches up by itself; the reader, who wrote nothing, reads it there.
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.exported(reader).await.is_empty() {
        assert!(Instant::now() < deadline, "the replica never showed the first record");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }

    // The replica stops replaying: it lags behind whatever is written now.
    let mut standby = PgConnection::establish(&replica_url).unwrap();
    sql_query("SELECT pg_wal_replay_pause()").execute(&mut standby).unwrap();
    file("Sau khi tạm dừng").await;
    // The writer sees their own record in every lagging read (the primary answers them:
    // the replica has not replayed their write) ...
    assert_eq!(client.exported(writer).await, ["Trước khi tạm dừng", "Sau khi tạm dừng"]);
    assert_eq!(client.received_events(writer).await, 2);
    assert_eq!(client.received_in_report(writer).await, 2);
    // ... while the reader's reads come from the paused replica, without it.
    assert_eq!(client.exported(reader).await, ["Trước khi tạm dừng"]);
    assert_eq!(client.received_events(reader).await, 1);
    assert_eq!(client.received_in_report(reader).await, 1);
    // A feed of changes (`updated_since`) is a lagging read too.
    let since = "2000-01-01T00:00:00Z";
    let (status, _) = client
        .send("POST", "/api/v1/departments", Some(writer), Some(json!({"code": "TCHC", "name": "Phòng TCHC"})))
        .await;
    assert_eq!(status, 201);
    let departments = |token: &str| {
        let (client, token) = (&client, token.to_owned());
        async move {
            let path = format!("/api/v1/departments?updated_since={since}");
            let (status, text) = client.send("GET", &path, Some(&token), None).await;
            assert_eq!(status, 200, "{text}");
            serde_json::from_str::<Value>(&text).unwrap()["items"].as_array().unwrap().len()
        }
    };
    assert_eq!((departments(writer).await, departments(reader).await), (1, 0));
    // Reads that need the latest state are the primary's for everyone.
    let (status, text) = client.send("GET", "/api/v1/feedback", Some(reader), None).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["items"].as_array().unwrap().len(), 2);

    // Replaying again, the replica catches up and the reader sees both.
    sql_query("SELECT pg_wal_replay_resume()").execute(&mut standby).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.exported(reader).await.len() < 2 {
        assert!(Instant::now() < deadline, "the replica never caught up");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }

    // A replica that is gone: lagging reads go to the primary.
    servers.running.pop().unwrap().stop_immediately();
    assert_eq!(client.exported(reader).await.len(), 2);
    assert_eq!(client.received_in_report(reader).await, 2);
    drop(servers);
}
