//! Evidence files of activities: multipart upload, metadata, download with ranges.
//!
//! An upload streams each file to a temporary file while hashing and counting it (the
//! size limit is enforced as the bytes arrive), recognises its type from its content,
//! writes it to the store under its SHA-256, and only then commits the rows. Reading
//! back checks the content against the recorded SHA-256.
use std::io::Write;

use actix_multipart::Multipart;
use actix_web::{
    HttpRequest, HttpResponse, delete, get,
    http::{
        StatusCode,
        header::{self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue},
    },
    post, web,
};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use diesel::Connection;
use futures_util::{StreamExt, stream};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    auth::{AuthUser, Permission},
    db::{
        self, Record,
        activities::{self as store, ActivityRecord, EvidenceRow, NewEvidence, evidence_fns},
        audit::{self, Actor, Event},
    },
    domain::activities::{accepted_names, evidence_type, is_compound_file},
    error::{ApiError, FieldError},
    http::{Page, RequestContext, etag::ok_with_etag, pagination::PageParams, query::ListQuery},
    routes::{
        activities::ensure_not_verified,
        crud::{self, Resource},
    },
    state::AppState,
};

/// At most this many files in one upload.
const MAX_FILES: usize = 20;
/// The first bytes kept in memory to recognise a file's type.
const HEAD_BYTES: usize = 64 * 1024;

/// An evidence file's metadata.
#[derive(Serialize, ToSchema, Clone)]
pub struct Evidence {
    pub id: Uuid,
    pub activity_id: Uuid,
    /// The name it was uploaded with.
    #[schema(example = "Biên bản họp phòng QLDA1.pdf")]
    pub file_name: String,
    /// As recognised from the content.
    #[schema(example = "application/pdf")]
    pub content_type: String,
    pub size_bytes: i64,
    /// Of the content; the download's `ETag`, and checked on every full read.
    pub sha256: String,
    pub caption: Option<String>,
    pub uploaded_by: Option<Uuid>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub updated_at: DateTime<Utc>,
    /// Where to download it.
    #[schema(example = "/api/v1/evidence/01938f6e-7d3c-7b1a-9c55-3f1f0b6f1a2e/content")]
    pub content_url: String,
}

