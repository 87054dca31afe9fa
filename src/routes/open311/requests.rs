//! Service requests: Open311's view of feedback records — listed, read, and filed.
use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, get, http::StatusCode, post, web};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::{Caller, FormatPath, Open311Error, Open311Errors, caller, format, jurisdiction, param, query_params};
use crate::{
    auth::{Permission, Principal},
    clock::vietnam,
    db::{
        self,
        feedback::{self as store, FeedbackRecord, Open311Filter, categories},
    },
    domain::{
        feedback::{FeedbackChannel, FeedbackKind, FeedbackStatus, SenderType},
        labels,
    },
    http::{
        RequestContext,
        files::{self, Received},
        json::{declared_length, read_limited},
    },
    routes::{
        feedback::{ConsentGiven, CreateFeedback, Location, attachments, client_scope, file},
        public::{PublicPlace, rate_limit},
    },
    state::AppState,
};
use format::answer;

/// Open311's two states.
#[derive(Serialize, ToSchema, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
pub enum Open311Status {
    Open,
    Closed,
}

impl Open311Status {
    /// `open` while the record is being handled (received, accepted, in progress);
    /// `closed` once answered, closed, rejected or forwarded.
    pub fn of(status: FeedbackStatus) -> Self {
        if status.is_open() { Self::Open } else { Self::Closed }
    }

    fn statuses(self) -> Vec<FeedbackStatus> {
        use FeedbackStatus::*;
        match self {
            Self::Open => vec![Received, Accepted, InProgress],
            Self::Closed => vec![Answered, Closed, Rejected, Forwarded, Merged],
        }
    }
}

/// A feedback record as Open311 has it. Never the sender: the personal fields a
/// request was filed with stay with the record's protected sender.
#[derive(Serialize, ToSchema)]
pub struct ServiceRequest {
    /// The record's code.
    #[schema(example = "PAKN-2021-000123")]
    pub service_request_id: String,
    pub status: Open311Status,
    /// What became of it: the answer, why it was rejected, where it was forwarded, or
    /// its stage and deadline while open.
    pub status_notes: Option<String>,
    /// The category's name.
    pub service_name: Option<String>,
    /// The category's code.
    pub service_code: Option<String>,
    /// The request as sent (to the public: the summary the organisation published).
    pub description: Option<String>,
    /// The department handling it.
    pub agency_responsible: Option<String>,
    pub service_notice: Option<String>,
    /// When it was received (RFC 3339, Vietnam's offset).
    #[schema(example = "2021-04-05T09:00:00+07:00")]
    pub requested_datetime: String,
    #[schema(example = "2021-04-12T15:30:00+07:00")]
    pub updated_datetime: String,
    /// The legal deadline, at the end of its working day (17:00 in Vietnam).
    #[schema(example = "2021-04-19T17:00:00+07:00")]
    pub expected_datetime: Option<String>,
    /// Where the matter is, written (not to the public).
    pub address: Option<String>,
    /// Not used here.
    pub address_id: Option<String>,
    /// Not used here.
    pub zipcode: Option<String>,
    /// To the public, to within some 100 m.
    pub lat: Option<f64>,
    pub long: Option<f64>,
    /// The first attachment (to the public: the first one marked publishable).
    pub media_url: Option<String>,
}

