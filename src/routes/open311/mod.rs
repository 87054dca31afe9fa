//! Open311 GeoReport v2 (<https://wiki.open311.org/GeoReport_v2>) at `/open311/v2/`: a
//! second face of the same feedback records, so a civic app written against the
//! standard (FixMyStreet, uReport, a province's own) works without learning this API.
//!
//! Each resource answers in JSON or XML by its extension (`services.json`,
//! `services.xml`); errors come in the specification's own shape and codes
//! (`[{"code": 404, "description": "…"}]`, `<errors><error>…`), not problem+json. The
//! mapping to records is in `docs/open311.md`.
mod format;
mod requests;

pub use format::{Open311Error, Open311Errors};
pub use requests::*;

use actix_web::{HttpRequest, HttpResponse, get, http::StatusCode, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    auth::Principal,
    db::{
        self,
        feedback::{CategoryRow, categories},
        organizations::{self, OrganizationRow},
    },
    http::{RequestContext, query::pairs},
    routes::public::rate_limit,
    state::AppState,
};
use format::{Format, answer};

/// Every Open311 operation. Registered with `.service(...)`, so each is in the OpenAPI
/// document too.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(discovery)
        .service(list_services)
        .service(get_service_definition)
        .service(list_requests)
        .service(create_request)
        .service(get_request)
        .service(get_token);
}

/// The specification this endpoint follows.
const SPECIFICATION: &str = "http://wiki.open311.org/GeoReport_v2";
/// When this endpoint's behaviour last changed (the discovery's `changeset`).
const CHANGESET: &str = "2026-12-06T00:00:00+07:00";

/// `json` or `xml`: the answer's format.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct FormatPath {
    /// `json` or `xml`.
    #[param(pattern = "^(json|xml)$")]
    pub format: String,
}

/// Where a caller stands: a person or service client, or the public.
pub(crate) struct Caller(Option<Principal>);

/// The caller: a bearer token (`Authorization`, any account of the service), or
/// `api_key` — a service client's `<client_id>:<client_secret>` — or nobody.
pub(crate) async fn caller(
    req: &HttpRequest,
    api_key: Option<&str>,
    ctx: &RequestContext,
    state: &AppState,
) -> Result<Caller, Open311Error> {
    if let Some(found) = crate::auth::principal::authenticate(req).await.map_err(Open311Error::from)? {
        return Ok(Caller(Some(found)));
    }
    let Some(key) = api_key else { return Ok(Caller(None)) };
    let invalid = || {
        Open311Error::new(
            StatusCode::FORBIDDEN,
            "Invalid api_key: expected <client_id>:<client_secret> of a service client.",
        )
    };
    let (id, secret) = key.split_once(':').ok_or_else(invalid)?;
    let client = crate::routes::auth::check_client(id.to_owned(), secret.to_owned(), ctx, state)
        .await
        .map_err(|e| if e.status().as_u16() == 429 { Open311Error::from(e) } else { invalid() })?;
    let subject = crate::auth::jwt::TokenSubject::Client { id: client.id, issued_at: i64::MAX, scopes: None };
    let principal = crate::auth::principal::resolve(&state.pool, &state.accounts, subject)
        .await
        .map_err(Open311Error::from)?
        .ok_or_else(invalid)?;
    Ok(Caller(Some(principal)))
}

/// The organisation `jurisdiction_id` names (its code). Without one, the caller's own.
/// Where the caller's credentials count (`own_only`: reading or filing requests), a
/// caller of another organisation is refused (403); public resources refuse no one.
pub(crate) async fn jurisdiction(
    state: &AppState,
    code: Option<String>,
    caller: &Caller,
    own_only: bool,
) -> Result<OrganizationRow, Open311Error> {
    let own = caller.0.as_ref().and_then(|p| p.organization_id);
    let org = match (code, own) {
        (Some(code), _) => {
            let found = db::run(&state.pool, move |conn| Ok(organizations::by_code(conn, &code)?)).await;
            match found {
                Ok(org) => org,
                Err(e) if e.status() == StatusCode::NOT_FOUND => {
                    return Err(Open311Error::new(StatusCode::NOT_FOUND, "jurisdiction_id not found."));
                }
                Err(e) => return Err(e.into()),
            }
        }
        (None, Some(own)) => db::run(&state.pool, move |conn| Ok(organizations::find(conn, own, None)?)).await?,
        (None, None) => {
            return Err(Open311Error::new(
                StatusCode::BAD_REQUEST,
                "jurisdiction_id is required: the code of the organisation (e.g. KDPM).",
            ));
        }
    };
    if own_only && own.is_some_and(|own| own != org.id) {
        return Err(Open311Error::new(StatusCode::FORBIDDEN, "The credentials are not valid for this jurisdiction."));
    }
    Ok(org)
}

