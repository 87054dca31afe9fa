//! The accounts behind tokens, kept per instance so that a request does not ask the
//! database who its caller is — and dropped on every instance at once when an account
//! changes, so that a deactivation, a role change, a password change or a rotated
//! secret still counts on the very next request everywhere.
//!
//! How "at once" holds: a trigger on `users` and `service_clients` (migration 000029)
//! sends `NOTIFY cchc_accounts, '<id>'` from the changing transaction; PostgreSQL
//! delivers it to every listening session when that transaction commits. Each instance
//! keeps one session listening (a thread of its own, polling the socket every
//! `POLL`), drops the account's entries when the notification arrives, and the
//! instance that made the change answers only once its own listener has seen the
//! notification and one more poll has passed (`settle`): by then every other
//! instance's listener, signalled by PostgreSQL at the same moment, has seen it too.
//!
//! Whenever the listening session is not connected — at start, after the database
//! went away — the cache is empty and not used: every request asks the database, as
//! before, so a notification missed while disconnected cannot leave a stale entry. A
//! lookup that raced a change is not kept (`epoch`). Entries also expire after `TTL`.
use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use diesel::{Connection, PgConnection, connection::SimpleConnection};
use uuid::Uuid;

use crate::auth::permissions::Role;

/// The channel the triggers notify.
pub const CHANNEL: &str = "cchc_accounts";
/// How often the listener reads its socket.
const POLL: Duration = Duration::from_millis(2);
/// A round trip on the listening session this often, so that a connection that died
/// silently is noticed.
const HEARTBEAT: Duration = Duration::from_secs(10);
/// No entry lives longer, whatever happens.
const TTL: Duration = Duration::from_secs(300);
/// Past this many entries the cache starts again from empty.
const MAX_ENTRIES: usize = 100_000;
/// How long the changing request waits for its own notification at most.
const SETTLE_AT_MOST: Duration = Duration::from_secs(1);

/// What a token is checked against: the account's row as far as the check needs it.
#[derive(Clone, Debug)]
pub enum Account {
    User {
        id: Uuid,
        username: String,
        organization_id: Option<Uuid>,
        department_id: Option<Uuid>,
        role: Role,
        active: bool,
        /// Unix seconds; a token issued before is refused.
        password_changed_at: i64,
    },
    Client {
        id: Uuid,
        name: String,
        organization_id: Uuid,
        scopes: Vec<String>,
        active: bool,
        /// Unix seconds; a token issued before is refused.
        secret_rotated_at: i64,
    },
}

impl Account {
    pub fn id(&self) -> Uuid {
        match self {
            Self::User { id, .. } | Self::Client { id, .. } => *id,
        }
    }
}

/// How a token names its account.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum Key {
    User(Uuid),
    Client(Uuid),
    /// A person of the external identity provider, by lower-cased username.
    Username(String),
}

/// What a lookup found: the account, or a miss with what `store` needs.
pub enum Lookup {
    Hit(Account),
    /// Not kept; `Some(epoch)` if the answer may be kept (`store`), `None` while the
    /// cache is off.
    Miss(Option<u64>),
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Key, (Account, Instant)>,
    /// Bumped by every change and every reset: an answer read in an older epoch may
    /// predate the change, and is not kept.
    epoch: u64,
    /// The accounts changed lately, with when their notification arrived (`settle`).
    seen: HashMap<Uuid, Instant>,
}

#[derive(Default)]
pub struct AccountCache {
    inner: Mutex<Inner>,
    /// Whether the listening session is connected and listening.
    live: AtomicBool,
    /// Completed reads of the listening session's socket.
    polls: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
    /// Lookups while the cache was off (the listening session not connected).
    bypassed: AtomicU64,
}

/// How this instance's lookups went since it started (`GET /metrics`).
pub struct CacheStats {
    pub live: bool,
    pub entries: usize,
    pub hits: u64,
    pub misses: u64,
    pub bypassed: u64,
}