/// RFC 3339 in Vietnam's offset, whole seconds.
fn datetime(at: DateTime<Utc>) -> String {
    at.with_timezone(&vietnam()).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

fn deadline(day: NaiveDate) -> String {
    format!("{}T17:00:00+07:00", day.format("%Y-%m-%d"))
}

/// What the records of a page need besides themselves.
struct Context {
    categories: HashMap<Uuid, (String, String)>,
    departments: HashMap<Uuid, String>,
    answers: HashMap<Uuid, String>,
    media: HashMap<Uuid, Uuid>,
    /// The codes of the records that merged ones were merged into.
    parents: HashMap<Uuid, String>,
    base: String,
    public: bool,
}

fn load_context(
    conn: &mut diesel::PgConnection,
    records: &[FeedbackRecord],
    org: Uuid,
    public: bool,
    base: String,
) -> Result<Context, crate::error::ApiError> {
    let ids: Vec<Uuid> = records.iter().map(|r| r.row.id).collect();
    let departments: Vec<Uuid> = records.iter().filter_map(|r| r.row.department_id).collect();
    let media =
        if public { db::attachments::publishable_of(conn, &ids)? } else { db::attachments::first_of(conn, &ids)? };
    let mut first: HashMap<Uuid, Uuid> = HashMap::new();
    for m in media {
        first.entry(m.feedback_id).or_insert(m.id);
    }
    Ok(Context {
        categories: categories::all_of(conn, org)?.into_iter().map(|c| (c.id, (c.code, c.name))).collect(),
        departments: db::departments::names(conn, &departments)?.into_iter().collect(),
        // Oldest first: the last one kept per record is the latest.
        answers: store::answers(conn, &ids)?.into_iter().map(|a| (a.feedback_id, a.text)).collect(),
        media: first,
        parents: store::codes_of(conn, &records.iter().filter_map(|r| r.merged_into).collect::<Vec<_>>())?
            .into_iter()
            .collect(),
        base,
        public,
    })
}

impl Context {
    fn request(&self, rec: &FeedbackRecord) -> ServiceRequest {
        let r = &rec.row;
        let category = r.category_id.and_then(|id| self.categories.get(&id));
        let status_notes = match r.status {
            FeedbackStatus::Answered | FeedbackStatus::Closed => self.answers.get(&r.id).cloned(),
            FeedbackStatus::Rejected => r.status_reason.clone(),
            FeedbackStatus::Forwarded => r.forwarded_to.as_ref().map(|to| format!("Đã chuyển đến: {to}")),
            FeedbackStatus::Merged => rec
                .merged_into
                .and_then(|p| self.parents.get(&p))
                .map(|code| format!("Đã gộp vào {code} (cùng nội dung): theo dõi tại {code}.")),
            open => Some(format!(
                "{}; hạn trả lời {}",
                labels::vi("FeedbackStatus", open.as_str()).unwrap_or(open.as_str()),
                r.deadline_on.format("%d/%m/%Y")
            )),
        };
        let media_url = self.media.get(&r.id).map(|id| {
            if self.public {
                format!("{}/api/v1/public/feedback-attachments/{id}/content", self.base)
            } else {
                format!("{}/api/v1/feedback-attachments/{id}/content", self.base)
            }
        });
        let (lat, long, address) = if self.public {
            let place = PublicPlace::of(rec.location.as_ref());
            (place.map(|p| p.lat), place.map(|p| p.long), None)
        } else {
            let l = rec.location.as_ref();
            (l.and_then(|l| l.lat), l.and_then(|l| l.long), l.and_then(|l| l.address.clone()))
        };
        ServiceRequest {
            service_request_id: r.code.clone(),
            status: Open311Status::of(r.status),
            status_notes,
            service_name: category.map(|c| c.1.clone()),
            service_code: category.map(|c| c.0.clone()),
            description: if self.public {
                rec.publication.as_ref().map(|p| p.summary.clone())
            } else {
                Some(r.content.clone())
            },
            agency_responsible: r.department_id.and_then(|d| self.departments.get(&d).cloned()),
            service_notice: None,
            requested_datetime: datetime(r.received_at),
            updated_datetime: datetime(r.updated_at),
            expected_datetime: Some(deadline(r.deadline_on)),
            address,
            address_id: None,
            zipcode: None,
            lat,
            long,
            media_url,
        }
    }
}

/// Who may read what: the public reads published records; a caller with the right to
/// read feedback reads the organisation's (a service client that files: the ones it sent).
fn reader(caller: &Caller) -> Result<(bool, Option<Uuid>), Open311Error> {
    match &caller.0 {
        None => Ok((true, None)),
        Some(p) => {
            p.require(Permission::FeedbackRead)?;
            Ok((false, client_scope(p)))
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "documents the parameters; the handler reads them itself")]
pub struct RequestsQuery {
    /// The organisation's code; may be left out with credentials, which name their own.
    #[param(min_length = 1, max_length = 32)]
    jurisdiction_id: Option<String>,
    /// To read more than the published records: a service client's
    /// `<client_id>:<client_secret>` (or send `Authorization: Bearer`).
    api_key: Option<String>,
    /// Codes, separated by commas; when given, the other filters are not applied.
    #[param(example = "PAKN-2021-000123,PAKN-2021-000124")]
    service_request_id: Option<String>,
    /// Service codes (categories), separated by commas.
    service_code: Option<String>,
    /// Received at or after (RFC 3339). With neither date, the last 90 days; the span
    /// may not pass 90 days.
    #[param(value_type = Option<String>, format = DateTime)]
    start_date: Option<String>,
    /// Received at or before (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    end_date: Option<String>,
    /// `open`, `closed`, or both separated by a comma.
    #[param(pattern = "^(open|closed)(,(open|closed))?$")]
    status: Option<String>,
    /// A common extension: changed after this instant (RFC 3339), oldest change first,
    /// without the 90-day window — to follow changes.
    #[param(value_type = Option<String>, format = DateTime)]
    updated_after: Option<String>,
    /// A common extension: the page, from 1.
    #[param(minimum = 1, maximum = 1000000)]
    page: Option<u32>,
    /// A common extension: requests a page (default and most 1,000).
    #[param(minimum = 1, maximum = 1000)]
    page_size: Option<u32>,
}

fn instant(params: &[(String, String)], name: &str) -> Result<Option<DateTime<Utc>>, Open311Error> {
    param(params, name)
        .map(|v| {
            DateTime::parse_from_rfc3339(&v).map(|d| d.with_timezone(&Utc)).map_err(|_| {
                Open311Error::new(
                    StatusCode::BAD_REQUEST,
                    format!("{name} is not an RFC 3339 instant (e.g. 2021-04-05T00:00:00+07:00)."),
                )
            })
        })
        .transpose()
}

fn number(params: &[(String, String)], name: &str, max: u32, default: u32) -> Result<u32, Open311Error> {
    match param(params, name) {
        None => Ok(default),
        Some(v) => match v.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(Open311Error::new(
                StatusCode::BAD_REQUEST,
                format!("{name} must be a whole number from 1 to {max}."),
            )),
        },
    }
}

fn list_of(value: Option<String>) -> Vec<String> {
    value
        .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// The requests of a jurisdiction.
///
/// Without credentials, the published results only (their published summary, the place
/// to within some 100 m, the attachments marked publishable); with a bearer token or
/// `api_key`, the records the caller may read. Newest received first; with
/// `updated_after`, oldest change first. Never the sender.
#[utoipa::path(
    tag = "open311",
    params(FormatPath, RequestsQuery),
    responses(
        (status = 200, description = "The requests (`<service_requests><request>…` in XML).", content(
            (Vec<ServiceRequest> = "application/json"), (String = "text/xml"))),
        (status = 400, description = "A parameter that does not parse, a span over 90 days, or an unknown parameter.", content(
            (Open311Errors = "application/json"), (String = "text/xml"))),
        (status = 401, description = "A bearer token that is not valid.", content(
            (Open311Errors = "application/json"), (String = "text/xml"))),
        (status = 403, description = "An `api_key` that is not valid, or not of this jurisdiction; or credentials without the right to read feedback.", content(
            (Open311Errors = "application/json"), (String = "text/xml"))),
    )
)]
#[get("/requests.{format}")]
pub async fn list_requests(
    req: HttpRequest,
    ctx: RequestContext,
    path: web::Path<FormatPath>,
    state: web::Data<AppState>,
) -> HttpResponse {
    answer(&path.format, |format| async move {
        rate_limit(&req, &state).await?;
        let params = query_params(
            &req,
            &[
                "jurisdiction_id",
                "api_key",
                "service_request_id",
                "service_code",
                "start_date",
                "end_date",
                "status",
                "updated_after",
                "page",
                "page_size",
            ],
        )?;
        let who = caller(&req, param(&params, "api_key").as_deref(), &ctx, &state).await?;
        let org = jurisdiction(&state, param(&params, "jurisdiction_id"), &who, true).await?;
        let (public, client) = reader(&who)?;
        let (start, end, updated_after) =
            (instant(&params, "start_date")?, instant(&params, "end_date")?, instant(&params, "updated_after")?);
        let codes: Vec<String> =
            list_of(param(&params, "service_request_id")).into_iter().map(|c| c.to_uppercase()).collect();
        let window = Duration::days(90);
        let (from, to) = match (start, end) {
            (Some(s), Some(e)) if e - s > window => {
                return Err(Open311Error::new(
                    StatusCode::BAD_REQUEST,
                    "start_date and end_date may span 90 days at most.",
                ));
            }
            (Some(s), Some(e)) => (Some(s), Some(e)),
            (Some(s), None) => (Some(s), Some(s + window)),
            (None, Some(e)) => (Some(e - window), Some(e)),
            (None, None) if updated_after.is_some() => (None, None),
            (None, None) => {
                let now = state.clock.now();
                (Some(now - window), Some(now))
            }
        };
        let statuses = match param(&params, "status") {
            None => None,
            Some(text) => {
                let mut all = Vec::new();
                let parts = list_of(Some(text));
                if parts.is_empty() {
                    return Err(Open311Error::new(StatusCode::BAD_REQUEST, "status is open, closed or both."));
                }
                for part in parts {
                    match part.as_str() {
                        "open" => all.extend(Open311Status::Open.statuses()),
                        "closed" => all.extend(Open311Status::Closed.statuses()),
                        _ => return Err(Open311Error::new(StatusCode::BAD_REQUEST, "status is open, closed or both.")),
                    }
                }
                Some(all)
            }
        };
        let (page, size) = (number(&params, "page", 1_000_000, 1)?, number(&params, "page_size", 1000, 1000)?);
        let service_codes = list_of(param(&params, "service_code"));
        let base = state.settings.public_url.trim_end_matches('/').to_owned();
        let requests = db::run(&state.pool, move |conn| {
            let category_ids = if service_codes.is_empty() {
                None
            } else {
                let all = categories::all_of(conn, org.id)?;
                Some(
                    all.into_iter()
                        .filter(|c| service_codes.iter().any(|s| s.eq_ignore_ascii_case(&c.code)))
                        .map(|c| c.id)
                        .collect(),
                )
            };
            let filter = Open311Filter {
                organization_id: org.id,
                source_client_id: client,
                published_only: public,
                codes,
                category_ids,
                from,
                to,
                statuses,
                updated_after,
                offset: i64::from(page - 1) * i64::from(size),
                limit: i64::from(size),
            };
            let records = store::open311(conn, &filter)?;
            let context = load_context(conn, &records, org.id, public, base)?;
            Ok(records.iter().map(|r| context.request(r)).collect::<Vec<_>>())
        })
        .await?;
        Ok(format::list(format, StatusCode::OK, format::REQUESTS, &requests))
    })
    .await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RequestPath {
    /// The record's code.
    #[param(example = "PAKN-2021-000123", pattern = "^[A-Za-z0-9-]{1,40}$")]
    pub service_request_id: String,
    /// `json` or `xml`.
    #[param(pattern = "^(json|xml)$")]
    pub format: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "documents the parameters; the handler reads them itself")]
