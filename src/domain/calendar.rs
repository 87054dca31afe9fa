//! The working calendar: Monday to Friday, less the national days off and the
//! organisation's own, plus the Saturdays worked in exchange for a bridge day.
use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, Weekday};

use crate::code_enum;

code_enum! {
    /// What a day of the calendar is, where it differs from the week.
    pub enum DayKind {
        /// Not worked: a holiday, a day in lieu, a bridge day.
        DayOff = "day_off",
        /// Worked although a Saturday or Sunday (*làm bù*).
        WorkingDay = "working_day",
    }
}

code_enum! {
    /// Where a calendar day comes from.
    pub enum DaySource {
        /// The national calendar the service ships (Labour Code 2019 and the yearly decisions).
        National = "national",
        /// The organisation's own entry, which overrides the national one.
        Organization = "organization",
    }
}

/// The days that differ from the Monday–Friday week, national and the organisation's.
#[derive(Default, Clone, Debug)]
pub struct WorkingCalendar {
    national: HashMap<NaiveDate, DayKind>,
    own: HashMap<NaiveDate, DayKind>,
}

impl WorkingCalendar {
    pub fn new(
        national: impl IntoIterator<Item = (NaiveDate, DayKind)>,
        own: impl IntoIterator<Item = (NaiveDate, DayKind)>,
    ) -> Self {
        Self { national: national.into_iter().collect(), own: own.into_iter().collect() }
    }

    /// Only the week: no holidays at all.
    pub fn weekdays() -> Self {
        Self::default()
    }

    /// The organisation's entry, else the national one, else Monday to Friday.
    pub fn is_working(&self, day: NaiveDate) -> bool {
        match self.own.get(&day).or_else(|| self.national.get(&day)) {
            Some(DayKind::DayOff) => false,
            Some(DayKind::WorkingDay) => true,
            None => !is_weekend(day),
        }
    }
}

pub fn is_weekend(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_organisations_entry_wins_over_the_national_one() {
        let calendar = WorkingCalendar::new(
            [
                (d("2025-04-26"), DayKind::WorkingDay),
                (d("2025-05-02"), DayKind::DayOff),
                (d("2025-04-30"), DayKind::DayOff),
            ],
            [(d("2025-04-30"), DayKind::WorkingDay), (d("2025-05-05"), DayKind::DayOff)],
        );
        assert!(calendar.is_working(d("2025-04-26")), "the Saturday worked for 2 May");
        assert!(!calendar.is_working(d("2025-05-02")), "the bridge day");
        assert!(calendar.is_working(d("2025-04-30")), "the organisation works that day");
        assert!(!calendar.is_working(d("2025-05-05")), "the organisation's own day off");
        assert!(!calendar.is_working(d("2025-05-03")), "a plain Saturday");
        assert!(calendar.is_working(d("2025-05-06")), "a plain Tuesday");
    }
}
