//! Rules with no HTTP and no SQL.

pub mod codes;
pub mod time;
