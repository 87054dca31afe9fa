//! Start-up: the database (given, or a private one), migrations, keys, the first
//! administrator, and the HTTP server with every route, Swagger UI and the fallbacks.
use std::{fs, io::Write, net::TcpListener, os::unix::fs::OpenOptionsExt, path::Path, sync::Arc, time::Duration};

use actix_web::{
    App, HttpResponse, HttpServer,
    dev::Server,
    http::header,
    middleware::{Condition, from_fn},
    web,
};
use anyhow::Context;
use diesel::{Connection, PgConnection};
use utoipa_actix_web::{AppExt, scope};
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};
use uuid::Uuid;

use crate::{
    auth::{Role, jwt::Keys, password},
    config::Settings,
    db::{
        self,
        audit::{self, Actor, Event},
        users::{self, NewUser},
    },
    error::ApiError,
    http::{Conventions, context, pagination::CursorKey, problem, rate_limit, security},
    openapi,
    pgserver::PrivatePostgres,
    routes,
    state::AppState,
    storage::EvidenceStore,
};

const PRIVATE_DATABASE: &str = "cchc";

/// `serve`: run until stopped (Ctrl-C or SIGTERM), then stop the private database if
/// this process started it.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let (url, private) = database(&settings)?;
    let supervisor = private.as_ref().map(|pg| pg.supervise(Duration::from_secs(1)));
    let result = async {
        let app = Application::build(settings, &url).await?;
        tracing::info!("listening on http://{}  (Swagger UI: /swagger-ui/)", app.address());
        app.run_until_stopped().await.context("server failed")
    }
    .await;
    if let Some(supervisor) = supervisor {
        supervisor.stop();
    }
    if let Some(pg) = private {
        pg.stop();
    }
    result
}

/// `migrate`: apply pending migrations and exit.
pub fn migrate_only(settings: &Settings) -> anyhow::Result<()> {
    let (url, private) = database(settings)?;
    let result = migrate(&url);
    if let Some(pg) = private {
        pg.stop();
    }
    let applied = result?;
    tracing::info!("{applied} migration(s) applied");
    Ok(())
}

/// The database URL: `DATABASE_URL`, or a private server under the data directory.
pub fn database(settings: &Settings) -> anyhow::Result<(String, Option<PrivatePostgres>)> {
    if let Some(url) = &settings.database_url {
        return Ok((url.clone(), None));
    }
    let dir = settings.data_dir.join("postgres");
    tracing::info!("DATABASE_URL is not set: starting a private PostgreSQL in {}", dir.display());
    let pg = PrivatePostgres::start(&dir, settings.pg_bin_dir.as_deref(), settings.pg_user.as_deref())?;
    let mut conn = PgConnection::establish(&pg.url("postgres")).context("cannot connect to the private PostgreSQL")?;
    db::ensure_database(&mut conn, PRIVATE_DATABASE)?;
    Ok((pg.url(PRIVATE_DATABASE), Some(pg)))
}

/// Applies pending migrations, one instance at a time.
pub fn migrate(url: &str) -> anyhow::Result<usize> {
    let mut conn = PgConnection::establish(url).context("cannot connect to the database")?;
    db::migrate(&mut conn)
}

pub struct Application {
    server: Server,
    address: std::net::SocketAddr,
}

