//! The HTTP conventions of `shared/api-conventions.md`, implemented once for every
//! resource: request ids and logs, problem rendering, strict JSON and query parsing,
//! keyset pagination, ETags and idempotency.

pub mod consistency;
pub mod context;
pub mod etag;
pub mod files;
pub mod idempotency;
pub mod json;
pub mod oversight;
pub mod pagination;
pub mod parts;
pub mod problem;
pub mod query;
pub mod rate_limit;
pub mod rules;
pub mod security;
pub mod shared_limits;

pub use context::RequestContext;
pub use etag::IfMatch;
pub use json::ApiJson;
pub use pagination::{Page, PageRequest};
pub use parts::{Conventions, part};
pub use query::ApiQuery;
