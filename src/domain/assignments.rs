//! Department assignments and their reporting duties.
use chrono::{Datelike, Duration, NaiveDate};

use crate::code_enum;

code_enum! {
    /// What a department does for an item: leads it (chủ trì, at most one), co-ordinates
    /// (phối hợp) or carries it out (thực hiện).
    pub enum AssignmentRole {
        Lead = "lead",
        Coordinate = "coordinate",
        Execute = "execute",
    }
}

code_enum! {
    /// How often the department reports on the assignment.
    pub enum Reporting {
        None = "none",
        Monthly = "monthly",
        Quarterly = "quarterly",
        HalfYearly = "half_yearly",
        Yearly = "yearly",
    }
}

code_enum! {
    /// How an organisation counts its reporting periods: by the calendar, or by the
    /// cut-off of Decree 09/2019/NĐ-CP art. 12 (*thời gian chốt số liệu*), where a month
    /// runs from the 15th of the month before to the 14th, a quarter from the 15th of the
    /// month before it to the 14th of its last month, and a year from 15 December of the
    /// year before to 14 December.
    pub enum PeriodCounting {
        Calendar = "calendar",
        Decree09 = "decree_09",
    }
}

impl PeriodCounting {
    /// The first and last day of the run of months `from_month..=to_month` of `year`.
    fn bounds(self, year: i32, from_month: u32, to_month: u32) -> (NaiveDate, NaiveDate) {
        match self {
            Self::Calendar => (date(year, from_month, 1), month_end(year, to_month)),
            Self::Decree09 => {
                let (y, m) = if from_month == 1 { (year - 1, 12) } else { (year, from_month - 1) };
                (date(y, m, 15), date(year, to_month, 14))
            }
        }
    }
}

code_enum! {
    /// An assignment's life.
    pub enum AssignmentStatus {
        Assigned = "assigned",
        InProgress = "in_progress",
        Done = "done",
        Cancelled = "cancelled",
    }
}

impl AssignmentStatus {
    pub fn next(self) -> &'static [AssignmentStatus] {
        match self {
            Self::Assigned => &[Self::InProgress, Self::Done, Self::Cancelled],
            Self::InProgress => &[Self::Done, Self::Cancelled],
            Self::Done => &[Self::InProgress],
            Self::Cancelled => &[Self::Assigned],
        }
    }
}

crate::lifecycle!(AssignmentStatus);

code_enum! {
    /// Where a reporting duty stands on a given day.
    pub enum DutyState {
        /// The period has not ended.
        Upcoming = "upcoming",
        /// The period has ended; the report is due and not yet late.
        Due = "due",
        Submitted = "submitted",
        /// Submitted after its due date.
        Late = "late",
        /// Not submitted, and the due date has passed.
        Missing = "missing",
    }
}

code_enum! {
    /// A progress report's review.
    pub enum ReportStatus {
        Submitted = "submitted",
        /// Accepted by the coordinator: frozen; a correction is a new version.
        Accepted = "accepted",
        /// Sent back to the department to change and submit again.
        Returned = "returned",
    }
}

impl ReportStatus {
    pub fn next(self) -> &'static [ReportStatus] {
        match self {
            Self::Submitted => &[Self::Accepted, Self::Returned],
            Self::Returned | Self::Accepted => &[],
        }
    }
}

crate::lifecycle!(ReportStatus);

/// One reporting period of a duty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Period {
    /// `2021`, `2021-H1`, `2021-Q2` or `2021-M07`.
    pub code: String,
    /// The whole period, as the organisation counts it.
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// The part of it the duty covers (inside the plan and the assignment).
    pub covers_from: NaiveDate,
    pub covers_to: NaiveDate,
    /// The report is due by this day.
    pub due_on: NaiveDate,
}

