//! Open311's two formats: JSON after the "Spark" convention (lists as arrays) and XML
//! with the specification's element names, and its error lists.
use std::future::Future;

use actix_web::{
    HttpResponse,
    http::{StatusCode, header},
};
use serde::Serialize;
use utoipa::ToSchema;

use super::Discovery;
use crate::{error::ApiError, http::problem::OwnFormat, i18n::Lang};

const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Format {
    Json,
    Xml,
}

/// One error, as Open311 writes it.
#[derive(Serialize, ToSchema)]
pub struct Open311ErrorItem {
    /// The HTTP status.
    #[schema(example = 404)]
    pub code: u16,
    #[schema(example = "service_code not found.")]
    pub description: String,
}

/// Open311's errors: a list (`<errors><error>…` in XML).
#[derive(Serialize, ToSchema)]
pub struct Open311Errors(pub Vec<Open311ErrorItem>);

/// An error answered in Open311's shape; its description in English, as the
/// specification's examples are.
#[derive(Debug)]
pub struct Open311Error {
    status: StatusCode,
    descriptions: Vec<String>,
    headers: Vec<(header::HeaderName, String)>,
}

impl Open311Error {
    pub fn new(status: StatusCode, description: impl Into<String>) -> Self {
        Self { status, descriptions: vec![description.into()], headers: Vec::new() }
    }

    /// A 400 naming each field that is not valid.
    pub fn invalid(descriptions: Vec<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, descriptions, headers: Vec::new() }
    }
}

impl From<ApiError> for Open311Error {
    /// The service's own error in Open311's shape: its text and one entry per field;
    /// a 5xx says only that it failed (the cause is logged).
    fn from(err: ApiError) -> Self {
        let status = err.status();
        if status.is_server_error() {
            if let Some(cause) = err.internal_cause() {
                tracing::error!(code = err.code(), "open311: {cause}");
            }
            let text = match status {
                StatusCode::SERVICE_UNAVAILABLE => "The service is unavailable; try again later.",
                _ => "The service failed to answer; try again later.",
            };
            return Self { status, descriptions: vec![text.to_owned()], headers: err.headers().to_vec() };
        }
        let mut descriptions = vec![err.detail(Lang::En)];
        descriptions.extend(
            err.errors().iter().map(|e| format!("{}: {}", e.field, crate::i18n::message(&e.code, Lang::En, &e.args))),
        );
        Self { status, descriptions, headers: err.headers().to_vec() }
    }
}

/// Runs `work` in the format `extension` names, answering its error in that format
/// too (an unknown extension: 404, in JSON).
pub async fn answer<F, Fut>(extension: &str, work: F) -> HttpResponse
where
    F: FnOnce(Format) -> Fut,
    Fut: Future<Output = Result<HttpResponse, Open311Error>>,
{
    let format = match extension {
        "json" => Format::Json,
        "xml" => Format::Xml,
        _ => {
            let err = Open311Error::new(StatusCode::NOT_FOUND, "Unknown format: use .json or .xml.");
            return error(Format::Json, err);
        }
    };
    match work(format).await {
        Ok(res) => res,
        Err(err) => error(format, err),
    }
}

fn error(format: Format, err: Open311Error) -> HttpResponse {
    let code = err.status.as_u16();
    let items: Vec<Open311ErrorItem> =
        err.descriptions.into_iter().map(|description| Open311ErrorItem { code, description }).collect();
    let mut res = match format {
        Format::Json => json(err.status, &items),
        Format::Xml => xml(
            err.status,
            format!(
                "<errors>{}</errors>",
                items
                    .iter()
                    .map(|e| format!(
                        "<error>{}{}</error>",
                        element("code", &e.code.to_string()),
                        element("description", &e.description)
                    ))
                    .collect::<String>()
            ),
        ),
    };
    for (name, value) in err.headers {
        if let Ok(value) = header::HeaderValue::from_str(&value) {
            res.headers_mut().insert(name, value);
        }
    }
    res.extensions_mut().insert(OwnFormat);
    res
}

pub fn json<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> HttpResponse {
    HttpResponse::build(status).content_type("application/json; charset=utf-8").json(body)
}

/// An XML document of `root` (its element, written whole), with the declaration.
pub fn xml(status: StatusCode, root: String) -> HttpResponse {
    HttpResponse::build(status).content_type("text/xml; charset=utf-8").body(format!("{XML_DECLARATION}{root}"))
}

/// `<name>text</name>`, the text escaped.
pub fn element(name: &str, text: &str) -> String {
    format!("<{name}>{}</{name}>", quick_xml::escape::escape(text))
}

/// The element names of a list: the list's and each item's.
pub type Names = (&'static str, &'static str);
pub const SERVICES: Names = ("services", "service");
pub const REQUESTS: Names = ("service_requests", "request");

/// A list: a JSON array, or `<root><item>…</item>…</root>`.
pub fn list<T: Serialize>(format: Format, status: StatusCode, (root, item): Names, items: &[T]) -> HttpResponse {
    match format {
        Format::Json => json(status, items),
        Format::Xml => {
            let inner: String = items
                .iter()
                .map(|i| quick_xml::se::to_string_with_root(item, i).expect("plain records serialise as XML"))
                .collect();
            xml(status, format!("<{root}>{inner}</{root}>"))
        }
    }
}

/// `<discovery>`: its lists wrapped as the specification has them.
pub fn discovery_xml(d: &Discovery) -> String {
    let endpoints: String = d
        .endpoints
        .iter()
        .map(|e| {
            let formats: String = e.formats.iter().map(|f| element("format", f)).collect();
            format!(
                "<endpoint>{}{}{}{}<formats>{formats}</formats></endpoint>",
                element("specification", e.specification),
                element("url", &e.url),
                element("changeset", e.changeset),
                element("type", e.kind)
            )
        })
        .collect();
    format!(
        "<discovery>{}{}{}<endpoints>{endpoints}</endpoints></discovery>",
        element("changeset", d.changeset),
        element("contact", &d.contact),
        element("key_service", &d.key_service)
    )
}
