//! `Idempotency-Key` on creating POSTs: the same key from the same caller with the same
//! request within 24 h replays the first response (`Idempotency-Replayed: true`) and
//! creates nothing; the same key with another request is a 422; a retry while the first
//! is still running is a 409. Keys live in PostgreSQL, so they hold across instances.
//!
//! Only successful responses are kept; after a failure the key is free again, so a
//! corrected retry with the same key works.
use actix_web::{
    Error, HttpMessage, HttpResponse,
    body::{BoxBody, MessageBody, to_bytes},
    dev::{Payload, ServiceRequest, ServiceResponse},
    http::{
        StatusCode,
        header::{self, HeaderName, HeaderValue},
    },
    middleware::Next,
    web,
};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use utoipa::IntoParams;

use crate::{
    auth::principal::authenticate,
    db::{
        self,
        idempotency::{self as store, Reservation},
    },
    error::ApiError,
    http::json::{declared_length, read_limited},
    state::AppState,
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
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(req.error_response(ApiError::internal("state missing")));
    };
    let declared = declared_length(req.request());
    let body = match read_limited(req.take_payload(), declared, state.settings.max_json_bytes).await {
        Ok(body) => body,
        Err(err) => return Ok(req.error_response(err)),
    };
    let hash = request_hash(req.method().as_str(), req.path(), &body);
    req.set_payload(Payload::from(body));

    let (pool, owner) = (state.pool.clone(), principal.id);
    let reservation = {
        let (key, hash) = (key.clone(), hash.clone());
        db::run(&pool, move |conn| Ok(store::reserve(conn, owner, &key, &hash)?)).await
    };
    match reservation {
        Err(err) => return Ok(req.error_response(err)),
        Ok(Reservation::Existing(row)) => {
            let answer = if row.request_hash != hash {
                Err(ApiError::unprocessable("idempotency_key_reused"))
            } else if row.state != "completed" {
                Err(ApiError::conflict("idempotency_in_progress"))
            } else {
                Ok(replay(&row))
            };
            return Ok(match answer {
                Ok(res) => req.into_response(res),
                Err(err) => req.error_response(err),
            });
        }
        Ok(Reservation::Reserved) => {}
    }

    let release = |pool: db::PgPool, key: String| async move {
        let _ = db::run(&pool, move |conn| Ok(store::release(conn, owner, &key)?)).await;
    };
    let res = match next.call(req).await {
        Ok(res) => res,
        Err(err) => {
            release(pool, key).await;
            return Err(err);
        }
    };
    if !res.status().is_success() {
        release(pool, key).await;
        return Ok(res.map_into_boxed_body());
    }
    let secrets = res.response().extensions().get::<SecretFields>().map(|s| s.0);
    let (http_req, response) = res.into_parts();
    let (head, body) = response.into_parts();
    let bytes = match to_bytes(body).await {
        Ok(bytes) => bytes,
        Err(_) => {
            release(pool, key).await;
            return Ok(ServiceResponse::new(
                http_req,
                actix_web::ResponseError::error_response(&ApiError::internal("response body unreadable")),
            ));
        }
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
    let saved =
        db::run(&pool, move |conn| Ok(store::complete(conn, owner, &key, status, &headers, &stored_body)?)).await;
    if let Err(err) = saved {
        // The record was created; the caller still gets its answer. A retry would see
        // the key still reserved (409) until the reservation goes stale.
        tracing::error!("could not store idempotent response: {err}");
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
    let status = row.response_status.and_then(|s| StatusCode::from_u16(s as u16).ok()).unwrap_or(StatusCode::OK);
    let mut res = HttpResponse::build(status);
    if let Some(Value::Object(headers)) = &row.response_headers {
        for (name, value) in headers {
            if let (Ok(name), Some(Ok(value))) =
                (HeaderName::try_from(name.as_str()), value.as_str().map(HeaderValue::from_str))
            {
                res.insert_header((name, value));
            }
        }
    }
    res.insert_header((REPLAYED, "true"));
    res.body(row.response_body.clone().unwrap_or_default())
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
