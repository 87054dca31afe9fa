//! Feedback and hotline records (phản ánh, kiến nghị): categories, holidays, records
//! with their deadlines, history, answers, satisfaction and publication.
//!
//! The sender's personal data is shown only by `GET /api/v1/feedback/{id}`, and only to
//! the coordinator, a leader and the assigned department; every other answer — every
//! list, every other role, every service client — carries it masked.

pub mod attachments;
mod categories;
mod deadlines;
mod filing;
mod holidays;
mod messages;
mod outcome;
mod records;
mod triage;
mod workflow;

pub use attachments::*;
pub use categories::*;
pub use deadlines::*;
pub use filing::*;
pub use holidays::*;
pub use messages::*;
pub use outcome::*;
pub use records::*;
pub use triage::*;
pub use workflow::*;

/// The code of the indicator the service computes from recorded satisfaction.
pub const SATISFACTION_INDICATOR: &str = "SATISFACTION_RATE";
