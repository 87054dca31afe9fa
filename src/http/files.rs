//! Files in and out, for every resource that keeps files (evidence, citizens'
//! attachments): a multipart form read into temporary files while hashing and counting
//! (the size limit enforced as the bytes arrive), and a stored file served with its
//! name, `ETag`, byte ranges and a check of its SHA-256 as it goes out.
use std::{io::Write, path::PathBuf, time::Duration};

use actix_multipart::Multipart;
use actix_web::{
    HttpRequest, HttpResponse,
    http::{
        StatusCode,
        header::{self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue},
    },
    web,
};
use bytes::Bytes;
use futures_util::{StreamExt, stream};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    error::{ApiError, FieldError},
    storage::EvidenceStore,
};

/// The first bytes kept in memory to recognise a file's type.
pub const HEAD_BYTES: usize = 64 * 1024;

/// What a form may hold.
pub struct FormLimits<'a> {
    /// The names of the parts that are files; every other part is text.
    pub file_fields: &'a [&'a str],
    pub max_files: usize,
    /// Bytes per file.
    pub max_file_bytes: u64,
    /// Characters per text part.
    pub max_text_chars: usize,
    /// Where files wait until they are stored.
    pub tmp: PathBuf,
    /// For the whole form.
    pub timeout: Duration,
}

/// A file received into a temporary file.
pub struct Received {
    /// The form field it came in.
    pub field: String,
    pub temp: tempfile::NamedTempFile,
    pub sha256: String,
    pub size: u64,
    pub head: Vec<u8>,
    /// The name it was sent with, cleaned (`clean_name`).
    pub name: String,
}

/// A text part: its name and value (UTF-8 without NUL, trimmed).
pub type TextPart = (String, String);

/// `415` unless the request is `multipart/form-data`.
pub fn require_multipart(req: &HttpRequest) -> Result<(), ApiError> {
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if is_multipart {
        Ok(())
    } else {
        Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            .arg("expected", "multipart/form-data"))
    }
}

/// Reads the whole multipart form of `req`: files into temporary files, text parts into
/// memory, every limit checked as the bytes come.
pub async fn read_form(
    req: &HttpRequest,
    payload: web::Payload,
    limits: &FormLimits<'_>,
) -> Result<(Vec<Received>, Vec<TextPart>), ApiError> {
    require_multipart(req)?;
    let form = Multipart::new(req.headers(), payload);
    actix_web::rt::time::timeout(limits.timeout, receive(form, limits))
        .await
        .map_err(|_| crate::http::json::request_timeout())?
}

async fn receive(mut form: Multipart, limits: &FormLimits<'_>) -> Result<(Vec<Received>, Vec<TextPart>), ApiError> {
    let mut files = Vec::new();
    let mut texts = Vec::new();
    while let Some(field) = form.next().await {
        let mut field = field.map_err(multipart_error)?;
        let field_name = field.name().unwrap_or("").to_owned();
        if limits.file_fields.contains(&field_name.as_str()) {
            if files.len() == limits.max_files {
                return Err(ApiError::field(&field_name, "too_long")
                    .with_errors(vec![FieldError::new(&field_name, "too_long").arg("max", limits.max_files)]));
            }
            let name = clean_name(field.content_disposition());
            let mut temp = tempfile::NamedTempFile::new_in(&limits.tmp).map_err(ApiError::internal)?;
            let (mut hasher, mut size, mut head) = (Sha256::new(), 0u64, Vec::new());
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(multipart_error)?;
                size += chunk.len() as u64;
                if size > limits.max_file_bytes {
                    drop(temp);
                    linger(field, form).await;
                    return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "file_too_large")
                        .arg("limit", limits.max_file_bytes));
                }
                hasher.update(&chunk);
                if head.len() < HEAD_BYTES {
                    head.extend_from_slice(&chunk[..chunk.len().min(HEAD_BYTES - head.len())]);
                }
                temp.write_all(&chunk).map_err(ApiError::internal)?;
            }
            temp.flush().map_err(ApiError::internal)?;
            files.push(Received { field: field_name, temp, sha256: hex(hasher.finalize()), size, head, name });
        } else {
            let max = limits.max_text_chars;
            let too_long = || ApiError::validation(vec![FieldError::new(&field_name, "too_long").arg("max", max)]);
            let mut text = Vec::new();
            while let Some(chunk) = field.next().await {
                text.extend_from_slice(&chunk.map_err(multipart_error)?);
                // `max` characters are at most 4 × `max` bytes of UTF-8.
                if text.len() > 4 * max {
                    return Err(too_long());
                }
            }
            let text = String::from_utf8(text).map_err(|_| ApiError::field(&field_name, "invalid_format"))?;
            if text.chars().count() > max {
                return Err(too_long());
            }
            if text.contains('\0') {
                return Err(ApiError::field(&field_name, "nul_character"));
            }
            texts.push((field_name, text.trim().to_owned()));
        }
    }
    Ok((files, texts))
}