/// The query's parameters, each once, none but `known`.
pub(crate) fn query_params(req: &HttpRequest, known: &[&str]) -> Result<Vec<(String, String)>, Open311Error> {
    let found = pairs(req.query_string()).map_err(Open311Error::from)?;
    let mut seen: Vec<&str> = Vec::new();
    for (name, _) in &found {
        if !known.contains(&name.as_str()) {
            return Err(Open311Error::new(StatusCode::BAD_REQUEST, format!("Unknown parameter: {name}.")));
        }
        if seen.contains(&name.as_str()) {
            return Err(Open311Error::new(StatusCode::BAD_REQUEST, format!("Parameter {name} is given twice.")));
        }
        seen.push(name);
    }
    Ok(found)
}

pub(crate) fn param(params: &[(String, String)], name: &str) -> Option<String> {
    params.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
}

/// An endpoint of the discovery document.
#[derive(Serialize, ToSchema)]
pub struct DiscoveryEndpoint {
    #[schema(example = "http://wiki.open311.org/GeoReport_v2")]
    pub specification: &'static str,
    /// The base of this endpoint's resources.
    #[schema(example = "https://cchc.khanhhoa.gov.vn/open311/v2")]
    pub url: String,
    pub changeset: &'static str,
    /// `production` or `test`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub formats: Vec<&'static str>,
}

/// What this Open311 endpoint offers.
#[derive(Serialize, ToSchema)]
pub struct Discovery {
    pub changeset: &'static str,
    pub contact: String,
    /// How to get an `api_key`.
    pub key_service: String,
    pub endpoints: Vec<DiscoveryEndpoint>,
}

/// The discovery document.
///
/// Where the GeoReport v2 endpoint is, in which formats, and how to get an `api_key`
/// (a service client of the organisation, from its administrator).
#[utoipa::path(
    tag = "open311",
    params(FormatPath),
    responses(
        (status = 200, description = "The discovery document (`<discovery>` in XML).", content(
            (Discovery = "application/json"),
            (String = "text/xml"))),
    )
)]
#[get("/discovery.{format}")]
pub async fn discovery(req: HttpRequest, path: web::Path<FormatPath>, state: web::Data<AppState>) -> HttpResponse {
    answer(&path.format, |format| async move {
        rate_limit(&req, &state).await?;
        query_params(&req, &[])?;
        let base = state.settings.public_url.trim_end_matches('/');
        let body = Discovery {
            changeset: CHANGESET,
            contact: format!("The organisation's administrator, through {base}"),
            key_service: "Ask the organisation's administrator for a service client with the scope feedback:write; \
                          its <client_id>:<client_secret> is the api_key."
                .to_owned(),
            endpoints: vec![DiscoveryEndpoint {
                specification: SPECIFICATION,
                url: format!("{base}/open311/v2"),
                changeset: CHANGESET,
                kind: "production",
                formats: vec!["application/json", "text/xml"],
            }],
        };
        Ok(match format {
            Format::Json => format::json(StatusCode::OK, &body),
            Format::Xml => format::xml(StatusCode::OK, format::discovery_xml(&body)),
        })
    })
    .await
}

/// A kind of request that may be filed: one of the organisation's feedback categories.
#[derive(Serialize, ToSchema)]
pub struct Service {
    /// The category's code.
    #[schema(example = "DAT-DAI")]
    pub service_code: String,
    #[schema(example = "Đất đai, giải phóng mặt bằng")]
    pub service_name: String,
    pub description: String,
    /// Whether the service has attributes to fill in (never, here).
    pub metadata: bool,
    /// `realtime`: the request's id comes back at once.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub keywords: Option<String>,
    pub group: Option<String>,
}

impl From<CategoryRow> for Service {
    fn from(c: CategoryRow) -> Self {
        Self {
            description: format!("{}: trả lời trong {} ngày làm việc.", c.name, c.deadline_days),
            service_code: c.code,
            service_name: c.name,
            metadata: false,
            kind: "realtime",
            keywords: None,
            group: None,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "documents the parameters; the handler reads them itself")]
pub struct JurisdictionQuery {
    /// The organisation's code (e.g. `KDPM`); may be left out with credentials, which
    /// name their own.
    #[param(min_length = 1, max_length = 32)]
    jurisdiction_id: Option<String>,
}

/// The organisation's services: its feedback categories.
#[utoipa::path(
    tag = "open311",
    params(FormatPath, JurisdictionQuery),
    responses(
        (status = 200, description = "The services (`<services><service>…` in XML).", content(
            (Vec<Service> = "application/json"), (String = "text/xml"))),
    )
)]
#[get("/services.{format}")]
pub async fn list_services(
    req: HttpRequest,
    ctx: RequestContext,
    path: web::Path<FormatPath>,
    state: web::Data<AppState>,
) -> HttpResponse {
    answer(&path.format, |format| async move {
        rate_limit(&req, &state).await?;
        let params = query_params(&req, &["jurisdiction_id"])?;
        let who = caller(&req, None, &ctx, &state).await?;
        let org = jurisdiction(&state, param(&params, "jurisdiction_id"), &who, false).await?;
        let services: Vec<Service> = db::run(&state.pool, move |conn| Ok(categories::all_of(conn, org.id)?))
            .await?
            .into_iter()
            .map(Service::from)
            .collect();
        Ok(format::list(format, StatusCode::OK, format::SERVICES, &services))
    })
    .await
}

