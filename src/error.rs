//! One error type for the whole API, rendered as RFC 9457 `application/problem+json`.
//!
//! Handlers return `ApiError`; the problem middleware (`http::problem`) re-renders it
//! in the caller's language with the request path and id. Internal causes are logged
//! there and never reach the client.
use std::{borrow::Cow, fmt};

use actix_web::{
    HttpResponse, ResponseError,
    http::{StatusCode, header},
};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::i18n::{self, Lang};

pub const PROBLEM_JSON: &str = "application/problem+json";
const TYPE_BASE: &str = "https://cchc.example/problems/";

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    /// Boxed: errors travel in every `Result`, and most are never built.
    more: Box<Details>,
}

#[derive(Debug, Default)]
struct Details {
    args: Vec<(&'static str, String)>,
    errors: Vec<FieldError>,
    headers: Vec<(header::HeaderName, String)>,
    allowed: Option<Vec<String>>,
    internal: Option<String>,
    /// Answered as an OAuth 2.0 token error (RFC 6749 §5.2).
    oauth: Option<OAuthError>,
    /// The message to say instead of the code's own: the code stays, the text says more.
    message: Option<&'static str>,
}

/// One problem with one input field.
#[derive(Debug, Clone)]
pub struct FieldError {
    pub field: String,
    pub code: Cow<'static, str>,
    pub args: Vec<(&'static str, String)>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: impl Into<Cow<'static, str>>) -> Self {
        Self { field: field.into(), code: code.into(), args: Vec::new() }
    }
    pub fn arg(mut self, name: &'static str, value: impl ToString) -> Self {
        self.args.push((name, value.to_string()));
        self
    }

    /// Why an `invalid_value` is invalid, in English and in Vietnamese.
    pub fn reason(self, en: impl ToString, vi: impl ToString) -> Self {
        self.arg("reason", en).arg("reason_vi", vi)
    }
}

/// RFC 9457 problem details, as every error of this API is answered.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "type": "https://cchc.example/problems/validation", "title": "Dữ liệu không hợp lệ",
    "status": 400, "detail": "Dữ liệu gửi lên không hợp lệ.", "instance": "/api/v1/departments",
    "code": "validation_failed", "request_id": "01938f6e-7d3c-7b1a-9c55-3f1f0b6f1a2e",
    "errors": [{"field": "code", "code": "required", "message": "Bắt buộc nhập."}]
}))]
pub struct Problem {
    /// URI of the problem type.
    #[serde(rename = "type")]
    pub type_: String,
    /// Short summary in the caller's language (`Accept-Language`: `vi` default, `en`).
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence, in the caller's language.
    pub detail: String,
    /// The request path.
    pub instance: String,
    /// Stable machine-readable code.
    pub code: String,
    /// Also sent as the `X-Request-Id` header; quote it when reporting a problem.
    pub request_id: String,
    /// Field-level problems, for validation errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
    /// For `transition_not_allowed`: the statuses that may follow the current one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct ProblemField {
    /// The field or parameter, as a JSON path (`name`, `scopes[1]`).
    pub field: String,
    /// Stable machine-readable code (`required`, `too_long`, `unknown_field`, `read_only` …).
    pub code: String,
    /// Explanation in the caller's language.
    pub message: String,
}

/// Where an error is rendered: the caller's language, path and request id.
#[derive(Clone, Debug, Default)]
pub struct ProblemContext {
    pub lang: Lang,
    pub instance: String,
    pub request_id: String,
}

/// The error codes of RFC 6749 §5.2 (and `temporarily_unavailable`, `server_error` of
/// §4.1.2.1) that the token endpoint answers.
#[derive(Serialize, ToSchema, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OAuthError {
    /// A parameter is missing, repeated or malformed, the body is neither form-encoded
    /// nor JSON, or the client authenticated in two ways at once. 400.
    InvalidRequest,
    /// The client id or secret is wrong, or the client inactive. 401 with
    /// `WWW-Authenticate: Basic`.
    InvalidClient,
    /// The username or password is wrong, or the account inactive. 400.
    InvalidGrant,
    /// A grant type other than `password` and `client_credentials`. 400.
    UnsupportedGrantType,
    /// A scope unknown, or not granted to the client. 400.
    InvalidScope,
    /// The account or client is locked after repeated failures (429 with `Retry-After`),
    /// or the database is unavailable (503).
    TemporarilyUnavailable,
    /// A fault of the server. 500.
    ServerError,
}

