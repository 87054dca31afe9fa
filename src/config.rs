//! Typed settings, read once from the environment at start-up. Every variable is
//! documented in the README with its default. Secrets are redacted from `Debug`.
use std::{fmt, path::PathBuf, time::Duration};

use anyhow::{Context, bail};
use jsonwebtoken::Algorithm;

#[derive(Clone)]
pub struct Settings {
    /// `DATABASE_URL`: when unset, a private PostgreSQL is started under `data_dir`.
    pub database_url: Option<String>,
    /// `DATABASE_REPLICA_URL`: a streaming replica of that database, which reads that
    /// tolerate a little lag use (reports, exports, the event feed); unset, everything
    /// reads the primary.
    pub replica_url: Option<String>,
    /// `CCHC_BIND`
    pub bind: String,
    /// `CCHC_DATA_DIR`: private database, generated keys and (later) evidence files.
    pub data_dir: PathBuf,
    /// `CCHC_WORKERS`: HTTP worker threads; 0 means one per CPU.
    pub workers: usize,
    pub db_pool_size: u32,
    /// How long a request waits for a database connection before answering 503.
    pub db_timeout: Duration,
    pub max_json_bytes: usize,
    pub jwt: JwtSettings,
    pub external_idp: Option<ExternalIdpSettings>,
    pub admin_username: String,
    pub admin_password: Option<Secret>,
    pub login_max_failures: i32,
    pub login_lockout: Duration,
    /// `CCHC_PG_USER`: the unprivileged account that runs the private PostgreSQL when
    /// the service itself runs as root.
    pub pg_user: Option<String>,
    /// `CCHC_PG_BIN_DIR`: where `initdb` and `pg_ctl` are; found automatically if unset.
    pub pg_bin_dir: Option<PathBuf>,
    /// `CCHC_DEMO_DATA`: load the 2021 plan into an empty database. Unset: only for
    /// the private database.
    pub demo_data: Option<bool>,
    /// `CCHC_REPORT_DUE_DAYS`: a periodic report is due this many days after its
    /// period ends.
    pub report_due_days: i64,
    /// `CCHC_EVENT_RETENTION_DAYS`: how long the event feed keeps an event (1–3650).
    pub event_retention_days: i64,
    /// `CCHC_STORAGE_URL`: where evidence files go (`s3://bucket/prefix` or
    /// `file:///path`); unset: `<data_dir>/evidence`.
    pub storage_url: Option<String>,
    /// `CCHC_MAX_UPLOAD_BYTES`: the largest evidence file.
    pub max_upload_bytes: u64,
    /// `CCHC_FEEDBACK_DEADLINE_DAYS`: working days to answer feedback of no category.
    pub feedback_deadline_days: u32,
    /// `CCHC_PUBLIC_RATE_LIMIT`: requests per minute per client address on `/api/v1/public`.
    pub public_rate_limit: u32,
    /// `CCHC_REDIS_URL`: where the rate limits every instance shares are counted; unset,
    /// each instance counts alone, in memory.
    pub redis_url: Option<String>,
    /// `CCHC_METRICS_BIND`: a second address that serves `GET /metrics` without a token,
    /// for a scraper on a private network; unset, only the main port serves it, to
    /// `metrics:read`.
    pub metrics_bind: Option<String>,
    /// `CCHC_TRUST_FORWARDED_FOR`: take the client address from `X-Forwarded-For` (only
    /// behind a proxy that sets it).
    pub trust_forwarded_for: bool,
    /// `CCHC_RATE_LIMIT`: requests a minute per token on `/api/v1` (0: no limit).
    pub rate_limit_per_token: u32,
    /// `CCHC_RATE_LIMIT_PER_ADDRESS`: requests a minute per client address on `/api/v1`
    /// (0: no limit).
    pub rate_limit_per_address: u32,
    /// `CCHC_CORS_ORIGINS`: origins allowed to call from a browser; empty: CORS off.
    pub cors_origins: Vec<String>,
    /// `CCHC_REQUEST_TIMEOUT_SECONDS`: the longest a JSON body may take to arrive.
    pub request_timeout: Duration,
    /// `CCHC_UPLOAD_TIMEOUT_SECONDS`: the longest an evidence upload may take.
    pub upload_timeout: Duration,
    /// `CCHC_SHUTDOWN_GRACE_SECONDS`: how long requests in flight may finish on SIGTERM.
    pub shutdown_grace: Duration,
    pub webhooks: WebhookSettings,
    pub jobs: JobSettings,
    pub deadlines: DeadlineSettings,
    pub triage: TriageSettings,
    /// `CCHC_SMTP_URL`: where notices are e-mailed (`smtp://relay:587?tls=required`,
    /// `smtps://relay:465`, `smtp://relay:25` plain); unset: no e-mail.
    pub smtp_url: Option<Secret>,
    /// `CCHC_MAIL_FROM`: the sender of those e-mails.
    pub mail_from: String,
    /// `CCHC_SMS_GATEWAY_URL`: where SMS to senders are posted (`{"to", "text",
    /// "reference"}`); unset: no SMS.
    pub sms_gateway_url: Option<String>,
    /// `CCHC_SMS_GATEWAY_TOKEN`: sent as `Authorization: Bearer …` to the gateway.
    pub sms_gateway_token: Option<Secret>,
    /// `CCHC_PUBLIC_URL`: the address citizens reach the service at, for the links in
    /// their messages (default `http://` and `CCHC_BIND`).
    pub public_url: String,
    /// `CCHC_DIGEST_HOUR`: the hour (Vietnam, 0–23) daily digests go out at.
    pub digest_hour: u32,
    /// `CCHC_RETENTION_SCAN_SECONDS`: how often the retention run looks for senders to
    /// anonymise (default once a day).
    pub retention_every: Duration,
    /// Where "now" comes from: the system clock, or (tests only, never the
    /// environment) a fixed one.
    pub clock: crate::clock::Clock,
}

