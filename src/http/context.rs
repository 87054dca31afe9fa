//! Per-request facts: the request id (also the `X-Request-Id` header), the caller's
//! language and address. The outermost middleware sets them and logs each request.
use std::{
    future::{Ready, ready},
    time::Instant,
};

use actix_web::{
    Error, FromRequest, HttpMessage, HttpRequest,
    body::MessageBody,
    dev::{Payload, ServiceRequest, ServiceResponse},
    http::header::{self, HeaderName, HeaderValue},
    middleware::Next,
};

use crate::i18n::Lang;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Clone, Debug)]
pub struct RequestContext {
    pub request_id: String,
    pub lang: Lang,
    pub client_addr: Option<String>,
}

impl RequestContext {
    pub fn of(req: &HttpRequest) -> Self {
        if let Some(ctx) = req.extensions().get::<Self>() {
            return ctx.clone();
        }
        Self::build(req)
    }

    fn build(req: &HttpRequest) -> Self {
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
        let forwarded = req
            .app_data::<actix_web::web::Data<crate::state::AppState>>()
            .is_some_and(|s| s.settings.trust_forwarded_for)
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
        ready(Ok(Self::of(req)))
    }
}

/// Outermost middleware: assigns the request id, echoes it, logs the outcome.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let ctx = RequestContext::build(req.request());
    let request_id = ctx.request_id.clone();
    req.extensions_mut().insert(ctx);
    let method = req.method().clone();
    let path = req.path().to_owned();
    let started = Instant::now();
    let mut res = next.call(req).await?;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    let status = res.status().as_u16();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::warn!(%request_id, %method, %path, status, elapsed_ms, "request failed");
    } else {
        tracing::info!(%request_id, %method, %path, status, elapsed_ms, "request");
    }
    Ok(res)
}
