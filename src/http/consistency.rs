//! Read-your-writes with a replica: after a successful write (any method but GET, HEAD,
//! OPTIONS) by an authenticated caller, the primary's WAL position is noted for them
//! (`db::Replica::mark_write`), so that their next lagging read waits for the replica to
//! have it or goes to the primary (`db::lagging`). Without `DATABASE_REPLICA_URL` this
//! does nothing.
use actix_web::{
    Error, HttpMessage,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
    web,
};

use crate::{auth::Principal, db};

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let write = !req.method().is_safe();
    let res = next.call(req).await?;
    if !write || !res.status().is_success() {
        return Ok(res);
    }
    let http = res.request();
    let replica = http.app_data::<web::Data<db::Replica>>();
    let primary = http.app_data::<web::Data<db::PgPool>>();
    let caller = http.extensions().get::<Principal>().map(|p| p.id);
    if let (Some(replica), Some(primary), Some(caller)) = (replica, primary, caller) {
        // The write is done and answered; a failure to note it is a lagging read's
        // loss at most (the replica is then used without waiting), not the write's.
        if let Err(err) = replica.mark_write(primary, caller).await {
            tracing::warn!("could not note the WAL position of a write: {}", err.internal_cause().unwrap_or_default());
        }
    }
    Ok(res)
}
