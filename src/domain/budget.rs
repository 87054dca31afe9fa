//! The plan's money (plan III.5) and the timeliness of posting documents on the website
//! (plan II.3.c): codes, and the sums and working-day counts the reports rest on.
//! Amounts are whole đồng in `i64`, never floating point.
use chrono::NaiveDate;

use super::{calendar::WorkingCalendar, deadlines::working_days_left};
use crate::code_enum;

/// The largest amount one entry or estimate may carry (100 000 tỷ đồng): sums of many
/// stay far inside `i64`.
pub const MAX_AMOUNT: i64 = 100_000_000_000_000;

code_enum! {
    /// Who was paid, as a kind (never a person's name: the description says what for).
    pub enum PayeeKind {
        /// A business or other organisation (printing, a venue, a supplier).
        Organization = "organization",
        /// A person from outside (a speaker, an author).
        Individual = "individual",
        /// The organisation's own staff (allowances under the circular).
        Staff = "staff",
        /// A newspaper, radio or television.
        Press = "press",
        Other = "other",
    }
}

code_enum! {
    /// Where a document that must be posted stands.
    pub enum PublicationState {
        /// Posted within the allowed working days.
        OnTime = "on_time",
        /// Posted, but later.
        Late = "late",
        /// Not posted, and the allowed working days have passed.
        Unposted = "unposted",
        /// Not posted yet, still within the allowed working days.
        Pending = "pending",
    }
}

/// A document's state on `today`, issued on `issued`, posted on `posted` (if it was),
/// with `allowed` working days; and the working days it took to post it.
pub fn publication_state(
    issued: NaiveDate,
    posted: Option<NaiveDate>,
    today: NaiveDate,
    allowed: i64,
    calendar: &WorkingCalendar,
) -> (PublicationState, Option<i64>) {
    match posted {
        Some(day) => {
            // Posted on a day off: as if on the next working day.
            let off = day > issued && !calendar.is_working(day);
            let took = i64::from(working_days_left(issued, day, calendar)) + i64::from(off);
            (if took <= allowed { PublicationState::OnTime } else { PublicationState::Late }, Some(took))
        }
        None if i64::from(working_days_left(issued, today, calendar)) > allowed => (PublicationState::Unposted, None),
        None => (PublicationState::Pending, None),
    }
}

/// The share posted on time of the documents whose window has closed or that are
/// posted, in percent with two decimals; `None` with none.
pub fn timeliness_percent(on_time: i64, late: i64, unposted: i64) -> Option<f64> {
    let counted = on_time + late + unposted;
    (counted > 0).then(|| super::activities::reach_percent(on_time, counted))
}

/// What was spent less what was estimated: negative when under the estimate.
pub fn variance(estimate: i64, spent: i64) -> i64 {
    spent - estimate
}

/// The quarter of a day: `2021-Q2`.
pub fn quarter_of(day: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}-Q{}", day.year(), day.month0() / 3 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::DayKind;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// 30 April and 1 May 2021 (Friday and Saturday) off; Monday 3 May off in lieu.
    fn calendar() -> WorkingCalendar {
        WorkingCalendar::new(
            [
                (d("2021-04-30"), DayKind::DayOff),
                (d("2021-05-01"), DayKind::DayOff),
                (d("2021-05-03"), DayKind::DayOff),
            ],
            [],
        )
    }

    #[test]
    fn working_days_skip_weekends_and_holidays() {
        let c = calendar();
        // The count the deadlines use: the days after the first, up to the second.
        assert_eq!(working_days_left(d("2021-04-29"), d("2021-04-29"), &c), 0);
        // Thursday to Tuesday: Fri, Sat, Sun, Mon off; Tuesday is the first working day.
        assert_eq!(working_days_left(d("2021-04-29"), d("2021-05-04"), &c), 1);
        // Friday 9 April to Monday 12: one working day.
        assert_eq!(working_days_left(d("2021-04-09"), d("2021-04-12"), &c), 1);
        assert_eq!(working_days_left(d("2021-04-12"), d("2021-04-09"), &c), 0);
    }

    #[test]
    fn a_documents_state_follows_the_working_days() {
        let c = calendar();
        let issued = d("2021-04-29");
        assert_eq!(
            publication_state(issued, Some(d("2021-05-05")), d("2021-06-01"), 2, &c),
            (PublicationState::OnTime, Some(2))
        );
        assert_eq!(
            publication_state(issued, Some(d("2021-05-06")), d("2021-06-01"), 2, &c),
            (PublicationState::Late, Some(3))
        );
        assert_eq!(publication_state(issued, None, d("2021-05-05"), 2, &c), (PublicationState::Pending, None));
        // Issued Wednesday 7 April, posted Saturday 10th: as if on Monday 12th, the third day.
        assert_eq!(
            publication_state(d("2021-04-07"), Some(d("2021-04-10")), d("2021-06-01"), 2, &c),
            (PublicationState::Late, Some(3))
        );
        assert_eq!(publication_state(issued, None, d("2021-05-06"), 2, &c), (PublicationState::Unposted, None));
    }

    #[test]
    fn timeliness_counts_only_closed_windows() {
        assert_eq!(timeliness_percent(2, 1, 1), Some(50.0));
        assert_eq!(timeliness_percent(0, 0, 0), None);
        assert_eq!(variance(1_000_000, 750_000), -250_000);
        assert_eq!(quarter_of(d("2021-06-30")), "2021-Q2");
    }
}
