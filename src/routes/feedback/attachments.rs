//! Files a citizen sends with a feedback record (photos, PDFs): kept like evidence — the
//! type recognised from the content, stored by SHA-256 on disk or S3 — after the
//! location metadata of photos is taken out. Public only with a published result, and
//! only those the coordinator marks publishable.
use actix_web::{HttpRequest, HttpResponse, delete, get, http::StatusCode, patch, post, web};
use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::records::load_for;
use crate::{
    auth::{AuthUser, Permission},
    db::{
        self,
        attachments::{self as store, AttachmentChanges, AttachmentRow, NewAttachment},
        audit::{self, Actor, Event},
    },
    domain::{activities::evidence_type, photos},
    error::{ApiError, FieldError},
    http::{
        ApiJson, IfMatch, Page, RequestContext,
        etag::ok_with_etag,
        files::{self, FormLimits, Received, StoredFile},
        pagination::PageParams,
        query::{ListQuery, NoFilter},
    },
    routes::crud::{self, Resource},
    state::AppState,
};

/// At most this many files in one upload.
const MAX_FILES: usize = 10;
/// What a citizen may send: photos and PDFs.
pub const ACCEPTED: &[&str] = &["application/pdf", "image/jpeg", "image/png", "image/webp"];
const ACCEPTED_NAMES: &str = "PDF, JPEG, PNG, WebP";

/// A file sent with a feedback record.
#[derive(Serialize, ToSchema, Clone)]
pub struct Attachment {
    pub id: Uuid,
    pub feedback_id: Uuid,
    /// The name it was sent with. It may name the sender, so it is masked in the audit
    /// trail, left out of events and never shown publicly.
    #[schema(example = "IMG_20210405_0912.jpg")]
    pub original_name: String,
    /// As recognised from the content.
    #[schema(example = "image/jpeg")]
    pub content_type: String,
    pub size_bytes: i64,
    /// Of the content as stored (after location metadata was taken out).
    pub sha256: String,
    /// Whether location metadata (EXIF GPS, XMP, IPTC) was found in the photo and taken
    /// out before it was stored.
    pub location_removed: bool,
    /// Shown on the record's public page once its result is published (the coordinator
    /// decides; default `false`).
    pub publishable: bool,
    pub uploaded_by: Option<Uuid>,
    pub version: i32,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub updated_at: DateTime<Utc>,
    /// Where to download it.
    #[schema(example = "/api/v1/feedback-attachments/01938f6e-7d3c-7b1a-9c55-3f1f0b6f1a2e/content")]
    pub content_url: String,
}

