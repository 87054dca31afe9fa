//! Rules with no HTTP and no SQL.

pub mod activities;
pub mod assignments;
pub mod codes;
pub mod feedback;
pub mod import;
pub mod plans;
pub mod reports;
pub mod roles;
pub mod time;
pub mod validate;