pub struct RequestQuery {
    /// The organisation's code; may be left out with credentials, which name their own.
    #[param(min_length = 1, max_length = 32)]
    jurisdiction_id: Option<String>,
    /// To read a record that is not published: a service client's
    /// `<client_id>:<client_secret>` (or send `Authorization: Bearer`).
    api_key: Option<String>,
}

/// One request, by its code.
///
/// In a list of one, as the specification has it. Without credentials, only a
/// published result.
#[utoipa::path(
    tag = "open311",
    params(RequestPath, RequestQuery),
    responses(
        (status = 200, description = "The request (`<service_requests><request>…` in XML).", content(
            (Vec<ServiceRequest> = "application/json"), (String = "text/xml"))),
        (status = 401, description = "A bearer token that is not valid.", content(
            (Open311Errors = "application/json"), (String = "text/xml"))),
        (status = 403, description = "An `api_key` that is not valid, or not of this jurisdiction.", content(
            (Open311Errors = "application/json"), (String = "text/xml"))),
        (status = 404, description = "No such request the caller may read; an unknown jurisdiction or format.", content(
            (Open311Errors = "application/json"), (String = "text/xml"))),
    )
)]
#[get("/requests/{service_request_id}.{format}")]
pub async fn get_request(
    req: HttpRequest,
    ctx: RequestContext,
    path: web::Path<RequestPath>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let RequestPath { service_request_id, format } = path.into_inner();
    answer(&format, |format| async move {
        rate_limit(&req, &state).await?;
        let params = query_params(&req, &["jurisdiction_id", "api_key"])?;
        let who = caller(&req, param(&params, "api_key").as_deref(), &ctx, &state).await?;
        let org = jurisdiction(&state, param(&params, "jurisdiction_id"), &who, true).await?;
        let (public, client) = reader(&who)?;
        let base = state.settings.public_url.trim_end_matches('/').to_owned();
        let code = service_request_id.to_uppercase();
        let requests = db::run(&state.pool, move |conn| {
            let filter = Open311Filter {
                organization_id: org.id,
                source_client_id: client,
                published_only: public,
                codes: vec![code],
                limit: 1,
                ..Default::default()
            };
            let records = store::open311(conn, &filter)?;
            let context = load_context(conn, &records, org.id, public, base)?;
            Ok(records.iter().map(|r| context.request(r)).collect::<Vec<_>>())
        })
        .await?;
        if requests.is_empty() {
            return Err(Open311Error::new(StatusCode::NOT_FOUND, "service_request_id not found."));
        }
        Ok(format::list(format, StatusCode::OK, format::REQUESTS, &requests))
    })
    .await
}