#[derive(Clone, Debug)]
pub struct JwtSettings {
    /// `CCHC_JWT_SECRET`; generated and kept in the data directory when unset.
    pub secret: Option<Secret>,
    pub issuer: String,
    pub audience: String,
    pub ttl: Duration,
}

/// How deliveries go out.
#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// `CCHC_WEBHOOK_ALLOW_HTTP`: receivers may be plain `http://`.
    pub allow_http: bool,
    /// `CCHC_WEBHOOK_ALLOW_PRIVATE`: receivers may be on loopback, private or link-local
    /// addresses (never cloud metadata).
    pub allow_private: bool,
    /// `CCHC_WEBHOOK_RETRY_SECONDS`
    pub retry: crate::domain::webhooks::RetrySchedule,
    /// `CCHC_WEBHOOK_TIMEOUT_SECONDS`: the longest one attempt may take, all in all.
    pub timeout: Duration,
    /// `CCHC_WEBHOOK_SECRET_OVERLAP_SECONDS`: how long a rotated-out secret still signs.
    pub secret_overlap: Duration,
}

/// The shared job runner.
#[derive(Clone, Debug)]
pub struct JobSettings {
    /// `CCHC_JOB_WORKERS`: jobs this instance works at once (0: none here).
    pub workers: usize,
    /// `CCHC_JOB_LEASE_SECONDS`: how long a claimed job is this instance's; a job whose
    /// instance died is taken again after it.
    pub lease: Duration,
    /// `CCHC_JOB_POLL_MS`: how often an idle runner looks for due jobs.
    pub poll: Duration,
}

/// What deadlines do.
#[derive(Clone, Debug)]
pub struct DeadlineSettings {
    /// `CCHC_FEEDBACK_WARN_DAYS`: warn the department this many working days before a
    /// feedback deadline (and on the day).
    pub warn_days: u32,
    /// `CCHC_FEEDBACK_MAX_EXTENSIONS`: extensions a feedback record may have.
    pub max_extensions: i64,
    /// `CCHC_DEADLINE_SCAN_SECONDS`: how often deadlines are looked at.
    pub scan_every: Duration,
    /// `CCHC_DUTY_REMIND_DAYS`: remind of a progress report (and an assignment's due
    /// date) this many working days before.
    pub remind_days: u32,
    /// `CCHC_FEEDBACK_REOPEN_DAYS`: days after the answer its sender may reopen a record.
    pub reopen_days: i64,
}

