//! Logging. Request logs carry method, path, status, duration and request id; never
//! bodies, query strings or credentials (they may hold personal data or secrets).
use tracing_subscriber::{EnvFilter, fmt};

/// `CCHC_LOG` (or `RUST_LOG`) sets the filter, default `info`; `CCHC_LOG_FORMAT=json`
/// switches to one JSON object per line for log collectors.
pub fn init() {
    let filter = std::env::var("CCHC_LOG").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_else(|_| "info".to_owned());
    let builder = fmt().with_env_filter(EnvFilter::new(filter)).with_writer(std::io::stderr).with_target(false);
    let _ = if std::env::var("CCHC_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
