//! The audit trail, read-only.
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::{
    auth::{AuthUser, Permission},
    db::{
        self,
        audit::{self as store, AuditRow},
    },
    domain::time::Bound,
    error::ApiError,
    http::{Page, pagination::PageParams, query::ListQuery},
    state::AppState,
};

/// One change, sign-in or sign-in failure. Personal data in `changes` is masked.
#[derive(Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: Uuid,
    #[serde(serialize_with = "crate::domain::time::rfc3339::utc")]
    pub occurred_at: DateTime<Utc>,
    /// `user`, `client`, `system` or `anonymous` (failed sign-ins).
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub actor_name: Option<String>,
    pub organization_id: Option<Uuid>,
    /// `create`, `update`, `delete`, `password_change`, `secret_rotate`,
    /// `login_succeeded`, `login_failed`, …
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<Uuid>,
    /// `{"field": {"before": …, "after": …}}`.
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}

impl From<AuditRow> for AuditEvent {
    fn from(r: AuditRow) -> Self {
        Self {
            id: r.id,
            occurred_at: r.occurred_at,
            actor_kind: r.actor_kind,
            actor_id: r.actor_id,
            actor_name: r.actor_name,
            organization_id: r.organization_id,
            action: r.action,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            changes: r.changes,
            request_id: r.request_id,
            client_addr: r.client_addr,
        }
    }
}

#[derive(Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// System administrator only: events of this organisation.
    pub organization_id: Option<Uuid>,
    /// `organization`, `department`, `user`, `service_client`, …
    #[validate(length(min = 1, max = 64))]
    #[param(min_length = 1, max_length = 64)]
    pub entity_type: Option<String>,
    pub entity_id: Option<Uuid>,
    /// The person or client who acted.
    pub actor_id: Option<Uuid>,
    #[validate(length(min = 1, max = 64))]
    #[param(min_length = 1, max_length = 64)]
    pub action: Option<String>,
    /// Events at or after this: a day (`2021-03-15`, from its start in Vietnam) or an
    /// instant (RFC 3339).
    #[param(inline)]
    pub from: Option<Bound>,
    /// Events before this instant (RFC 3339), or up to the end of this day
    /// (`2021-03-31`, in Vietnam).
    #[param(inline)]
    pub to: Option<Bound>,
}

/// List audit events, oldest first.
///
/// Everyone but the system administrator sees their own organisation's events.
#[utoipa::path(
    tag = "audit",
    params(PageParams, AuditFilter),
    responses((status = 200, description = "A page of events.", body = Page<AuditEvent>,
        headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page."))))
)]
#[get("")]
pub async fn list_audit_events(
    auth: AuthUser,
    query: ListQuery<AuditFilter>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    principal.require(Permission::AuditRead)?;
    let ListQuery { page, filter } = query;
    let filter = store::Filter {
        organization_id: principal.read_scope(filter.organization_id)?,
        entity_type: filter.entity_type,
        entity_id: filter.entity_id,
        actor_id: filter.actor_id,
        action: filter.action,
        from: filter.from.map(Bound::start),
        to: filter.to.map(Bound::end),
    };
    let fetch = page.clone();
    let rows = db::run(&state.pool, move |conn| Ok(store::list(conn, &filter, &fetch)?)).await?;
    Ok(Page::build(rows, &page, &req, &state.cursor_key, AuditEvent::from).respond(&req))
}
