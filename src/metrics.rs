//! The service's metrics in the Prometheus text format (`GET /metrics`): requests by
//! route template and status with their latency, rate-limit refusals, and — read at each
//! scrape — the database pool, the job queue, and webhook deliveries and messages to
//! senders by outcome. Kept with the `prometheus` crate; one registry per process.
use std::sync::LazyLock;

use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub latency: HistogramVec,
    pub rate_limited: IntCounterVec,
    pub pool_connections: IntGaugeVec,
    pub jobs_due: IntGauge,
    pub jobs_scheduled: IntGauge,
    pub jobs_oldest_due: Gauge,
    pub deliveries: IntGaugeVec,
    pub messages: IntGaugeVec,
    pub account_cache: IntGaugeVec,
}

fn register<C: prometheus::core::Collector + Clone + 'static>(registry: &Registry, collector: C) -> C {
    registry.register(Box::new(collector.clone())).expect("each metric is registered once");
    collector
}

pub static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let registry = Registry::new_custom(Some("cchc".to_owned()), None).expect("a valid prefix");
    let r = &registry;
    let requests = register(
        r,
        IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered, by method, route template and status."),
            &["method", "route", "status"],
        )
        .expect("valid"),
    );
    let latency = register(
        r,
        HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Time to answer, by method and route template.")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["method", "route"],
        )
        .expect("valid"),
    );
    let rate_limited = register(
        r,
        IntCounterVec::new(
            Opts::new("rate_limited_total", "Requests refused with 429, by limit (token, address, public)."),
            &["limit"],
        )
        .expect("valid"),
    );
    let pool_connections = register(
        r,
        IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database connections of this instance's pool, by state (in_use, idle)."),
            &["state"],
        )
        .expect("valid"),
    );
    let jobs_due =
        register(r, IntGauge::new("jobs_due", "Jobs due now on the shared queue (all instances).").expect("valid"));
    let jobs_scheduled =
        register(r, IntGauge::new("jobs_scheduled", "Jobs put off until later (retries).").expect("valid"));
    let jobs_oldest_due = register(
        r,
        Gauge::new("jobs_oldest_due_seconds", "How long the oldest due job has waited, in seconds.").expect("valid"),
    );
    let deliveries = register(
        r,
        IntGaugeVec::new(
            Opts::new("webhook_deliveries", "Webhook deliveries by outcome (pending, delivered, failed, cancelled)."),
            &["status"],
        )
        .expect("valid"),
    );
    let messages = register(
        r,
        IntGaugeVec::new(
            Opts::new("sender_messages", "Messages to senders and staff by channel and outcome."),
            &["channel", "status"],
        )
        .expect("valid"),
    );
    let account_cache = register(
        r,
        IntGaugeVec::new(
            Opts::new(
                "account_cache",
                "This instance's cache of accounts behind tokens: lookups since start by outcome (hit, miss, \
                 bypassed while its listening session was down), entries, and live (1 while listening).",
            ),
            &["what"],
        )
        .expect("valid"),
    );
    Metrics {
        registry,
        account_cache,
        requests,
        latency,
        rate_limited,
        pool_connections,
        jobs_due,
        jobs_scheduled,
        jobs_oldest_due,
        deliveries,
        messages,
    }
});

/// Counts an answered request under its route template (`/api/v1/plans/{id}`; `other`
/// for what matched no route, so that made-up paths do not make new series).
pub fn observe(method: &str, route: Option<&str>, status: u16, seconds: f64) {
    let route = route.unwrap_or("other");
    // Any other token a client sends as a method is one series, not one each.
    let method = match method {
        "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method,
        _ => "OTHER",
    };
    let m = &*METRICS;
    m.requests.with_label_values(&[method, route, &status.to_string()]).inc();
    m.latency.with_label_values(&[method, route]).observe(seconds);
}

pub fn refused(limit: &str) {
    METRICS.rate_limited.with_label_values(&[limit]).inc();
}

/// The registry as Prometheus text.
pub fn text() -> Result<String, prometheus::Error> {
    let mut out = Vec::new();
    TextEncoder::new().encode(&METRICS.registry.gather(), &mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}
