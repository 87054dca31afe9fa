//! Keyset pagination with opaque, tamper-proof cursors, and the `updated_since` sync
//! feed with tombstones.
//!
//! A cursor is the position of the last row sent, bound to the request path and signed
//! with HMAC-SHA256, so an altered or foreign cursor is a 400. Plain lists are ordered
//! by `id` (UUID v7, so creation order); sync feeds by `(updated_at, id)`.
use actix_web::{HttpRequest, HttpResponse, http::header};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{ApiError, FieldError};

pub use crate::db::page::{DEFAULT_LIMIT, MAX_LIMIT, PageRequest, Position, Row};

/// The key that signs cursors (derived from the token secret at start-up).
#[derive(Clone)]
pub struct CursorKey(Vec<u8>);

impl CursorKey {
    pub fn derive(secret: &[u8]) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
        mac.update(b"cchc-outreach cursor key");
        Self(mac.finalize().into_bytes().to_vec())
    }

    fn mac(&self, path: &str, payload: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("any key length");
        mac.update(path.as_bytes());
        mac.update(b"\n");
        mac.update(payload.as_bytes());
        mac
    }
}

/// Query parameters shared by every list.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "documents the parameters; PageRequest::parse reads them")]
pub struct PageParams {
    /// Page size, 1–200 (default 50). More than 200 is a 400, not a silent clamp.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<i64>,
    /// Opaque cursor from the previous page's `next_cursor` (or its `Link: rel="next"`).
    /// One that is not of this form is a 400; one of this form that this list did not
    /// issue (altered, from another list, or of the other ordering) is a 422.
    cursor: Option<String>,
    /// Incremental sync: records changed at or after this RFC 3339 time, ordered by
    /// `(updated_at, id)`, including tombstones `{"id", "deleted_at"}` for deletions.
    updated_since: Option<DateTime<Utc>>,
}

impl PageRequest {
    pub const PARAMS: &'static [&'static str] = &["limit", "cursor", "updated_since"];

    pub fn parse(pairs: &[(String, String)], path: &str, key: &CursorKey) -> Result<Self, ApiError> {
        let mut errors = Vec::new();
        let mut req = Self { limit: DEFAULT_LIMIT, after: None, updated_since: None };
        let mut cursor = None;
        for (name, value) in pairs {
            if pairs.iter().filter(|(n, _)| n == name).count() > 1 {
                errors.push(
                    FieldError::new(name.clone(), "invalid_value").reason("duplicate parameter", "tham số bị lặp lại"),
                );
                continue;
            }
            match name.as_str() {
                "limit" => match value.parse::<i64>() {
                    Ok(n) if (1..=MAX_LIMIT).contains(&n) => req.limit = n,
                    Ok(_) => errors.push(FieldError::new("limit", "out_of_range").arg("min", 1).arg("max", MAX_LIMIT)),
                    Err(_) => errors.push(
                        FieldError::new("limit", "invalid_value").reason("not a whole number", "không phải số nguyên"),
                    ),
                },
                "updated_since" => match DateTime::parse_from_rfc3339(value) {
                    Ok(t) => req.updated_since = Some(t.with_timezone(&Utc)),
                    Err(_) => errors.push(FieldError::new("updated_since", "invalid_timestamp")),
                },
                // An empty cursor (a script's first page) is no cursor.
                "cursor" if value.is_empty() => {}
                "cursor" => cursor = Some(value.as_str()),
                _ => {}
            }
        }
        if !errors.is_empty() {
            errors.dedup_by(|a, b| a.field == b.field);
            return Err(ApiError::validation(errors));
        }
        if let Some(cursor) = cursor {
            if !well_formed(cursor) {
                return Err(invalid_cursor());
            }
            let position = decode(cursor, path, key).ok_or_else(unknown_cursor)?;
            match (position, req.updated_since) {
                (Position::Id(_), None) | (Position::Sync(..), Some(_)) => req.after = Some(position),
                _ => return Err(unknown_cursor()),
            }
        }
        Ok(req)
    }
}

/// The form of every cursor `encode` makes; the OpenAPI document states it.
/// Empty is the first page, as a script's first request may send it.
pub const CURSOR_PATTERN: &str = r"^([A-Za-z0-9_-]{20,80}\.[A-Za-z0-9_-]{22})?$";

/// Whether `cursor` is of the form `CURSOR_PATTERN` states.
fn well_formed(cursor: &str) -> bool {
    let b64 = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    cursor.is_empty()
        || cursor.split_once('.').is_some_and(|(payload, tag)| {
            (20..=80).contains(&payload.len()) && b64(payload) && tag.len() == 22 && b64(tag)
        })
}

fn invalid_cursor() -> ApiError {
    ApiError::bad_request("invalid_cursor").with_errors(vec![FieldError::new("cursor", "invalid_format")])
}

fn unknown_cursor() -> ApiError {
    ApiError::unprocessable("unknown_cursor").with_errors(vec![FieldError::new("cursor", "unknown_cursor")])
}

pub fn encode(position: Position, path: &str, key: &CursorKey) -> String {
    let payload = match position {
        Position::Id(id) => format!("i.{}", id.simple()),
        Position::Sync(at, id) => format!("s.{}.{}", at.timestamp_micros(), id.simple()),
    };
    let tag = key.mac(path, &payload).finalize().into_bytes();
    format!("{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(&tag[..16]))
}

fn decode(cursor: &str, path: &str, key: &CursorKey) -> Option<Position> {
    let (payload, tag) = cursor.split_once('.')?;
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    key.mac(path, &payload).verify_truncated_left(&tag).ok()?;
    let mut parts = payload.split('.');
    let position = match (parts.next()?, parts.next(), parts.next(), parts.next()) {
        ("i", Some(id), None, None) => Position::Id(Uuid::parse_str(id).ok()?),
        ("s", Some(micros), Some(id), None) => {
            Position::Sync(DateTime::from_timestamp_micros(micros.parse().ok()?)?, Uuid::parse_str(id).ok()?)
        }
        _ => return None,
    };
    Some(position)
}

/// A record in a list, or in a sync feed the tombstone of a deleted one.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum Listed<T> {
    Live(T),
    Deleted(Tombstone),
}

