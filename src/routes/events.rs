//! The event feed: every change, in an order no consumer that follows the cursor can
//! miss an event in.
use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::{
    auth::{AuthUser, Permission},
    db::{
        self,
        events::{self as store, EventRow, TypeFilter},
    },
    domain::events::{Event, Subject, parse_cursor, subject_url},
    error::ApiError,
    http::query::ApiQuery,
    state::AppState,
};

impl From<EventRow> for Event {
    fn from(r: EventRow) -> Self {
        Self {
            id: r.id,
            kind: r.kind,
            occurred_at: r.occurred_at,
            organization_id: r.organization_id,
            subject: Subject {
                url: r.subject_id.and_then(|id| subject_url(&r.subject_type, id)),
                kind: r.subject_type,
                id: r.subject_id,
            },
            data: r.data,
        }
    }
}

/// A part of the feed.
#[derive(Serialize, ToSchema)]
pub struct EventFeed {
    /// In feed order.
    pub items: Vec<Event>,
    /// Where to go on from: pass it as `after` next time (also when `items` is empty:
    /// then it is the `after` you gave). `null` only for an empty feed read from the start.
    #[schema(example = "784.1024")]
    pub next_cursor: Option<String>,
}

fn cursor(value: &str) -> Result<(), ValidationError> {
    parse_cursor(value).map(|_| ()).ok_or_else(|| ValidationError::new("invalid_cursor"))
}

fn event_type(value: &str) -> Result<(), ValidationError> {
    let name = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    let ok = value.len() <= 64
        && value.split_once('.').is_some_and(|(resource, what)| name(resource) && (what == "*" || name(what)));
    if ok { Ok(()) } else { Err(ValidationError::new("invalid_value")) }
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventParams {
    /// The `next_cursor` of the last read; absent: from the oldest event kept.
    #[validate(custom(function = "cursor"))]
    #[param(pattern = r"^[0-9]{1,19}\.[0-9]{1,18}$", max_length = 38)]
    pub after: Option<String>,
    /// One type (`feedback.answered`) or all of a resource (`feedback.*`).
    #[serde(rename = "type")]
    #[validate(custom(function = "event_type"))]
    #[param(pattern = r"^[a-z_]+\.([a-z_]+|\*)$", max_length = 64)]
    pub kind: Option<String>,
    /// 1–500 (default 100).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// System administrator only: that organisation's events (default: all).
    pub organization_id: Option<Uuid>,
}

/// Read the event feed.
///
/// Every change the audit trail records, as a domain event, in the order of the
/// transactions that made them: the feed hands out only the events of transactions
/// older than any still running, so an event that commits late is never behind a
/// cursor that has moved on — a consumer that stores `next_cursor` and comes back with
/// it misses nothing. Scoped to the caller's organisation.
#[utoipa::path(
    tag = "events",
    params(EventParams),
    responses((status = 200, description = "The next events.", body = EventFeed))
)]
#[get("")]
pub async fn list_events(
    auth: AuthUser,
    query: ApiQuery<EventParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::EventsRead)?;
    let params = query.0;
    let org = principal.read_scope(params.organization_id)?;
    let after = params.after.as_deref().and_then(parse_cursor);
    let types = match params.kind {
        None => TypeFilter::Any,
        Some(kind) => match kind.strip_suffix('*') {
            Some(prefix) => TypeFilter::Prefix(prefix.to_owned()),
            None => TypeFilter::Exactly(kind),
        },
    };
    let limit = params.limit.unwrap_or(100);
    let pool = state.lagging(&principal).await;
    let rows = db::run(&pool, move |conn| Ok(store::feed(conn, org, after, &types, limit)?)).await?;
    let next_cursor = rows.last().map(|r| format!("{}.{}", r.txid, r.seq)).or(params.after);
    Ok(HttpResponse::Ok().json(EventFeed { items: rows.into_iter().map(Event::from).collect(), next_cursor }))
}