impl From<EvidenceRow> for Evidence {
    fn from(r: EvidenceRow) -> Self {
        Self {
            content_url: format!("/api/v1/evidence/{}/content", r.id),
            id: r.id,
            activity_id: r.activity_id,
            file_name: r.file_name,
            content_type: r.content_type,
            size_bytes: r.size_bytes,
            sha256: r.sha256,
            caption: r.caption,
            uploaded_by: r.uploaded_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Resource for Evidence {
    type Row = EvidenceRow;
    const COLLECTION: &'static str = "/api/v1/evidence";
}

/// The files an upload created.
#[derive(Serialize, ToSchema)]
pub struct Uploaded {
    pub items: Vec<Evidence>,
}

/// A multipart upload: repeated `file` parts, each optionally followed by a `caption`
/// part (the n-th caption goes with the n-th file).
#[derive(ToSchema)]
#[allow(dead_code, reason = "documents the multipart form; the handler reads the stream")]
pub struct EvidenceUpload {
    /// One or more files: PDF, JPEG, PNG, WebP, DOCX, XLSX, ODT or MP4.
    #[schema(value_type = Vec<String>, format = Binary, min_items = 1)]
    file: Vec<Vec<u8>>,
    /// A caption for each file, in the same order, up to 2,000 characters each.
    #[schema(inline, required = false)]
    caption: Vec<Caption>,
}

/// A caption, up to 2,000 characters.
#[derive(ToSchema)]
#[schema(value_type = String, max_length = 2000)]
#[allow(dead_code, reason = "documents a caption part")]
struct Caption(String);

/// A file received into a temporary file.
struct Received {
    temp: tempfile::NamedTempFile,
    sha256: String,
    size: u64,
    head: Vec<u8>,
    name: String,
}

/// The name a file was sent with, without any folder part, printable, at most 255 chars.
fn clean_name(cd: Option<&ContentDisposition>) -> String {
    let raw = cd
        .and_then(|cd| {
            cd.get_filename_ext()
                .and_then(|ext| String::from_utf8(ext.value.clone()).ok())
                .or_else(|| cd.get_filename().map(str::to_owned))
        })
        .unwrap_or_default();
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let name: String = base.chars().filter(|c| !c.is_control()).take(255).collect();
    let name = name.trim().to_owned();
    if name.is_empty() || name == "." || name == ".." { "evidence".to_owned() } else { name }
}

fn multipart_error(err: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request("multipart_invalid").arg("reason", err)
}

/// Reads the whole form; files go to temporary files, counted and hashed as they come.
async fn receive(
    mut form: Multipart,
    tmp: std::path::PathBuf,
    limit: u64,
) -> Result<(Vec<Received>, Vec<String>), ApiError> {
    let mut files = Vec::new();
    let mut captions = Vec::new();
    while let Some(field) = form.next().await {
        let mut field = field.map_err(multipart_error)?;
        match field.name() {
            Some("file") => {
                if files.len() == MAX_FILES {
                    return Err(ApiError::field("file", "too_long")
                        .with_errors(vec![FieldError::new("file", "too_long").arg("max", MAX_FILES)]));
                }
                let name = clean_name(field.content_disposition());
                let mut temp = tempfile::NamedTempFile::new_in(&tmp).map_err(ApiError::internal)?;
                let (mut hasher, mut size, mut head) = (Sha256::new(), 0u64, Vec::new());
                while let Some(chunk) = field.next().await {
                    let chunk = chunk.map_err(multipart_error)?;
                    size += chunk.len() as u64;
                    if size > limit {
                        drop(temp);
                        linger(field, form).await;
                        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "file_too_large").arg("limit", limit));
                    }
                    hasher.update(&chunk);
                    if head.len() < HEAD_BYTES {
                        head.extend_from_slice(&chunk[..chunk.len().min(HEAD_BYTES - head.len())]);
                    }
                    temp.write_all(&chunk).map_err(ApiError::internal)?;
                }
                temp.flush().map_err(ApiError::internal)?;
                let sha256 = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
                files.push(Received { temp, sha256, size, head, name });
            }
            Some("caption") => {
                let too_long = || ApiError::validation(vec![FieldError::new("caption", "too_long").arg("max", 2000)]);
                let mut text = Vec::new();
                while let Some(chunk) = field.next().await {
                    text.extend_from_slice(&chunk.map_err(multipart_error)?);
                    // 2,000 characters are at most 8,000 bytes of UTF-8.
                    if text.len() > 4 * 2000 {
                        return Err(too_long());
                    }
                }
                let text = String::from_utf8(text).map_err(|_| ApiError::field("caption", "invalid_format"))?;
                if text.chars().count() > 2000 {
                    return Err(too_long());
                }
                if text.contains('\0') {
                    return Err(ApiError::field("caption", "nul_character"));
                }
                captions.push(text.trim().to_owned());
            }
            other => {
                let name = other.unwrap_or("").to_owned();
                return Err(ApiError::validation(vec![FieldError::new(name, "unknown_field")]));
            }
        }
    }
    Ok((files, captions))
}

/// Reads what is left of a refused upload so the client gets the answer, not a reset;
/// nothing of it is kept.
/// How much more of a refused upload is read before the answer: enough that a client
/// which sends a little past the limit before it reads gets the 413 rather than a reset
/// connection, and no more — a large body is not read to its end.
const LINGER_BYTES: usize = 256 * 1024;
const LINGER: std::time::Duration = std::time::Duration::from_secs(1);

/// Reads and discards at most `LINGER_BYTES` (or for `LINGER`) of what is left.
async fn linger(mut field: actix_multipart::Field, mut form: Multipart) {
    let discard = async {
        let mut read = 0;
        loop {
            match field.next().await {
                Some(Ok(chunk)) => read += chunk.len(),
                _ => break,
            }
            if read >= LINGER_BYTES {
                return;
            }
        }
        drop(field);
        while let Some(Ok(mut next)) = form.next().await {
            while let Some(Ok(chunk)) = next.next().await {
                read += chunk.len();
                if read >= LINGER_BYTES {
                    return;
                }
            }
        }
    };
    let _ = actix_web::rt::time::timeout(LINGER, discard).await;
}

/// Upload evidence files for an activity.
///
/// `multipart/form-data` with one or more `file` parts and, optionally, a `caption`
/// after each. Each file's type is recognised from its content — PDF, JPEG, PNG, WebP,
/// DOCX, XLSX, ODT or MP4, anything else is a 415 — and may be at most
/// `CCHC_MAX_UPLOAD_BYTES` (413 as soon as it is passed, while the bytes arrive; the
/// rest of the body is not read). All files are stored or none.
/// Not for a verified activity (409). A `member` uploads only for their own department.
#[utoipa::path(
    tag = "evidence",
    params(("id" = Uuid, Path, description = "The activity.")),
    request_body(content = EvidenceUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored.", body = Uploaded, headers(("Location" = String, description = "The activity's evidence list."))),
        (status = 400, description = "A malformed form, an unknown part, or no file.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The activity is verified (`activity_verified`).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "A file is larger than allowed (`file_too_large`).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not multipart, or a file of a type that is not accepted (`unsupported_file_type`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/activities/{id}/evidence")]
pub async fn upload_evidence(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ActivitiesWrite)?;
    let (id, org) = (id.into_inner(), principal.organization_id);
    let activity = db::run(&state.pool, move |conn| Ok(ActivityRecord::find(conn, id, org)?)).await?;
    principal.require_for_department(Permission::ActivitiesWrite, activity.row.department_id)?;
    ensure_not_verified(activity.row.status)?;
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            .arg("expected", "multipart/form-data"));
    }
    let limit = state.settings.max_upload_bytes;
    let form = Multipart::new(req.headers(), payload);
    let (files, captions) = actix_web::rt::time::timeout(
        state.settings.upload_timeout,
        receive(form, state.settings.data_dir.join("tmp"), limit),
    )
    .await
    .map_err(|_| crate::http::json::request_timeout())??;
    if files.is_empty() {
        return Err(ApiError::bad_request("no_files").with_errors(vec![FieldError::new("file", "required")]));
    }
    let mut kinds = Vec::with_capacity(files.len());
    for file in &files {
        let found = if is_compound_file(&file.head) {
            let path = file.temp.path().to_owned();
            let whole = web::block(move || std::fs::read(path)).await?.map_err(ApiError::internal)?;
            evidence_type(&whole)
        } else {
            evidence_type(&file.head)
        };
        match found {
            Ok(kind) => kinds.push(kind),
            Err(found) => {
                return Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_file_type")
                    .arg("file", &file.name)
                    .arg("found", found)
                    .arg("accepted", accepted_names()));
            }
        }
    }
    // The objects first; the rows only once every object is safely stored.
    for file in &files {
        let handle = file.temp.reopen().map_err(ApiError::internal)?;
        state.evidence.put_file(&file.sha256, handle).await?;
    }
    let new: Vec<NewEvidence> = files
        .iter()
        .zip(kinds)
        .enumerate()
        .map(|(i, (file, kind))| NewEvidence {
            id: Uuid::now_v7(),
            organization_id: activity.row.organization_id,
            activity_id: id,
            sha256: file.sha256.clone(),
            size_bytes: file.size as i64,
            content_type: kind.to_owned(),
            file_name: file.name.clone(),
            caption: captions.get(i).filter(|c| !c.is_empty()).cloned(),
            uploaded_by: Some(principal.id),
        })
        .collect();
    let actor = Actor::of(&principal, &ctx);
    let rows = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            // Verified meanwhile? Then nothing is added.
            let current = store::lock(conn, id, None)?;
            ensure_not_verified(current.status)?;
            let mut rows = Vec::with_capacity(new.len());
            for item in &new {
                let row = store::insert_evidence(conn, item)?;
                let after = Evidence::from(row.clone());
                audit::record(conn, &actor, Event::created("evidence", row.id, Some(row.organization_id), &after))?;
                rows.push(row);
            }
            Ok(rows)
        })
    })
    .await?;
    drop(files);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/activities/{id}/evidence")))
        .json(Uploaded { items: rows.into_iter().map(Evidence::from).collect() }))
}