/// A token endpoint error: RFC 6749 §5.2's members, as OAuth 2.0 client libraries read
/// them, beside the problem details every other error has, as `application/json`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "error": "invalid_grant", "error_description": "The username or password is wrong.",
    "type": "https://cchc.example/problems/validation", "title": "Dữ liệu không hợp lệ",
    "status": 400, "detail": "Tên đăng nhập hoặc mật khẩu không đúng.", "instance": "/api/v1/auth/token",
    "code": "invalid_grant", "request_id": "01938f6e-7d3c-7b1a-9c55-3f1f0b6f1a2e"
}))]
pub struct TokenError {
    pub error: OAuthError,
    /// The problem's `detail` in English, in the printable ASCII RFC 6749 allows here
    /// (`detail` says it in the caller's language).
    pub error_description: String,
    #[serde(flatten)]
    pub problem: Problem,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str) -> Self {
        Self { status, code, more: Box::default() }
    }

    pub fn arg(mut self, name: &'static str, value: impl ToString) -> Self {
        self.more.args.push((name, value.to_string()));
        self
    }

    pub fn header(mut self, name: header::HeaderName, value: impl ToString) -> Self {
        self.more.headers.push((name, value.to_string()));
        self
    }

    pub fn bad_request(code: &'static str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code)
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let mut err = Self::bad_request("validation_failed");
        err.more.errors = errors;
        err
    }

    pub fn field(field: impl Into<String>, code: &'static str) -> Self {
        Self::validation(vec![FieldError::new(field, code)])
    }

    /// 422: each field well-formed, but together they break a rule the schema cannot
    /// state (a reason a transition needs, two dates out of order, either this or that).
    pub fn rule(field: impl Into<String>, code: &'static str) -> Self {
        Self::rules(vec![FieldError::new(field, code)])
    }

    pub fn rules(errors: Vec<FieldError>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "rule_violated").with_errors(errors)
    }

    pub fn unauthenticated(code: &'static str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code).header(header::WWW_AUTHENTICATE, "Bearer realm=\"cchc-outreach\"")
    }

    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden")
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found")
    }

    pub fn conflict(code: &'static str) -> Self {
        Self::new(StatusCode::CONFLICT, code)
    }

    pub fn unprocessable(code: &'static str) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code)
    }

    pub fn precondition_failed(current_version: i32) -> Self {
        Self::new(StatusCode::PRECONDITION_FAILED, "version_mismatch")
            .arg("current", current_version)
            .header(header::ETAG, format!("\"{current_version}\""))
    }

    pub fn too_many_requests(code: &'static str, retry_after_secs: u64) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, code)
            .arg("seconds", retry_after_secs)
            .header(header::RETRY_AFTER, retry_after_secs)
    }

    pub fn unavailable(cause: impl fmt::Display) -> Self {
        let mut err = Self::new(StatusCode::SERVICE_UNAVAILABLE, "database_unavailable").header(header::RETRY_AFTER, 5);
        err.more.internal = Some(cause.to_string());
        err
    }

    pub fn internal(cause: impl fmt::Display) -> Self {
        let mut err = Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error");
        err.more.internal = Some(cause.to_string());
        err
    }

    /// A status change that the record's rules do not allow: 409 naming the allowed ones
    /// (also as the member `allowed`).
    pub fn transition_not_allowed(from: &str, to: &str, allowed: &[&str]) -> Self {
        let mut err = Self::conflict("transition_not_allowed")
            .arg("from", from)
            .arg("to", to)
            .arg("allowed", if allowed.is_empty() { "—".to_owned() } else { allowed.join(", ") });
        err.more.allowed = Some(allowed.iter().map(|s| (*s).to_owned()).collect());
        err
    }

    /// Answers this error as an OAuth 2.0 token error `error` with `status` (RFC 6749
    /// §5.2), keeping its code, texts and field errors as problem members beside.
    pub fn oauth(mut self, status: StatusCode, error: OAuthError) -> Self {
        self.status = status;
        self.more.oauth = Some(error);
        self.more.headers.retain(|(name, _)| name != header::WWW_AUTHENTICATE);
        self
    }

    /// Keeps `cause` for the log (never shown to the caller).
    pub fn with_internal(mut self, cause: impl fmt::Display) -> Self {
        self.more.internal = Some(cause.to_string());
        self
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.more.errors = errors;
        self
    }

    /// The field errors, whatever the status.
    pub fn all_field_errors(&self) -> Option<&[FieldError]> {
        (!self.more.errors.is_empty()).then_some(self.more.errors.as_slice())
    }

    /// The field errors of a validation error.
    pub fn field_errors(&self) -> Option<&[FieldError]> {
        (self.code == "validation_failed").then_some(self.more.errors.as_slice())
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The cause to log, for server-side errors.
    pub fn internal_cause(&self) -> Option<&str> {
        self.more.internal.as_deref()
    }

    /// Says the message `code` (with this error's args) instead of the code's own.
    pub fn saying(mut self, code: &'static str) -> Self {
        self.more.message = Some(code);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers the answer carries (e.g. `Retry-After`).
    pub fn headers(&self) -> &[(header::HeaderName, String)] {
        &self.more.headers
    }

    /// Its field errors, whatever its code.
    pub fn errors(&self) -> &[FieldError] {
        &self.more.errors
    }

    /// The detail message in `lang`.
    pub fn detail(&self, lang: Lang) -> String {
        i18n::message(self.more.message.unwrap_or(self.code), lang, &self.more.args)
    }

    pub fn to_problem(&self, ctx: &ProblemContext) -> Problem {
        let status = self.status.as_u16();
        Problem {
            type_: format!("{TYPE_BASE}{}", i18n::type_slug(status)),
            title: i18n::title(status, ctx.lang).to_owned(),
            status,
            detail: self.detail(ctx.lang),
            instance: ctx.instance.clone(),
            code: self.code.to_owned(),
            request_id: ctx.request_id.clone(),
            errors: self
                .more
                .errors
                .iter()
                .map(|e| ProblemField {
                    field: e.field.clone(),
                    code: e.code.to_string(),
                    message: i18n::message(&e.code, ctx.lang, &e.args),
                })
                .collect(),
            allowed: self.more.allowed.clone(),
        }
    }

    pub fn render(&self, ctx: &ProblemContext) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        for (name, value) in &self.more.headers {
            res.insert_header((name.clone(), value.as_str()));
        }
        res.insert_header((header::CONTENT_LANGUAGE, ctx.lang.code()));
        let problem = self.to_problem(ctx);
        match self.more.oauth {
            Some(error) => {
                // RFC 6749 §5.2 allows printable ASCII but `"` and `\` here: the English
                // text, its letters without marks; `detail` says it in the caller's language.
                let description: String = deunicode::deunicode(&self.detail(Lang::En))
                    .chars()
                    .filter(|c| matches!(c, ' '..='~') && !matches!(c, '"' | '\\'))
                    .collect();
                let body = TokenError { error, error_description: description, problem };
                res.content_type("application/json").body(serde_json::to_vec(&body).unwrap_or_default())
            }
            None => res.content_type(PROBLEM_JSON).body(serde_json::to_vec(&problem).unwrap_or_default()),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.code)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        self.render(&ProblemContext::default())
    }
}

