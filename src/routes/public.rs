//! What anyone may read without signing in: the published results of feedback.
//!
//! Only what the coordinator published: code, dates, category, subject, the published
//! summary, the answer, the status, the attachments marked publishable and the place to
//! within some 100 m. Never the sender, the content as sent, the written address,
//! internal notes or who handled it. Every request counts against its client address's rate
//! limit (`CCHC_PUBLIC_RATE_LIMIT` a minute); past it, `429` with `Retry-After`.
use std::{
    collections::HashMap,
    net::{IpAddr, Ipv4Addr},
};

use actix_web::{HttpRequest, HttpResponse, get, http::header, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::PgConnection;
use governor::clock::{Clock, DefaultClock};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::{
    db::{
        self,
        feedback::{self as store, FeedbackRecord},
        organizations::{self, OrganizationRow},
    },
    domain::{
        feedback::{FeedbackKind, FeedbackStatus},
        time::local_date,
    },
    error::ApiError,
    http::{
        Page, RequestContext,
        etag::ok_with_etag,
        pagination::Row,
        query::{ApiQuery, ListQuery, NoFilter},
    },
    state::AppState,
};

/// How long a public answer may be cached.
const CACHE: &str = "public, max-age=60";

/// The category of a published record.
#[derive(Serialize, ToSchema)]
pub struct PublicCategory {
    pub code: String,
    pub name: String,
}

/// A file of a published record that the coordinator marked publishable (its name,
/// which may name the sender, is not shown).
#[derive(Serialize, ToSchema)]
pub struct PublicAttachment {
    pub id: Uuid,
    #[schema(example = "image/jpeg")]
    pub content_type: String,
    pub size_bytes: i64,
    #[schema(example = "/api/v1/public/feedback-attachments/01938f6e-7d3c-7b1a-9c55-3f1f0b6f1a2e/content")]
    pub url: String,
}

/// Where the matter of a published record is, rounded to three decimals of a degree
/// (some 100 m): a map shows the area, not the house.
#[derive(Serialize, ToSchema, Clone, Copy)]
pub struct PublicPlace {
    pub lat: f64,
    pub long: f64,
}

impl PublicPlace {
    pub fn of(location: Option<&store::LocationRow>) -> Option<Self> {
        let round = |x: f64| (x * 1000.0).round() / 1000.0;
        let l = location?;
        Some(Self { lat: round(l.lat?), long: round(l.long?) })
    }
}

/// A published feedback result: nothing about who sent it.
#[derive(Serialize, ToSchema)]
pub struct PublicFeedback {
    #[schema(example = "PAKN-2021-000123")]
    pub code: String,
    /// The organisation that answered it.
    pub organization_code: String,
    pub organization_name: String,
    pub kind: FeedbackKind,
    /// The day it was received (Vietnam).
    pub received_on: NaiveDate,
    /// The last day to answer it (Vietnam).
    pub deadline_on: NaiveDate,
    pub category: Option<PublicCategory>,
    pub subject: String,
    /// What the coordinator wrote for the public.
    pub summary: String,
    /// The latest answer.
    pub answer: Option<String>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    pub answered_at: Option<DateTime<Utc>>,
    /// The day it was answered, in Vietnam (what a citizen's page shows).
    pub answered_on: Option<NaiveDate>,
    pub status: FeedbackStatus,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub published_at: DateTime<Utc>,
    /// The day it was published, in Vietnam.
    pub published_on: NaiveDate,
    /// Roughly where the matter is, if the record has a point.
    pub place: Option<PublicPlace>,
    /// The files the coordinator marked publishable.
    pub attachments: Vec<PublicAttachment>,
}

/// A record with its public shape (none if not published or its organisation is unknown).
struct Published {
    record: FeedbackRecord,
    public: Option<PublicFeedback>,
}

impl Row for Published {
    fn id(&self) -> Uuid {
        self.record.row.id
    }
    fn updated_at(&self) -> DateTime<Utc> {
        self.record.row.updated_at
    }
    fn deleted_at(&self) -> Option<DateTime<Utc>> {
        None
    }
}

/// Turns records into their public shape, loading their categories and answers.
fn present(
    conn: &mut PgConnection,
    records: Vec<FeedbackRecord>,
    orgs: &HashMap<Uuid, OrganizationRow>,
) -> Result<Vec<Published>, ApiError> {
    let ids: Vec<Uuid> = records.iter().map(|r| r.row.id).collect();
    let category_ids: Vec<Uuid> = records.iter().filter_map(|r| r.row.category_id).collect();
    let categories: HashMap<Uuid, PublicCategory> = store::categories_by_id(conn, &category_ids)?
        .into_iter()
        .map(|c| (c.id, PublicCategory { code: c.code, name: c.name }))
        .collect();
    // Oldest first, so the last one kept per record is the latest.
    let answers: HashMap<Uuid, String> =
        store::answers(conn, &ids)?.into_iter().map(|a| (a.feedback_id, a.text)).collect();
    let mut attachments: HashMap<Uuid, Vec<PublicAttachment>> = HashMap::new();
    for a in db::attachments::publishable_of(conn, &ids)? {
        attachments.entry(a.feedback_id).or_default().push(PublicAttachment {
            url: format!("/api/v1/public/feedback-attachments/{}/content", a.id),
            id: a.id,
            content_type: a.content_type,
            size_bytes: a.size_bytes,
        });
    }
    Ok(records
        .into_iter()
        .map(|rec| {
            let public = match (&rec.publication, orgs.get(&rec.row.organization_id)) {
                (Some(publication), Some(org)) => Some(PublicFeedback {
                    code: rec.row.code.clone(),
                    organization_code: org.code.clone(),
                    organization_name: org.name.clone(),
                    kind: rec.row.kind,
                    received_on: local_date(rec.row.received_at),
                    deadline_on: rec.row.deadline_on,
                    category: rec.row.category_id.and_then(|id| {
                        categories.get(&id).map(|c| PublicCategory { code: c.code.clone(), name: c.name.clone() })
                    }),
                    subject: rec.row.subject.clone(),
                    summary: publication.summary.clone(),
                    answer: answers.get(&rec.row.id).cloned(),
                    answered_at: rec.row.answered_at,
                    answered_on: rec.row.answered_at.map(local_date),
                    status: rec.row.status,
                    published_at: publication.published_at,
                    published_on: local_date(publication.published_at),
                    place: PublicPlace::of(rec.location.as_ref()),
                    attachments: attachments.remove(&rec.row.id).unwrap_or_default(),
                }),
                _ => None,
            };
            Published { record: rec, public }
        })
        .collect())
}

/// Counts the request against its address; `429` with `Retry-After` past the limit.
pub(crate) async fn rate_limit(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let addr = RequestContext::of(req)?
        .client_addr
        .and_then(|a| a.parse::<IpAddr>().ok())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let per_minute = state.settings.public_rate_limit;
    if let Some(shared) = state.client_limits.check_shared("public", &addr.to_string(), per_minute).await {
        return shared.map(drop);
    }
    state.public_limiter.check_key(&addr).map_err(|not_until| {
        crate::metrics::refused("public");
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        ApiError::too_many_requests("rate_limited", wait.as_secs().max(1))
    })
}

/// Paging of the public list (no change feed: published results only).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "documents the parameters; PageRequest::parse reads them")]
pub struct PublicPageParams {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<i64>,
    /// Opaque cursor from the previous page's `next_cursor` (or its `Link: rel="next"`).
    cursor: Option<String>,
}

/// The published feedback results of an organisation, oldest first.
#[utoipa::path(
    tag = "public",
    params(("code" = String, Path, description = "The organisation's code, e.g. `KDPM`."), PublicPageParams),
    responses(
        (status = 200, description = "A page of published results.", body = Page<PublicFeedback>,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))),
        (status = 404, description = "No such organisation.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this address.", body = crate::error::Problem,
            content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
#[get("/organizations/{code}/feedback")]
pub async fn list_public_feedback(
    code: web::Path<String>,
    query: ListQuery<NoFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    rate_limit(&req, &state).await?;
    let page = query.page;
    if page.is_sync() {
        return Err(ApiError::bad_request("sync_not_supported").with_errors(vec![
            crate::error::FieldError::new("updated_since", "invalid_value")
                .reason("not supported on this list", "danh sách này không hỗ trợ"),
        ]));
    }
    let code = code.into_inner();
    let fetch = page.clone();
    let rows = db::run(&state.pool, move |conn| {
        let org = organizations::by_code(conn, &code)?;
        let records = store::published(conn, org.id, &fetch)?;
        present(conn, records, &HashMap::from([(org.id, org)]))
    })
    .await?;
    let page =
        Page::build(rows, &page, &req, &state.cursor_key, |p| p.public.expect("published and of the organisation"));
    let mut res = page.respond(&req);
    res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static(CACHE));
    Ok(res)
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CodeQuery {
    /// The organisation's code. Codes are numbered per organisation, so this is needed
    /// only when two organisations published the same code.
    #[validate(length(min = 1, max = 32))]
    #[param(min_length = 1, max_length = 32)]
    pub organization: Option<String>,
}

/// A published feedback result by its code.
#[utoipa::path(
    tag = "public",
    params(("code" = String, Path, description = "The record's code, e.g. `PAKN-2021-000123`."), CodeQuery),
    responses(
        (status = 200, description = "The published result.", body = PublicFeedback, headers(("ETag" = String)), example = crate::routes::examples::public_feedback),
        (status = 404, description = "No published record with this code.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Several organisations published this code: name one with `organization`.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this address.", body = crate::error::Problem,
            content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
#[get("/feedback/{code}")]
pub async fn get_public_feedback(
    code: web::Path<String>,
    query: ApiQuery<CodeQuery>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    rate_limit(&req, &state).await?;
    let (code, organization) = (code.into_inner(), query.0.organization);
    let mut found = db::run(&state.pool, move |conn| {
        let org = organization.map(|c| organizations::by_code(conn, &c)).transpose()?;
        let records = store::published_by_code(conn, &code, org.as_ref().map(|o| o.id))?;
        if records.len() > 1 {
            return Err(ApiError::conflict("code_ambiguous"));
        }
        let orgs = match (org, records.first()) {
            (Some(org), _) => HashMap::from([(org.id, org)]),
            (None, Some(rec)) => {
                let org = organizations::find(conn, rec.row.organization_id, None)?;
                HashMap::from([(org.id, org)])
            }
            (None, None) => HashMap::new(),
        };
        present(conn, records, &orgs)
    })
    .await?;
    let Published { record, public } = found.pop().ok_or_else(ApiError::not_found)?;
    let public = public.ok_or_else(ApiError::not_found)?;
    let version = record.row.version;
    let mut res = ok_with_etag(version, &public);
    res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static(CACHE));
    Ok(res)
}

/// Download a file of a published feedback result.
///
/// Only a file the coordinator marked publishable, of a record whose result is
/// published; anything else is a 404. Its name is not given.
#[utoipa::path(
    tag = "public",
    params(("id" = Uuid, Path), ("Range" = Option<String>, Header, description = "`bytes=start-end`, `bytes=start-` or `bytes=-suffix`."),
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` of a copy you have.")),
    responses(
        // `openapi` lists the accepted file types in place of this one.
        (status = 200, description = "The file, in its type.", content_type = "application/octet-stream", body = Vec<u8>,
            headers(("Content-Disposition" = String), ("ETag" = String), ("Accept-Ranges" = String))),
        (status = 206, description = "The requested part.", content_type = "application/octet-stream", body = Vec<u8>,
            headers(("Content-Range" = String), ("ETag" = String))),
        (status = 304, description = "Not changed since the copy you have."),
        (status = 404, description = "No such publishable file of a published record.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 416, description = "The range lies outside the file.", body = crate::error::Problem, content_type = "application/problem+json",
            headers(("Content-Range" = String, description = "`bytes */<size>`"))),
        (status = 429, description = "Too many requests from this address.", body = crate::error::Problem,
            content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
#[get("/feedback-attachments/{id}/content")]
pub async fn download_public_attachment(
    id: web::Path<Uuid>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    rate_limit(&req, &state).await?;
    let id = id.into_inner();
    let row = db::run(&state.pool, move |conn| {
        let row = db::attachments::find(conn, id, None)?;
        let published = store::published_ids(conn, &[row.feedback_id])?;
        if !row.publishable || published.is_empty() {
            return Err(ApiError::not_found());
        }
        Ok(row)
    })
    .await?;
    let name = format!("attachment-{}.{}", row.id, extension(&row.content_type));
    let file = crate::http::files::StoredFile {
        id: row.id,
        sha256: &row.sha256,
        size: row.size_bytes as u64,
        content_type: &row.content_type,
        file_name: &name,
    };
    crate::http::files::serve(&req, &state.evidence, file, CACHE).await
}

/// The usual file name extension of a type a citizen may attach.
fn extension(content_type: &str) -> &'static str {
    match content_type {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "application/pdf" => "pdf",
        _ => "bin",
    }
}
