//! Rules with no HTTP and no SQL.

pub mod activities;
pub mod assignments;
pub mod budget;
pub mod calendar;
pub mod codes;
pub mod deadlines;
pub mod events;
pub mod feedback;
pub mod import;
pub mod labels;
pub mod messages;
pub mod notices;
pub mod photos;
pub mod plans;
pub mod reports;
pub mod roles;
pub mod time;
pub mod triage;
pub mod validate;
pub mod webhooks;

/// Fields that hold a person's contact details (a citizen sender's or a member of
/// staff's): masked in the audit trail, never in an event.
pub const PERSONAL_FIELDS: &[&str] = &[
    "email",
    "phone",
    "address",
    "sender_name",
    "sender_email",
    "sender_phone",
    "sender_address",
    // The name a citizen's file came with ("CCCD Nguyen Van A.jpg").
    "original_name",
];

/// The SHA-256 of `bytes`, in lower-case hex: how kept files and filings are fingerprinted.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
