//! Periods, deadlines and working days are reckoned in Vietnam's time zone,
//! `Asia/Ho_Chi_Minh`: UTC+7 all year (no daylight saving since 1975).
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

pub fn vietnam() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset")
}

/// The calendar date in Vietnam at instant `at`.
pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&vietnam()).date_naive()
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
