//! `TestApp`: a real server on a random port over its own PostgreSQL database, cloned
//! from a migrated template and dropped when the test ends, so tests run in parallel.
//!
//! With `DATABASE_URL` set the databases are made on that server; otherwise one private
//! server is started for the whole test run (the same mechanism the service uses) and
//! stopped when the run ends.
use std::{
    path::PathBuf,
    sync::{Mutex, OnceLock},
    time::Duration,
};

use actix_web::http::{Method, header::HeaderMap};
use cchc_outreach::{
    config::{ExternalIdpSettings, Settings},
    pgserver::PrivatePostgres,
    startup::Application,
};
use diesel::{Connection, PgConnection, RunQueryDsl, sql_query};
use serde_json::{Value, json};
use uuid::Uuid;

pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
pub const PASSWORD: &str = "password-for-tests";
pub const MAX_FAILURES: &str = "3";

struct Server {
    /// `(base URL without database, query string)`.
    base: String,
    query: String,
    template: String,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static PRIVATE: Mutex<Option<PrivatePostgres>> = Mutex::new(None);
static PRIVATE_DIR: OnceLock<PathBuf> = OnceLock::new();

extern "C" fn stop_private_server() {
    if let Ok(mut guard) = PRIVATE.lock()
        && let Some(pg) = guard.take()
    {
        pg.stop_immediately();
    }
    if let Some(dir) = PRIVATE_DIR.get() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Splits `postgres://host/db?x=y` into `postgres://host/` and `?x=y`.
fn split_url(url: &str) -> (String, String) {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h.to_owned(), format!("?{q}")),
        None => (url.to_owned(), String::new()),
    };
    let scheme_end = head.find("://").map_or(0, |i| i + 3);
    let base = match head[scheme_end..].find('/') {
        Some(slash) => head[..scheme_end + slash + 1].to_owned(),
        None => format!("{head}/"),
    };
    (base, query)
}

fn server() -> &'static Server {
    SERVER.get_or_init(|| {
        let url = match std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            Some(url) => url,
            None => {
                let dir = std::env::temp_dir().join(format!("cchc-test-{}", std::process::id()));
                let pg = PrivatePostgres::start(&dir, None, None).expect("start a private PostgreSQL for the tests");
                let url = pg.url("postgres");
                *PRIVATE.lock().unwrap() = Some(pg);
                PRIVATE_DIR.set(dir).ok();
                // SAFETY: registers a plain function to run at process exit.
                unsafe { nix::libc::atexit(stop_private_server) };
                url
            }
        };
        let (base, query) = split_url(&url);
        let template = format!("cchc_tpl_{}", env!("CCHC_MIGRATIONS_FINGERPRINT"));
        let mut conn = PgConnection::establish(&format!("{base}postgres{query}")).expect("connect to PostgreSQL");
        // One test process at a time builds the template; the others wait and reuse it.
        sql_query("SELECT pg_advisory_lock(7365001)").execute(&mut conn).unwrap();
        let exists: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
            "(SELECT count(*) FROM pg_database WHERE datname = '{template}')"
        )))
        .get_result(&mut conn)
        .unwrap();
        if exists == 0 {
            let building = format!("{template}_building");
            sql_query(format!("DROP DATABASE IF EXISTS {building}")).execute(&mut conn).unwrap();
            sql_query(format!("CREATE DATABASE {building}")).execute(&mut conn).unwrap();
            cchc_outreach::startup::migrate(&format!("{base}{building}{query}")).expect("migrate the template");
            sql_query(format!("ALTER DATABASE {building} RENAME TO {template}")).execute(&mut conn).unwrap();
        }
        sql_query("SELECT pg_advisory_unlock(7365001)").execute(&mut conn).unwrap();
        Server { base, query, template }
    })
}

pub struct TestApp {
    pub address: String,
    pub database: String,
    pub database_url: String,
    pub settings: Settings,
    client: awc::Client,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.settings.data_dir);
        let s = server();
        if let Ok(mut conn) = PgConnection::establish(&format!("{}postgres{}", s.base, s.query)) {
            let _ = sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database)).execute(&mut conn);
        }
    }
}

