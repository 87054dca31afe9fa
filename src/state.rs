//! What every handler can reach: the pool, keys and settings.
use std::sync::Arc;

use crate::{
    auth::jwt::Keys, config::Settings, db::PgPool, domain::time::Clock, http::pagination::CursorKey,
    storage::EvidenceStore,
};

pub struct AppState {
    pub pool: PgPool,
    /// `DATABASE_REPLICA_URL`'s replica, for reads that tolerate a little lag.
    pub replica: Option<Arc<crate::db::Replica>>,
    pub keys: Arc<Keys>,
    /// The accounts behind tokens, kept per instance (`auth::accounts`).
    pub accounts: Arc<crate::auth::accounts::AccountCache>,
    pub settings: Arc<Settings>,
    pub cursor_key: CursorKey,
    /// Keeps tracking PINs (`auth::password::PinKey`).
    pub pin_key: crate::auth::password::PinKey,
    /// Keys senders' phones and e-mails (`auth::password::SenderKey`).
    pub sender_key: crate::auth::password::SenderKey,
    /// Verified against when a username is unknown, so that a wrong username and a
    /// wrong password take the same time.
    pub dummy_hash: String,
    pub clock: Clock,
    pub evidence: EvidenceStore,
    /// Requests per client address on the public endpoints.
    pub public_limiter: governor::DefaultKeyedRateLimiter<std::net::IpAddr>,
    /// The general limits per token and per address.
    pub client_limits: Arc<crate::http::rate_limit::ClientLimits>,
}

impl AppState {
    /// The pool for `caller`'s read that tolerates a little lag (`db::lagging`).
    pub async fn lagging(&self, caller: &crate::auth::Principal) -> PgPool {
        crate::db::lagging(&self.pool, self.replica.as_deref(), Some(caller.id)).await
    }
}
