//! Turns every error into problem+json in the caller's language: handler errors,
//! extractor errors, unknown routes (404), wrong methods (405 with `Allow`) and any
//! bare error status produced by a library.
use actix_web::{
    Error, HttpRequest, HttpResponse,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{Method, StatusCode, header},
    middleware::Next,
    web,
};

use crate::{
    error::{ApiError, PROBLEM_JSON, ProblemContext},
    http::context::RequestContext,
};

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // Taken now: the request must not be shared while the router works on it.
    let ctx = problem_context(req.request());
    // Services inside answer errors as responses; an `Err` here (none is known) is
    // rendered by its own `ResponseError` further out.
    let res = next.call(req).await?.map_into_boxed_body();
    if res.status().as_u16() < 400 || res.response().extensions().get::<OwnFormat>().is_some() {
        return Ok(res);
    }
    let rendered = match res.response().error().and_then(|e| e.as_error::<ApiError>()) {
        Some(api) => {
            log_cause(api, &ctx);
            Some(api.render(&ctx))
        }
        None if is_problem(res.response()) => None,
        None => {
            let api = generic(res.status(), res.response().headers());
            if let Some(err) = res.response().error() {
                tracing::error!(request_id = %ctx.request_id, "unhandled error: {err}");
            }
            Some(api.render(&ctx))
        }
    };
    Ok(match rendered {
        Some(new) => res.into_response(new),
        None => res,
    })
}

/// Marks an error answer written in a standard's own format (Open311's), which this
/// middleware leaves as it is.
pub struct OwnFormat;

fn problem_context(req: &HttpRequest) -> ProblemContext {
    let rc = RequestContext::of(req).unwrap_or_else(|_| RequestContext::detached(req));
    ProblemContext { lang: rc.lang, instance: req.path().to_owned(), request_id: rc.request_id }
}

fn log_cause(err: &ApiError, ctx: &ProblemContext) {
    if let Some(cause) = err.internal_cause() {
        tracing::error!(request_id = %ctx.request_id, code = err.code(), "{cause}");
    }
}

fn is_problem(res: &HttpResponse) -> bool {
    res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()))
}

/// A bare status from somewhere else, given a problem body; `Allow` is kept.
fn generic(status: StatusCode, headers: &header::HeaderMap) -> ApiError {
    let code = match status.as_u16() {
        400 => "bad_request",
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        503 => "database_unavailable",
        s if s >= 500 => "internal_error",
        _ => "bad_request",
    };
    let mut err = ApiError::new(status, code);
    if let Some(allow) = headers.get(header::ALLOW).and_then(|v| v.to_str().ok()) {
        err = err.header(header::ALLOW, allow).arg("allow", allow).arg("method", "");
    }
    err
}

/// The paths and methods the API serves, taken from the OpenAPI document, so that a
/// known path with the wrong method is a 405 naming the allowed ones, not a 404.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<(Vec<Segment>, Vec<Method>)>,
}

#[derive(Debug, PartialEq)]
enum Segment {
    Literal(String),
    Param,
    /// Parameters within literal text (`requests.{format}`): the literal pieces between
    /// them, in order.
    Template(Vec<String>),
}

impl Segment {
    fn of(text: &str) -> Self {
        if text.starts_with('{') && text.ends_with('}') && text.matches('{').count() == 1 {
            return Self::Param;
        }
        if !text.contains('{') {
            return Self::Literal(text.to_owned());
        }
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            pieces.push(rest[..open].to_owned());
            rest = rest[open..].find('}').map_or("", |close| &rest[open + close + 1..]);
        }
        pieces.push(rest.to_owned());
        Self::Template(pieces)
    }

    fn fits(&self, part: &str) -> bool {
        match self {
            Self::Param => !part.is_empty(),
            Self::Literal(lit) => lit == part,
            Self::Template(pieces) => {
                let (first, last) = (&pieces[0], &pieces[pieces.len() - 1]);
                let Some(mut rest) = part.strip_prefix(first.as_str()) else { return false };
                for middle in &pieces[1..pieces.len() - 1] {
                    // Each parameter takes at least one character.
                    match rest.get(1..).and_then(|r| r.find(middle.as_str())) {
                        Some(at) => rest = &rest[1 + at + middle.len()..],
                        None => return false,
                    }
                }
                rest.len() > last.len() && rest.ends_with(last.as_str())
            }
        }
    }
}