/// Where possible duplicates are looked for.
#[derive(Clone, Debug)]
pub struct TriageSettings {
    /// `CCHC_DUPLICATE_WINDOW_DAYS`: open records received within this many days of a
    /// record are compared with it.
    pub window_days: i32,
    /// `CCHC_DUPLICATE_RADIUS_M`: records whose points are this close count as near.
    pub radius_m: f64,
}

/// An external identity provider whose tokens are accepted besides the service's own.
#[derive(Clone, Debug)]
pub struct ExternalIdpSettings {
    pub issuer: String,
    pub audience: String,
    pub algorithm: Algorithm,
    pub key: ExternalKey,
    /// The claim whose value is matched against a user's `username`.
    pub username_claim: String,
}

#[derive(Clone, Debug)]
pub enum ExternalKey {
    PublicKeyFile(PathBuf),
    JwksFile(PathBuf),
}

/// A string that never prints.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &self.database_url.as_ref().map(|_| "[set]"))
            .field("replica_url", &self.replica_url.as_ref().map(|_| "[set]"))
            .field("bind", &self.bind)
            .field("data_dir", &self.data_dir)
            .field("workers", &self.workers)
            .field("db_pool_size", &self.db_pool_size)
            .field("db_timeout", &self.db_timeout)
            .field("jwt", &self.jwt)
            .field("external_idp", &self.external_idp)
            .field("admin_username", &self.admin_username)
            .finish_non_exhaustive()
    }
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|key| std::env::var(key).ok().filter(|v| !v.is_empty()))
    }

    /// Reads settings through `lookup`, so tests can supply their own values.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let parse = |key: &str, default: u64| -> anyhow::Result<u64> {
            match lookup(key) {
                None => Ok(default),
                Some(v) => v.trim().parse().with_context(|| format!("{key} must be a whole number, got {v:?}")),
            }
        };
        let jwt_secret = lookup("CCHC_JWT_SECRET").map(Secret);
        if let Some(secret) = &jwt_secret
            && secret.expose().len() < 32
        {
            bail!("CCHC_JWT_SECRET must be at least 32 bytes long");
        }
        let ttl = parse("CCHC_TOKEN_TTL", 3600)?;
        if !(60..=86_400).contains(&ttl) {
            bail!("CCHC_TOKEN_TTL must be between 60 and 86400 seconds");
        }
        let flag = |key: &str| -> anyhow::Result<bool> {
            match lookup(key).as_deref().map(str::to_ascii_lowercase).as_deref() {
                None | Some("false" | "0" | "no") => Ok(false),
                Some("true" | "1" | "yes") => Ok(true),
                Some(other) => bail!("{key} must be true or false, got {other:?}"),
            }
        };
        let webhook_timeout = parse("CCHC_WEBHOOK_TIMEOUT_SECONDS", 10)?.clamp(1, 120);
        let lease = parse("CCHC_JOB_LEASE_SECONDS", 60)?;
        if lease < webhook_timeout + 2 {
            bail!(
                "CCHC_JOB_LEASE_SECONDS ({lease}) must exceed CCHC_WEBHOOK_TIMEOUT_SECONDS ({webhook_timeout}) by 2 or more"
            );
        }
        let webhooks = WebhookSettings {
            allow_http: flag("CCHC_WEBHOOK_ALLOW_HTTP")?,
            allow_private: flag("CCHC_WEBHOOK_ALLOW_PRIVATE")?,
            retry: crate::domain::webhooks::RetrySchedule::parse(
                lookup("CCHC_WEBHOOK_RETRY_SECONDS")
                    .as_deref()
                    .unwrap_or(crate::domain::webhooks::DEFAULT_RETRY_SECONDS),
            )
            .map_err(anyhow::Error::msg)?,
            timeout: Duration::from_secs(webhook_timeout),
            secret_overlap: Duration::from_secs(parse("CCHC_WEBHOOK_SECRET_OVERLAP_SECONDS", 86_400)?.min(30 * 86_400)),
        };
        let jobs = JobSettings {
            workers: usize::try_from(parse("CCHC_JOB_WORKERS", 4)?)?.min(64),
            lease: Duration::from_secs(lease),
            poll: Duration::from_millis(parse("CCHC_JOB_POLL_MS", 500)?.clamp(10, 60_000)),
        };
        let deadlines = DeadlineSettings {
            warn_days: u32::try_from(parse("CCHC_FEEDBACK_WARN_DAYS", 2)?)?.min(30),
            max_extensions: i64::try_from(parse("CCHC_FEEDBACK_MAX_EXTENSIONS", 1)?)?.min(10),
            scan_every: Duration::from_secs(parse("CCHC_DEADLINE_SCAN_SECONDS", 300)?.clamp(1, 86_400)),
            remind_days: u32::try_from(parse("CCHC_DUTY_REMIND_DAYS", 3)?)?.min(30),
            reopen_days: i64::try_from(parse("CCHC_FEEDBACK_REOPEN_DAYS", 10)?)?.min(365),
        };
        let triage = TriageSettings {
            window_days: i32::try_from(parse("CCHC_DUPLICATE_WINDOW_DAYS", 30)?)?.clamp(1, 365),
            radius_m: parse("CCHC_DUPLICATE_RADIUS_M", 300)?.clamp(1, 100_000) as f64,
        };
        Ok(Self {
            webhooks,
            jobs,
            deadlines,
            triage,
            smtp_url: lookup("CCHC_SMTP_URL").map(Secret),
            mail_from: lookup("CCHC_MAIL_FROM").unwrap_or_else(|| "CCHC <no-reply@localhost>".to_owned()),
            sms_gateway_url: match lookup("CCHC_SMS_GATEWAY_URL") {
                Some(url) if !(url.starts_with("https://") || url.starts_with("http://")) => {
                    bail!("CCHC_SMS_GATEWAY_URL must be an http(s) URL, got {url:?}")
                }
                other => other,
            },
            sms_gateway_token: lookup("CCHC_SMS_GATEWAY_TOKEN").map(Secret),
            public_url: lookup("CCHC_PUBLIC_URL").map_or_else(
                || format!("http://{}", lookup("CCHC_BIND").unwrap_or_else(|| "127.0.0.1:8080".to_owned())),
                |url| url.trim_end_matches('/').to_owned(),
            ),
            digest_hour: u32::try_from(parse("CCHC_DIGEST_HOUR", 7)?)?.min(23),
            retention_every: Duration::from_secs(parse("CCHC_RETENTION_SCAN_SECONDS", 86_400)?.clamp(60, 604_800)),
            database_url: lookup("DATABASE_URL"),
            replica_url: lookup("DATABASE_REPLICA_URL"),
            bind: lookup("CCHC_BIND").unwrap_or_else(|| "127.0.0.1:8080".to_owned()),
            data_dir: lookup("CCHC_DATA_DIR").map_or_else(|| PathBuf::from("data"), PathBuf::from),
            workers: usize::try_from(parse("CCHC_WORKERS", 0)?)?,
            db_pool_size: u32::try_from(parse("CCHC_DB_POOL_SIZE", 10)?)?.max(1),
            db_timeout: Duration::from_millis(parse("CCHC_DB_TIMEOUT_MS", 5000)?.max(100)),
            max_json_bytes: usize::try_from(parse("CCHC_MAX_JSON_BYTES", 1024 * 1024)?)?,
            jwt: JwtSettings {
                secret: jwt_secret,
                issuer: lookup("CCHC_JWT_ISSUER").unwrap_or_else(|| "cchc-outreach".to_owned()),
                audience: lookup("CCHC_JWT_AUDIENCE").unwrap_or_else(|| "cchc-outreach".to_owned()),
                ttl: Duration::from_secs(ttl),
            },
            external_idp: external_idp(&lookup)?,
            admin_username: lookup("CCHC_ADMIN_USERNAME").unwrap_or_else(|| "admin".to_owned()),
            admin_password: lookup("CCHC_ADMIN_PASSWORD").map(Secret),
            login_max_failures: i32::try_from(parse("CCHC_LOGIN_MAX_FAILURES", 5)?)?.max(1),
            login_lockout: Duration::from_secs(parse("CCHC_LOGIN_LOCKOUT_SECONDS", 900)?),
            pg_user: lookup("CCHC_PG_USER"),
            pg_bin_dir: lookup("CCHC_PG_BIN_DIR").map(PathBuf::from),
            demo_data: match lookup("CCHC_DEMO_DATA").as_deref().map(str::to_ascii_lowercase).as_deref() {
                None => None,
                Some("true" | "1" | "yes") => Some(true),
                Some("false" | "0" | "no") => Some(false),
                Some(other) => bail!("CCHC_DEMO_DATA must be true or false, got {other:?}"),
            },
            report_due_days: i64::try_from(parse("CCHC_REPORT_DUE_DAYS", 5)?)?.min(366),
            event_retention_days: i64::try_from(parse("CCHC_EVENT_RETENTION_DAYS", 90)?)?.clamp(1, 3650),
            storage_url: lookup("CCHC_STORAGE_URL"),
            max_upload_bytes: parse("CCHC_MAX_UPLOAD_BYTES", 25 * 1024 * 1024)?.max(1024),
            feedback_deadline_days: u32::try_from(parse("CCHC_FEEDBACK_DEADLINE_DAYS", 10)?)?.clamp(1, 365),
            public_rate_limit: u32::try_from(parse("CCHC_PUBLIC_RATE_LIMIT", 60)?)?.max(1),
            redis_url: lookup("CCHC_REDIS_URL").filter(|u| !u.is_empty()),
            metrics_bind: lookup("CCHC_METRICS_BIND").filter(|u| !u.is_empty()),
            trust_forwarded_for: matches!(lookup("CCHC_TRUST_FORWARDED_FOR").as_deref(), Some("true" | "1" | "yes")),
            rate_limit_per_token: u32::try_from(parse("CCHC_RATE_LIMIT", 1200)?)?,
            rate_limit_per_address: u32::try_from(parse("CCHC_RATE_LIMIT_PER_ADDRESS", 3000)?)?,
            cors_origins: cors_origins(lookup("CCHC_CORS_ORIGINS"))?,
            request_timeout: Duration::from_secs(parse("CCHC_REQUEST_TIMEOUT_SECONDS", 30)?.max(1)),
            upload_timeout: Duration::from_secs(parse("CCHC_UPLOAD_TIMEOUT_SECONDS", 600)?.max(1)),
            shutdown_grace: Duration::from_secs(parse("CCHC_SHUTDOWN_GRACE_SECONDS", 30)?),
            clock: crate::clock::Clock::system(),
        })
    }
}

