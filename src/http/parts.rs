//! The parts of the service the shared conventions need, as `startup` registers them.
use std::time::Duration;

use actix_web::{HttpRequest, web};

use crate::{error::ApiError, http::pagination::CursorKey};

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
    pub cursor_key: CursorKey,
}

/// A part of the service that `startup` registers as app data. Its absence is a bug
/// of the wiring: a 500 whose cause is logged, never a quiet default.
pub fn part<T: 'static>(req: &HttpRequest) -> Result<web::Data<T>, ApiError> {
    req.app_data::<web::Data<T>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(format!("{} is not registered as app data", std::any::type_name::<T>())))
}