impl From<AttachmentRow> for Attachment {
    fn from(r: AttachmentRow) -> Self {
        Self {
            content_url: format!("/api/v1/feedback-attachments/{}/content", r.id),
            id: r.id,
            feedback_id: r.feedback_id,
            original_name: r.file_name,
            content_type: r.content_type,
            size_bytes: r.size_bytes,
            sha256: r.sha256,
            location_removed: r.location_removed,
            publishable: r.publishable,
            uploaded_by: r.uploaded_by,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Resource for Attachment {
    type Row = AttachmentRow;
    const COLLECTION: &'static str = "/api/v1/feedback-attachments";
}

/// The files an upload added.
#[derive(Serialize, ToSchema)]
pub struct Attached {
    pub items: Vec<Attachment>,
}

/// A multipart upload: one or more `file` parts.
#[derive(ToSchema)]
#[allow(dead_code, reason = "documents the multipart form; the handler reads the stream")]
pub struct AttachmentUpload {
    /// Photos (JPEG, PNG, WebP) or PDFs; up to 10.
    #[schema(value_type = Vec<String>, format = Binary, min_items = 1, max_items = 10)]
    file: Vec<Vec<u8>>,
}

/// A file ready to be recorded: recognised, cleaned and stored.
pub struct Kept {
    sha256: String,
    size: i64,
    content_type: &'static str,
    name: String,
    location_removed: bool,
}

/// The limits of a form carrying citizens' files in the parts named `fields`.
pub fn form_limits<'a>(state: &AppState, fields: &'a [&'a str]) -> FormLimits<'a> {
    FormLimits {
        file_fields: fields,
        max_files: MAX_FILES,
        max_file_bytes: state.settings.max_upload_bytes,
        max_text_chars: 50_000,
        tmp: state.settings.data_dir.join("tmp"),
        timeout: state.settings.upload_timeout,
    }
}

/// Recognises each file by its content (415 for anything but a photo or a PDF), takes
/// the location metadata out of photos and stores the result by its SHA-256. Nothing is
/// recorded yet: `attach` does that in the transaction that needs it.
pub async fn keep(state: &AppState, files: Vec<Received>) -> Result<Vec<Kept>, ApiError> {
    let mut kept = Vec::with_capacity(files.len());
    for file in files {
        let refused = |found: &str| {
            ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_file_type")
                .arg("file", &file.name)
                .arg("found", found)
                .arg("accepted", ACCEPTED_NAMES)
        };
        let kind = match evidence_type(&file.head) {
            Ok(kind) if ACCEPTED.contains(&kind) => kind,
            Ok(other) => return Err(refused(other)),
            Err(found) => return Err(refused(&found)),
        };
        let (path, name) = (file.temp.path().to_owned(), file.name.clone());
        let cleaned = web::block(move || {
            let bytes = std::fs::read(path).map_err(ApiError::internal)?;
            photos::without_location(kind, bytes).map_err(|found| {
                ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_file_type")
                    .arg("file", name)
                    .arg("found", found)
                    .arg("accepted", ACCEPTED_NAMES)
            })
        })
        .await??;
        let sha256 = crate::domain::sha256_hex(&cleaned.bytes);
        let size = cleaned.bytes.len() as i64;
        state.evidence.put_bytes(&sha256, cleaned.bytes).await?;
        kept.push(Kept {
            sha256,
            size,
            content_type: kind,
            name: file.name,
            location_removed: cleaned.location_removed,
        });
    }
    Ok(kept)
}

/// Records kept files as attachments of a record, each audited (`feedback_attachment.created`).
pub fn attach(
    conn: &mut PgConnection,
    actor: &Actor,
    organization_id: Uuid,
    feedback_id: Uuid,
    uploaded_by: Option<Uuid>,
    kept: &[Kept],
) -> Result<Vec<AttachmentRow>, ApiError> {
    let mut rows = Vec::with_capacity(kept.len());
    for k in kept {
        let row = store::insert(
            conn,
            &NewAttachment {
                id: Uuid::now_v7(),
                organization_id,
                feedback_id,
                sha256: k.sha256.clone(),
                size_bytes: k.size,
                content_type: k.content_type.to_owned(),
                file_name: k.name.clone(),
                location_removed: k.location_removed,
                uploaded_by,
            },
        )?;
        let after = Attachment::from(row.clone());
        audit::record(conn, actor, Event::created("feedback_attachment", row.id, Some(organization_id), &after))?;
        rows.push(row);
    }
    Ok(rows)
}

/// Attach files to a feedback record.
///
/// `multipart/form-data` with one or more `file` parts (up to 10): photos (JPEG, PNG,
/// WebP) or PDFs, recognised from their content (anything else is a 415), each at most
/// `CCHC_MAX_UPLOAD_BYTES` (413). Location metadata of photos — EXIF GPS, XMP, IPTC —
/// is taken out before they are stored (`location_removed`); their orientation stays.
/// All files are stored or none. A service client attaches only to records it filed.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path, description = "The feedback record.")),
    request_body(content = AttachmentUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored.", body = Attached, headers(("Location" = String, description = "The record's attachments."))),
        (status = 400, description = "A malformed form, an unknown part, or no file.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "A file is larger than allowed (`file_too_large`).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not multipart, or a file that is not a photo or a PDF (`unsupported_file_type`).", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/attachments")]
pub async fn upload_feedback_attachments(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackCreate)?;
    let record = load_for(&state, &principal, id.into_inner()).await?;
    let (id, org) = (record.row.id, record.row.organization_id);
    let (files, texts) = files::read_form(&req, payload, &form_limits(&state, &["file"])).await?;
    if let Some((name, _)) = texts.into_iter().next() {
        return Err(ApiError::validation(vec![FieldError::new(name, "unknown_field")]));
    }
    if files.is_empty() {
        return Err(ApiError::bad_request("no_files").with_errors(vec![FieldError::new("file", "required")]));
    }
    let kept = keep(&state, files).await?;
    let (actor, by) = (Actor::of(&principal, &ctx), Some(principal.id));
    let rows = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            // Deleted meanwhile? Then nothing is added.
            db::feedback::lock(conn, id, Some(org))?;
            attach(conn, &actor, org, id, by, &kept)
        })
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, format!("/api/v1/feedback/{id}/attachments")))
        .json(Attached { items: rows.into_iter().map(Attachment::from).collect() }))
}

