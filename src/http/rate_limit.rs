//! The size limits of request targets and headers, and the general rate limit of `/api/v1`: per token and per client address, each a GCRA
//! quota a minute (governor). Every answer says where the caller stands with
//! `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (draft-ietf-httpapi-
//! ratelimit-headers); past the limit it is a 429 with `Retry-After`. The sign-in and
//! public endpoints have limits of their own on top.
use std::{
    hash::{DefaultHasher, Hash, Hasher},
    net::{IpAddr, Ipv4Addr},
    num::NonZeroU32,
};

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{self, HeaderName, HeaderValue},
    middleware::Next,
};
use governor::{
    DefaultKeyedRateLimiter, Quota,
    clock::{Clock, DefaultClock},
    middleware::{StateInformationMiddleware, StateSnapshot},
};

use crate::{error::ApiError, http::context::RequestContext};

type Limiter<K> = DefaultKeyedRateLimiter<K, StateInformationMiddleware>;

/// The limiters of one instance of the service, and the ones all instances share in
/// Redis when `CCHC_REDIS_URL` is set.
pub struct ClientLimits {
    per_token: Option<Limiter<u64>>,
    per_address: Option<Limiter<IpAddr>>,
    shared: Option<crate::http::shared_limits::SharedLimits>,
    token_limit: u32,
    address_limit: u32,
}

fn limiter<K: Hash + Eq + Clone>(per_minute: u32) -> Option<Limiter<K>> {
    NonZeroU32::new(per_minute)
        .map(|n| DefaultKeyedRateLimiter::keyed(Quota::per_minute(n)).with_middleware::<StateInformationMiddleware>())
}

/// Where a caller stands: the limit, what is left, seconds until all of it is back.
pub struct Standing {
    limit: u32,
    remaining: u32,
    reset: u64,
}

impl Standing {
    fn of(snapshot: &StateSnapshot) -> Self {
        let quota = snapshot.quota();
        let limit = quota.burst_size().get();
        let remaining = snapshot.remaining_burst_capacity();
        let per_cell = quota.replenish_interval().as_secs_f64();
        Self { limit, remaining, reset: ((limit - remaining.min(limit)) as f64 * per_cell).ceil() as u64 }
    }
}

impl ClientLimits {
    pub fn new(per_token: u32, per_address: u32) -> Self {
        Self {
            per_token: limiter(per_token),
            per_address: limiter(per_address),
            shared: None,
            token_limit: per_token,
            address_limit: per_address,
        }
    }

    /// The same limits, counted in Redis for every instance at once.
    pub fn shared(mut self, shared: crate::http::shared_limits::SharedLimits) -> Self {
        self.shared = Some(shared);
        self
    }

    /// Counts a request in Redis under `key` against `per_minute`: `None` without Redis
    /// or when it fails (then the caller's in-memory limiter decides).
    pub async fn check_shared(
        &self,
        kind: &'static str,
        key: &str,
        per_minute: u32,
    ) -> Option<Result<Standing, ApiError>> {
        let shared = self.shared.as_ref()?;
        match shared.check(&format!("{kind}:{key}"), per_minute).await {
            Ok(v) if v.allowed => {
                Some(Ok(Standing { limit: per_minute, remaining: v.remaining, reset: v.reset_ms.div_ceil(1000) }))
            }
            Ok(v) => {
                crate::metrics::refused(kind);
                Some(Err(ApiError::too_many_requests("rate_limited", v.wait_ms.div_ceil(1000).max(1))
                    .header(HeaderName::from_static("ratelimit-remaining"), 0)))
            }
            Err(err) => {
                tracing::warn!("the shared rate limit is unavailable, this instance counts alone: {err}");
                None
            }
        }
    }

    /// Counts a request against the shared limits if there are any, else (or if Redis
    /// fails) against this instance's.
    async fn check_any(&self, token: Option<u64>, address: IpAddr) -> Result<Option<Standing>, ApiError> {
        if self.shared.is_some() {
            let mut standing = None;
            let mut failed = false;
            if self.address_limit > 0 {
                match self.check_shared("address", &address.to_string(), self.address_limit).await {
                    Some(result) => standing = Some(result?),
                    None => failed = true,
                }
            }
            if let (false, Some(token), true) = (failed, token, self.token_limit > 0) {
                match self.check_shared("token", &format!("{token:x}"), self.token_limit).await {
                    Some(result) => standing = Some(result?),
                    None => failed = true,
                }
            }
            if !failed {
                return Ok(standing);
            }
        }
        self.check(token, address)
    }