/// Settings for a test: a fresh key, a known administrator password, a port of its own.
pub fn test_settings() -> Settings {
    let secret = format!("test-secret-{}", Uuid::now_v7().simple());
    let values = [
        ("CCHC_BIND", "127.0.0.1:0".to_owned()),
        ("CCHC_WORKERS", "1".to_owned()),
        ("CCHC_DB_POOL_SIZE", "4".to_owned()),
        ("CCHC_DB_TIMEOUT_MS", "2000".to_owned()),
        ("CCHC_JWT_SECRET", secret),
        ("CCHC_ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
        ("CCHC_LOGIN_MAX_FAILURES", MAX_FAILURES.to_owned()),
        ("CCHC_MAX_JSON_BYTES", "65536".to_owned()),
        (
            "CCHC_DATA_DIR",
            std::env::temp_dir().join(format!("cchc-test-data-{}", Uuid::now_v7().simple())).display().to_string(),
        ),
    ];
    Settings::from_lookup(|key| values.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone())).unwrap()
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(test_settings()).await
    }

    pub async fn spawn_with_idp(idp: ExternalIdpSettings) -> Self {
        let mut settings = test_settings();
        settings.external_idp = Some(idp);
        Self::spawn_with(settings).await
    }

    pub async fn spawn_with(mut settings: Settings) -> Self {
        let s = server();
        let database = format!("cchc_t_{}", Uuid::now_v7().simple());
        let create = format!("CREATE DATABASE {database} TEMPLATE {}", s.template);
        let maintenance = format!("{}postgres{}", s.base, s.query);
        actix_web::web::block(move || {
            let mut conn = PgConnection::establish(&maintenance).unwrap();
            // Concurrent clones of one template can collide briefly; retry.
            for attempt in 0..20 {
                match sql_query(&create).execute(&mut conn) {
                    Ok(_) => return,
                    Err(e) if attempt < 19 && e.to_string().contains("being accessed by other users") => {
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    Err(e) => panic!("cannot create the test database: {e}"),
                }
            }
        })
        .await
        .unwrap();
        let database_url = format!("{}{database}{}", s.base, s.query);
        settings.database_url = Some(database_url.clone());
        let app = Application::build(settings.clone(), &database_url).await.expect("the application builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        actix_web::rt::spawn(app.run_until_stopped());
        let client = awc::Client::builder().timeout(Duration::from_secs(30)).disable_redirects().finish();
        Self { address, database, database_url, settings, client }
    }

    /// Starts a second instance of the service on the same database and settings (as a
    /// restart or a second replica would); returns its base URL.
    pub async fn start_another(&self) -> String {
        let app = Application::build(self.settings.clone(), &self.database_url).await.expect("the application builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        actix_web::rt::spawn(app.run_until_stopped());
        address
    }

    /// Starts the real binary on this test's database and signing key, on a port of its
    /// own, with `env` added; returns once it is ready.
    pub async fn start_binary(&self, env: &[(&str, &str)]) -> Binary {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let data_dir = self.settings.data_dir.join(format!("binary-{port}"));
        let secret = self.settings.jwt.secret.as_ref().unwrap().expose().to_owned();
        let mut all = vec![("CCHC_JWT_SECRET", secret.as_str())];
        all.extend_from_slice(env);
        self.start_binary_in(port, &data_dir, &all).await
    }

    /// The real binary on `port` with `data_dir` and only `env` beside the database:
    /// without `CCHC_JWT_SECRET` in it, the binary uses the key in its data directory.
    pub async fn start_binary_in(&self, port: u16, data_dir: &std::path::Path, env: &[(&str, &str)]) -> Binary {
        let child = self
            .binary_command()
            .env("CCHC_BIND", format!("127.0.0.1:{port}"))
            .env("CCHC_DATA_DIR", data_dir)
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let binary = Binary { child, port, base: format!("http://127.0.0.1:{port}") };
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while self.at(&binary.base).get("/readyz").try_send().await.is_none_or(|r| r.status != 200) {
            assert!(std::time::Instant::now() < deadline, "the binary did not start");
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        binary
    }

    /// The service's binary on this test's database, with nothing else set but quiet logs.
    pub fn binary_command(&self) -> std::process::Command {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cchc-outreach"));
        command.env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default());
        command.env("DATABASE_URL", &self.database_url).env("CCHC_LOG", "warn");
        command
    }

    /// Calls to another instance of the service at `base`, with this test's client.
    pub fn at(&self, base: &str) -> Remote<'_> {
        Remote { client: &self.client, base: base.to_owned() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn call(&self, method: Method, path: &str) -> Call {
        Call { req: self.client.request(method, self.url(path)), body: None }
    }

    pub fn get(&self, path: &str) -> Call {
        self.call(Method::GET, path)
    }
    pub fn post(&self, path: &str) -> Call {
        self.call(Method::POST, path)
    }
    pub fn patch(&self, path: &str) -> Call {
        self.call(Method::PATCH, path)
    }
    pub fn put(&self, path: &str) -> Call {
        self.call(Method::PUT, path)
    }

    pub fn delete(&self, path: &str) -> Call {
        self.call(Method::DELETE, path)
    }

    /// A password-grant token.
    pub async fn token(&self, username: &str, password: &str) -> String {
        let res = self
            .post("/api/v1/auth/token")
            .json(json!({"grant_type": "password", "username": username, "password": password}))
            .send()
            .await;
        assert_eq!(res.status, 200, "sign-in of {username} failed: {}", res.text());
        res.json()["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn admin_token(&self) -> String {
        self.token(ADMIN, ADMIN_PASSWORD).await
    }

    /// Creates an organisation (as the administrator) and returns its id.
    pub async fn organization(&self, admin: &str, code: &str) -> Uuid {
        let res = self
            .post("/api/v1/organizations")
            .token(admin)
            .json(json!({"code": code, "name": format!("Tổ chức {code}")}))
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        res.id()
    }

    /// Sets how `org` counts its reporting periods (`calendar` or `decree_09`).
    pub async fn count_periods(&self, admin: &str, org: Uuid, counting: &str) {
        let res = self
            .patch(&format!("/api/v1/organizations/{org}"))
            .token(admin)
            .json(json!({"reporting_periods": counting}))
            .send()
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        assert_eq!(res.json()["reporting_periods"], counting);
    }

    /// Creates a department of `org` with `code` (also its name); returns its id.
    pub async fn department(&self, admin: &str, org: Uuid, code: &str) -> String {
        let res = self
            .post("/api/v1/departments")
            .token(admin)
            .json(json!({"code": code, "name": code, "organization_id": org}))
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        res.json()["id"].as_str().unwrap().to_owned()
    }

    /// Creates a person in `org` and returns `(id, token)`.
    pub async fn person(&self, admin: &str, org: Uuid, username: &str, role: &str) -> (Uuid, String) {
        let res = self
            .post("/api/v1/users")
            .token(admin)
            .json(json!({"username": username, "full_name": format!("Người dùng {username}"), "role": role,
                "password": PASSWORD, "organization_id": org}))
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        (res.id(), self.token(username, PASSWORD).await)
    }

    /// Creates a person of `org` in `department` with `role`; returns `(id, token)`.
    pub async fn staff(
        &self,
        admin: &str,
        org: Uuid,
        department: &str,
        username: &str,
        role: &str,
    ) -> (String, String) {
        let res = self
            .post("/api/v1/users")
            .token(admin)
            .json(json!({"username": username, "full_name": format!("Cán bộ {username}"), "role": role,
                "password": PASSWORD, "organization_id": org, "department_id": department}))
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        (res.json()["id"].as_str().unwrap().to_owned(), self.token(username, PASSWORD).await)
    }

    /// Creates a service client of `org` with `scopes`; returns `(id, token)`.
    pub async fn service_client(&self, admin: &str, org: Uuid, scopes: &[&str]) -> (String, String) {
        let (id, secret) = self.service_client_secret(admin, org, scopes).await;
        let res = self
            .post("/api/v1/auth/token")
            .json(json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret}))
            .send()
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        (id, res.json()["access_token"].as_str().unwrap().to_owned())
    }

    /// Creates a service client of `org` with `scopes`; returns `(id, secret)`.
    pub async fn service_client_secret(&self, admin: &str, org: Uuid, scopes: &[&str]) -> (String, String) {
        let created = self
            .post("/api/v1/service-clients")
            .token(admin)
            .json(json!({"name": format!("Hệ thống {}", scopes.join(" ")), "scopes": scopes, "organization_id": org}))
            .send()
            .await;
        assert_eq!(created.status, 201, "{}", created.text());
        let created = created.json();
        (created["id"].as_str().unwrap().to_owned(), created["client_secret"].as_str().unwrap().to_owned())
    }

    /// Runs SQL against this test's database (for checks the API cannot make).
    pub fn sql_count(&self, query: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = PgConnection::establish(&self.database_url).unwrap();
        sql_query(query).get_result::<Count>(&mut conn).unwrap().n
    }

    /// Runs SQL in this test's database.
    pub fn sql(&self, query: &str) {
        let mut conn = PgConnection::establish(&self.database_url).unwrap();
        sql_query(query).execute(&mut conn).unwrap();
    }

    /// Runs slow SQL in this test's database off the test's thread, so the client's
    /// connections stay served meanwhile.
    pub async fn sql_slow(&self, query: String) {
        let url = self.database_url.clone();
        actix_web::web::block(move || {
            let mut conn = PgConnection::establish(&url).unwrap();
            sql_query(query).execute(&mut conn).unwrap();
        })
        .await
        .unwrap();
    }

    /// Files `rows` anonymous hotline records of 2021 straight into the database, each
    /// with `repeats` sentences of content (some 24 bytes each): data for streaming tests.
    pub async fn bulk_feedback(&self, org: Uuid, rows: u64, repeats: u32) {
        self.sql_slow(format!(
            "INSERT INTO feedback (id, organization_id, code, received_at, channel, kind, sender_type, anonymous, subject, content, deadline_on)
             SELECT gen_random_uuid(), '{org}', 'PAKN-2021-' || lpad(n::text, 6, '0'), '2021-05-01T00:00:00Z', 'hotline', 'feedback',
                    'citizen', true, 'Phản ánh số ' || n, repeat('Nội dung phản ánh dài. ', {repeats}), '2021-05-15'
             FROM generate_series(1, {rows}) AS n"
        ))
        .await;
    }

    /// Runs SQL on the server's maintenance database (for what cannot run inside the
    /// test's own database, such as refusing connections to it).
    pub fn server_sql(&self, query: &str) {
        let s = server();
        let mut conn = PgConnection::establish(&format!("{}postgres{}", s.base, s.query)).unwrap();
        sql_query(query).execute(&mut conn).unwrap();
    }
}

/// A `multipart/form-data` body: `(field, file name, bytes)`; no file name for text
/// fields. Returns `(content type, body)`.
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----cchc-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(file) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Everything the service logs while the tests run, once `capture_logs` was called:
/// the same events a deployment writes, at debug level.
static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Sends the logs of every service in this test process to a buffer (from now on).
pub fn capture_logs() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
            .with_ansi(false)
            .with_writer(|| LogWriter)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other subscriber in the tests");
    });
}