/// A record deleted since `updated_since`: drop it from your copy.
#[derive(Serialize, ToSchema)]
pub struct Tombstone {
    pub id: Uuid,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub deleted_at: DateTime<Utc>,
}

/// One page of a list.
#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<Listed<T>>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds the page from `rows` (fetched with `PageRequest::fetch`), turning each
    /// live row into its API shape with `to_api`.
    pub fn build<R: Row>(
        rows: Vec<R>,
        page: &PageRequest,
        req: &HttpRequest,
        key: &CursorKey,
        to_api: impl Fn(R) -> T,
    ) -> Self {
        let has_more = rows.len() as i64 > page.limit;
        let mut rows = rows;
        rows.truncate(page.limit as usize);
        let next_cursor = has_more.then(|| {
            let last = rows.last().expect("a full page has a last row");
            let position =
                if page.is_sync() { Position::Sync(last.updated_at(), last.id()) } else { Position::Id(last.id()) };
            encode(position, req.path(), key)
        });
        let items = rows
            .into_iter()
            .map(|row| match row.deleted_at() {
                Some(deleted_at) => Listed::Deleted(Tombstone { id: row.id(), deleted_at }),
                None => Listed::Live(to_api(row)),
            })
            .collect();
        Self { items, next_cursor }
    }
}

impl<T: Serialize> Page<T> {
    /// `200` with the page and, when there is a next page, `Link: <…>; rel="next"`.
    pub fn respond(self, req: &HttpRequest) -> HttpResponse {
        let mut res = HttpResponse::Ok();
        if let Some(cursor) = &self.next_cursor {
            let mut query = form_urlencoded::Serializer::new(String::new());
            for (k, v) in form_urlencoded::parse(req.query_string().as_bytes()).filter(|(k, _)| k != "cursor") {
                query.append_pair(&k, &v);
            }
            query.append_pair("cursor", cursor);
            res.insert_header((header::LINK, format!("<{}?{}>; rel=\"next\"", req.path(), query.finish())));
        }
        res.json(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_tampering() {
        let key = CursorKey::derive(b"test secret of enough length......");
        let id = Uuid::now_v7();
        let c = encode(Position::Id(id), "/api/v1/users", &key);
        assert_eq!(decode(&c, "/api/v1/users", &key), Some(Position::Id(id)));
        assert_eq!(decode(&c, "/api/v1/departments", &key), None, "bound to its path");
        let mut tampered = c.clone();
        tampered.replace_range(2..3, if &c[2..3] == "A" { "B" } else { "A" });
        assert_eq!(decode(&tampered, "/api/v1/users", &key), None);
        let at = DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap();
        let s = encode(Position::Sync(at, id), "/x", &key);
        assert_eq!(decode(&s, "/x", &key), Some(Position::Sync(at, id)));
        assert_eq!(decode("garbage", "/x", &key), None);
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        fn position() -> impl Strategy<Value = Position> {
            prop_oneof![
                any::<u128>().prop_map(|n| Position::Id(Uuid::from_u128(n))),
                (-62_135_596_800_000_000i64..4_102_444_800_000_000, any::<u128>()).prop_map(|(micros, n)| {
                    Position::Sync(DateTime::from_timestamp_micros(micros).unwrap(), Uuid::from_u128(n))
                }),
            ]
        }

        proptest! {
            #[test]
            fn every_cursor_reads_back_on_its_own_path_only(pos in position(), path in "/api/v1/[a-z/-]{1,30}") {
                let key = CursorKey::derive(b"property test secret, long enough.");
                let cursor = encode(pos, &path, &key);
                prop_assert!(well_formed(&cursor), "{} is of the documented form", cursor);
                prop_assert_eq!(decode(&cursor, &path, &key), Some(pos));
                let elsewhere = format!("{path}x");
                prop_assert_eq!(decode(&cursor, &elsewhere, &key), None);
                let other_key = CursorKey::derive(b"another property test secret......");
                prop_assert_eq!(decode(&cursor, &path, &other_key), None);
            }

            #[test]
            fn the_pattern_says_which_cursors_are_well_formed(text in "[A-Za-z0-9_.=+/-]{0,90}") {
                let pattern = regex::Regex::new(CURSOR_PATTERN).unwrap();
                prop_assert_eq!(pattern.is_match(&text), well_formed(&text), "{:?}", text);
            }

            #[test]
            fn a_cursor_with_any_character_changed_is_refused(pos in position(), at in any::<prop::sample::Index>(), c in "[A-Za-z0-9_.-]") {
                let key = CursorKey::derive(b"property test secret, long enough.");
                let cursor = encode(pos, "/api/v1/plans", &key);
                let i = at.index(cursor.len());
                let mut tampered = cursor.clone();
                tampered.replace_range(i..=i, &c);
                prop_assume!(tampered != cursor);
                prop_assert_eq!(decode(&tampered, "/api/v1/plans", &key), None);
            }

            #[test]
            fn any_string_is_refused_without_panicking(text in ".{0,200}") {
                let key = CursorKey::derive(b"property test secret, long enough.");
                prop_assert_eq!(decode(&text, "/api/v1/plans", &key), None);
            }
        }
    }
}