impl AccountCache {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    pub fn lookup(&self, key: &Key) -> Lookup {
        if !self.is_live() {
            self.bypassed.fetch_add(1, Ordering::Relaxed);
            return Lookup::Miss(None);
        }
        let inner = self.lock();
        match inner.entries.get(key) {
            Some((account, at)) if at.elapsed() < TTL => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Lookup::Hit(account.clone())
            }
            _ => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                Lookup::Miss(Some(inner.epoch))
            }
        }
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            live: self.is_live(),
            entries: self.lock().entries.len(),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            bypassed: self.bypassed.load(Ordering::Relaxed),
        }
    }

    /// Keeps `account`, read from the database after `lookup` answered `epoch` — unless a
    /// change or a reset came in between.
    pub fn store(&self, key: Key, account: Account, epoch: u64) {
        let mut inner = self.lock();
        if !self.is_live() || inner.epoch != epoch {
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.clear();
        }
        inner.entries.insert(key, (account, Instant::now()));
    }

    /// Waits (at most a second) until the change of `account` made after `since` has
    /// reached this instance's listener, and one more poll has passed. Called by the
    /// request that changed the account, after its commit, before it answers.
    pub async fn settle(&self, account: Uuid, since: Instant) {
        let deadline = Instant::now() + SETTLE_AT_MOST;
        let mut after: Option<u64> = None;
        while self.is_live() && Instant::now() < deadline {
            match after {
                None if self.lock().seen.get(&account).is_some_and(|at| *at >= since) => {
                    after = Some(self.polls.load(Ordering::Acquire) + 1);
                }
                Some(poll) if self.polls.load(Ordering::Acquire) > poll => return,
                _ => {}
            }
            actix_web::rt::time::sleep(POLL / 2).await;
        }
    }

    /// Runs `change` — a request's change of `account`, committed when it ends — and
    /// once it succeeded, `settle`s before the request answers.
    pub async fn changing<T, E>(
        &self,
        account: Uuid,
        change: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let since = Instant::now();
        let done = change.await?;
        self.settle(account, since).await;
        Ok(done)
    }

    /// Starts the listening session's thread. It ends when the cache is dropped.
    pub fn listen(self: &Arc<Self>, url: String) {
        let cache = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("account-listener".into())
            .spawn(move || listen(&cache, &url))
            .expect("a thread can be started");
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn changed(&self, ids: &[Uuid]) {
        let now = Instant::now();
        let mut inner = self.lock();
        inner.epoch += 1;
        inner.entries.retain(|_, (account, _)| !ids.contains(&account.id()));
        inner.seen.retain(|_, at| now.duration_since(*at) < Duration::from_secs(10));
        for id in ids {
            inner.seen.insert(*id, now);
        }
    }

    /// Empties the cache and turns it on or off.
    fn reset(&self, live: bool) {
        let mut inner = self.lock();
        inner.epoch += 1;
        inner.entries.clear();
        self.live.store(live, Ordering::Release);
    }
}

fn listen(cache: &Weak<AccountCache>, url: &str) {
    let mut backoff = Duration::from_millis(250);
    loop {
        let connected = PgConnection::establish(url).map_err(|e| e.to_string()).and_then(|mut conn| {
            conn.batch_execute(&format!("LISTEN {CHANNEL}")).map(|()| conn).map_err(|e| e.to_string())
        });
        match connected {
            Ok(mut conn) => {
                let Some(c) = cache.upgrade() else { return };
                c.reset(true);
                drop(c);
                backoff = Duration::from_millis(250);
                let lost = serve(cache, &mut conn);
                let Some(c) = cache.upgrade() else { return };
                c.reset(false);
                match lost {
                    Some(err) => tracing::warn!(
                        "the account listener lost its connection ({err}); accounts are read from the database until it is back"
                    ),
                    None => return,
                }
            }
            Err(err) => {
                let Some(c) = cache.upgrade() else { return };
                c.reset(false);
                tracing::debug!("the account listener cannot connect: {err}");
            }
        }
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Reads notifications until the connection fails (`Some(error)`) or the cache is gone.
fn serve(cache: &Weak<AccountCache>, conn: &mut PgConnection) -> Option<String> {
    let mut beat = Instant::now();
    loop {
        let mut ids = Vec::new();
        for notification in conn.notifications_iter() {
            match notification {
                Ok(n) => ids.extend(Uuid::parse_str(&n.payload).ok()),
                Err(err) => return Some(err.to_string()),
            }
        }
        let cache = cache.upgrade()?;
        if !ids.is_empty() {
            cache.changed(&ids);
        }
        cache.polls.fetch_add(1, Ordering::AcqRel);
        drop(cache);
        if beat.elapsed() > HEARTBEAT {
            if let Err(err) = conn.batch_execute("SELECT 1") {
                return Some(err.to_string());
            }
            beat = Instant::now();
        }
        std::thread::sleep(POLL);
    }
}