/// Unique and foreign-key constraints that a client can break: (constraint, status,
/// problem code, field, field code). Any other violation is a server bug (500).
const CONSTRAINTS: &[(&str, StatusCode, &str, &str, &str)] = &[
    ("organizations_code_key", StatusCode::CONFLICT, "organization_code_taken", "code", "code_taken"),
    ("departments_code_key", StatusCode::CONFLICT, "department_code_taken", "code", "code_taken"),
    ("users_username_key", StatusCode::CONFLICT, "username_taken", "username", "code_taken"),
    (
        "organizations_parent_id_fkey",
        StatusCode::UNPROCESSABLE_ENTITY,
        "reference_invalid",
        "parent_id",
        "reference_invalid",
    ),
    (
        "users_department_id_fkey",
        StatusCode::UNPROCESSABLE_ENTITY,
        "reference_invalid",
        "department_id",
        "reference_invalid",
    ),
    ("documents_number_key", StatusCode::CONFLICT, "document_number_taken", "number", "code_taken"),
    ("plans_code_key", StatusCode::CONFLICT, "plan_code_taken", "code", "code_taken"),
    ("plan_items_reference_key", StatusCode::CONFLICT, "reference_taken", "reference", "code_taken"),
    ("indicators_code_key", StatusCode::CONFLICT, "indicator_code_taken", "code", "code_taken"),
    ("assignments_one_lead", StatusCode::CONFLICT, "lead_taken", "role", "lead_taken"),
    ("assignments_department_key", StatusCode::CONFLICT, "already_assigned", "department_id", "code_taken"),
    ("feedback_categories_code_key", StatusCode::CONFLICT, "category_code_taken", "code", "code_taken"),
    (
        "feedback_external_reference_key",
        StatusCode::CONFLICT,
        "external_reference_taken",
        "external_reference",
        "code_taken",
    ),
    ("report_snapshots_period_key", StatusCode::CONFLICT, "snapshot_exists", "period", "code_taken"),
    ("holidays_day_key", StatusCode::CONFLICT, "holiday_taken", "day", "code_taken"),
    ("budget_lines_code_key", StatusCode::CONFLICT, "budget_line_code_taken", "code", "code_taken"),
];

