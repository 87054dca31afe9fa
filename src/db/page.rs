//! What a query needs to read one page of a list: where the previous page ended, how
//! many rows to read, and whether it is the `updated_since` feed. The HTTP side
//! (`http::pagination`) parses these from the request and signs the cursors.
use chrono::{DateTime, Utc};
use uuid::Uuid;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// Where the previous page ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// After this id, in `id` order.
    Id(Uuid),
    /// After this `(updated_at, id)`, in sync order.
    Sync(DateTime<Utc>, Uuid),
}

#[derive(Clone, Debug)]
pub struct PageRequest {
    pub limit: i64,
    pub after: Option<Position>,
    pub updated_since: Option<DateTime<Utc>>,
}

impl PageRequest {
    pub fn is_sync(&self) -> bool {
        self.updated_since.is_some()
    }

    /// How many rows to fetch: one more than the page, to know whether another follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }
}

/// What a row of a listable table must tell about itself.
pub trait Row {
    fn id(&self) -> Uuid;
    fn updated_at(&self) -> DateTime<Utc>;
    fn deleted_at(&self) -> Option<DateTime<Utc>>;
}
