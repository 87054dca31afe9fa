//! Oversight reads (issue 18): a `GET` that names with `organization_id` an
//! organisation below the caller's, by one who may `oversee`. This middleware settles
//! it before the handler runs: the caller's principal is replaced, for this request,
//! by one acting on that organisation with only the reads `oversee` covers
//! (`Principal::overseeing`), the read is written to that organisation's audit trail
//! (no event), and the handler's query is read without the `organization_id`
//! (`http::query`). One above, beside or elsewhere is a 404, as a record of another
//! organisation would be. Anything else passes untouched.
use actix_web::{
    HttpMessage,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::Method,
    middleware::Next,
};
use uuid::Uuid;

use crate::{
    auth::{Permission, Principal, principal::authenticate},
    db,
    error::ApiError,
    http::RequestContext,
};

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let named = matches!(*req.method(), Method::GET | Method::HEAD) && req.query_string().contains("organization_id=");
    if named && let Ok(Some(principal)) = authenticate(req.request()).await {
        match oversee(&req, principal).await {
            Ok(Some(acting)) => {
                req.extensions_mut().insert(acting);
            }
            Ok(None) => {}
            Err(err) => return Ok(req.error_response(err).map_into_boxed_body()),
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// The principal acting on the organisation named, for an oversight read; `None` when
/// the request is not one.
async fn oversee(req: &ServiceRequest, principal: Principal) -> Result<Option<Principal>, ApiError> {
    if principal.overseeing.is_some() || !principal.allows(Permission::Oversee) {
        return Ok(None);
    }
    let Some(own) = principal.organization_id else { return Ok(None) };
    let asked = serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "organization_id"))
        .and_then(|(_, v)| Uuid::parse_str(&v).ok());
    let Some(target) = asked.filter(|t| *t != own) else { return Ok(None) };
    let ctx = RequestContext::of(req.request())?;
    let actor = db::audit::Actor::of(&principal, &ctx);
    let pool = crate::http::parts::part::<db::PgPool>(req.request())?;
    let path = req.path().to_owned();
    let below = db::run(&pool, move |conn| {
        diesel::Connection::transaction(conn, |conn| {
            if !db::organizations::is_below(conn, target, own)? {
                return Ok(false);
            }
            let changes = serde_json::json!({"path": path, "by_organization_id": own});
            let event = db::audit::Event {
                action: "oversight_read",
                entity_type: "organization",
                entity_id: Some(target),
                organization_id: Some(target),
                changes,
            };
            db::audit::record(conn, &actor, event)?;
            Ok(true)
        })
    })
    .await?;
    if !below {
        return Err(ApiError::not_found());
    }
    Ok(Some(Principal { organization_id: Some(target), overseeing: Some(own), ..principal }))
}