impl RouteTable {
    pub fn new<'a>(entries: impl IntoIterator<Item = (&'a str, Vec<Method>)>) -> Self {
        let routes = entries
            .into_iter()
            .map(|(path, methods)| {
                let segments = path.trim_matches('/').split('/').map(Segment::of).collect();
                (segments, methods)
            })
            .collect();
        Self { routes }
    }

    /// The methods allowed on `path`, or `None` if no route matches it. Where routes
    /// overlap (`/plans/import` and `/plans/{id}`), the most literal one decides, as
    /// the router does.
    pub fn allowed(&self, path: &str) -> Option<Vec<Method>> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let mut best: Option<(usize, Vec<Method>)> = None;
        for (segments, methods) in &self.routes {
            let fits = segments.len() == parts.len() && segments.iter().zip(&parts).all(|(seg, part)| seg.fits(part));
            if !fits {
                continue;
            }
            let literal = segments.iter().filter(|s| matches!(s, Segment::Literal(_))).count();
            match &mut best {
                Some((n, allowed)) if *n == literal => {
                    for m in methods {
                        if !allowed.contains(m) {
                            allowed.push(m.clone());
                        }
                    }
                }
                Some((n, _)) if *n > literal => {}
                _ => best = Some((literal, methods.clone())),
            }
        }
        best.map(|(_, allowed)| allowed)
    }
}

impl RouteTable {
    /// The methods of the route written exactly as `path` (no parameters), if any.
    fn exact(&self, path: &str) -> Option<&[Method]> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        self.routes
            .iter()
            .find(|(segments, _)| {
                segments.len() == parts.len()
                    && segments.iter().zip(&parts).all(|(seg, part)| matches!(seg, Segment::Literal(l) if l == part))
            })
            .map(|(_, methods)| methods.as_slice())
    }
}

/// A path parameter that does not parse (e.g. `PATCH /plans/import` reaching
/// `/plans/{id}`): 405 if the path is a route of its own with other methods, else 404.
pub fn path_error(req: &HttpRequest) -> ApiError {
    let exact = req.app_data::<web::Data<RouteTable>>().and_then(|t| t.exact(req.path()).map(<[Method]>::to_vec));
    match exact {
        Some(methods) if !methods.contains(req.method()) => method_not_allowed(req, &methods),
        _ => ApiError::not_found(),
    }
}

/// 405, with the methods the path has in `Allow`.
fn method_not_allowed(req: &HttpRequest, methods: &[Method]) -> ApiError {
    let allow = methods.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
        .arg("method", req.method())
        .arg("allow", &allow)
        .header(header::ALLOW, allow)
}

/// The default service: 405 for a known path with another method, else 404.
pub async fn fallback(req: HttpRequest, routes: web::Data<RouteTable>) -> Result<HttpResponse, ApiError> {
    Err(match routes.allowed(req.path()) {
        Some(methods) if !methods.contains(req.method()) => method_not_allowed(&req, &methods),
        _ => ApiError::new(StatusCode::NOT_FOUND, "route_not_found").arg("path", req.path()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_table_matches_templates() {
        let table = RouteTable::new([
            ("/api/v1/users", vec![Method::GET, Method::POST]),
            ("/api/v1/users/{id}", vec![Method::GET, Method::PATCH, Method::DELETE]),
            ("/api/v1/users/{id}/password", vec![Method::POST]),
        ]);
        assert_eq!(table.allowed("/api/v1/users"), Some(vec![Method::GET, Method::POST]));
        assert_eq!(table.allowed("/api/v1/users/abc/password"), Some(vec![Method::POST]));
        let open311 = RouteTable::new([
            ("/open311/v2/requests.{format}", vec![Method::GET, Method::POST]),
            ("/open311/v2/requests/{service_request_id}.{format}", vec![Method::GET]),
        ]);
        assert_eq!(open311.allowed("/open311/v2/requests.json"), Some(vec![Method::GET, Method::POST]));
        assert_eq!(open311.allowed("/open311/v2/requests/PAKN-2021-000001.xml"), Some(vec![Method::GET]));
        assert_eq!(open311.allowed("/open311/v2/requests."), None);
        assert_eq!(open311.allowed("/open311/v2/requests/.json"), None);
        assert_eq!(open311.allowed("/open311/v2/services.json"), None);
        assert_eq!(table.allowed("/api/v1/users/abc/other"), None);
        assert_eq!(table.allowed("/api/v1/nothing"), None);
    }
}