/// A request to file, `application/x-www-form-urlencoded`. As `multipart/form-data`
/// (`NewServiceRequestWithMedia`), it may carry photos or PDFs in `media` parts, up to
/// 10 (the GeoReport v2.1 draft's extension).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code, reason = "documents the form; the handler reads it itself")]
pub struct NewServiceRequest {
    /// A service client's `<client_id>:<client_secret>`, with the scope `feedback:write`
    /// (or send `Authorization: Bearer`).
    #[schema(required = false)]
    api_key: String,
    /// The organisation's code; may be left out, the credentials name their own.
    #[schema(required = false, max_length = 32)]
    jurisdiction_id: String,
    /// The category's code (`services.json`).
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 64)]
    service_code: String,
    /// With `long`, or `address_string` instead.
    #[schema(required = false, minimum = -90, maximum = 90)]
    lat: f64,
    #[schema(required = false, minimum = -180, maximum = 180)]
    long: f64,
    /// Where the matter is, written.
    #[schema(
        required = false,
        pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$",
        min_length = 1,
        max_length = 1000
    )]
    address_string: String,
    /// Kept with the sender, never shown again.
    #[schema(required = false, max_length = 254, format = Email)]
    email: String,
    /// Kept with the sender, never shown again.
    #[schema(required = false, max_length = 120)]
    first_name: String,
    /// Kept with the sender, never shown again.
    #[schema(required = false, max_length = 120)]
    last_name: String,
    /// Kept with the sender, never shown again.
    #[schema(required = false, max_length = 32, pattern = r"^(?:[+ .()-]*[0-9]){6}[+ .()0-9-]*$")]
    phone: String,
    /// The request itself (required here: it becomes the record's content).
    #[schema(pattern = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$", min_length = 1, max_length = 4000)]
    description: String,
    /// Accepted and not kept.
    #[schema(required = false, max_length = 255)]
    device_id: String,
    /// Accepted and not kept.
    #[schema(required = false, max_length = 255)]
    account_id: String,
    /// Photos or PDFs to fetch (repeat the field for several, up to 10 with the `media`
    /// parts): fetched at once, under the same address rules as webhook receivers
    /// (`https`, no private addresses unless allowed), no redirects, within
    /// `CCHC_WEBHOOK_TIMEOUT_SECONDS`, checked and stripped like uploaded files.
    #[schema(required = false, max_items = 10, value_type = Vec<String>, pattern = r"^https?://[^\s\x00-\x1f]+$")]
    media_url: Vec<String>,
}

