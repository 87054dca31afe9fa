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
use diesel::{
    PgConnection, QueryableByName, RunQueryDsl,
    pg::PgRowByRowLoadingMode,
    sql_query,
    sql_types::{Nullable, Text, Timestamptz, Uuid as SqlUuid},
};
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::{
    auth::{AuthUser, Permission},
    db::PgPool,
    error::ApiError,
    http::query::ApiQuery,
    reports::tables::spreadsheet_text,
    state::AppState,
};

/// About how much is written before a chunk is sent.
const CHUNK: usize = 64 * 1024;
/// Chunks waiting to be sent, at most.
const IN_FLIGHT: usize = 4;

/// A collection that can be exported, with its columns (also the CSV header) and read
/// permission. Personal data of feedback senders and internal notes are never exported.
struct Collection {
    name: &'static str,
    table: &'static str,
    permission: Permission,
    columns: &'static [&'static str],
}

const AUDIT: [&str; 4] = ["version", "created_at", "updated_at", "deleted_at"];

const COLLECTIONS: &[Collection] = &[
    Collection {
        name: "plans",
        table: "plans",
        permission: Permission::PlansRead,
        columns: &[
            "id",
            "organization_id",
            "code",
            "year",
            "title",
            "status",
            "period_from",
            "period_to",
            "parent_plan_id",
            "implements_document_id",
        ],
    },
    Collection {
        name: "plan-items",
        table: "plan_items",
        permission: Permission::PlansRead,
        columns: &[
            "id",
            "plan_id",
            "organization_id",
            "parent_id",
            "position",
            "reference",
            "kind",
            "audience",
            "channel",
            "title",
            "body",
            "due_on",
        ],
    },
    Collection {
        name: "indicators",
        table: "indicators",
        permission: Permission::PlansRead,
        columns: &[
            "id",
            "plan_id",
            "organization_id",
            "plan_item_id",
            "code",
            "name",
            "unit",
            "comparator",
            "target_value",
            "baseline",
            "scope",
        ],
    },
    Collection {
        name: "measurements",
        table: "measurements",
        permission: Permission::PlansRead,
        columns: &[
            "id",
            "indicator_id",
            "organization_id",
            "value",
            "measured_on",
            "period",
            "source",
            "citation",
            "link",
            "note",
        ],
    },
    Collection {
        name: "assignments",
        table: "assignments",
        permission: Permission::AssignmentsRead,
        columns: &[
            "id",
            "organization_id",
            "plan_id",
            "plan_item_id",
            "department_id",
            "role",
            "duty",
            "start_on",
            "due_on",
            "reporting",
            "status",
        ],
    },
    Collection {
        name: "activities",
        table: "activities",
        permission: Permission::ActivitiesRead,
        columns: &[
            "id",
            "organization_id",
            "plan_id",
            "assignment_id",
            "department_id",
            "title",
            "channel",
            "audience",
            "held_from",
            "held_to",
            "place",
            "participant_count",
            "status",
            "submitted_at",
            "verified_at",
        ],
    },
    Collection {
        name: "evidence",
        table: "evidence",
        permission: Permission::ActivitiesRead,
        columns: &[
            "id",
            "organization_id",
            "activity_id",
            "sha256",
            "size_bytes",
            "content_type",
            "file_name",
            "caption",
            "uploaded_by",
        ],
    },
    Collection {
        name: "feedback",
        table: "feedback",
        permission: Permission::FeedbackRead,
        columns: &[
            "id",
            "organization_id",
            "code",
            "received_at",
            "channel",
            "kind",
            "sender_type",
            "anonymous",
            "subject",
            "content",
            "category_id",
            "plan_item_id",
            "department_id",
            "deadline_on",
            "deadline_reason",
            "external_reference",
            "source_client_id",
            "status",
            "status_reason",
            "forwarded_to",
            "answered_at",
            "closed_at",
            "satisfaction",
            "satisfaction_channel",
            "satisfaction_at",
        ],
    },
];

/// The names of the collections that can be exported.
pub fn collection_names() -> Vec<&'static str> {
    COLLECTIONS.iter().map(|c| c.name).collect()
}

/// The CSV header of a collection (its columns, then version and timestamps).
pub fn header_of(name: &str) -> Option<Vec<&'static str>> {
    COLLECTIONS.iter().find(|c| c.name == name).map(|c| c.columns.iter().chain(AUDIT.iter()).copied().collect())
}

