//! `ApiJson<T>`: the strict JSON body every write takes. It refuses a wrong content
//! type (415), an oversized body (413, counted while reading), malformed JSON, NUL
//! characters, server-owned fields and unknown fields (400), then runs `validator`.
use std::borrow::Cow;

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use futures_util::{StreamExt, future::LocalBoxFuture};
use serde::de::DeserializeOwned;
use serde_json::Value;
use validator::Validate;

use crate::{
    error::{ApiError, FieldError},
    http::{
        parts::{Conventions, part},
        rules,
    },
};

/// Fields the server owns: sending them is an error, never silently ignored.
pub const SERVER_OWNED: &[&str] = &[
    "id",
    "version",
    "created_at",
    "updated_at",
    "deleted_at",
    "created_by",
    "status",
    "secret_rotated_at",
    "password_changed_at",
];

pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = is_json(req);
        let conventions = part::<Conventions>(req);
        let payload = payload.take();
        let declared = declared_length(req);
        Box::pin(async move {
            let conventions = conventions?;
            let (limit, timeout) = (conventions.max_json_bytes, conventions.request_timeout);
            if !content_type_ok {
                return Err(ApiError::new(
                    actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                )
                .arg("expected", "application/json"));
            }
            // A body that trickles in (one byte a second) is cut off.
            let bytes = actix_web::rt::time::timeout(timeout, read_limited(payload, declared, limit))
                .await
                .map_err(|_| request_timeout())??;
            let mut value = parse_object(&bytes)?;
            whole_numbers(&mut value);
            let mut rules = rules::of::<T>().peekable();
            let sent = rules.peek().is_some().then(|| value.clone());
            let parsed = from_value(value)?;
            if let Some(sent) = sent {
                rules::check(rules, &sent)?;
            }
            Ok(ApiJson(parsed))
        })
    }
}