/// What filing answers.
#[derive(Serialize, ToSchema)]
pub struct FiledRequest {
    #[schema(example = "PAKN-2021-000123")]
    pub service_request_id: String,
    /// The legal deadline and the sender's tracking PIN (shown only here): with the code,
    /// the sender follows the record and may reopen it.
    pub service_notice: String,
    pub account_id: Option<String>,
}

/// The form fields this endpoint reads; `attribute[…]` besides (ignored: the services
/// have no attributes).
pub const FORM_FIELDS: &[&str] = &[
    "api_key",
    "jurisdiction_id",
    "service_code",
    "lat",
    "long",
    "address_string",
    "email",
    "device_id",
    "account_id",
    "first_name",
    "last_name",
    "phone",
    "description",
    "media_url",
];

/// The parts of a multipart form that carry files. (HTML forms name a repeated file
/// input `media[]`; generated clients cannot tell it from `media`, so `media` it is.)
pub const FILE_FIELDS: &[&str] = &["media"];

/// `attribute[code]` (and `attribute[code][]` for a list's values); codes of letters,
/// digits, `_`, `-` and `.`, as services define them.
pub const ATTRIBUTE_PATTERN: &str = r"^attribute\[[A-Za-z0-9_.-]{1,64}\](\[\])?$";