/// A service's definition: the attributes a request of it carries (none, here).
#[derive(Serialize, ToSchema)]
pub struct ServiceDefinition {
    pub service_code: String,
    /// Always empty: the categories ask for nothing beyond the request's own fields.
    pub attributes: Vec<serde_json::Value>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ServicePath {
    /// The service's code.
    #[param(min_length = 1, max_length = 64)]
    pub service_code: String,
    /// `json` or `xml`.
    #[param(pattern = "^(json|xml)$")]
    pub format: String,
}

/// A service's definition.
#[utoipa::path(
    tag = "open311",
    params(ServicePath, JurisdictionQuery),
    responses(
        (status = 200, description = "The definition (`<service_definition>` in XML).", content(
            (ServiceDefinition = "application/json"), (String = "text/xml"))),
        (status = 404, description = "An unknown service, jurisdiction or format.", content(
            (Open311Errors = "application/json"), (String = "text/xml"))),
    )
)]
#[get("/services/{service_code}.{format}")]
pub async fn get_service_definition(
    req: HttpRequest,
    ctx: RequestContext,
    path: web::Path<ServicePath>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let ServicePath { service_code, format } = path.into_inner();
    answer(&format, |format| async move {
        rate_limit(&req, &state).await?;
        let params = query_params(&req, &["jurisdiction_id"])?;
        let who = caller(&req, None, &ctx, &state).await?;
        let org = jurisdiction(&state, param(&params, "jurisdiction_id"), &who, false).await?;
        let code = service_code.clone();
        let found = db::run(&state.pool, move |conn| Ok(categories::all_of(conn, org.id)?))
            .await?
            .into_iter()
            .find(|c| c.code.eq_ignore_ascii_case(&code))
            .ok_or_else(|| Open311Error::new(StatusCode::NOT_FOUND, "service_code not found."))?;
        let body = ServiceDefinition { service_code: found.code, attributes: Vec::new() };
        Ok(match format {
            Format::Json => format::json(StatusCode::OK, &body),
            Format::Xml => format::xml(
                StatusCode::OK,
                format!(
                    "<service_definition>{}<attributes/></service_definition>",
                    format::element("service_code", &body.service_code)
                ),
            ),
        })
    })
    .await
}

/// What a token stands for.
#[derive(Serialize, ToSchema)]
pub struct TokenAnswer {
    pub service_request_id: String,
    pub token: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TokenPath {
    /// The token: the record's id.
    #[param(value_type = uuid::Uuid)]
    pub token: String,
    /// `json` or `xml`.
    #[param(pattern = "^(json|xml)$")]
    pub format: String,
}

/// The request a token stands for.
///
/// Requests are `realtime` here, so `POST requests` already answers with the
/// `service_request_id`; a token is the record's id, for clients that ask anyway.
#[utoipa::path(
    tag = "open311",
    params(TokenPath, JurisdictionQuery),
    responses(
        (status = 200, description = "The request's id (`<service_requests><request>…` in XML).", content(
            (Vec<TokenAnswer> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "An unknown token, jurisdiction or format.", content(
            (Open311Errors = "application/json"), (String = "text/xml"))),
    )
)]
#[get("/tokens/{token}.{format}")]
pub async fn get_token(
    req: HttpRequest,
    ctx: RequestContext,
    path: web::Path<TokenPath>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let TokenPath { token, format } = path.into_inner();
    answer(&format, |format| async move {
        rate_limit(&req, &state).await?;
        let params = query_params(&req, &["jurisdiction_id"])?;
        let who = caller(&req, None, &ctx, &state).await?;
        let org = jurisdiction(&state, param(&params, "jurisdiction_id"), &who, false).await?;
        let not_found = || Open311Error::new(StatusCode::NOT_FOUND, "token not found.");
        let id = uuid::Uuid::parse_str(&token).map_err(|_| not_found())?;
        let found = db::run(&state.pool, move |conn| Ok(db::feedback::find(conn, id, Some(org.id))?)).await;
        let row = match found {
            Ok(row) => row,
            Err(e) if e.status() == StatusCode::NOT_FOUND => return Err(not_found()),
            Err(e) => return Err(e.into()),
        };
        let body = vec![TokenAnswer { service_request_id: row.code, token: id.to_string() }];
        Ok(format::list(format, StatusCode::OK, format::REQUESTS, &body))
    })
    .await
}
