//! Vietnam's time, and where "now" comes from. Periods, deadlines and working days are
//! reckoned in `Asia/Ho_Chi_Minh`: UTC+7 all year (no daylight saving since 1975). The
//! clock is part of the settings so that tests can fix and move it; it sits below
//! every layer that asks for the time.
use std::sync::{Arc, Mutex};

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

pub fn vietnam() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset")
}

/// The calendar date in Vietnam at instant `at`.
pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&vietnam()).date_naive()
}

/// The first instant of `day` in Vietnam.
pub fn day_start(day: NaiveDate) -> DateTime<Utc> {
    use chrono::TimeZone;
    vietnam()
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .expect("a fixed offset has one instant")
        .with_timezone(&Utc)
}

/// Where "now" comes from: the system clock, or a fixed instant that tests set and move.
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<Mutex<DateTime<Utc>>>>);

impl Clock {
    pub fn system() -> Self {
        Self(None)
    }

    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self(Some(Arc::new(Mutex::new(at))))
    }

    /// Moves a fixed clock (no effect on the system clock).
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(cell) = &self.0 {
            *cell.lock().expect("clock lock") = at;
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            Some(cell) => *cell.lock().expect("clock lock"),
            None => Utc::now(),
        }
    }

    /// Today's date in Vietnam.
    pub fn today(&self) -> NaiveDate {
        local_date(self.now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_evening_utc_is_next_day_in_vietnam() {
        let at = DateTime::parse_from_rfc3339("2021-03-23T17:30:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(local_date(at), NaiveDate::from_ymd_opt(2021, 3, 24).unwrap());
    }
}