fn is_attribute(name: &str) -> bool {
    name.strip_prefix("attribute[")
        .and_then(|rest| rest.strip_suffix("[]").or(Some(rest)))
        .and_then(|rest| rest.strip_suffix(']'))
        .is_some_and(|code| {
            (1..=64).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        })
}

/// The first line of the description, shortened at a word, as the record's subject.
fn subject_of(description: &str) -> String {
    let line = description.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or(description);
    if line.chars().count() <= 120 {
        return line.to_owned();
    }
    let cut: String = line.chars().take(117).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head).to_owned();
    format!("{cut}…")
}

/// Reads the form's fields (and files, from a multipart form).
async fn read_request(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<(Vec<(String, String)>, Vec<Received>), Open311Error> {
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let (files, texts) = files::read_form(req, payload, &attachments::form_limits(state, FILE_FIELDS)).await?;
        return Ok((texts.into_iter().filter(|(name, _)| !is_attribute(name)).collect(), files));
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(Open311Error::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Send the request as application/x-www-form-urlencoded (or multipart/form-data with media).",
        ));
    }
    let body = read_limited(payload.into_inner(), declared_length(req), 256 * 1024).await?;
    let mut fields = Vec::new();
    for (name, value) in form_urlencoded::parse(&body) {
        // Attributes are dropped unread (no service defines any).
        if is_attribute(&name) {
            continue;
        }
        if value.contains('\0') || name.contains('\0') {
            return Err(Open311Error::new(StatusCode::BAD_REQUEST, format!("{name} contains a NUL character.")));
        }
        fields.push((name.into_owned(), value.trim().to_owned()));
    }
    Ok((fields, Vec::new()))
}