impl Period {
    /// Whether only part of the calendar period is covered (the plan starts or ends in it).
    pub fn partial(&self) -> bool {
        self.covers_from != self.starts_on || self.covers_to != self.ends_on
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid calendar date")
}

fn month_end(y: i32, m: u32) -> NaiveDate {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    date(ny, nm, 1) - Duration::days(1)
}

/// The first and last day of a period code, counted as `counting` says.
pub fn period_bounds(code: &str, counting: PeriodCounting) -> Option<(NaiveDate, NaiveDate)> {
    let code = super::plans::canonical_period(code)?;
    let code = code.as_str();
    let year: i32 = code[..4].parse().ok()?;
    let (from_month, to_month) = match &code[4..] {
        "" => (1, 12),
        "-H1" => (1, 6),
        "-H2" => (7, 12),
        q if q.starts_with("-Q") => {
            let n: u32 = q[2..].parse().ok()?;
            (3 * n - 2, 3 * n)
        }
        m => {
            let n: u32 = m[2..].parse().ok()?;
            (n, n)
        }
    };
    Some(counting.bounds(year, from_month, to_month))
}

/// The span an assignment's duties cover: its own dates, else its plan's period, else
/// the plan's calendar year.
pub fn covered_span(
    own: (Option<NaiveDate>, Option<NaiveDate>),
    plan_period: (Option<NaiveDate>, Option<NaiveDate>),
    plan_year: i32,
) -> (NaiveDate, NaiveDate) {
    let year_start = NaiveDate::from_ymd_opt(plan_year, 1, 1).expect("a valid year");
    let year_end = NaiveDate::from_ymd_opt(plan_year, 12, 31).expect("a valid year");
    let from = own.0.or(plan_period.0).unwrap_or(year_start);
    let to = own.1.or(plan_period.1).unwrap_or(year_end);
    (from, to.max(from))
}

/// The periods of `reporting` that overlap `[from, to]`, counted as `counting` says,
/// each due `due_days` after its end. A period only partly inside (the 2021 plan starts
/// on 24 March, so its first quarter is 24–31 March) is still a period: it covers the
/// part inside, and is due on the same day as the full period, like every other report
/// of that cycle.
pub fn periods(
    reporting: Reporting,
    from: NaiveDate,
    to: NaiveDate,
    due_days: i64,
    counting: PeriodCounting,
) -> Vec<Period> {
    let months_per_period = match reporting {
        Reporting::None => return Vec::new(),
        Reporting::Monthly => 1,
        Reporting::Quarterly => 3,
        Reporting::HalfYearly => 6,
        Reporting::Yearly => 12,
    };
    let mut out = Vec::new();
    // Start one period before the calendar one holding `from`: under the decree, the
    // days from the 15th on belong to the next period.
    let (mut year, mut month) = (from.year(), 1 + ((from.month() - 1) / months_per_period) * months_per_period);
    if month > months_per_period {
        month -= months_per_period;
    } else {
        year -= 1;
        month = 13 - months_per_period;
    }
    loop {
        let end_month = month + months_per_period - 1;
        let (starts_on, ends_on) = counting.bounds(year, month, end_month);
        if starts_on > to {
            break;
        }
        if ends_on >= from {
            let code = match reporting {
                Reporting::Monthly => format!("{year}-M{month:02}"),
                Reporting::Quarterly => format!("{year}-Q{}", month.div_ceil(3)),
                Reporting::HalfYearly => format!("{year}-H{}", month.div_ceil(6)),
                _ => format!("{year}"),
            };
            out.push(Period {
                code,
                starts_on,
                ends_on,
                covers_from: starts_on.max(from),
                covers_to: ends_on.min(to),
                due_on: ends_on + Duration::days(due_days),
            });
        }
        month = end_month + 1;
        if month > 12 {
            month = 1;
            year += 1;
        }
    }
    out
}

/// Where a duty stands on `today` (Vietnam's date), given when it was first submitted.
pub fn duty_state(today: NaiveDate, period: &Period, first_submitted_on: Option<NaiveDate>) -> DutyState {
    match first_submitted_on {
        Some(day) if day <= period.due_on => DutyState::Submitted,
        Some(_) => DutyState::Late,
        None if today <= period.ends_on => DutyState::Upcoming,
        None if today <= period.due_on => DutyState::Due,
        None => DutyState::Missing,
    }
}

/// An assignment is overdue once its due date has passed (in Vietnam) and it is
/// neither done nor cancelled.
pub fn is_overdue(due_on: Option<NaiveDate>, status: AssignmentStatus, today: NaiveDate) -> bool {
    due_on.is_some_and(|due| due < today) && !matches!(status, AssignmentStatus::Done | AssignmentStatus::Cancelled)
}

/// The reports a plan owes the organisation above: one per quarter of its period (or
/// of its year), due `due_days` after the quarter ends as `counting` counts quarters.
pub fn submission_duties(
    plan_period: (Option<NaiveDate>, Option<NaiveDate>),
    plan_year: i32,
    due_days: i64,
    counting: PeriodCounting,
) -> Vec<Period> {
    let (from, to) = covered_span((None, None), plan_period, plan_year);
    periods(Reporting::Quarterly, from, to, due_days, counting)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn codes(reporting: Reporting) -> Vec<(String, NaiveDate, NaiveDate, NaiveDate)> {
        periods(reporting, d("2021-03-24"), d("2021-12-31"), 5, PeriodCounting::Calendar)
            .into_iter()
            .map(|p| (p.code, p.covers_from, p.covers_to, p.due_on))
            .collect()
    }

    #[test]
    fn the_2021_plan_period_in_each_frequency() {
        assert_eq!(
            codes(Reporting::Quarterly),
            [
                ("2021-Q1".to_owned(), d("2021-03-24"), d("2021-03-31"), d("2021-04-05")),
                ("2021-Q2".to_owned(), d("2021-04-01"), d("2021-06-30"), d("2021-07-05")),
                ("2021-Q3".to_owned(), d("2021-07-01"), d("2021-09-30"), d("2021-10-05")),
                ("2021-Q4".to_owned(), d("2021-10-01"), d("2021-12-31"), d("2022-01-05")),
            ]
        );
        let monthly = codes(Reporting::Monthly);
        assert_eq!(monthly.len(), 10);
        assert_eq!(monthly[0], ("2021-M03".to_owned(), d("2021-03-24"), d("2021-03-31"), d("2021-04-05")));
        assert_eq!(monthly[1].0, "2021-M04");
        assert_eq!(monthly[9].3, d("2022-01-05"));
        assert_eq!(
            codes(Reporting::HalfYearly),
            [
                ("2021-H1".to_owned(), d("2021-03-24"), d("2021-06-30"), d("2021-07-05")),
                ("2021-H2".to_owned(), d("2021-07-01"), d("2021-12-31"), d("2022-01-05")),
            ]
        );
        assert_eq!(codes(Reporting::Yearly), [("2021".to_owned(), d("2021-03-24"), d("2021-12-31"), d("2022-01-05"))]);
        assert!(codes(Reporting::None).is_empty());
        let q1 = &periods(Reporting::Quarterly, d("2021-03-24"), d("2021-12-31"), 5, PeriodCounting::Calendar)[0];
        assert!(q1.partial() && (q1.starts_on, q1.ends_on) == (d("2021-01-01"), d("2021-03-31")));
    }

    #[test]
    fn periods_span_years_and_match_their_codes() {
        let p = periods(Reporting::Quarterly, d("2021-11-15"), d("2022-02-01"), 10, PeriodCounting::Calendar);
        let found: Vec<&str> = p.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(found, ["2021-Q4", "2022-Q1"]);
        assert_eq!(p[1].due_on, d("2022-04-10"));
        for period in &p {
            assert_eq!(period_bounds(&period.code, PeriodCounting::Calendar), Some((period.starts_on, period.ends_on)));
        }
        assert_eq!(period_bounds("2021-M02", PeriodCounting::Calendar), Some((d("2021-02-01"), d("2021-02-28"))));
        assert_eq!(period_bounds("2024-M02", PeriodCounting::Calendar), Some((d("2024-02-01"), d("2024-02-29"))));
        assert_eq!(period_bounds("2021-Q5", PeriodCounting::Calendar), None);
    }

    #[test]
    fn decree_09_counts_from_the_15th_to_the_14th() {
        let decree = PeriodCounting::Decree09;
        assert_eq!(period_bounds("2021-M06", decree), Some((d("2021-05-15"), d("2021-06-14"))));
        assert_eq!(period_bounds("2021-M01", decree), Some((d("2020-12-15"), d("2021-01-14"))));
        assert_eq!(period_bounds("2021-Q2", decree), Some((d("2021-03-15"), d("2021-06-14"))));
        assert_eq!(period_bounds("2021-H2", decree), Some((d("2021-06-15"), d("2021-12-14"))));
        assert_eq!(period_bounds("2021", decree), Some((d("2020-12-15"), d("2021-12-14"))));
        // The 2021 plan (24 March – 31 December) reported quarterly: the decree's first
        // quarter ends on 14 March, before the plan, so the first is Q2, from 24 March;
        // 15–31 December fall in 2022's first quarter.
        let found: Vec<(String, NaiveDate, NaiveDate, NaiveDate)> =
            periods(Reporting::Quarterly, d("2021-03-24"), d("2021-12-31"), 5, decree)
                .into_iter()
                .map(|p| (p.code, p.covers_from, p.covers_to, p.due_on))
                .collect();
        assert_eq!(
            found,
            [
                ("2021-Q2".to_owned(), d("2021-03-24"), d("2021-06-14"), d("2021-06-19")),
                ("2021-Q3".to_owned(), d("2021-06-15"), d("2021-09-14"), d("2021-09-19")),
                ("2021-Q4".to_owned(), d("2021-09-15"), d("2021-12-14"), d("2021-12-19")),
                ("2022-Q1".to_owned(), d("2021-12-15"), d("2021-12-31"), d("2022-03-19")),
            ]
        );
        let yearly = periods(Reporting::Yearly, d("2021-01-01"), d("2021-12-31"), 0, decree);
        assert_eq!(yearly.iter().map(|p| p.code.as_str()).collect::<Vec<_>>(), ["2021", "2022"]);
    }

    #[test]
    fn duty_states_around_the_due_date() {
        let q2 = periods(Reporting::Quarterly, d("2021-03-24"), d("2021-12-31"), 5, PeriodCounting::Calendar).remove(1);
        assert_eq!(duty_state(d("2021-06-30"), &q2, None), DutyState::Upcoming);
        assert_eq!(duty_state(d("2021-07-01"), &q2, None), DutyState::Due);
        assert_eq!(duty_state(d("2021-07-05"), &q2, None), DutyState::Due);
        assert_eq!(duty_state(d("2021-07-06"), &q2, None), DutyState::Missing);
        assert_eq!(duty_state(d("2021-07-06"), &q2, Some(d("2021-07-05"))), DutyState::Submitted);
        assert_eq!(duty_state(d("2021-08-01"), &q2, Some(d("2021-07-06"))), DutyState::Late);
        assert_eq!(duty_state(d("2021-06-15"), &q2, Some(d("2021-06-15"))), DutyState::Submitted);
    }

    #[test]
    fn overdue_needs_a_past_due_date_and_open_work() {
        let due = Some(d("2021-06-30"));
        assert!(!is_overdue(due, AssignmentStatus::InProgress, d("2021-06-30")));
        assert!(is_overdue(due, AssignmentStatus::InProgress, d("2021-07-01")));
        assert!(!is_overdue(due, AssignmentStatus::Done, d("2021-07-01")));
        assert!(!is_overdue(due, AssignmentStatus::Cancelled, d("2021-07-01")));
        assert!(!is_overdue(None, AssignmentStatus::Assigned, d("2030-01-01")));
    }

    mod properties {
        use chrono::Datelike;
        use proptest::prelude::*;

        use super::super::{PeriodCounting, Reporting, period_bounds, periods};

        fn code() -> impl Strategy<Value = String> {
            (1000i32..=9999, 0u8..4, 1u32..=12).prop_map(|(y, kind, n)| match kind {
                0 => format!("{y}"),
                1 => format!("{y}-H{}", 1 + n % 2),
                2 => format!("{y}-Q{}", 1 + n % 4),
                _ => format!("{y}-M{n:02}"),
            })
        }

        proptest! {
            /// A valid code names whole months of its year, in order.
            #[test]
            fn every_valid_period_is_a_run_of_whole_months(code in code()) {
                let (from, to) = period_bounds(&code, PeriodCounting::Calendar).expect("valid");
                prop_assert!(from <= to);
                prop_assert_eq!(from.day(), 1);
                prop_assert_eq!((to + chrono::Duration::days(1)).day(), 1);
                prop_assert_eq!(from.year(), code[..4].parse::<i32>().unwrap());
                prop_assert_eq!(to.year(), from.year());
            }

            /// Anything else is refused, without panicking.
            #[test]
            fn any_other_string_is_no_period(text in ".{0,12}") {
                let valid = period_bounds(&text, PeriodCounting::Calendar).is_some();
                prop_assert_eq!(valid, crate::domain::plans::valid_period(&text));
            }

            /// The periods of a cycle cover the span exactly, without gaps or overlaps.
            #[test]
            fn reporting_periods_tile_the_span(start in 0i64..3000, len in 0i64..800, cycle in 1usize..5, decree in any::<bool>()) {
                let counting = if decree { PeriodCounting::Decree09 } else { PeriodCounting::Calendar };
                let reporting = [Reporting::None, Reporting::Monthly, Reporting::Quarterly, Reporting::HalfYearly, Reporting::Yearly][cycle];
                let from = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + chrono::Duration::days(start);
                let to = from + chrono::Duration::days(len);
                let list = periods(reporting, from, to, 5, counting);
                prop_assert_eq!(list.first().map(|p| p.covers_from), Some(from));
                prop_assert_eq!(list.last().map(|p| p.covers_to), Some(to));
                for pair in list.windows(2) {
                    prop_assert_eq!(pair[0].covers_to + chrono::Duration::days(1), pair[1].covers_from);
                    prop_assert_eq!(period_bounds(&pair[0].code, counting), Some((pair[0].starts_on, pair[0].ends_on)));
                }
            }
        }
    }
}
