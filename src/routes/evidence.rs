//! Evidence files of activities: multipart upload, metadata, download with ranges.
//!
//! An upload streams each file to a temporary file while hashing and counting it (the
//! size limit is enforced as the bytes arrive), recognises its type from its content,
//! writes it to the store under its SHA-256, and only then commits the rows. Reading
//! back checks the content against the recorded SHA-256.
use actix_web::{
    HttpRequest, HttpResponse, delete, get,
    http::{StatusCode, header},
    post, web,
};
use chrono::{DateTime, Utc};
use diesel::Connection;
use serde::Serialize;
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
    http::{
        Page, RequestContext,
        etag::ok_with_etag,
        files::{self, FormLimits, StoredFile},
        pagination::PageParams,
        query::{ListQuery, NoFilter},
    },
    routes::{
        activities::ensure_not_verified,
        crud::{self, Resource},
    },
    state::AppState,
};

/// At most this many files in one upload.
const MAX_FILES: usize = 20;

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
    /// It shows a person (a photo of a meeting, a recording): its file is erased once the
    /// organisation's `retention_years` have run out since the activity was held
    /// (Decree 13/2023; docs/data-protection.md).
    pub shows_person: bool,
    /// When the retention rule erased its file (its name and caption emptied, the
    /// download a 410); `null` while kept.
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub erased_at: Option<DateTime<Utc>>,
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
            shows_person: r.shows_person,
            erased_at: r.erased_at,
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
    /// For each file, in the same order, whether it shows a person (`true` or `false`,
    /// default `false`): such files follow the retention rule of personal data.
    #[schema(required = false)]
    shows_person: Vec<bool>,
}

/// A caption, up to 2,000 characters.
#[derive(ToSchema)]
#[schema(value_type = String, max_length = 2000)]
#[allow(dead_code, reason = "documents a caption part")]
struct Caption(String);

/// Upload evidence files for an activity.
///
/// `multipart/form-data` with one or more `file` parts and, optionally, a `caption`
/// and a `shows_person` (`true`/`false`) after each. Each file's type is recognised from its content — PDF, JPEG, PNG, WebP,
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
#[post("/{id}/evidence")]
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
    let limits = FormLimits {
        file_fields: &["file"],
        max_files: MAX_FILES,
        max_file_bytes: state.settings.max_upload_bytes,
        max_text_chars: 2000,
        tmp: state.settings.data_dir.join("tmp"),
        timeout: state.settings.upload_timeout,
    };
    let (files, texts) = files::read_form(&req, payload, &limits).await?;
    let (mut captions, mut people) = (Vec::new(), Vec::new());
    for (name, text) in texts {
        match name.as_str() {
            "caption" => captions.push(text),
            "shows_person" => match text.as_str() {
                "true" => people.push(true),
                "false" => people.push(false),
                _ => {
                    return Err(ApiError::validation(vec![
                        FieldError::new(name, "invalid_value").reason("true or false", "true hoặc false"),
                    ]));
                }
            },
            _ => return Err(ApiError::validation(vec![FieldError::new(name, "unknown_field")])),
        }
    }
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
            shows_person: people.get(i).copied().unwrap_or(false),
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
#[get("/{id}/evidence")]
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

/// An evidence file's metadata.
#[utoipa::path(
    tag = "evidence",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The metadata.", body = Evidence, headers(("ETag" = String))))
)]
#[get("/{id}")]
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
        (status = 410, description = "The file showed a person and was erased by the retention rule (`evidence_erased`).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 416, description = "The range lies outside the file.", body = crate::error::Problem, content_type = "application/problem+json",
            headers(("Content-Range" = String, description = "`bytes */<size>`"))),
    )
)]
#[get("/{id}/content")]
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
    if row.erased_at.is_some() {
        return Err(ApiError::new(StatusCode::GONE, "evidence_erased"));
    }
    let file = StoredFile {
        id: row.id,
        sha256: &row.sha256,
        size: row.size_bytes as u64,
        content_type: &row.content_type,
        file_name: &row.file_name,
    };
    files::serve(&req, &state.evidence, file, "private, no-cache").await
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
#[delete("/{id}")]
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