/// List an activity's evidence files.
#[utoipa::path(
    tag = "evidence",
    params(("id" = Uuid, Path, description = "The activity."), PageParams),
    responses((status = 200, description = "A page of evidence files.", body = Page<Evidence>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("/activities/{id}/evidence")]
pub async fn list_evidence(
    auth: AuthUser,
    id: web::Path<Uuid>,
    query: ListQuery<NoFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ActivitiesRead)?;
    let (id, org) = (id.into_inner(), principal.organization_id);
    crud::list::<Evidence, _>(&req, &state, query.page, move |conn, page| {
        store::find(conn, id, org)?;
        store::evidence_of(conn, id, page)
    })
    .await
}

/// No filters besides paging.
#[derive(serde::Deserialize, validator::Validate)]
#[serde(deny_unknown_fields)]
pub struct NoFilter {}

/// An evidence file's metadata.
#[utoipa::path(
    tag = "evidence",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The metadata.", body = Evidence, headers(("ETag" = String))))
)]
#[get("/evidence/{id}")]
pub async fn get_evidence(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::ActivitiesRead)?;
    let (id, org) = (id.into_inner(), auth.0.organization_id);
    let row = db::run(&state.pool, move |conn| Ok(evidence_fns::find(conn, id, org)?)).await?;
    Ok(ok_with_etag(row.version, &Evidence::from(row)))
}