impl Application {
    /// Migrates, prepares keys and the first administrator, and binds (port 0 picks a
    /// free port, as the tests do).
    pub async fn build(settings: Settings, database_url: &str) -> anyhow::Result<Self> {
        let url = database_url.to_owned();
        let settings = Arc::new(settings);
        let prepared = {
            let settings = settings.clone();
            web::block(move || -> anyhow::Result<(Vec<u8>, String)> {
                migrate(&url)?;
                let secret = jwt_secret(&settings)?;
                bootstrap_admin(&url, &settings)?;
                if settings.demo_data.unwrap_or(settings.database_url.is_none()) {
                    load_demo_data(&url)?;
                }
                backfill_assignments(&url)?;
                Ok((secret, password::hash(&password::random_secret(16))))
            })
            .await??
        };
        let (secret, dummy_hash) = prepared;
        let keys = Keys::new(&secret, &settings.jwt, settings.external_idp.as_ref())?;
        // TLS to an S3 store goes through rustls with the ring provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let evidence = EvidenceStore::open(settings.storage_url.as_deref(), &settings.data_dir)?;
        fs::create_dir_all(settings.data_dir.join("tmp")).context("cannot create the upload folder")?;
        let pool = db::pool(database_url, settings.db_pool_size, settings.db_timeout);
        let mut client_limits =
            crate::http::rate_limit::ClientLimits::new(settings.rate_limit_per_token, settings.rate_limit_per_address);
        if let Some(url) = &settings.redis_url {
            let shared = crate::http::shared_limits::SharedLimits::connect(url)
                .await
                .context("CCHC_REDIS_URL is set, but Redis cannot be reached")?;
            client_limits = client_limits.shared(shared);
            tracing::info!("rate limits are shared by every instance through Redis");
        }
        let accounts = crate::auth::accounts::AccountCache::new();
        accounts.listen(database_url.to_owned());
        let replica = settings.replica_url.as_deref().map(|url| {
            tracing::info!("reports, exports and the event feed read from the replica when it has caught up");
            Arc::new(db::Replica::new(url, settings.db_pool_size, settings.db_timeout))
        });
        let state = web::Data::new(AppState {
            pool,
            replica,
            keys: Arc::new(keys),
            accounts,
            settings: settings.clone(),
            cursor_key: CursorKey::derive(&secret),
            pin_key: crate::auth::password::PinKey::derive(&secret),
            sender_key: crate::auth::password::SenderKey::derive(&secret),
            dummy_hash,
            clock: settings.clock.clone(),
            evidence,
            public_limiter: governor::RateLimiter::keyed(governor::Quota::per_minute(
                std::num::NonZeroU32::new(settings.public_rate_limit).expect("at least one request a minute"),
            )),
            client_limits: Arc::new(client_limits),
        });

        let api = openapi::build();
        let routes_table = web::Data::new(openapi::route_table(&api));
        let document = web::Data::new(OpenApiJson(openapi::document_json()));

        let listener = TcpListener::bind(&settings.bind).with_context(|| format!("cannot bind {}", settings.bind))?;
        let address = listener.local_addr()?;
        spawn_housekeeping(state.clone());
        spawn_sender_keys(state.clone());
        crate::jobs::Runner::new(state.pool.clone(), settings.clone())?.spawn();
        let workers = if settings.workers == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            settings.workers
        };
        let max_json = settings.max_json_bytes;
        let origins = settings.cors_origins.clone();
        // Each part the shared layers need, as its own app data (`http::part`).
        let conventions = web::Data::new(Conventions {
            max_json_bytes: settings.max_json_bytes,
            request_timeout: settings.request_timeout,
            trust_forwarded_for: settings.trust_forwarded_for,
            cursor_key: state.cursor_key.clone(),
        });
        let pool = web::Data::new(state.pool.clone());
        let keys = web::Data::from(state.keys.clone());
        let accounts = web::Data::from(state.accounts.clone());
        let replica = state.replica.clone().map(web::Data::from);
        let client_limits = web::Data::from(state.client_limits.clone());
        let metrics_state = state.clone();
        let server = HttpServer::new(move || {
            let (app, _) = App::new()
                .app_data(state.clone())
                .app_data(conventions.clone())
                .app_data(pool.clone())
                .app_data(keys.clone())
                .app_data(accounts.clone())
                .configure(|cfg| {
                    if let Some(replica) = &replica {
                        cfg.app_data(replica.clone());
                    }
                })
                .app_data(client_limits.clone())
                .app_data(routes_table.clone())
                .app_data(document.clone())
                .app_data(web::PathConfig::default().error_handler(|_, req| problem::path_error(req).into()))
                .app_data(web::PayloadConfig::new(max_json))
                .wrap(from_fn(crate::http::consistency::middleware))
                .wrap(from_fn(crate::http::oversight::middleware))
                .wrap(from_fn(rate_limit::middleware))
                .wrap(from_fn(problem::middleware))
                .wrap(from_fn(context::middleware))
                .wrap(from_fn(security::middleware))
                .wrap(Condition::new(!origins.is_empty(), security::cors(&origins)))
                .into_utoipa_app()
                .service(scope::scope("/api/v1").configure(routes::api))
                .service(scope::scope("/open311/v2").configure(routes::open311::routes))
                .configure(routes::root)
                .split_for_parts();
            app.route("/api-docs/openapi.json", web::get().to(serve_openapi))
                .service(
                    SwaggerUi::new("/swagger-ui/{_:.*}")
                        .config(SwaggerConfig::new(["/api-docs/openapi.json"]).persist_authorization(true)),
                )
                .route("/swagger-ui", web::get().to(to_swagger_ui))
                .route("/", web::get().to(to_swagger_ui))
                .default_service(web::to(problem::fallback))
        })
        .workers(workers)
        // A client gets this long to send its request line and headers (slow senders
        // are cut off); bodies have CCHC_REQUEST_TIMEOUT_SECONDS.
        .client_request_timeout(Duration::from_secs(5))
        .client_disconnect_timeout(Duration::from_secs(1))
        .shutdown_timeout(settings.shutdown_grace.as_secs())
        .listen(listener)?
        .run();
        if let Some(bind) = &settings.metrics_bind {
            // Only the metrics, without a token: for a private network's scraper.
            let state = metrics_state;
            let metrics = HttpServer::new(move || {
                App::new().app_data(state.clone()).route(
                    "/metrics",
                    web::get().to(|state: web::Data<AppState>| async move {
                        routes::health::render_metrics(&state).await.map_err(actix_web::Error::from)
                    }),
                )
            })
            .workers(1)
            .disable_signals()
            .bind(bind)
            .with_context(|| format!("CCHC_METRICS_BIND: cannot listen on {bind}"))?
            .run();
            tracing::info!("metrics on http://{bind}/metrics");
            actix_web::rt::spawn(metrics);
        }
        Ok(Self { server, address })
    }

    pub fn address(&self) -> std::net::SocketAddr {
        self.address
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    pub fn server(self) -> Server {
        self.server
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

struct OpenApiJson(String);

async fn serve_openapi(doc: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(doc.0.clone())
}

async fn to_swagger_ui() -> HttpResponse {
    HttpResponse::Found().insert_header((header::LOCATION, "/swagger-ui/")).finish()
}

/// Once, at start: keys the senders of records filed before senders were keyed
/// (`feedback_sender_keys`), a batch at a time; several instances doing it at once only
/// insert the same keys twice, which is ignored.
fn spawn_sender_keys(state: web::Data<AppState>) {
    actix_web::rt::spawn(async move {
        let mut after = uuid::Uuid::nil();
        loop {
            let key = state.sender_key.clone();
            let batch = db::run(&state.pool, move |conn| {
                let found = db::triage::unkeyed(conn, after, 2000)?;
                // One statement a batch: a commit per record held this to about a
                // thousand records a second (ten million took hours after an upgrade).
                let keyed: Vec<_> = found
                    .iter()
                    .map(|s| {
                        (
                            s.feedback_id,
                            s.organization_id,
                            key.keys(s.organization_id, s.phone.as_deref(), s.email.as_deref()),
                        )
                    })
                    .collect();
                db::triage::set_many_sender_keys(conn, &keyed)?;
                Ok(found.last().map(|s| s.feedback_id))
            })
            .await;
            match batch {
                Ok(Some(last)) => after = last,
                Ok(None) => break,
                Err(err) => {
                    tracing::warn!("keying earlier senders failed (tried again at the next start): {err}");
                    break;
                }
            }
        }
    });
}

/// Hourly: forgets idempotency keys past their 24 hours and events past
/// `CCHC_EVENT_RETENTION_DAYS`, and removes evidence objects that no row refers to and
/// that are more than a day old (an upload whose row was never committed).
fn spawn_housekeeping(state: web::Data<AppState>) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            state.client_limits.forget_idle();
            state.public_limiter.retain_recent();
            if let Err(err) = db::run(&state.pool, |conn| Ok(db::idempotency::purge_expired(conn)?)).await {
                tracing::warn!("idempotency key purge failed: {err}");
            }
            let days = state.settings.event_retention_days;
            match db::run(&state.pool, move |conn| Ok(db::events::purge_older_than(conn, days)?)).await {
                Ok(0) => {}
                Ok(n) => tracing::info!("forgot {n} event(s) older than {days} days"),
                Err(err) => tracing::warn!("event purge failed: {err}"),
            }
            match sweep_evidence(&state.evidence, &state.pool, chrono::Utc::now() - chrono::Duration::days(1)).await {
                Ok(0) => {}
                Ok(n) => tracing::info!("removed {n} evidence object(s) that no record refers to"),
                Err(err) => tracing::warn!("evidence sweep failed: {err}"),
            }
        }
    });
}

