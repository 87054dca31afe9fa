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
    let text = value.to_str().map_err(|_| invalid())?;
    versions(text.trim()).map(IfMatch).ok_or_else(invalid)
}

/// What `If-Match` may hold: `*`, or one or more versions as entity tags (`"3"`,
/// `W/"3"`) or bare (`3`). The OpenAPI document states it; `versions` reads exactly it.
pub const IF_MATCH_PATTERN: &str =
    r#"^(\*|(W/)?("[0-9]{1,9}"|[0-9]{1,9})([ \t]*,[ \t]*(W/)?("[0-9]{1,9}"|[0-9]{1,9}))*)$"#;

/// The versions an `If-Match` value names (`None` inside for `*`), or `None` if it is
/// not of the documented form.
pub fn versions(text: &str) -> Option<Option<Vec<i32>>> {
    if text == "*" {
        return Some(None);
    }
    text.split(',')
        .map(|tag| {
            let tag = tag.trim_matches([' ', '\t']);
            let tag = tag.strip_prefix("W/").unwrap_or(tag);
            // Leniently, a bare version too: `3` as well as `"3"`.
            let tag = tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(tag);
            let digits = !tag.is_empty() && tag.len() <= 9 && tag.bytes().all(|b| b.is_ascii_digit());
            digits.then(|| tag.parse().ok())?
        })
        .collect::<Option<Vec<_>>>()
        .map(Some)
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn reads_tags_lists_and_bare_versions() {
        assert_eq!(versions("*"), Some(None));
        assert_eq!(versions(r#""3""#), Some(Some(vec![3])));
        assert_eq!(versions(r#"W/"3", 4 ,"5""#), Some(Some(vec![3, 4, 5])));
        for bad in ["", "\"3", "3\"", "W/", "x", r#""3",,"4""#, "1234567890", "-1", r#""W/3""#] {
            assert_eq!(versions(bad), None, "{bad:?}");
        }
    }

    proptest! {
        /// The documented pattern and the parser agree on every value.
        #[test]
        fn the_pattern_says_what_the_parser_accepts(text in r#"(\*|W/|"|[0-9]{1,10}|,|[ \t]|x){0,8}"#) {
            let pattern = regex::Regex::new(IF_MATCH_PATTERN).unwrap();
            let trimmed = text.trim();
            prop_assert_eq!(pattern.is_match(trimmed), versions(trimmed).is_some(), "{:?}", trimmed);
        }

        #[test]
        fn every_value_of_the_pattern_is_read(text in IF_MATCH_PATTERN.trim_start_matches('^').trim_end_matches('$')) {
            prop_assert!(versions(&text).is_some(), "{:?}", text);
        }
    }
}
