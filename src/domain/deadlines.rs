//! What a deadline asks for on a given day, on the organisation's working calendar:
//! the rules of the deadline scan, without I/O.
use chrono::{Duration, NaiveDate};

use crate::domain::calendar::WorkingCalendar;

/// What is due about one open feedback record today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// `working_days` working days are left before the deadline (1..=the warning).
    Near { working_days: u32 },
    /// Today is the deadline.
    Today,
    /// The deadline has passed unanswered: escalate (once per deadline).
    Overdue,
    /// Escalated, and no progress note with a committed date since: remind (daily).
    NoteDue,
}

/// Working days after `today` up to and including `deadline` (0 when it is today or past).
pub fn working_days_left(today: NaiveDate, deadline: NaiveDate, calendar: &WorkingCalendar) -> u32 {
    let mut day = today;
    let mut n = 0;
    while day < deadline {
        day += Duration::days(1);
        if calendar.is_working(day) {
            n += 1;
        }
    }
    n
}

/// What the scan does today for a record with `deadline`, warning `warn_days` working
/// days ahead; `noted` says whether a progress note was written since the escalation.
pub fn due(today: NaiveDate, deadline: NaiveDate, warn_days: u32, calendar: &WorkingCalendar, noted: bool) -> Vec<Due> {
    if today > deadline {
        let mut out = vec![Due::Overdue];
        if !noted {
            out.push(Due::NoteDue);
        }
        return out;
    }
    if today == deadline {
        return vec![Due::Today];
    }
    match working_days_left(today, deadline, calendar) {
        n if n <= warn_days => vec![Due::Near { working_days: n }],
        _ => Vec::new(),
    }
}

/// The new deadline after an extension of `working_days`, counted on from the current
/// deadline (or from today, when that has passed).
pub fn extended(current: NaiveDate, today: NaiveDate, working_days: u32, calendar: &WorkingCalendar) -> NaiveDate {
    crate::domain::feedback::deadline(current.max(today), working_days, calendar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::DayKind;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn warnings_count_working_days_and_tet_is_not_one() {
        // Tết 2021: 10–16 February off.
        let tet = (10..=16).map(|n| (d(&format!("2021-02-{n:02}")), DayKind::DayOff));
        let calendar = WorkingCalendar::new(tet, []);
        // Deadline Wednesday 17 February: from Tuesday 9 February one working day is left.
        assert_eq!(working_days_left(d("2021-02-09"), d("2021-02-17"), &calendar), 1);
        assert_eq!(due(d("2021-02-09"), d("2021-02-17"), 2, &calendar, false), vec![Due::Near { working_days: 1 }]);
        assert!(due(d("2021-02-05"), d("2021-02-17"), 2, &calendar, false).is_empty(), "three working days left");
        assert_eq!(due(d("2021-02-08"), d("2021-02-17"), 2, &calendar, false), vec![Due::Near { working_days: 2 }]);
        assert_eq!(due(d("2021-02-17"), d("2021-02-17"), 2, &calendar, false), vec![Due::Today]);
        assert_eq!(due(d("2021-02-18"), d("2021-02-17"), 2, &calendar, false), vec![Due::Overdue, Due::NoteDue]);
        assert_eq!(due(d("2021-02-18"), d("2021-02-17"), 2, &calendar, true), vec![Due::Overdue]);
        // Five working days on from Monday 8 February skip the Tết week.
        assert_eq!(extended(d("2021-02-08"), d("2021-02-01"), 5, &calendar), d("2021-02-22"));
        assert_eq!(extended(d("2021-02-01"), d("2021-02-08"), 1, &calendar), d("2021-02-09"), "from today when past");
    }
}