impl Collection {
    /// One line of JSON per row, for NDJSON an object (the row, or for a deleted one its
    /// tombstone), for CSV an array of the columns' values in order (PostgreSQL builds it
    /// in two thirds of the time of an object, and it is read back without keys).
    fn sql(&self, sync: bool, by_client: bool, format: ExportFormat) -> String {
        let all = self.columns.iter().chain(AUDIT.iter()).copied().collect::<Vec<_>>();
        let columns = all.join(", ");
        let mut filter = String::from("($1::uuid IS NULL OR organization_id = $1)");
        if sync {
            filter.push_str(" AND updated_at >= $2");
        } else {
            filter.push_str(" AND deleted_at IS NULL AND $2::timestamptz IS NULL");
        }
        if by_client {
            filter.push_str(" AND source_client_id = $3");
        } else {
            filter.push_str(" AND $3::uuid IS NULL");
        }
        let order = if sync { "updated_at, id" } else { "id" };
        let (row, tombstone) = match format {
            ExportFormat::Ndjson => {
                ("row_to_json(t)".to_owned(), "json_build_object('id', t.id, 'deleted_at', t.deleted_at)".to_owned())
            }
            ExportFormat::Csv => {
                let values = |keep: &dyn Fn(&str) -> bool| {
                    all.iter().map(|c| if keep(c) { format!("t.{c}") } else { "NULL".to_owned() }).collect::<Vec<_>>()
                };
                (
                    format!("json_build_array({})", values(&|_| true).join(", ")),
                    format!("json_build_array({})", values(&|c| c == "id" || c == "deleted_at").join(", ")),
                )
            }
        };
        format!(
            "SELECT CASE WHEN t.deleted_at IS NULL THEN {row}::text ELSE {tombstone}::text END AS line
             FROM (SELECT {columns} FROM {table} WHERE {filter} ORDER BY {order}) t",
            table = self.table
        )
    }
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
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
    sql: String,
    org: Option<Uuid>,
    since: Option<DateTime<Utc>>,
    client: Option<Uuid>,
    columns: Vec<&'static str>,
    format: ExportFormat,
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
    let result = conn.build_transaction().read_only().repeatable_read().run(|conn: &mut PgConnection| {
        sql_query("SET LOCAL TIME ZONE 'UTC'").execute(conn)?;
        let rows = sql_query(&job.sql)
            .bind::<Nullable<SqlUuid>, _>(job.org)
            .bind::<Nullable<Timestamptz>, _>(job.since)
            .bind::<Nullable<SqlUuid>, _>(job.client)
            .load_iter::<Line, PgRowByRowLoadingMode>(conn)?;
        if let Some(started) = started.take() {
            let _ = started.send(Ok(()));
        }
        let writer =
            || csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::with_capacity(CHUNK));
        let mut out = writer();
        let mut lines = Vec::with_capacity(CHUNK);
        if job.format == ExportFormat::Csv {
            out.write_record(&job.columns).map_err(io::Error::other).map_err(abort)?;
        }
        for row in rows {
            let row = row?;
            let filled = match job.format {
                ExportFormat::Csv => {
                    csv_record(&mut out, &job.columns, &row.line).map_err(abort)?;
                    out.get_ref().len()
                }
                ExportFormat::Ndjson => {
                    lines.extend_from_slice(row.line.as_bytes());
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
                tx.blocking_send(Ok(Bytes::from(chunk)))
                    .map_err(|_| abort(io::Error::other("the client went away")))?;
            }
        }
        let rest = match job.format {
            ExportFormat::Csv => out.into_inner().map_err(|e| abort(io::Error::other(e.to_string())))?,
            ExportFormat::Ndjson => lines,
        };
        if !rest.is_empty() {
            tx.blocking_send(Ok(Bytes::from(rest))).map_err(|_| abort(io::Error::other("the client went away")))?;
        }
        Ok::<(), diesel::result::Error>(())
    });
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
    principal.require(collection.permission)?;
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
        sql: collection.sql(params.updated_since.is_some(), client.is_some(), format),
        org,
        since: params.updated_since,
        client,
        columns: collection.columns.iter().chain(AUDIT.iter()).copied().collect(),
        format,
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
        .insert_header(crate::routes::evidence::disposition(&format!("{name}.{extension}")))
        .streaming(body))
}