/// List a feedback record's attachments.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path, description = "The feedback record."), PageParams),
    responses((status = 200, description = "A page of attachments.", body = Page<Attachment>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("/{id}/attachments")]
pub async fn list_feedback_attachments(
    auth: AuthUser,
    id: web::Path<Uuid>,
    query: ListQuery<NoFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackRead)?;
    let id = load_for(&state, &principal, id.into_inner()).await?.row.id;
    crud::list::<Attachment, _>(&req, &state, query.page, move |conn, page| store::of_feedback(conn, id, page)).await
}

/// The attachment, if `principal` may read its record.
async fn attachment_for(
    state: &AppState,
    principal: &crate::auth::Principal,
    id: Uuid,
) -> Result<AttachmentRow, ApiError> {
    let org = principal.organization_id;
    let row = db::run(&state.pool, move |conn| Ok(store::find(conn, id, org)?)).await?;
    load_for(state, principal, row.feedback_id).await?;
    Ok(row)
}

/// Read an attachment's metadata.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The metadata.", body = Attachment, headers(("ETag" = String))))
)]
#[get("/{id}")]
pub async fn get_feedback_attachment(
    auth: AuthUser,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::FeedbackRead)?;
    let row = attachment_for(&state, &auth.0, id.into_inner()).await?;
    Ok(ok_with_etag(row.version, &Attachment::from(row)))
}

/// Download an attachment.
///
/// With its type, its original name in `Content-Disposition` (RFC 6266), `ETag` (its
/// SHA-256) and `Accept-Ranges: bytes`; a single `Range` is answered with 206, an
/// unsatisfiable one with 416, `If-None-Match` with 304. A full download is checked
/// against the SHA-256 as it is sent.
#[utoipa::path(
    tag = "feedback",
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
#[get("/{id}/content")]
pub async fn download_feedback_attachment(
    auth: AuthUser,
    id: web::Path<Uuid>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Permission::FeedbackRead)?;
    let row = attachment_for(&state, &auth.0, id.into_inner()).await?;
    let file = StoredFile {
        id: row.id,
        sha256: &row.sha256,
        size: row.size_bytes as u64,
        content_type: &row.content_type,
        file_name: &row.file_name,
    };
    files::serve(&req, &state.evidence, file, "private, no-cache").await
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"publishable": true}))]
pub struct UpdateAttachment {
    /// Show it on the public page once the record's result is published.
    pub publishable: Option<bool>,
}

/// Mark an attachment publishable (or not).
///
/// Only the coordinator and leaders decide what of a citizen's files the public sees;
/// nothing is public before the record's result is published.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    request_body = UpdateAttachment,
    responses((status = 200, description = "Changed.", body = Attachment, headers(("ETag" = String))))
)]
#[patch("/{id}")]
pub async fn update_feedback_attachment(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ApiJson<UpdateAttachment>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackManage)?;
    let changes = AttachmentChanges { publishable: body.0.publishable };
    let actor = Actor::of(&principal, &ctx);
    crud::update::<Attachment, _>(
        &state,
        actor,
        id.into_inner(),
        principal.organization_id,
        if_match,
        move |conn, current| {
            if changes.publishable.is_none() {
                return Ok(current.clone());
            }
            Ok(store::update(conn, current.id, &changes)?)
        },
    )
    .await
}

/// Delete an attachment.
#[utoipa::path(
    tag = "feedback",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`; a stale one is a 412.")),
    responses((status = 204, description = "Deleted."))
)]
#[delete("/{id}")]
pub async fn delete_feedback_attachment(
    auth: AuthUser,
    ctx: RequestContext,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::FeedbackManage)?;
    let actor = Actor::of(&principal, &ctx);
    crud::delete::<Attachment, _>(&state, actor, id.into_inner(), principal.organization_id, if_match, crud::no_guard)
        .await
}