/// File a request.
///
/// It becomes a feedback record like any other — code, category, department, deadline
/// in working days, masking, notices, events — filed by the service client (channel
/// `portal`). `first_name`, `last_name`, `email` and `phone` go to the record's
/// protected sender and never come back out. `lat`/`long` or `address_string` is
/// required; `address_id` is not used here. `attribute[…]` is accepted and ignored (the
/// services define none). Photos and PDFs come as `media` parts of a multipart form, or
/// by address as `media_url` (fetched at once, under the outbound address rules).
#[utoipa::path(
    tag = "open311",
    params(FormatPath),
    request_body(content(
        (NewServiceRequest = "application/x-www-form-urlencoded"),
        (NewServiceRequest = "multipart/form-data"))),
    responses(
        (status = 201, description = "Filed (`<service_requests><request>…` in XML).", content(
            (Vec<FiledRequest> = "application/json"), (String = "text/xml")),
            headers(("Location" = String, description = "The request, as JSON."))),
        (status = 400, description = "A field missing or not valid, an unknown field, or no place.", content(
            (Open311Errors = "application/json"), (String = "text/xml"))),
        (status = 401, description = "A bearer token that is not valid.", content(
            (Open311Errors = "application/json"), (String = "text/xml"))),
        (status = 403, description = "No `api_key`, one that is not valid or not of this jurisdiction, or credentials that may not file feedback.", content(
            (Open311Errors = "application/json"), (String = "text/xml"))),
        (status = 404, description = "An unknown service, jurisdiction or format.", content(
            (Open311Errors = "application/json"), (String = "text/xml"))),
        (status = 413, description = "A file or the form is larger than allowed.", content(
            (Open311Errors = "application/json"), (String = "text/xml"))),
        (status = 415, description = "Neither a form nor a multipart form, or a file that is not a photo or a PDF.", content(
            (Open311Errors = "application/json"), (String = "text/xml"))),
    )
)]
#[post("/requests.{format}")]
pub async fn create_request(
    req: HttpRequest,
    ctx: RequestContext,
    path: web::Path<FormatPath>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    answer(&path.format, |format| async move {
        rate_limit(&req, &state).await?;
        query_params(&req, &[])?;
        let (fields, media) = read_request(&req, payload, &state).await?;
        let mut seen: Vec<&str> = Vec::new();
        for (name, _) in &fields {
            if is_attribute(name) {
                continue;
            }
            match name.as_str() {
                // Repeated for several photos, as FixMyStreet sends them.
                "media_url" => continue,
                "address_id" => return Err(bad("address_id is not used here: send lat and long, or address_string.")),
                known if FORM_FIELDS.contains(&known) => {}
                _ => return Err(bad(format!("Unknown field: {name}."))),
            }
            if seen.contains(&name.as_str()) {
                return Err(Open311Error::new(StatusCode::BAD_REQUEST, format!("Field {name} is given twice.")));
            }
            seen.push(name);
        }
        // An empty field is an absent one, as the specification has it.
        let fields: Vec<(String, String)> = fields.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        let media_urls: Vec<String> =
            fields.iter().filter(|(name, _)| name == "media_url").map(|(_, url)| url.clone()).collect();
        if media_urls.len() + media.len() > 10 {
            return Err(bad("At most 10 files: media_url and media parts together."));
        }
        let field = |name: &str| param(&fields, name);
        let who = caller(&req, field("api_key").as_deref(), &ctx, &state).await?;
        let Some(principal) = who.0.as_ref() else {
            return Err(Open311Error::new(StatusCode::FORBIDDEN, "api_key is required to file a request."));
        };
        principal.require(Permission::FeedbackCreate)?;
        let org = jurisdiction(&state, field("jurisdiction_id"), &who, true).await?;
        let body = new_feedback(&fields, &state, org.id, principal).await?;
        let mut media = media;
        for url in &media_urls {
            media.push(fetched(&state, url).await?);
        }
        let kept = attachments::keep(&state, media).await?;
        let crate::routes::feedback::Filing { filed, pin, .. } = file(&state, principal, &ctx, body, kept).await?;
        let record = match filed {
            crate::routes::crud::Filed::New(r) | crate::routes::crud::Filed::Existing(r) => r,
        };
        let base = state.settings.public_url.trim_end_matches('/');
        let answer = FiledRequest {
            service_notice: format!(
                "Đã tiếp nhận {code}; hạn trả lời {deadline}. Mã tra cứu (PIN) của người gửi: {pin}. \
                 Tra cứu: {base}/api/v1/public/feedback/{code}/status?pin={pin}",
                code = record.row.code,
                deadline = record.row.deadline_on.format("%d/%m/%Y"),
            ),
            service_request_id: record.row.code.clone(),
            account_id: None,
        };
        let mut res = format::list(format, StatusCode::CREATED, format::REQUESTS, &[answer]);
        let location = format!("/open311/v2/requests/{}.json?jurisdiction_id={}", record.row.code, org.code);
        if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&location) {
            res.headers_mut().insert(actix_web::http::header::LOCATION, value);
        }
        Ok(res)
    })
    .await
}

/// The file a `media_url` names, fetched under the service's outbound address rules
/// and kept in a temporary file like an uploaded one.
async fn fetched(state: &AppState, url: &str) -> Result<Received, Open311Error> {
    use sha2::{Digest, Sha256};
    use std::io::Write;
    let bytes = crate::jobs::fetch::fetch(&state.settings.webhooks, url, state.settings.max_upload_bytes)
        .await
        .map_err(|why| bad(format!("media_url could not be fetched: {why}.")))?;
    let mut temp = tempfile::NamedTempFile::new_in(state.settings.data_dir.join("tmp"))
        .map_err(crate::error::ApiError::internal)?;
    temp.write_all(&bytes).map_err(crate::error::ApiError::internal)?;
    let name = url::Url::parse(url)
        .ok()
        .and_then(|u| u.path_segments().and_then(|mut s| s.next_back().map(str::to_owned)))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "media".to_owned());
    Ok(Received {
        field: "media_url".to_owned(),
        sha256: files::hex(Sha256::digest(&bytes)),
        size: bytes.len() as u64,
        head: bytes[..bytes.len().min(files::HEAD_BYTES)].to_vec(),
        name: name.chars().filter(|c| !c.is_control()).take(255).collect(),
        temp,
    })
}

fn bad(text: impl Into<String>) -> Open311Error {
    Open311Error::new(StatusCode::BAD_REQUEST, text)
}