/// `12.0` is the whole number 12, as JSON Schema has it: written as an integer so that
/// integer fields take it (fields of real numbers take integers too).
fn whole_numbers(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(x) = n.as_f64()
                && x.fract() == 0.0
                && x.abs() < 9.0e15
            {
                *value = Value::from(x as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        Value::Object(map) => map.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// 408: the body did not arrive in time; the connection is closed.
pub fn request_timeout() -> ApiError {
    ApiError::new(actix_web::http::StatusCode::REQUEST_TIMEOUT, "request_timeout").header(header::CONNECTION, "close")
}

/// `application/json`, or any `application/*+json`.
pub fn is_json(req: &HttpRequest) -> bool {
    let Some(ct) = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

pub fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok())
}

/// Reads the body, failing with 413 as soon as it passes `limit`.
pub async fn read_limited(mut payload: Payload, declared: Option<usize>, limit: usize) -> Result<web::Bytes, ApiError> {
    let too_large =
        || ApiError::new(actix_web::http::StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").arg("limit", limit);
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::bad_request("bad_request"))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// A body that is not JSON: serde's words in English, the place in Vietnamese.
pub fn malformed_json(err: serde_json::Error) -> ApiError {
    ApiError::bad_request("malformed_json").arg("line", err.line()).arg("column", err.column()).arg("reason", err)
}

pub fn parse_object(bytes: &[u8]) -> Result<Value, ApiError> {
    let value: Value = serde_json::from_slice(bytes).map_err(malformed_json)?;
    if !value.is_object() {
        return Err(ApiError::bad_request("json_object_expected"));
    }
    Ok(value)
}

/// Checks a parsed JSON object and turns it into `T`.
pub fn from_value<T: DeserializeOwned + Validate>(value: Value) -> Result<T, ApiError> {
    let mut errors = Vec::new();
    find_nul(&value, "", &mut errors);
    if let Value::Object(map) = &value {
        for key in map.keys().filter(|k| SERVER_OWNED.contains(&k.as_str())) {
            errors.push(FieldError::new(key.clone(), "read_only"));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let parsed: T = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        ApiError::validation(vec![serde_field_error(&path, &e.inner().to_string())])
    })?;
    parsed.validate()?;
    Ok(parsed)
}

/// Turns serde's message into a field error: unknown field, missing field, bad value.
pub fn serde_field_error(path: &str, message: &str) -> FieldError {
    let join = |name: &str| if path.is_empty() || path == "." { name.to_owned() } else { format!("{path}.{name}") };
    let quoted = |prefix: &str| message.strip_prefix(prefix).and_then(|rest| rest.split('`').next()).map(str::to_owned);
    if let Some(name) = quoted("unknown field `") {
        // serde_path_to_error's path already ends at the unknown field.
        let field = if path == name || path.ends_with(&format!(".{name}")) { path.to_owned() } else { join(&name) };
        return FieldError::new(field, "unknown_field");
    }
    if let Some(name) = quoted("missing field `") {
        return FieldError::new(join(&name), "required");
    }
    let field = if path.is_empty() || path == "." { "body".to_owned() } else { path.to_owned() };
    // serde's wording ends with " at line 1 column 20" for JSON text errors.
    let reason = message.split(" at line ").next().unwrap_or(message);
    FieldError::new(field, Cow::Borrowed("invalid_value")).reason(reason, reason_vi(reason))
}

/// serde's and chrono's reasons, said in Vietnamese with the form expected.
fn reason_vi(reason: &str) -> String {
    let expected = reason.rsplit_once("expected ").map_or("", |(_, e)| e);
    let sized = |e: &str, kind: char| e.starts_with(kind) && e[1..].starts_with(|c: char| c.is_ascii_digit());
    if let Some(rest) = reason.strip_prefix("unknown variant `") {
        let value = rest.split('`').next().unwrap_or("");
        let allowed = expected.trim_start_matches("one of ").replace('`', "").replace(" or ", ", ");
        return format!("“{value}” không phải giá trị được nhận; chọn một trong: {allowed}");
    }
    let wanted = match expected {
        e if e.contains("boolean") => "true hoặc false",
        e if e.contains("UUID") || e.contains("uuid") => "một UUID (ví dụ 01938f6e-7d3c-7b1a-9c55-3f1f0b6f1a2e)",
        e if sized(e, 'i') || sized(e, 'u') || e.contains("integer") => "một số nguyên",
        e if sized(e, 'f') || e.contains("number") => "một số",
        e if e.contains("string") => "một chuỗi ký tự trong dấu ngoặc kép",
        e if e.contains("sequence") => "một danh sách [ … ]",
        e if e.contains("map") || e.contains("struct") => "một đối tượng { … }",
        _ if reason.contains("input") || reason.contains("premature") || reason.contains("trailing") => {
            "ngày dạng YYYY-MM-DD (ví dụ 2021-06-30) hoặc thời điểm RFC 3339 (ví dụ 2021-06-30T08:00:00+07:00)"
        }
        _ if reason.contains("UUID") || reason.contains("invalid character") || reason.contains("invalid length") => {
            "một UUID (ví dụ 01938f6e-7d3c-7b1a-9c55-3f1f0b6f1a2e)"
        }
        _ => "đúng kiểu của trường (xem tài liệu API)",
    };
    format!("cần {wanted}")
}

fn find_nul(value: &Value, path: &str, out: &mut Vec<FieldError>) {
    match value {
        Value::String(s) if s.contains('\0') => out.push(FieldError::new(path.to_owned(), "nul_character")),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                find_nul(item, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let sub = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                if key.contains('\0') {
                    out.push(FieldError::new(sub.clone(), "nul_character"));
                }
                find_nul(item, &sub, out);
            }
        }
        _ => {}
    }
}

/// For PATCH bodies: tells "absent" (`None`) from "set to null" (`Some(None)`).
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    serde::Deserialize::deserialize(de).map(Some)
}
