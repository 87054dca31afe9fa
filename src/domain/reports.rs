//! What reports are made of, without SQL: the period a report covers, and how feedback
//! statistics are grouped.
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    domain::{
        assignments::{PeriodCounting, period_bounds},
        time::day_start,
    },
    error::{ApiError, FieldError},
};

/// The days a report covers, in Vietnam.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq, Eq)]
pub struct ReportPeriod {
    /// `2021-Q2`, `2021-H1`, `2021-M07` or `2021`; `null` for a range given by dates.
    pub code: Option<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// How the code's days were counted (the organisation's `reporting_periods`):
    /// `decree_09` (the cut-off of Decree 09/2019/NĐ-CP) or `calendar`; `null` for a
    /// range given by dates.
    pub counting: Option<PeriodCounting>,
}

impl ReportPeriod {
    /// From `period=…`, or `from=…&to=…` (one or the other).
    pub fn parse(code: Option<&str>, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Self, ApiError> {
        match (code, from, to) {
            (Some(code), None, None) => {
                let (from, to) = period_bounds(code, PeriodCounting::Calendar).ok_or_else(|| {
                    ApiError::validation(vec![FieldError::new("period", "invalid_value").reason(
                        "expected 2021, 2021-H1, 2021-Q2 or 2021-M07",
                        "cần dạng 2021, 2021-H1, 2021-Q2 hoặc 2021-M07",
                    )])
                })?;
                Ok(Self {
                    code: crate::domain::plans::canonical_period(code),
                    from,
                    to,
                    counting: Some(PeriodCounting::Calendar),
                })
            }
            (None, Some(from), Some(to)) if from <= to && (to - from).num_days() <= 3 * 366 => {
                Ok(Self { code: None, from, to, counting: None })
            }
            (None, Some(_), Some(_)) => {
                Err(ApiError::rules(vec![FieldError::new("to", "invalid_value").reason(
                    "on or after from, at most three years later",
                    "phải từ ngày from trở đi, không quá ba năm",
                )]))
            }
            _ => Err(ApiError::rules(vec![
                FieldError::new("period", "invalid_value")
                    .reason("give either period, or both from and to", "cần period, hoặc cả from và to"),
            ])),
        }
    }

    /// The same period as `counting` counts its code's days (a range by dates stays).
    pub fn counted(self, counting: PeriodCounting) -> Self {
        match self.code.as_deref().and_then(|code| period_bounds(code, counting)) {
            Some((from, to)) => Self { from, to, counting: Some(counting), ..self },
            None => self,
        }
    }

    /// The period as instants: `[start of from, start of the day after to)`.
    pub fn instants(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (day_start(self.from), day_start(self.to + Duration::days(1)))
    }

    /// `2021-Q2`, or `2021-04-01_2021-06-30`.
    pub fn label(&self) -> String {
        self.code.clone().unwrap_or_else(|| format!("{}_{}", self.from, self.to))
    }

    /// As officials write it: `Quý II/2021 (01/04/2021 – 30/06/2021)`.
    pub fn label_vi(&self) -> String {
        let days = format!("{} – {}", self.from.format("%d/%m/%Y"), self.to.format("%d/%m/%Y"));
        let Some(code) = &self.code else { return days };
        let (year, part) = code.split_once('-').unwrap_or((code.as_str(), ""));
        let name = match part {
            "" => format!("Năm {year}"),
            "H1" => format!("6 tháng đầu năm {year}"),
            "H2" => format!("6 tháng cuối năm {year}"),
            q if q.starts_with('Q') => {
                format!(
                    "Quý {}/{year}",
                    ["I", "II", "III", "IV"].get(q[1..].parse::<usize>().unwrap_or(1) - 1).unwrap_or(&"")
                )
            }
            m => format!("Tháng {}/{year}", m.trim_start_matches('M').trim_start_matches('0')),
        };
        match self.counting {
            Some(PeriodCounting::Decree09) => format!("{name} ({days}, {})", PeriodCounting::Decree09.label()),
            _ => format!("{name} ({days})"),
        }
    }

    pub fn is_closed(&self, today: NaiveDate) -> bool {
        self.to < today
    }
}

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

/// A text cell as written to CSV: one that a spreadsheet would read as a formula
/// (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`,
/// which spreadsheets show as text. Text that already starts with `'` gets one too, so
/// a reader recovers every value exactly by dropping one leading `'`.
pub fn spreadsheet_text(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(FORMULA_LEADS) { format!("'{text}").into() } else { text.into() }
}

/// The first characters that make `spreadsheet_text` quote a cell (the CSV export's SQL
/// tests the same list, `db::exports`).
pub const FORMULA_LEADS: [char; 7] = ['=', '+', '-', '@', '\t', '\r', '\''];
