//! `ApiQuery<T>`: query parameters parsed strictly (unknown ones are a 400), and
//! `ListQuery<F>`: the pagination parameters every list shares plus its filters.
use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::{
    error::{ApiError, FieldError},
    http::{json::serde_field_error, pagination::PageRequest},
    state::AppState,
};

pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Validate> FromRequest for ApiQuery<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse::<T>(req.query_string()).map(ApiQuery))
    }
}

fn parse<T: DeserializeOwned + Validate>(query: &str) -> Result<T, ApiError> {
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

fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
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
    let mut paging = Vec::new();
    let mut rest = form_urlencoded::Serializer::new(String::new());
    for (key, value) in form_urlencoded_parse(req.query_string()) {
        if PageRequest::PARAMS.contains(&key.as_ref()) {
            paging.push((key.into_owned(), value.into_owned()));
        } else {
            rest.append_pair(&key, &value);
        }
    }
    let key = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.cursor_key.clone())
        .ok_or_else(|| ApiError::internal("cursor key missing"))?;
    let page = PageRequest::parse(&paging, req.path(), &key);
    let filter = parse::<F>(&rest.finish());
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
