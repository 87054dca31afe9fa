//! The flows every resource shares — list, read, create, change, delete — with the
//! conventions built in: organisation scoping, `If-Match`, the audit event in the
//! same transaction, `ETag`, `Location` and paging. A handler authorises, parses, and
//! hands over only what is its own (filters, the insert, the change, extra checks).
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use diesel::{Connection, PgConnection, QueryResult};
use serde::Serialize;
use uuid::Uuid;

use crate::{
    db::{
        self, Record,
        audit::{Actor, Event},
    },
    domain::codes::Lifecycle,
    error::ApiError,
    http::{
        IfMatch, Page, PageRequest,
        etag::{created, ok_with_etag},
        pagination::Row,
    },
    state::AppState,
};

/// The API shape of a record, and where its collection lives.
pub trait Resource: Serialize + From<Self::Row> + 'static {
    type Row: Record;
    /// E.g. `/api/v1/departments`; a record is at `<COLLECTION>/<id>`.
    const COLLECTION: &'static str;

    /// Fills in what depends on the moment of the request (e.g. `overdue`), after
    /// `From<Row>`; nothing by default.
    fn finish(&mut self, _state: &AppState) {}
}

/// The record as answered: `From<Row>`, then `finish`.
pub fn present<A: Resource>(row: A::Row, state: &AppState) -> A {
    let mut api = A::from(row);
    api.finish(state);
    api
}

pub fn location<A: Resource>(id: Uuid) -> String {
    format!("{}/{id}", A::COLLECTION)
}

/// A page of `A`, loaded by `load` (which applies the filters and `keyset!`).
pub async fn list<A, F>(
    req: &HttpRequest,
    state: &AppState,
    page: PageRequest,
    load: F,
) -> Result<HttpResponse, ApiError>
where
    A: Resource,
    F: FnOnce(&mut PgConnection, &PageRequest) -> QueryResult<Vec<A::Row>> + Send + 'static,
{
    let fetch = page.clone();
    // A feed of changes (`updated_since`) tolerates a little lag: the replica's, if any.
    let caller = req.extensions().get::<crate::auth::Principal>().cloned();
    let pool = match (page.updated_since, caller) {
        (Some(_), Some(caller)) => state.lagging(&caller).await,
        _ => state.pool.clone(),
    };
    let rows = db::run(&pool, move |conn| Ok(load(conn, &fetch)?)).await?;
    Ok(Page::build(rows, &page, req, &state.cursor_key, |row| present::<A>(row, state)).respond(req))
}

/// `200` with the record and its `ETag`; 404 if absent or of another organisation.
pub async fn get<A: Resource>(state: &AppState, id: Uuid, org: Option<Uuid>) -> Result<HttpResponse, ApiError> {
    let row = db::run(&state.pool, move |conn| Ok(A::Row::find(conn, id, org)?)).await?;
    Ok(ok_with_etag(row.version(), &present::<A>(row, state)))
}

/// `201` with `Location`, `ETag` and the record `insert` made, audited as `create`.
pub async fn create<A, F>(state: &AppState, actor: Actor, insert: F) -> Result<HttpResponse, ApiError>
where
    A: Resource,
    F: FnOnce(&mut PgConnection) -> Result<A::Row, ApiError> + Send + 'static,
{
    let row = insert_audited::<A, F>(state, actor, insert).await?;
    let (id, version) = (row.id(), row.version());
    Ok(created(location::<A>(id), version, &present::<A>(row, state)))
}

/// What an insert of a record with a natural key did: filed it, or found it filed.
pub enum Filed<R> {
    New(R),
    Existing(R),
}

/// Like `create`, for a record whose resend is recognised by a natural key: `insert`
/// finds the record already filed (`200` with it, `Location` and `ETag`, nothing
/// audited) or files it (`201`, audited as `create`).
pub async fn file<A, F>(state: &AppState, actor: Actor, insert: F) -> Result<HttpResponse, ApiError>
where
    A: Resource,
    F: FnOnce(&mut PgConnection) -> Result<Filed<A::Row>, ApiError> + Send + 'static,
{
    let filed = file_row::<A, F>(state, actor, insert).await?;
    Ok(filed_response::<A, _>(filed, state, |record| record))
}

/// `file`'s work without its answer: the record filed (audited) or found.
pub async fn file_row<A, F>(state: &AppState, actor: Actor, insert: F) -> Result<Filed<A::Row>, ApiError>
where
    A: Resource,
    F: FnOnce(&mut PgConnection) -> Result<Filed<A::Row>, ApiError> + Send + 'static,
{
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let filed = insert(conn)?;
            if let Filed::New(row) = &filed {
                let after = A::from(row.clone());
                db::audit::record(conn, &actor, Event::created(A::Row::ENTITY, row.id(), row.organization(), &after))?;
            }
            Ok(filed)
        })
    })
    .await
}

/// `file`'s answer; a new record's body is `made(record)` (e.g. with what is shown once).
pub fn filed_response<A: Resource, B: Serialize>(
    filed: Filed<A::Row>,
    state: &AppState,
    made: impl FnOnce(A) -> B,
) -> HttpResponse {
    match filed {
        Filed::New(row) => created(location::<A>(row.id()), row.version(), &made(present::<A>(row, state))),
        Filed::Existing(row) => {
            let (id, version) = (row.id(), row.version());
            let mut res = ok_with_etag(version, &present::<A>(row, state));
            res.headers_mut().insert(
                actix_web::http::header::LOCATION,
                actix_web::http::header::HeaderValue::from_str(&location::<A>(id)).expect("a path"),
            );
            res
        }
    }
}

