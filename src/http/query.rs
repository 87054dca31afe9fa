//! `ApiQuery<T>`: query parameters parsed strictly (unknown ones are a 400), and
//! `ListQuery<F>`: the pagination parameters every list shares plus its filters.
//!
//! Every query string the service reads is decoded here, by `pairs`: a parameter whose
//! name or value decodes to invalid UTF-8 or holds a NUL (which PostgreSQL text cannot
//! store) is a 400 naming it, before any handler or query sees it.
use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload};
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::{
    error::{ApiError, FieldError},
    http::{json::serde_field_error, pagination::PageRequest, parts::Conventions},
};

pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Validate> FromRequest for ApiQuery<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(request_pairs(req).and_then(|pairs| parse::<T>(&pairs)).map(ApiQuery))
    }
}

/// The request's query pairs; for an oversight read, without the `organization_id` that
/// named the unit read (the principal acts on that unit already).
fn request_pairs(req: &HttpRequest) -> Result<Vec<(String, String)>, ApiError> {
    use actix_web::HttpMessage;
    let mut pairs = pairs(req.query_string())?;
    if req.extensions().get::<crate::auth::Principal>().is_some_and(|p| p.overseeing.is_some()) {
        pairs.retain(|(key, _)| key != "organization_id");
    }
    Ok(pairs)
}

/// The decoded `(name, value)` pairs of a query string (`application/x-www-form-urlencoded`:
/// `+` is a space, `%XX` a byte), refusing what no parameter may hold.
pub fn pairs(query: &str) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        let name = decode(name);
        let value = decode(value);
        let shown = match &name {
            Ok(n) if !n.contains('\0') => n.clone(),
            _ => "query".to_owned(),
        };
        match (name, value) {
            (Ok(name), Ok(value)) if !name.contains('\0') && !value.contains('\0') => out.push((name, value)),
            (Err(_), _) | (_, Err(_)) => errors.push(FieldError::new(shown, "invalid_utf8")),
            _ => errors.push(FieldError::new(shown, "nul_character")),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(ApiError::validation(errors)) }
}

fn decode(raw: &str) -> Result<String, std::string::FromUtf8Error> {
    let spaced = raw.replace('+', " ");
    String::from_utf8(percent_encoding::percent_decode_str(&spaced).collect())
}

fn parse<T: DeserializeOwned + Validate>(pairs: &[(String, String)]) -> Result<T, ApiError> {
    // Checked above, the pairs encode and decode again without loss.
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    let value: T = serde_path_to_error::deserialize(de).map_err(|e| {
        let mut err = serde_field_error(&e.path().to_string(), &e.inner().to_string());
        if err.code == "unknown_field" {
            err.code = "unknown_parameter".into();
        }
        ApiError::validation(vec![err])
    })?;
    value.validate()?;
    Ok(value)
}

/// A list request: `limit`, `cursor`, `updated_since`, and the list's own filters `F`.
pub struct ListQuery<F> {
    pub page: PageRequest,
    pub filter: F,
}

impl<F: DeserializeOwned + Validate> FromRequest for ListQuery<F> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(list_query(req))
    }
}

fn list_query<F: DeserializeOwned + Validate>(req: &HttpRequest) -> Result<ListQuery<F>, ApiError> {
    let (paging, rest): (Vec<_>, Vec<_>) =
        request_pairs(req)?.into_iter().partition(|(key, _)| PageRequest::PARAMS.contains(&key.as_str()));
    let conventions = crate::http::parts::part::<Conventions>(req)?;
    let page = PageRequest::parse(&paging, req.path(), &conventions.cursor_key);
    let filter = parse::<F>(&rest);
    match (page, filter) {
        (Ok(page), Ok(filter)) => Ok(ListQuery { page, filter }),
        (Err(a), Err(b)) => Err(merge(a, b)),
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

/// Both halves failed validation: report every field at once.
fn merge(a: ApiError, b: ApiError) -> ApiError {
    match (a.field_errors(), b.field_errors()) {
        (Some(x), Some(y)) => ApiError::validation(x.iter().chain(y).cloned().collect::<Vec<FieldError>>()),
        _ => a,
    }
}

/// No filters besides paging.
#[derive(serde::Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NoFilter {}