/// `https://portal.khanhhoa.gov.vn,http://localhost:3000`: scheme, host and port only.
fn cors_origins(value: Option<String>) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for origin in value.iter().flat_map(|v| v.split(',')).map(|o| o.trim().trim_end_matches('/')) {
        if origin.is_empty() {
            continue;
        }
        let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
        if !rest.is_some_and(|r| !r.is_empty() && !r.contains(['/', '?', '#', '*'])) {
            bail!("CCHC_CORS_ORIGINS takes origins like https://portal.example.gov.vn, got {origin:?}");
        }
        out.push(origin.to_owned());
    }
    Ok(out)
}

fn external_idp(lookup: &impl Fn(&str) -> Option<String>) -> anyhow::Result<Option<ExternalIdpSettings>> {
    let Some(issuer) = lookup("CCHC_IDP_ISSUER") else {
        return Ok(None);
    };
    let audience = lookup("CCHC_IDP_AUDIENCE").context("CCHC_IDP_AUDIENCE is required with CCHC_IDP_ISSUER")?;
    let algorithm = match lookup("CCHC_IDP_ALGORITHM").as_deref().unwrap_or("RS256") {
        "RS256" => Algorithm::RS256,
        "ES256" => Algorithm::ES256,
        other => bail!("CCHC_IDP_ALGORITHM must be RS256 or ES256, got {other:?}"),
    };
    let key = match (lookup("CCHC_IDP_PUBLIC_KEY_FILE"), lookup("CCHC_IDP_JWKS_FILE")) {
        (Some(pem), None) => ExternalKey::PublicKeyFile(pem.into()),
        (None, Some(jwks)) => ExternalKey::JwksFile(jwks.into()),
        _ => bail!("set exactly one of CCHC_IDP_PUBLIC_KEY_FILE and CCHC_IDP_JWKS_FILE"),
    };
    Ok(Some(ExternalIdpSettings {
        issuer,
        audience,
        algorithm,
        key,
        username_claim: lookup("CCHC_IDP_USERNAME_CLAIM").unwrap_or_else(|| "preferred_username".to_owned()),
    }))
}
