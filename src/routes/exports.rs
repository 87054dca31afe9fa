//! Whole collections for scripts, streamed as CSV or NDJSON in constant memory.
//!
//! The rows come from one read-only, repeatable-read transaction (a consistent picture)
//! in PostgreSQL's single-row mode, are written out in chunks of about 64 KiB and sent
//! through a small bounded channel: however many rows there are, only a few chunks are
//! in memory, and a slow client slows the query down instead of filling memory.
use std::{borrow::Cow, io};

use actix_web::{HttpRequest, HttpResponse, get, http::header, web};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::{
    auth::{AuthUser, Permission},
    db::PgPool,
    db::exports::{self, COLLECTIONS, Collection, Selection},
    error::ApiError,
    http::query::ApiQuery,
    reports::tables::{UTF8_BOM, spreadsheet_text},
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

/// Writes one row (a JSON object) as a CSV record of `columns`.
fn csv_record(out: &mut csv::Writer<Vec<u8>>, columns: &[&str], line: &str) -> io::Result<()> {
    let values = serde_json::from_str::<Vec<Value>>(line).map_err(io::Error::other)?;
    if values.len() != columns.len() {
        return Err(io::Error::other("a row does not have the export's columns"));
    }
    out.write_record(values.iter().map(|value| match value {
        Value::Null => Cow::Borrowed(&b""[..]),
        Value::String(s) => match spreadsheet_text(s) {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        },
        other => Cow::Owned(other.to_string().into_bytes()),
    }))
    .map_err(io::Error::other)
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
    let writer = || csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::with_capacity(CHUNK));
    let mut out = writer();
    let mut lines = Vec::with_capacity(CHUNK);
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
            out.write_record(&header).map_err(io::Error::other).map_err(abort)?;
        }
        exports::read(
            &mut conn,
            job.collection,
            &job.selection,
            || {
                if let Some(started) = started.take() {
                    let _ = started.send(Ok(()));
                }
            },
            |line| {
                let filled = match job.format {
                    ExportFormat::Csv => {
                        csv_record(&mut out, &columns, line).map_err(abort)?;
                        out.get_ref().len()
                    }
                    ExportFormat::Ndjson => {
                        lines.extend_from_slice(line.as_bytes());
                        lines.push(b'\n');
                        lines.len()
                    }
                };
                if filled >= CHUNK {
                    let chunk = match job.format {
                        ExportFormat::Csv => std::mem::replace(&mut out, writer())
                            .into_inner()
                            .map_err(|e| abort(io::Error::other(e.to_string())))?,
                        ExportFormat::Ndjson => std::mem::replace(&mut lines, Vec::with_capacity(CHUNK)),
                    };
                    send(chunk)?;
                }
                Ok(())
            },
        )?;
        let rest = match job.format {
            ExportFormat::Csv => std::mem::replace(&mut out, writer())
                .into_inner()
                .map_err(|e| abort(io::Error::other(e.to_string())))?,
            ExportFormat::Ndjson => std::mem::take(&mut lines),
        };
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
#[get("/exports/{collection}")]
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
        pool: state.pool.clone(),
        collection,
        selection: Selection { org, since: params.updated_since, client, arrays: format == ExportFormat::Csv },
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