/// Deletes stored objects older than `before` that no evidence or attachment row refers to.
pub async fn sweep_evidence(
    store: &EvidenceStore,
    pool: &db::PgPool,
    before: chrono::DateTime<chrono::Utc>,
) -> Result<usize, ApiError> {
    let candidates = store.list_older_than(before).await?;
    if candidates.is_empty() {
        return Ok(0);
    }
    let check = candidates.clone();
    let kept = db::run(pool, move |conn| {
        let mut kept = db::activities::referenced(conn, &check)?;
        kept.extend(db::attachments::referenced(conn, &check)?);
        Ok(kept)
    })
    .await?;
    let mut removed = 0;
    for sha in candidates.iter().filter(|sha| !kept.contains(*sha)) {
        store.delete(sha).await?;
        removed += 1;
    }
    Ok(removed)
}

/// `CCHC_JWT_SECRET`, or a random one generated once and kept in the data directory.
fn jwt_secret(settings: &Settings) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &settings.jwt.secret {
        return Ok(secret.expose().as_bytes().to_vec());
    }
    let path = settings.data_dir.join("jwt-secret");
    if let Ok(existing) = fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= 32 {
            return Ok(existing.as_bytes().to_vec());
        }
    }
    fs::create_dir_all(&settings.data_dir)?;
    let secret = password::random_secret(48);
    write_private(&path, &secret).with_context(|| format!("cannot write {}", path.display()))?;
    tracing::info!("generated a token-signing key in {} (set CCHC_JWT_SECRET to use your own)", path.display());
    Ok(secret.into_bytes())
}

fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    let mut file = fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(content.as_bytes())
}

/// The 2021 plan of the Khanh Hoa Provincial Development Project Management Board.
pub const DEMO_PLAN: &str = include_str!("../fixtures/kdpm-2021.json");
/// The province's plan the Board's implements, and two more units' plans implementing it
/// (demo data for the roll-up; see the files' notes).
pub const DEMO_PROVINCE: &str = include_str!("../fixtures/ubnd-kh-2021.json");
pub const DEMO_UNITS: [&str; 2] =
    [include_str!("../fixtures/sxd-2021.json"), include_str!("../fixtures/ubnd-nt-2021.json")];

/// The Board's demo feedback: categories and published records.
pub const DEMO_FEEDBACK: &str = include_str!("../fixtures/kdpm-2021-feedback.json");

/// Imports the 2021 plan, and the demo feedback, into a database that has no
/// organisations yet.
fn load_demo_data(url: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::establish(url)?;
    conn.transaction(|conn| -> anyhow::Result<()> {
        db::locks::lock(conn, db::locks::BOOTSTRAP)?;
        if db::organizations::any(conn)? {
            return Ok(());
        }
        import_file(conn, serde_json::from_str(DEMO_PROVINCE)?, false)?;
        let summary = import_file(conn, serde_json::from_str(DEMO_PLAN)?, false)?;
        for unit in DEMO_UNITS {
            import_file(conn, serde_json::from_str(unit)?, false)?;
        }
        db::demo::measure(conn)?;
        db::demo::paperwork(conn)?;
        let records = db::demo::load(conn, &serde_json::from_str(DEMO_FEEDBACK)?)?;
        tracing::info!(
            "loaded the demo plans (the province's KH-TTCCHC-TINH-2021; the Board's KH-TTCCHC-2021 with {} items and {} indicators; two more units') and {records} published feedback records; \
             CCHC_DEMO_DATA=false turns this off",
            summary.items,
            summary.indicators
        );
        Ok(())
    })
}

