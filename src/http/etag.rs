//! ETags are `"<version>"`. `If-Match` on PATCH and DELETE guards against lost updates:
//! a stale one is a 412 that tells the current version.
use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload, http::header};
use serde::Serialize;

use crate::error::ApiError;

/// The parsed `If-Match` header; absent means "whatever the current version is".
#[derive(Debug, Default)]
pub struct IfMatch(Option<Vec<i32>>);

impl IfMatch {
    /// Fails with 412 unless the header is absent, `*`, or names `current`.
    pub fn check(&self, current: i32) -> Result<(), ApiError> {
        match &self.0 {
            Some(versions) if !versions.contains(&current) => Err(ApiError::precondition_failed(current)),
            _ => Ok(()),
        }
    }
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse(req))
    }
}

fn parse(req: &HttpRequest) -> Result<IfMatch, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(IfMatch(None));
    };
    let invalid = || ApiError::bad_request("invalid_header").arg("header", "If-Match");
    let text = value.to_str().map_err(|_| invalid())?.trim();
    if text == "*" {
        return Ok(IfMatch(None));
    }
    let versions = text
        .split(',')
        .map(|tag| {
            let tag = tag.trim();
            let tag = tag.strip_prefix("W/").unwrap_or(tag);
            tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')).and_then(|t| t.parse::<i32>().ok())
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(invalid)?;
    Ok(IfMatch(Some(versions)))
}

pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// `200` with the record and its `ETag`.
pub fn ok_with_etag<T: Serialize>(version: i32, body: &T) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::ETAG, etag(version))).json(body)
}

/// `201` with `Location`, `ETag` and the created record.
pub fn created<T: Serialize>(location: String, version: i32, body: &T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::ETAG, etag(version)))
        .json(body)
}