/// A single byte range `start..end` (end exclusive) from a `Range` header, if it asks
/// for one; `Err` when it cannot be satisfied. Several ranges are answered in full.
fn byte_range(header: Option<&str>, size: u64) -> Result<Option<std::ops::Range<u64>>, ()> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else { return Ok(None) };
    if spec.contains(',') {
        return Ok(None);
    }
    let (start, end) = spec.split_once('-').ok_or(())?;
    let (start, end) = (start.trim(), end.trim());
    let range = match (start.parse::<u64>().ok(), end.parse::<u64>().ok()) {
        (Some(s), Some(e)) if s <= e => s..(e + 1).min(size),
        (Some(s), None) if end.is_empty() => s..size,
        (None, Some(n)) if start.is_empty() && n > 0 => size.saturating_sub(n)..size,
        _ => return Err(()),
    };
    if range.start >= size || range.is_empty() { Err(()) } else { Ok(Some(range)) }
}

/// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<the real name>` (RFC 6266).
pub(crate) fn disposition(name: &str) -> ContentDisposition {
    // Letters without their marks (`Biên bản họp.pdf` → `Bien ban hop.pdf`), for clients
    // that read only `filename`.
    let fallback: String = deunicode::deunicode_with_tofu(name, "_")
        .chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '_' })
        .filter(|c| !matches!(c, '"' | '\\'))
        .collect();
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(fallback),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".to_owned()),
                language_tag: None,
                value: name.as_bytes().to_vec(),
            }),
        ],
    }
}