/// Creates the assignments named in plan files imported before assignments existed.
fn backfill_assignments(url: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::establish(url)?;
    let created = conn
        .transaction(|conn| {
            db::locks::lock(conn, db::locks::BOOTSTRAP)?;
            crate::db::imports::backfill_assignments(conn)
        })
        .map_err(|e| {
            anyhow::anyhow!("creating assignments from kept plan files failed: {}", e.detail(crate::i18n::Lang::En))
        })?;
    if created > 0 {
        tracing::info!("created {created} department assignment(s) named in plan files imported earlier");
    }
    Ok(())
}

/// Checks and imports a plan file as the system, with every right.
pub fn import_file(
    conn: &mut PgConnection,
    raw: serde_json::Value,
    update: bool,
) -> anyhow::Result<crate::db::imports::ImportSummary> {
    let file = crate::domain::import::parse(&raw).map_err(|errors| {
        let list: Vec<String> = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, crate::i18n::message(&e.code, crate::i18n::Lang::En, &e.args)))
            .collect();
        anyhow::anyhow!("the file has {} problem(s):\n  {}", errors.len(), list.join("\n  "))
    })?;
    let rights =
        crate::db::imports::Rights { organization: None, create_organizations: true, create_departments: true };
    conn.transaction(|conn| crate::db::imports::import(conn, &file, &raw, &rights, &Actor::system(), update))
        .map_err(|e| anyhow::anyhow!("import refused: {}{}", e.detail(crate::i18n::Lang::En), describe_fields(&e)))
}

fn describe_fields(err: &ApiError) -> String {
    err.all_field_errors()
        .map(|errors| {
            errors
                .iter()
                .map(|e| format!("\n  {}: {}", e.field, crate::i18n::message(&e.code, crate::i18n::Lang::En, &e.args)))
                .collect::<String>()
        })
        .unwrap_or_default()
}

/// `import <file>`: imports a plan file into the configured database.
pub fn import_only(settings: &Settings, path: &Path, update: bool) -> anyhow::Result<()> {
    let text = fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let raw: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let (url, private) = database(settings)?;
    let result = migrate(&url).and_then(|_| {
        let mut conn = PgConnection::establish(&url)?;
        import_file(&mut conn, raw, update)
    });
    if let Some(pg) = private {
        pg.stop();
    }
    let summary = result?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

/// On an empty database, creates the system administrator: with `CCHC_ADMIN_PASSWORD`,
/// or a random password printed once.
fn bootstrap_admin(url: &str, settings: &Settings) -> anyhow::Result<()> {
    let mut conn = PgConnection::establish(url)?;
    conn.transaction(|conn| -> anyhow::Result<()> {
        db::locks::lock(conn, db::locks::BOOTSTRAP)?;
        if users::any_admin(conn)? {
            return Ok(());
        }
        let (password, generated) = match &settings.admin_password {
            Some(p) => (p.expose().to_owned(), false),
            None => (password::random_secret(18), true),
        };
        let row = users::insert(
            conn,
            &NewUser {
                id: Uuid::now_v7(),
                organization_id: None,
                department_id: None,
                username: settings.admin_username.clone(),
                full_name: "Quản trị hệ thống".to_owned(),
                email: None,
                role: Role::Admin,
                active: true,
                password_hash: password::hash(&password),
                created_by: None,
            },
        )?;
        audit::record(
            conn,
            &Actor::system(),
            Event::created("user", row.id, None, &serde_json::json!({"username": row.username, "role": "admin"})),
        )?;
        if generated {
            // Printed once, on purpose, to the console rather than the structured log.
            eprintln!(
                "\n  First start: created the system administrator\n    username: {}\n    password: {password}\n  \
                 Change it now: POST /api/v1/users/{}/password (or set CCHC_ADMIN_PASSWORD on a fresh database).\n",
                row.username, row.id
            );
        } else {
            tracing::info!("created the system administrator {:?} with CCHC_ADMIN_PASSWORD", row.username);
        }
        Ok(())
    })
}