impl From<DieselError> for ApiError {
    fn from(err: DieselError) -> Self {
        match &err {
            DieselError::NotFound => Self::not_found(),
            DieselError::DatabaseError(kind, info) => {
                if let Some(name) = info.constraint_name()
                    && let Some((_, status, code, field, field_code)) = CONSTRAINTS.iter().find(|c| c.0 == name)
                {
                    return Self::new(*status, code).with_errors(vec![FieldError::new(*field, *field_code)]);
                }
                // A date, time or number beyond what PostgreSQL keeps (a year before 4713
                // BC, a sum past bigint): the request's values, not the server.
                if info.message().contains("out of range") {
                    return Self::unprocessable("value_out_of_range");
                }
                match kind {
                    DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
                        Self::unavailable(&err)
                    }
                    _ if is_connection_failure(info.message()) => Self::unavailable(&err),
                    _ => Self::internal(&err),
                }
            }
            _ => Self::internal(&err),
        }
    }
}

/// libpq reports a dropped server as an unknown error with these words.
fn is_connection_failure(message: &str) -> bool {
    [
        "server closed the connection",
        "terminating connection",
        "no connection to the server",
        "connection to server",
        "could not receive data from server",
        "could not send data to server",
    ]
    .iter()
    .any(|needle| message.contains(needle))
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        Self::unavailable(err)
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(err: actix_web::error::BlockingError) -> Self {
        Self::internal(err)
    }
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(errs: validator::ValidationErrors) -> Self {
        let mut fields = Vec::new();
        collect_validation(&errs, "", &mut fields);
        fields.sort_by(|a, b| a.field.cmp(&b.field));
        Self::validation(fields)
    }
}

fn collect_validation(errs: &validator::ValidationErrors, prefix: &str, out: &mut Vec<FieldError>) {
    use validator::ValidationErrorsKind;
    for (field, kind) in errs.errors() {
        let path = if prefix.is_empty() { field.to_string() } else { format!("{prefix}.{field}") };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    out.push(field_error_from_validator(&path, e));
                }
            }
            ValidationErrorsKind::Struct(inner) => collect_validation(inner, &path, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    collect_validation(inner, &format!("{path}[{index}]"), out);
                }
            }
        }
    }
}

fn field_error_from_validator(path: &str, e: &validator::ValidationError) -> FieldError {
    let param = |name: &str| e.params.get(name).map(|v| v.to_string().trim_matches('"').to_owned());
    match e.code.as_ref() {
        "length" => match (param("min"), param("max"), param("value")) {
            (Some(min), _, Some(value)) if value.trim_matches('"').chars().count() < min.parse().unwrap_or(0) => {
                if min == "1" {
                    FieldError::new(path, "not_blank")
                } else {
                    FieldError::new(path, "too_short").arg("min", min)
                }
            }
            (_, Some(max), _) => FieldError::new(path, "too_long").arg("max", max),
            (Some(min), _, _) => FieldError::new(path, "too_short").arg("min", min),
            _ => FieldError::new(path, "invalid_format"),
        },
        "range" => FieldError::new(path, "out_of_range")
            .arg("min", param("min").unwrap_or_default())
            .arg("max", param("max").unwrap_or_default()),
        "email" => FieldError::new(path, "invalid_email"),
        "url" => FieldError::new(path, "invalid_url"),
        "regex" => FieldError::new(path, "invalid_format"),
        other => FieldError::new(path, Cow::Owned(other.to_owned())),
    }
}
