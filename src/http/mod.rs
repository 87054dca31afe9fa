//! The HTTP conventions of `shared/api-conventions.md`, implemented once for every
//! resource: request ids and logs, problem rendering, strict JSON and query parsing,
//! keyset pagination, ETags and idempotency.

pub mod context;
pub mod etag;
pub mod idempotency;
pub mod json;
pub mod pagination;
pub mod problem;
pub mod query;
pub mod rate_limit;
pub mod rules;
pub mod security;

pub use context::RequestContext;
pub use etag::IfMatch;
pub use json::ApiJson;
pub use pagination::{Page, PageRequest};
pub use query::ApiQuery;

use std::time::Duration;

use actix_web::{HttpRequest, web};

use crate::error::ApiError;

/// What the shared conventions need to know, registered once by `startup` as app data.
#[derive(Clone)]
pub struct Conventions {
    /// The largest JSON body read (`CCHC_MAX_JSON_BYTES`).
    pub max_json_bytes: usize,
    /// How long a body may take to arrive (`CCHC_REQUEST_TIMEOUT_SECONDS`).
    pub request_timeout: Duration,
    /// Take the client address from `X-Forwarded-For` (`CCHC_TRUST_FORWARDED_FOR`).
    pub trust_forwarded_for: bool,
    /// Signs list cursors.
    pub cursor_key: pagination::CursorKey,
}

/// A part of the service that `startup` registers as app data. Its absence is a bug
/// of the wiring: a 500 whose cause is logged, never a quiet default.
pub fn part<T: 'static>(req: &HttpRequest) -> Result<web::Data<T>, ApiError> {
    req.app_data::<web::Data<T>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(format!("{} is not registered as app data", std::any::type_name::<T>())))
}
