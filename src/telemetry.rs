//! Logging and traces. Request logs carry method, path, status, duration and request
//! id; never bodies, query strings or credentials (they may hold personal data or
//! secrets).
//!
//! Traces go to an OpenTelemetry collector over OTLP/HTTP (protobuf) when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and nowhere when it is not: a span per request
//! (`GET /api/v1/plans/{id}`, with its request id, route and status), a span per
//! database statement under it (`db.query.text` is the statement with its `$1`
//! placeholders, never the values bound to them), and a span per job the runner works.
//! The exporter's own variables apply (`OTEL_SERVICE_NAME`, default `cchc-outreach`;
//! `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_BSP_SCHEDULE_DELAY`, …).
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::{Resource, trace::SdkTracerProvider};
use tracing_subscriber::{EnvFilter, Layer, Registry, filter::Targets, fmt, layer::SubscriberExt};

/// The target of the spans that only the traces record (requests, database statements,
/// jobs), at DEBUG: the logs never show them, and without the traces they cost nothing.
pub const SPANS: &str = "cchc_outreach::spans";

/// What `init` set up; `shutdown` sends the spans still waiting.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(err) = provider.shutdown()
        {
            eprintln!("the last traces could not be sent: {err}");
        }
    }
}

/// `CCHC_LOG` (or `RUST_LOG`) sets the log filter, default `info`; `CCHC_LOG_FORMAT=json`
/// switches to one JSON object per line for log collectors.
pub fn init() -> Telemetry {
    let filter = std::env::var("CCHC_LOG").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_else(|_| "info".to_owned());
    let logs = fmt::layer().with_writer(std::io::stderr).with_target(false);
    let logs: Box<dyn Layer<Registry> + Send + Sync> = if std::env::var("CCHC_LOG_FORMAT").as_deref() == Ok("json") {
        logs.json().with_filter(EnvFilter::new(filter)).boxed()
    } else {
        logs.with_filter(EnvFilter::new(filter)).boxed()
    };
    let provider = match std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT") {
        Ok(endpoint) if !endpoint.trim().is_empty() => match tracer_provider() {
            Ok(provider) => Some(provider),
            Err(err) => {
                eprintln!("OTEL_EXPORTER_OTLP_ENDPOINT is set, but the exporter cannot be built: {err}");
                None
            }
        },
        _ => None,
    };
    // The service's spans, whatever the log filter says.
    let traces = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("cchc-outreach"))
            .with_filter(Targets::new().with_target(SPANS, tracing::Level::DEBUG))
    });
    let _ = tracing::subscriber::set_global_default(Registry::default().with(logs).with(traces));
    if provider.is_some() {
        tracing::info!("traces go to the OTLP endpoint of OTEL_EXPORTER_OTLP_ENDPOINT");
    }
    Telemetry { provider }
}

fn tracer_provider() -> anyhow::Result<SdkTracerProvider> {
    // An https:// endpoint speaks TLS through rustls with the ring provider, as the
    // service's other clients do (installed here, before the exporter's client exists).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let exporter = opentelemetry_otlp::SpanExporter::builder().with_http().build()?;
    let mut resource = Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name("cchc-outreach");
    }
    Ok(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource.build()).build())
}

/// A database statement as traced: its SQL without the values bound to it (diesel's
/// debug form appends them after ` -- binds: `).
pub fn statement_text(debug: &str) -> &str {
    debug.rsplit_once(" -- binds: ").map_or(debug, |(sql, _)| sql)
}