/// Runs `insert` and audits it as `create`, in one transaction.
pub async fn insert_audited<A, F>(state: &AppState, actor: Actor, insert: F) -> Result<A::Row, ApiError>
where
    A: Resource,
    F: FnOnce(&mut PgConnection) -> Result<A::Row, ApiError> + Send + 'static,
{
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let row = insert(conn)?;
            let after = A::from(row.clone());
            db::audit::record(conn, &actor, Event::created(A::Row::ENTITY, row.id(), row.organization(), &after))?;
            Ok(row)
        })
    })
    .await
}

/// Locks the record, checks `If-Match`, lets `apply` change it (and check what it
/// must), audits the difference as `update`; `200` with the new record and `ETag`.
pub async fn update<A, F>(
    state: &AppState,
    actor: Actor,
    id: Uuid,
    org: Option<Uuid>,
    if_match: IfMatch,
    apply: F,
) -> Result<HttpResponse, ApiError>
where
    A: Resource,
    F: FnOnce(&mut PgConnection, &A::Row) -> Result<A::Row, ApiError> + Send + 'static,
{
    let row = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let current = A::Row::lock(conn, id, org)?;
            if_match.check(current.version())?;
            let row = apply(conn, &current)?;
            let (before, after) = (A::from(current), A::from(row.clone()));
            db::audit::record(conn, &actor, Event::updated(A::Row::ENTITY, id, row.organization(), &before, &after))?;
            Ok(row)
        })
    })
    .await?;
    Ok(ok_with_etag(row.version(), &present::<A>(row, state)))
}

/// Locks the record, checks `If-Match` and `guard` (e.g. no dependents), soft-deletes
/// it and audits `delete`; `204`.
pub async fn delete<A, F>(
    state: &AppState,
    actor: Actor,
    id: Uuid,
    org: Option<Uuid>,
    if_match: IfMatch,
    guard: F,
) -> Result<HttpResponse, ApiError>
where
    A: Resource,
    F: FnOnce(&mut PgConnection, &A::Row) -> Result<(), ApiError> + Send + 'static,
{
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let current = A::Row::lock(conn, id, org)?;
            if_match.check(current.version())?;
            guard(conn, &current)?;
            A::Row::soft_delete(conn, id)?;
            let organization = current.organization();
            db::audit::record(conn, &actor, Event::deleted(A::Row::ENTITY, id, organization, &A::from(current)))?;
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// No extra check before a delete.
pub fn no_guard<R>(_: &mut PgConnection, _: &R) -> Result<(), ApiError> {
    Ok(())
}

/// What the transition flow needs of a record with a status.
pub trait Moves: Send + 'static {
    type Status: Lifecycle;
    /// The `entity_type` of its audit events.
    const ENTITY: &'static str;
    fn id(&self) -> Uuid;
    fn organization_id(&self) -> Uuid;
    fn version(&self) -> i32;
    fn status(&self) -> Self::Status;
}

/// A requested status change: where to, and the one free-text field that goes with it
/// into the audit event (e.g. `("note", …)`).
pub struct Move<S> {
    pub to: S,
    pub detail: (&'static str, Option<String>),
}

/// The status change every resource with statuses shares, in one transaction: `lock`
/// finds and locks the record (404 if absent or another organisation's) and makes the
/// access checks that depend on it; `If-Match` is checked (412); the move must be one
/// the current status allows (409 naming the allowed ones); `apply` writes it, with
/// whatever else belongs to this resource; the audit trail gets a `transition` event
/// with the status before and after. `200` with the record and its `ETag`.
pub async fn transition<R, A, L, W>(
    state: &AppState,
    actor: Actor,
    if_match: IfMatch,
    change: Move<R::Status>,
    lock: L,
    apply: W,
    present: impl FnOnce(R) -> A,
) -> Result<HttpResponse, ApiError>
where
    R: Moves,
    A: Serialize,
    L: FnOnce(&mut PgConnection) -> Result<R, ApiError> + Send + 'static,
    W: FnOnce(&mut PgConnection, R, R::Status) -> Result<R, ApiError> + Send + 'static,
{
    let Move { to, detail: (label, detail) } = change;
    let record = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let current = lock(conn)?;
            if_match.check(current.version())?;
            let from = current.status();
            from.check_move(to)?;
            let row = apply(conn, current, from)?;
            let mut changes = serde_json::Map::new();
            changes.insert("status".to_owned(), serde_json::json!({"before": from, "after": to}));
            changes.insert(label.to_owned(), serde_json::json!(detail));
            let event = Event {
                action: "transition",
                entity_type: R::ENTITY,
                entity_id: Some(row.id()),
                organization_id: Some(row.organization_id()),
                changes: serde_json::Value::Object(changes),
            };
            db::audit::record(conn, &actor, event)?;
            Ok(row)
        })
    })
    .await?;
    Ok(ok_with_etag(record.version(), &present(record)))
}