/// Lower-case hexadecimal.
pub fn hex(bytes: impl AsRef<[u8]>) -> String {
    bytes.as_ref().iter().map(|b| format!("{b:02x}")).collect()
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
    if name.is_empty() || name == "." || name == ".." { "file".to_owned() } else { name }
}

fn multipart_error(err: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request("multipart_invalid").arg("reason", err)
}

/// How much more of a refused upload is read before the answer: enough that a client
/// which sends a little past the limit before it reads gets the 413 rather than a reset
/// connection, and no more — a large body is not read to its end.
const LINGER_BYTES: usize = 256 * 1024;
const LINGER: Duration = Duration::from_secs(1);

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
pub fn disposition(name: &str) -> ContentDisposition {
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

/// A stored file, as its record describes it.
pub struct StoredFile<'a> {
    pub id: Uuid,
    pub sha256: &'a str,
    pub size: u64,
    pub content_type: &'a str,
    pub file_name: &'a str,
}

/// The file with its type, name, `ETag` (its SHA-256) and `Accept-Ranges`; a single
/// `Range` with 206, an unsatisfiable one 416, `If-None-Match` with 304. A full download
/// is checked against the SHA-256 as it is sent, and cut off if it does not match.
pub async fn serve(
    req: &HttpRequest,
    store: &EvidenceStore,
    file: StoredFile<'_>,
    cache_control: &'static str,
) -> Result<HttpResponse, ApiError> {
    let etag = format!("\"{}\"", file.sha256);
    if req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, etag)).finish());
    }
    let size = file.size;
    let range = match byte_range(req.headers().get(header::RANGE).and_then(|v| v.to_str().ok()), size) {
        Ok(range) => range,
        Err(()) => {
            return Err(ApiError::new(StatusCode::RANGE_NOT_SATISFIABLE, "range_not_satisfiable")
                .arg("size", size)
                .header(header::CONTENT_RANGE, format!("bytes */{size}")));
        }
    };
    let content = store.get(file.sha256, range.clone()).await?;
    let mut res = match &range {
        Some(r) => {
            let mut res = HttpResponse::PartialContent();
            res.insert_header((header::CONTENT_RANGE, format!("bytes {}-{}/{}", r.start, r.end - 1, size)));
            res
        }
        None => HttpResponse::Ok(),
    };
    res.insert_header((header::CONTENT_TYPE, file.content_type.to_owned()))
        .insert_header(disposition(file.file_name))
        .insert_header((header::ETAG, etag))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::CACHE_CONTROL, cache_control))
        .no_chunking(content.range.end - content.range.start);
    let body = content.stream.map(|chunk| chunk.map_err(actix_web::error::ErrorInternalServerError));
    if range.is_some() {
        return Ok(res.streaming(body));
    }
    Ok(res.streaming(verified(body, file.sha256.to_owned(), size, file.id)))
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
                    let actual = hex(std::mem::take(&mut st.hasher).finalize());
                    if actual == expected && st.seen == size {
                        let last = st.held.take()?;
                        return Some((Ok(last), (st, expected)));
                    }
                    tracing::error!(file = %id, "stored content does not match its SHA-256; download cut off");
                    let err = actix_web::error::ErrorInternalServerError("content does not match its SHA-256");
                    return Some((Err(err), (st, expected)));
                }
            }
        }
    })
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
        assert_eq!(clean_name(None), "file");
        let fallback = disposition("Biên bản.pdf").to_string();
        assert!(fallback.contains("filename*=UTF-8''Bi%C3%AAn%20b%E1%BA%A3n.pdf"), "{fallback}");
        let header = disposition("Biên bản họp Đảng ủy \"số 1\".pdf").to_string();
        assert!(header.contains("filename=\"Bien ban hop Dang uy so 1.pdf\""), "{header}");
    }
}
