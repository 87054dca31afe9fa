//! Whole collections for scripts, streamed as CSV or NDJSON in constant memory.
//!
//! The rows come from one read-only, repeatable-read transaction (a consistent picture) —
//! CSV as PostgreSQL's `COPY … TO STDOUT` writes it, NDJSON in single-row mode — are
//! gathered in chunks of about 64 KiB and sent
//! through a small bounded channel: however many rows there are, only a few chunks are
//! in memory, and a slow client slows the query down instead of filling memory.
use std::io;

use actix_web::{HttpRequest, HttpResponse, get, http::header, web};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::{
    auth::{AuthUser, Permission},
    db::PgPool,
    db::exports::{self, COLLECTIONS, Collection, Selection},
    error::ApiError,
    http::query::ApiQuery,
    reports::tables::UTF8_BOM,
    state::AppState,
};

/// About how much is written before a chunk is sent.
const CHUNK: usize = 64 * 1024;
/// Chunks waiting to be sent, at most.
const IN_FLIGHT: usize = 4;

pub use crate::db::exports::{collection_names, header_of};

/// Who may export a collection.
fn permission(collection: &str) -> Permission {
    match collection {
        "feedback" => Permission::FeedbackRead,
        "activities" | "evidence" => Permission::ActivitiesRead,
        "assignments" => Permission::AssignmentsRead,
        _ => Permission::PlansRead,
    }
}

/// How an export is written.
#[derive(Deserialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Ndjson,
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// Only records changed at or after this time, oldest change first, deleted ones
    /// as tombstones (`{"id", "deleted_at"}`; in CSV a row with only those two).
    /// Without it: every live record, in id order.
    pub updated_since: Option<DateTime<Utc>>,
    /// `csv` (default) or `ndjson`; or ask with `Accept: application/x-ndjson`.
    #[param(inline)]
    pub format: Option<ExportFormat>,
    /// System administrator only: that organisation's records (default: all).
    pub organization_id: Option<Uuid>,
    /// CSV: start with a UTF-8 byte order mark, so that Excel shows Vietnamese text right
    /// (default `true`); `false` for scripts and tools that do not expect one.
    pub bom: Option<bool>,
    /// CSV: the header row as `keys` (default: the stable column names of
    /// docs/reports.md, for scripts) or `vi` (Vietnamese headings, for people).
    #[param(inline)]
    pub headers: Option<crate::routes::reports::CsvHeaders>,
}

/// What the export task needs.
struct Job {
    pool: PgPool,
    collection: &'static Collection,
    selection: Selection,
    format: ExportFormat,
    /// Start a CSV with the UTF-8 byte order mark.
    bom: bool,
    /// The header row in Vietnamese headings.
    vietnamese_headers: bool,
}

type Chunk = Result<Bytes, io::Error>;

/// Runs the query and sends the output in chunks; `started` says whether it could begin.
fn export(job: Job, started: tokio::sync::oneshot::Sender<Result<(), ApiError>>, tx: tokio::sync::mpsc::Sender<Chunk>) {
    let mut conn = match job.pool.get() {
        Ok(conn) => conn,
        Err(err) => {
            let _ = started.send(Err(ApiError::from(err)));
            return;
        }
    };
    let mut started = Some(started);
    let mut lines = Vec::with_capacity(CHUNK + CHUNK / 8);
    let columns = job.collection.header();
    let send = |chunk: Vec<u8>| {
        tx.blocking_send(Ok(Bytes::from(chunk))).map_err(|_| abort(io::Error::other("the client went away")))
    };
    let result = (|| {
        if job.format == ExportFormat::Csv {
            if job.bom {
                send(UTF8_BOM.to_vec())?;
            }
            let header: Vec<&str> = match job.vietnamese_headers {
                true => columns.iter().map(|c| exports::heading(c)).collect(),
                false => columns.clone(),
            };
            let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(&mut lines);
            out.write_record(&header).and_then(|()| Ok(out.flush()?)).map_err(io::Error::other).map_err(abort)?;
        }
        let begin = || {
            if let Some(started) = started.take() {
                let _ = started.send(Ok(()));
            }
        };
        match job.format {
            // PostgreSQL writes the CSV (COPY); records get the CRLF ends of RFC 4180.
            ExportFormat::Csv => {
                let mut ends = CrlfEnds::default();
                exports::copy_csv(&mut conn, job.collection, &job.selection, begin, |bytes| {
                    ends.extend(&mut lines, bytes);
                    if lines.len() >= CHUNK {
                        send(std::mem::replace(&mut lines, Vec::with_capacity(CHUNK + CHUNK / 8)))?;
                    }
                    Ok(())
                })?;
            }
            ExportFormat::Ndjson => exports::read(&mut conn, job.collection, &job.selection, begin, |line| {
                lines.extend_from_slice(line.as_bytes());
                lines.push(b'\n');
                if lines.len() >= CHUNK {
                    send(std::mem::replace(&mut lines, Vec::with_capacity(CHUNK)))?;
                }
                Ok(())
            })?,
        }
        let rest = std::mem::take(&mut lines);
        if !rest.is_empty() {
            send(rest)?;
        }
        Ok::<(), diesel::result::Error>(())
    })();
    match (result, started) {
        (Ok(()), _) => {}
        (Err(err), Some(started)) => {
            let _ = started.send(Err(ApiError::from(err)));
        }
        (Err(err), None) => {
            // The answer has begun: cut it off, so the client sees an incomplete transfer.
            tracing::error!("export stopped: {err}");
            let _ = tx.blocking_send(Err(io::Error::other("export stopped")));
        }
    }
}