/// Download an evidence file.
///
/// With its type, `Content-Disposition` carrying the original (Vietnamese) name per RFC
/// 6266, `ETag` (its SHA-256) and `Accept-Ranges: bytes`. A single `Range` is answered
/// with 206; an unsatisfiable one with 416; `If-None-Match` with the `ETag` with 304. A
/// full download is checked against the SHA-256 as it is sent, and cut off if it does
/// not match.
#[utoipa::path(
    tag = "evidence",
    params(("id" = Uuid, Path), ("Range" = Option<String>, Header, description = "`bytes=start-end`, `bytes=start-` or `bytes=-suffix`."),
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` of a copy you have.")),
    responses(
        // `openapi` lists the accepted file types in place of this one.
        (status = 200, description = "The file, in its type.", content_type = "application/octet-stream", body = Vec<u8>,
            headers(("Content-Disposition" = String), ("ETag" = String), ("Accept-Ranges" = String))),
        (status = 206, description = "The requested part.", content_type = "application/octet-stream", body = Vec<u8>,
            headers(("Content-Range" = String), ("ETag" = String))),
        (status = 304, description = "Not changed since the copy you have."),
        (status = 416, description = "The range lies outside the file.", body = crate::error::Problem, content_type = "application/problem+json",
            headers(("Content-Range" = String, description = "`bytes */<size>`"))),
    )
)]
#[get("/evidence/{id}/content")]
pub async fn download_evidence(
    auth: AuthUser,
    id: web::Path<Uuid>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::ActivitiesRead)?;
    if auth.0.overseeing.is_some() {
        // Oversight reads evidence lists, not the files (they may show people).
        return Err(ApiError::forbidden().saying("oversight_lists_only"));
    }
    let (id, org) = (id.into_inner(), auth.0.organization_id);
    let row = db::run(&state.pool, move |conn| Ok(evidence_fns::find(conn, id, org)?)).await?;
    let etag = format!("\"{}\"", row.sha256);
    if req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, etag)).finish());
    }
    let size = row.size_bytes as u64;
    let range = match byte_range(req.headers().get(header::RANGE).and_then(|v| v.to_str().ok()), size) {
        Ok(range) => range,
        Err(()) => {
            return Err(ApiError::new(StatusCode::RANGE_NOT_SATISFIABLE, "range_not_satisfiable")
                .arg("size", size)
                .header(header::CONTENT_RANGE, format!("bytes */{size}")));
        }
    };
    let content = state.evidence.get(&row.sha256, range.clone()).await?;
    let mut res = match &range {
        Some(r) => {
            let mut res = HttpResponse::PartialContent();
            res.insert_header((header::CONTENT_RANGE, format!("bytes {}-{}/{}", r.start, r.end - 1, size)));
            res
        }
        None => HttpResponse::Ok(),
    };
    res.insert_header((header::CONTENT_TYPE, row.content_type.clone()))
        .insert_header(disposition(&row.file_name))
        .insert_header((header::ETAG, etag))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .no_chunking(content.range.end - content.range.start);
    let body = content.stream.map(|chunk| chunk.map_err(actix_web::error::ErrorInternalServerError));
    if range.is_some() {
        return Ok(res.streaming(body));
    }
    Ok(res.streaming(verified(body, row.sha256, size, id)))
}

/// Passes the content through, hashing it, always one chunk behind: the last chunk is
/// sent only once the whole matches the recorded SHA-256 (and size); otherwise an error
/// takes its place, so the download fails instead of completing with wrong bytes.
fn verified(
    body: impl futures_util::Stream<Item = Result<Bytes, actix_web::Error>> + Unpin + 'static,
    expected: String,
    size: u64,
    id: Uuid,
) -> impl futures_util::Stream<Item = Result<Bytes, actix_web::Error>> {
    struct Check<S> {
        body: S,
        hasher: Sha256,
        seen: u64,
        held: Option<Bytes>,
        done: bool,
    }
    let start = Check { body, hasher: Sha256::new(), seen: 0, held: None, done: false };
    stream::unfold((start, expected), move |(mut st, expected)| async move {
        loop {
            if st.done {
                return None;
            }
            match st.body.next().await {
                Some(Ok(chunk)) => {
                    st.hasher.update(&chunk);
                    st.seen += chunk.len() as u64;
                    if let Some(previous) = st.held.replace(chunk) {
                        return Some((Ok(previous), (st, expected)));
                    }
                }
                Some(Err(e)) => {
                    st.done = true;
                    return Some((Err(e), (st, expected)));
                }
                None => {
                    st.done = true;
                    let actual: String =
                        std::mem::take(&mut st.hasher).finalize().iter().map(|b| format!("{b:02x}")).collect();
                    if actual == expected && st.seen == size {
                        let last = st.held.take()?;
                        return Some((Ok(last), (st, expected)));
                    }
                    tracing::error!(evidence = %id, "stored content does not match its SHA-256; download cut off");
                    let err = actix_web::error::ErrorInternalServerError("content does not match its SHA-256");
                    return Some((Err(err), (st, expected)));
                }
            }
        }
    })
}

/// Delete an evidence file of an activity that is not verified.
#[utoipa::path(
    tag = "evidence",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 409, description = "The activity is verified (`activity_verified`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/evidence/{id}")]
pub async fn delete_evidence(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: crate::http::IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::ActivitiesWrite)?;
    let actor = Actor::of(&principal, &ctx);
    let org = principal.organization_id;
    crud::delete::<Evidence, _>(&state, actor, id.into_inner(), org, if_match, move |conn, current| {
        let activity = store::lock(conn, current.activity_id, None)?;
        principal.require_for_department(Permission::ActivitiesWrite, activity.department_id)?;
        ensure_not_verified(activity.status)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_http_says() {
        assert_eq!(byte_range(None, 100), Ok(None));
        assert_eq!(byte_range(Some("bytes=0-9"), 100), Ok(Some(0..10)));
        assert_eq!(byte_range(Some("bytes=90-"), 100), Ok(Some(90..100)));
        assert_eq!(byte_range(Some("bytes=-10"), 100), Ok(Some(90..100)));
        assert_eq!(byte_range(Some("bytes=50-500"), 100), Ok(Some(50..100)));
        assert_eq!(byte_range(Some("bytes=0-1,5-6"), 100), Ok(None));
        assert_eq!(byte_range(Some("bytes=100-"), 100), Err(()));
        assert_eq!(byte_range(Some("bytes=9-1"), 100), Err(()));
        assert_eq!(byte_range(Some("bytes=abc"), 100), Err(()));
    }

    #[test]
    fn names_keep_their_letters_and_lose_their_folders() {
        let cd = |raw: &str| ContentDisposition {
            disposition: DispositionType::FormData,
            parameters: vec![DispositionParam::Filename(raw.to_owned())],
        };
        assert_eq!(clean_name(Some(&cd("Biên bản họp.pdf"))), "Biên bản họp.pdf");
        assert_eq!(clean_name(Some(&cd("C:\\Users\\a\\ảnh.jpg"))), "ảnh.jpg");
        assert_eq!(clean_name(Some(&cd("../../etc/passwd"))), "passwd");
        assert_eq!(clean_name(None), "evidence");
        let fallback = disposition("Biên bản.pdf").to_string();
        assert!(fallback.contains("filename*=UTF-8''Bi%C3%AAn%20b%E1%BA%A3n.pdf"), "{fallback}");
        let header = disposition("Biên bản họp Đảng ủy \"số 1\".pdf").to_string();
        assert!(header.contains("filename=\"Bien ban hop Dang uy so 1.pdf\""), "{header}");
    }
}