/// The logs captured so far.
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap()).into_owned()
}

/// Another instance of the service (see `TestApp::at`).
pub struct Remote<'a> {
    client: &'a awc::Client,
    base: String,
}

impl Remote<'_> {
    pub fn get(&self, path: &str) -> Call {
        Call { req: self.client.get(format!("{}{path}", self.base)), body: None }
    }
    pub fn post(&self, path: &str) -> Call {
        Call { req: self.client.post(format!("{}{path}", self.base)), body: None }
    }
}

pub struct Call {
    req: awc::ClientRequest,
    body: Option<(String, Vec<u8>)>,
}

impl Call {
    pub fn token(self, token: &str) -> Self {
        self.header("Authorization", &format!("Bearer {token}"))
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.req = self.req.insert_header((name, value));
        self
    }

    pub fn json(self, body: Value) -> Self {
        self.raw("application/json", serde_json::to_vec(&body).unwrap())
    }

    pub fn raw(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some((content_type.to_owned(), body.into()));
        self
    }

    pub async fn send(self) -> TestResponse {
        let sent = match self.body {
            Some((ct, bytes)) => self.req.insert_header(("Content-Type", ct)).send_body(bytes).await,
            None => self.req.send().await,
        };
        let mut res = sent.expect("the request reaches the server");
        let body = res.body().limit(64 * 1024 * 1024).await.expect("a readable body").to_vec();
        TestResponse { status: res.status().as_u16(), headers: res.headers().clone(), body }
    }