/// The feedback record an Open311 form asks for, checked as any filing is.
async fn new_feedback(
    fields: &[(String, String)],
    state: &AppState,
    org: Uuid,
    principal: &Principal,
) -> Result<CreateFeedback, Open311Error> {
    let field = |name: &str| param(fields, name);
    let service_code = field("service_code").ok_or_else(|| bad("service_code is required."))?;
    let description = field("description").ok_or_else(|| bad("description is required."))?;
    if description.chars().count() > 4000 {
        return Err(bad("description may have 4,000 characters at most."));
    }
    let category = db::run(&state.pool, move |conn| Ok(categories::all_of(conn, org)?))
        .await?
        .into_iter()
        .find(|c| c.code.eq_ignore_ascii_case(&service_code))
        .ok_or_else(|| Open311Error::new(StatusCode::NOT_FOUND, "service_code not found."))?;
    let coordinate = |name: &str| {
        field(name)
            .map(|v| {
                v.parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| bad(format!("{name} is not a number.")))
            })
            .transpose()
    };
    let (lat, long, address) = (coordinate("lat")?, coordinate("long")?, field("address_string"));
    if lat.is_some() != long.is_some() {
        return Err(bad("lat and long come together."));
    }
    if lat.is_none() && address.is_none() {
        return Err(bad("A place is required: lat and long, or address_string."));
    }
    let name = [field("first_name"), field("last_name")].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let (email, phone) = (field("email"), field("phone"));
    let anonymous = name.is_empty() && email.is_none() && phone.is_none();
    let body = CreateFeedback {
        received_at: None,
        channel: FeedbackChannel::Portal,
        kind: FeedbackKind::Feedback,
        sender_type: SenderType::Citizen,
        anonymous,
        sender_name: (!name.is_empty()).then_some(name),
        sender_phone: phone,
        sender_email: email,
        sender_address: None,
        notify_by: Vec::new(),
        // GeoReport v2 requests are public by the standard's design: an app filing
        // through it shows its users the organisation's notice (whose version is
        // recorded) and that the result may be published. docs/open311.md says so.
        consent: Some(ConsentGiven { notice_version: None, publish: true }),
        subject: subject_of(&description),
        content: description,
        location: Some(Location { lat, long, address }),
        category_id: Some(category.id),
        plan_item_id: None,
        department_id: None,
        deadline_on: None,
        deadline_reason: None,
        external_reference: None,
        internal_note: None,
        organization_id: principal.organization_id.is_none().then_some(org),
    };
    // The record's own rules, under Open311's names.
    let open311_name = |field: &str| match field {
        "sender_name" => "first_name, last_name".to_owned(),
        "sender_phone" => "phone".to_owned(),
        "sender_email" => "email".to_owned(),
        "content" => "description".to_owned(),
        "subject" => "description".to_owned(),
        "location.address" => "address_string".to_owned(),
        "location.lat" => "lat".to_owned(),
        "location.long" => "long".to_owned(),
        other => other.to_owned(),
    };
    if let Err(errors) = body.validate() {
        let err = crate::error::ApiError::from(errors);
        let mut named: Vec<String> = err
            .errors()
            .iter()
            .map(|e| {
                format!("{}: {}", open311_name(&e.field), crate::i18n::message(&e.code, crate::i18n::Lang::En, &e.args))
            })
            .collect();
        named.sort();
        named.dedup();
        return Err(Open311Error::invalid(named));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_the_first_line_shortened_at_a_word() {
        assert_eq!(subject_of("Ổ gà lớn\nở đường Trần Phú"), "Ổ gà lớn");
        let long = "Đường ".repeat(40);
        let s = subject_of(&long);
        assert!(s.ends_with('…') && s.chars().count() <= 118, "{s}");
        assert_eq!(Open311Status::of(FeedbackStatus::InProgress), Open311Status::Open);
        assert_eq!(Open311Status::of(FeedbackStatus::Forwarded), Open311Status::Closed);
        for name in ["attribute[report_url]", "attribute[colours][]"] {
            assert!(is_attribute(name), "{name}");
        }
        for name in
            ["attribute[]", "attribute[a]b]", "attribute[a", "attributes[a]", "attribute[a][][]", "attribute[gì]"]
        {
            assert!(!is_attribute(name), "{name}");
        }
    }
}
