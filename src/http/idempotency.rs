//! `Idempotency-Key` on creating POSTs: the same key from the same caller with the same
//! request within 24 h replays the first response (`Idempotency-Replayed: true`) and
//! creates nothing; the same key with another request is a 422; a retry while the first
//! is still running is a 409. Keys live in PostgreSQL, so they hold across instances.
//!
//! The request and the stored answer share one transaction (`db::RequestTransaction`),
//! and the key is held by an advisory lock of that transaction: nothing to clean up
//! after a crash, and no wait before a retry. Only successful responses are kept;
//! after a failure the key is free again, so a corrected retry with the same key works.
use actix_web::{
    Error, HttpMessage, HttpResponse, ResponseError,
    body::{BoxBody, MessageBody, to_bytes},
    dev::{Payload, ServiceRequest, ServiceResponse},
    http::{
        StatusCode,
        header::{self, HeaderName, HeaderValue},
    },
    middleware::Next,
};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use utoipa::IntoParams;

use crate::{
    auth::principal::authenticate,
    db::{
        PgPool, RequestTransaction,
        idempotency::{self as store, Prior},
    },
    error::ApiError,
    http::{
        json::{declared_length, read_limited},
        parts::{Conventions, part},
    },
};

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotency-replayed");
const KEPT_HEADERS: &[HeaderName] = &[header::CONTENT_TYPE, header::LOCATION, header::ETAG];

/// The header, as documented on every creating operation.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code, reason = "documents the header; the middleware reads it")]
pub struct IdempotencyKeyHeader {
    /// Up to 255 visible ASCII characters, unique per request you mean to make once
    /// (a UUID is a good choice). Retrying with the same key and body within 24 hours
    /// replays the first response instead of creating again.
    #[param(rename = "Idempotency-Key", max_length = 255, min_length = 1, pattern = "^[!-~]{1,255}$")]
    idempotency_key: Option<String>,
}

/// Put into a response's extensions by a handler whose body holds a secret that is
/// shown once: these top-level fields are stored as `null`, so a replay never shows it.
pub struct SecretFields(pub &'static [&'static str]);

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(raw) = req.headers().get(IDEMPOTENCY_KEY) else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let Some(key) = raw.to_str().ok().filter(|k| valid_key(k)).map(str::to_owned) else {
        return Ok(req.error_response(ApiError::bad_request("invalid_header").arg("header", "Idempotency-Key")));
    };
    // Without a valid caller there is nothing to scope the key to: the handler answers 401.
    let principal = match authenticate(req.request()).await {
        Ok(Some(p)) => p,
        Ok(None) | Err(_) => return next.call(req).await.map(ServiceResponse::map_into_boxed_body),
    };
    let (pool, conventions) = match (part::<PgPool>(req.request()), part::<Conventions>(req.request())) {
        (Ok(pool), Ok(conventions)) => (pool, conventions),
        (Err(err), _) | (_, Err(err)) => return Ok(req.error_response(err)),
    };
    let declared = declared_length(req.request());
    let body = match read_limited(req.take_payload(), declared, conventions.max_json_bytes).await {
        Ok(body) => body,
        Err(err) => return Ok(req.error_response(err)),
    };
    let hash = request_hash(req.method().as_str(), req.path(), &body);
    req.set_payload(Payload::from(body));

    // The request runs in one transaction that first takes the key and last stores the
    // answer: after a crash at any point, either both the effects and the answer are
    // there (a retry replays it) or neither is (a retry runs, once).
    let owner = principal.id;
    let tx = match RequestTransaction::begin(&pool).await {
        Ok(tx) => tx,
        Err(err) => return Ok(req.error_response(err)),
    };
    let taken = {
        let key = key.clone();
        tx.run(move |conn| Ok(store::take(conn, owner, &key)?)).await
    };
    let refusal = match taken {
        Ok(Prior::Free) => None,
        Ok(Prior::Running) => Some(Err(ApiError::conflict("idempotency_in_progress"))),
        Ok(Prior::Done(row)) if row.request_hash != hash => {
            Some(Err(ApiError::unprocessable("idempotency_key_reused")))
        }
        Ok(Prior::Done(row)) => Some(Ok(replay(&row))),
        Err(err) => Some(Err(err)),
    };
    if let Some(answer) = refusal {
        tx.rollback().await;
        return Ok(match answer {
            Ok(res) => req.into_response(res),
            Err(err) => req.error_response(err),
        });
    }

    let res = match tx.scope(next.call(req)).await {
        Ok(res) => res,
        Err(err) => {
            tx.rollback().await;
            return Err(err);
        }
    };
    // Only successful answers are kept: after a failure the key is free again, so a
    // corrected retry with the same key works.
    if !res.status().is_success() {
        tx.rollback().await;
        return Ok(res.map_into_boxed_body());
    }
    let secrets = res.response().extensions().get::<SecretFields>().map(|s| s.0);
    let (http_req, response) = res.into_parts();
    let (head, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body).await else {
        tx.rollback().await;
        return Ok(ServiceResponse::new(http_req, ApiError::internal("response body unreadable").error_response()));
    };
    let stored_body = match secrets {
        Some(fields) => redact(&bytes, fields),
        None => bytes.to_vec(),
    };
    let headers = Value::Object(
        KEPT_HEADERS
            .iter()
            .filter_map(|name| {
                let v = head.headers().get(name)?.to_str().ok()?;
                Some((name.as_str().to_owned(), Value::String(v.to_owned())))
            })
            .collect(),
    );
    let status = head.status().as_u16() as i16;
    let saved = tx.run(move |conn| Ok(store::save(conn, owner, &key, &hash, status, &headers, &stored_body)?)).await;
    let committed = match saved {
        Ok(()) => tx.commit().await,
        Err(err) => {
            tx.rollback().await;
            Err(err)
        }
    };
    // Not known to be committed: the caller must hear so. If the commit did happen after
    // all (its answer was lost), a retry with the key replays this answer.
    if let Err(err) = committed {
        return Ok(ServiceResponse::new(http_req, err.error_response()));
    }
    Ok(ServiceResponse::new(http_req, head.set_body(BoxBody::new(bytes))))
}

fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// SHA-256 of method, path and the body (as canonical JSON when it is JSON, so key
/// order and whitespace do not matter).
fn request_hash(method: &str, path: &str, body: &[u8]) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update(b" ");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => hasher.update(serde_json::to_vec(&canonical(value)).unwrap_or_default()),
        Err(_) => hasher.update(body),
    }
    hasher.finalize().to_vec()
}

fn canonical(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().map(|(k, v)| (k, canonical(v))).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().collect::<Map<String, Value>>())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

fn redact(body: &[u8], fields: &[&str]) -> Vec<u8> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(mut map)) => {
            for field in fields {
                if let Some(v) = map.get_mut(*field) {
                    *v = Value::Null;
                }
            }
            serde_json::to_vec(&map).unwrap_or_default()
        }
        _ => body.to_vec(),
    }
}

fn replay(row: &store::KeyRow) -> HttpResponse {
    let status = StatusCode::from_u16(row.response_status as u16).unwrap_or(StatusCode::OK);
    let mut res = HttpResponse::build(status);
    if let Value::Object(headers) = &row.response_headers {
        for (name, value) in headers {
            if let (Ok(name), Some(Ok(value))) =
                (HeaderName::try_from(name.as_str()), value.as_str().map(HeaderValue::from_str))
            {
                res.insert_header((name, value));
            }
        }
    }
    res.insert_header((REPLAYED, "true"));
    res.body(row.response_body.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_hash_ignores_key_order_but_not_values() {
        let a = request_hash("POST", "/x", br#"{"a":1,"b":{"c":2,"d":3}}"#);
        let b = request_hash("POST", "/x", br#"{ "b": {"d":3, "c":2}, "a": 1 }"#);
        let c = request_hash("POST", "/x", br#"{"a":2,"b":{"c":2,"d":3}}"#);
        let d = request_hash("POST", "/y", br#"{"a":1,"b":{"c":2,"d":3}}"#);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn keys_are_visible_ascii_up_to_255() {
        assert!(valid_key("3f2b-01"));
        assert!(!valid_key(""));
        assert!(!valid_key("has space"));
        assert!(!valid_key(&"k".repeat(256)));
    }
}