/// Turns the `\n` that ends each of PostgreSQL's CSV records into `\r\n`, leaving the
/// line breaks inside quoted cells alone (a `"` inside a cell is doubled, so counting
/// quotes tells inside from outside), across chunks.
#[derive(Default)]
struct CrlfEnds {
    quoted: bool,
}

impl CrlfEnds {
    fn extend(&mut self, out: &mut Vec<u8>, bytes: &[u8]) {
        let mut from = 0;
        for (i, byte) in bytes.iter().enumerate() {
            match byte {
                b'"' => self.quoted = !self.quoted,
                b'\n' if !self.quoted => {
                    out.extend_from_slice(&bytes[from..i]);
                    out.extend_from_slice(b"\r\n");
                    from = i + 1;
                }
                _ => {}
            }
        }
        out.extend_from_slice(&bytes[from..]);
    }
}

/// Ends the transaction with an error that is not the database's.
fn abort(err: io::Error) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(Box::new(err))
}

/// Export a whole collection.
///
/// `plans`, `plan-items`, `indicators`, `measurements`, `assignments`, `activities`,
/// `evidence` (metadata, not the files) or `feedback` (without the sender's personal
/// data or internal notes), streamed as CSV (header row first; columns in
/// `docs/reports.md`) or NDJSON (one JSON object a line), from one consistent
/// read of the database. With `updated_since`: the changes since, with tombstones —
/// keep the time you started and pass it (minus a minute) next time.
#[utoipa::path(
    tag = "exports",
    params(("collection" = String, Path, description = "`plans`, `plan-items`, `indicators`, `measurements`, `assignments`, `activities`, `evidence` or `feedback`."), ExportParams),
    responses(
        (status = 200, description = "The records, streamed.", content(
            (String = "text/csv"),
            (String = "application/x-ndjson"),
        )),
    )
)]
#[get("/{collection}")]
pub async fn export_collection(
    auth: AuthUser,
    collection: web::Path<String>,
    query: ApiQuery<ExportParams>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    let name = collection.into_inner();
    let collection = COLLECTIONS.iter().find(|c| c.name == name).ok_or_else(ApiError::not_found)?;
    principal.require(permission(collection.name))?;
    let params = query.0;
    let org = principal.read_scope(params.organization_id)?;
    let client = if collection.name == "feedback" { crate::routes::feedback::client_scope(&principal) } else { None };
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let format = params.format.unwrap_or(if accept.contains("application/x-ndjson") {
        ExportFormat::Ndjson
    } else {
        ExportFormat::Csv
    });
    let job = Job {
        pool: state.lagging(&principal).await,
        collection,
        selection: Selection { org, since: params.updated_since, client },
        format,
        bom: params.bom.unwrap_or(true),
        vietnamese_headers: params.headers == Some(crate::routes::reports::CsvHeaders::Vi),
    };
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Chunk>(IN_FLIGHT);
    actix_web::rt::task::spawn_blocking(move || export(job, started_tx, tx));
    started_rx.await.map_err(|_| ApiError::internal("the export task ended before it began"))??;
    let body = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let (content_type, extension) = match format {
        ExportFormat::Csv => ("text/csv; charset=utf-8; header=present", "csv"),
        ExportFormat::Ndjson => ("application/x-ndjson", "ndjson"),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header(crate::http::files::disposition(&format!("{name}.{extension}")))
        .streaming(body))
}
