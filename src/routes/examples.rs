//! Answers of the main reads as the demo data give them (`examples.json`), shown as the
//! examples of their operations in the document. A test checks that each has exactly
//! its schema's fields.
use std::sync::LazyLock;

use serde_json::Value;

static EXAMPLES: LazyLock<Value> =
    LazyLock::new(|| serde_json::from_str(include_str!("examples.json")).expect("examples.json is JSON"));

fn example(name: &str) -> Value {
    EXAMPLES[name].clone()
}

pub fn organization() -> Value {
    example("organization")
}

pub fn plan() -> Value {
    example("plan")
}

/// A record as its coordinator reads it: the sender masked.
pub fn feedback() -> Value {
    example("feedback")
}

pub fn public_feedback() -> Value {
    example("public_feedback")
}
