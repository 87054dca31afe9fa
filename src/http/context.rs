//! Per-request facts: the request id (also the `X-Request-Id` header), the caller's
//! language and address. The outermost middleware sets them and logs each request.
use std::{
    future::{Ready, ready},
    time::Instant,
};

use actix_web::{
    Error, FromRequest, HttpMessage, HttpRequest, HttpResponse,
    body::MessageBody,
    dev::{Payload, ServiceRequest, ServiceResponse},
    http::header::{self, HeaderName, HeaderValue},
    middleware::Next,
};

use tracing::Instrument;

use crate::{auth::Principal, db::audit::Actor, error::ApiError, http::parts::Conventions, i18n::Lang};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Clone, Debug)]
pub struct RequestContext {
    pub request_id: String,
    pub lang: Lang,
    pub client_addr: Option<String>,
}

impl RequestContext {
    /// The context the middleware made for this request.
    pub fn of(req: &HttpRequest) -> Result<Self, ApiError> {
        req.extensions()
            .get::<Self>()
            .cloned()
            .ok_or_else(|| ApiError::internal("the request context middleware is not installed"))
    }

    /// For answering a request that never reached the middleware: a fresh id, the
    /// peer's address.
    pub fn detached(req: &HttpRequest) -> Self {
        Self::build(req, false)
    }

    fn build(req: &HttpRequest, trust_forwarded_for: bool) -> Self {
        // A caller's own id is kept when it is short and plain, so logs across
        // systems line up; otherwise a fresh one is made.
        let request_id = req
            .headers()
            .get(&REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|v| {
                !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
            .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
        let lang = Lang::from_accept_language(req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
        let forwarded = trust_forwarded_for
            .then(|| req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok()))
            .flatten()
            .and_then(|v| v.split(',').next())
            .and_then(|ip| ip.trim().parse::<std::net::IpAddr>().ok());
        let client_addr = forwarded.or_else(|| req.peer_addr().map(|addr| addr.ip())).map(|ip| ip.to_string());
        Self { request_id, lang, client_addr }
    }
}

impl FromRequest for RequestContext {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::of(req).map_err(Error::from))
    }
}

/// Outermost middleware: assigns the request id, echoes it, logs the outcome.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let conventions = match crate::http::parts::part::<Conventions>(req.request()) {
        Ok(conventions) => conventions,
        Err(err) => {
            tracing::error!("{}", err.internal_cause().unwrap_or_default());
            return Ok(req.into_response(HttpResponse::InternalServerError().finish()).map_into_right_body());
        }
    };
    let ctx = RequestContext::build(req.request(), conventions.trust_forwarded_for);
    let request_id = ctx.request_id.clone();
    req.extensions_mut().insert(ctx);
    let method = req.method().clone();
    let path = req.path().to_owned();
    let started = Instant::now();
    // The request's span (a trace's root when OTEL_EXPORTER_OTLP_ENDPOINT is set): named
    // by its route template (from the app's resource map), never by the path (ids,
    // searches).
    let route = req.match_pattern();
    let span = tracing::debug_span!(
        target: crate::telemetry::SPANS,
        "request",
        otel.name = %format!("{method} {}", route.as_deref().unwrap_or("other")),
        otel.kind = "server",
        http.request.method = %method,
        http.route = route.as_deref().unwrap_or("other"),
        http.response.status_code = tracing::field::Empty,
        request_id = %request_id,
    );
    let mut res = next.call(req).instrument(span.clone()).await?;
    span.record("http.response.status_code", res.status().as_u16());
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    let status = res.status().as_u16();
    let elapsed = started.elapsed().as_secs_f64();
    // The template found above: each lookup walks the resource map again.
    crate::metrics::observe(method.as_str(), route.as_deref(), status, elapsed);
    let elapsed_ms = elapsed * 1000.0;
    if status >= 500 {
        tracing::warn!(%request_id, %method, %path, status, elapsed_ms, "request failed");
    } else {
        tracing::info!(%request_id, %method, %path, status, elapsed_ms, "request");
    }
    Ok(res.map_into_left_body())
}

/// The actor of an audit event: who made the request, from where, in which request.
impl Actor {
    pub fn of(principal: &Principal, ctx: &RequestContext) -> Self {
        Self {
            kind: principal.kind_code(),
            id: Some(principal.id),
            name: Some(principal.name.clone()),
            request_id: Some(ctx.request_id.clone()),
            client_addr: ctx.client_addr.clone(),
        }
    }

    pub fn anonymous(ctx: &RequestContext) -> Self {
        Self {
            kind: "anonymous",
            id: None,
            name: None,
            request_id: Some(ctx.request_id.clone()),
            client_addr: ctx.client_addr.clone(),
        }
    }
}
