//! What reports are made of, without SQL: how feedback statistics are grouped.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What to group feedback statistics by.
#[derive(Serialize, Deserialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    #[default]
    Category,
    Channel,
    Department,
    Month,
}

impl GroupBy {
    /// The `dimension` of its groups in the figures.
    pub fn dimension(self) -> &'static str {
        match self {
            Self::Category => "category",
            Self::Channel => "channel",
            Self::Department => "department",
            Self::Month => "month",
        }
    }
}