    /// Forgets callers whose allowance is whole again (run now and then).
    pub fn forget_idle(&self) {
        if let Some(l) = &self.per_token {
            l.retain_recent();
        }
        if let Some(l) = &self.per_address {
            l.retain_recent();
        }
    }

    /// Counts a request; the standing to report, or the 429 to answer.
    fn check(&self, token: Option<u64>, address: IpAddr) -> Result<Option<Standing>, ApiError> {
        let refused = |wait: std::time::Duration| {
            ApiError::too_many_requests("rate_limited", wait.as_secs().max(1))
                .header(HeaderName::from_static("ratelimit-remaining"), 0)
        };
        let mut standing = None;
        if let Some(limiter) = &self.per_address {
            let snapshot = limiter.check_key(&address).map_err(|not_until| {
                crate::metrics::refused("address");
                refused(not_until.wait_time_from(DefaultClock::default().now()))
            })?;
            standing = Some(Standing::of(&snapshot));
        }
        if let (Some(limiter), Some(token)) = (&self.per_token, token) {
            let snapshot = limiter.check_key(&token).map_err(|not_until| {
                crate::metrics::refused("token");
                refused(not_until.wait_time_from(DefaultClock::default().now()))
            })?;
            // The token's own allowance is the one a script cares about.
            standing = Some(Standing::of(&snapshot));
        }
        Ok(standing)
    }
}

/// A key for the bearer token (its hash: the token itself is not kept).
fn token_key(req: &ServiceRequest) -> Option<u64> {
    let value = req.headers().get(header::AUTHORIZATION)?.as_bytes();
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    Some(hasher.finish())
}

/// The longest request target (path and query) accepted.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most header bytes (names and values) accepted.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// 414 or 431 for a request target or headers over the limits.
fn oversized(req: &ServiceRequest) -> Option<ApiError> {
    if req.uri().path_and_query().map_or(0, |pq| pq.as_str().len()) > MAX_URI_BYTES {
        return Some(
            ApiError::new(actix_web::http::StatusCode::URI_TOO_LONG, "uri_too_long").arg("limit", MAX_URI_BYTES),
        );
    }
    let header_bytes: usize = req.headers().iter().map(|(n, v)| n.as_str().len() + v.len() + 4).sum();
    (header_bytes > MAX_HEADER_BYTES).then(|| {
        ApiError::new(actix_web::http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large")
            .arg("limit", MAX_HEADER_BYTES)
    })
}

/// Refuses oversized requests, then applies the rate limits to `/api/v1` (but not to
/// its public part, limited on its own).
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if let Some(err) = oversized(&req) {
        return Ok(req.error_response(err).map_into_boxed_body());
    }
    let path = req.path();
    let limited = path.starts_with("/api/v1/") && !path.starts_with("/api/v1/public/");
    if !limited {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let (limits, ctx) =
        match (crate::http::parts::part::<ClientLimits>(req.request()), RequestContext::of(req.request())) {
            (Ok(limits), Ok(ctx)) => (limits, ctx),
            (Err(err), _) | (_, Err(err)) => return Ok(req.error_response(err).map_into_boxed_body()),
        };
    let address = ctx.client_addr.and_then(|a| a.parse().ok()).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let standing = match limits.check_any(token_key(&req), address).await {
        Ok(standing) => standing,
        Err(err) => return Ok(req.error_response(err).map_into_boxed_body()),
    };
    let mut res = next.call(req).await?.map_into_boxed_body();
    if let Some(s) = standing {
        let headers = res.headers_mut();
        for (name, value) in [
            ("ratelimit-limit", u64::from(s.limit)),
            ("ratelimit-remaining", u64::from(s.remaining)),
            ("ratelimit-reset", s.reset),
        ] {
            headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
        }
    }
    Ok(res)
}