    /// Like `send`, but `None` when the server cannot be reached.
    pub async fn try_send(self) -> Option<TestResponse> {
        let sent = match self.body {
            Some((ct, bytes)) => self.req.insert_header(("Content-Type", ct)).send_body(bytes).await,
            None => self.req.send().await,
        };
        let mut res = sent.ok()?;
        let body = res.body().limit(64 * 1024 * 1024).await.ok()?.to_vec();
        Some(TestResponse { status: res.status().as_u16(), headers: res.headers().clone(), body })
    }

    /// Sends a GET and reads the answer chunk by chunk as it arrives, handing each to
    /// `each` and keeping none; returns the status and the number of bytes.
    pub async fn stream(self, mut each: impl FnMut(&[u8])) -> (u16, u64) {
        use futures_util::StreamExt;
        let mut res = self.req.send().await.expect("the request reaches the server");
        let mut total = 0;
        while let Some(chunk) = res.next().await {
            let chunk = chunk.expect("the stream continues");
            total += chunk.len() as u64;
            each(&chunk);
        }
        (res.status().as_u16(), total)
    }
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_owned())
    }

    pub fn id(&self) -> Uuid {
        Uuid::parse_str(self.json()["id"].as_str().expect("an id")).unwrap()
    }

    /// Asserts an RFC 9457 problem with this status and code, and returns its body.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(self.header("content-type").as_deref(), Some("application/problem+json"), "{}", self.text());
        let body = self.json();
        assert_eq!(body["status"], status);
        assert_eq!(body["code"], code, "{body}");
        assert!(cchc_outreach::i18n::problem_codes().any(|c| c == code), "{code} is not in Problem.code's enum");
        assert!(body["type"].as_str().unwrap().starts_with("https://cchc.example/problems/"));
        assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()));
        assert_eq!(body["request_id"].as_str(), self.header("x-request-id").as_deref());
        body
    }

    /// An RFC 6749 §5.2 token error: `status`, the RFC's `error` with its description,
    /// and the problem members beside them, as `application/json`.
    pub fn token_error(&self, status: u16, error: &str, code: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(self.header("content-type").as_deref(), Some("application/json"), "{}", self.text());
        let body = self.json();
        assert_eq!(body["error"], error, "{body}");
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(body["status"], status);
        // RFC 6749 §5.2: printable ASCII but `"` and `\`.
        let description = body["error_description"].as_str().unwrap_or_default();
        assert!(
            !description.is_empty() && description.chars().all(|c| matches!(c, ' '..='~') && c != '"' && c != '\\'),
            "{body}"
        );
        assert_eq!(body["request_id"].as_str(), self.header("x-request-id").as_deref());
        body
    }

    /// The `field` → `code` pairs of a validation problem.
    pub fn field_errors(&self) -> Vec<(String, String)> {
        self.json()["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The service's binary running as a child process; killed when dropped.
pub struct Binary {
    pub child: std::process::Child,
    pub port: u16,
    pub base: String,
}

impl Binary {
    /// Its resident set size, in bytes.
    pub fn rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kb: u64 = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        kb * 1024
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `value`, or what its `$ref` points to in the OpenAPI document `doc`.
pub fn resolved<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str() {
        Some(pointer) => doc.pointer(pointer.trim_start_matches('#')).unwrap_or_else(|| panic!("{pointer} resolves")),
        None => value,
    }
}
