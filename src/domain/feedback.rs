//! Citizen feedback (phản ánh, kiến nghị): codes, working-day deadlines, masking.
use chrono::{Duration, NaiveDate};

use crate::{code_enum, domain::calendar::WorkingCalendar};

code_enum! {
    /// How the feedback came in.
    pub enum FeedbackChannel {
        Hotline = "hotline",
        Email = "email",
        Website = "website",
        Letter = "letter",
        InPerson = "in_person",
        Portal = "portal",
        Press = "press",
        Other = "other",
    }
}

code_enum! {
    /// What it is: phản ánh, khiếu nại, kiến nghị, hỏi đáp.
    pub enum FeedbackKind {
        Feedback = "feedback",
        Complaint = "complaint",
        Recommendation = "recommendation",
        Question = "question",
    }
}

code_enum! {
    /// Who sent it.
    pub enum SenderType {
        Citizen = "citizen",
        Organization = "organization",
        Business = "business",
        Investor = "investor",
    }
}

code_enum! {
    /// A record's handling: `received → accepted → in_progress → answered → closed`,
    /// or from `received`: `rejected` (not the organisation's remit) or `forwarded` (to
    /// another organisation). `merged`: another record carries the same matter
    /// (`POST …/merge`; terminal until `POST …/unmerge` restores the status it had).
    pub enum FeedbackStatus {
        Received = "received",
        Accepted = "accepted",
        InProgress = "in_progress",
        Answered = "answered",
        Closed = "closed",
        Rejected = "rejected",
        Forwarded = "forwarded",
        Merged = "merged",
    }
}

impl FeedbackStatus {
    /// Where a transition may take it. (`answered` comes with the first answer.)
    pub fn next(self) -> &'static [FeedbackStatus] {
        match self {
            Self::Received => &[Self::Accepted, Self::Rejected, Self::Forwarded],
            Self::Accepted => &[Self::InProgress],
            Self::Answered => &[Self::Closed],
            Self::InProgress | Self::Closed | Self::Rejected | Self::Forwarded | Self::Merged => &[],
        }
    }

    /// Whether the organisation still owes an answer.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Received | Self::Accepted | Self::InProgress)
    }
}

crate::lifecycle!(FeedbackStatus);

code_enum! {
    /// The sender's rating of the answer.
    pub enum Satisfaction {
        Satisfied = "satisfied",
        Neutral = "neutral",
        Dissatisfied = "dissatisfied",
    }
}

/// A phone as one number however it was written (`+84 905 123 456`, `0905.123.456` →
/// `0905123456`), to tell whether two records came from one sender; `None` if it is not
/// a phone number.
pub fn normal_phone(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let national = match digits.strip_prefix("84") {
        Some(rest) if digits.len() == 11 => format!("0{rest}"),
        _ => digits,
    };
    (national.len() >= 9).then_some(national)
}

/// An e-mail address as one address, whatever its case.
pub fn normal_email(email: &str) -> Option<String> {
    let email = email.trim().to_lowercase();
    email.contains('@').then_some(email)
}

/// `PAKN-2021-000123`.
pub fn feedback_code(year: i32, number: i32) -> String {
    format!("PAKN-{year}-{number:06}")
}

/// The deadline of something received on `received` (a date in Vietnam) with `days`
/// working days: counted from the first working day after the day it was received, on
/// the organisation's working calendar.
pub fn deadline(received: NaiveDate, days: u32, calendar: &WorkingCalendar) -> NaiveDate {
    let mut day = received;
    let mut counted = 0;
    while counted < days.max(1) {
        day += Duration::days(1);
        if calendar.is_working(day) {
            counted += 1;
        }
    }
    day
}

/// `0912345678` → `09******78`.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().filter(|c| !c.is_whitespace()).collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    let (head, tail) = (&chars[..2], &chars[chars.len() - 2..]);
    format!("{}{}{}", head.iter().collect::<String>(), "*".repeat(chars.len() - 4), tail.iter().collect::<String>())
}

/// `nguyenvana@gmail.com` → `n***@gmail.com`.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => "***".to_owned(),
    }
}

/// `Nguyễn Văn An` → `N*** V*** A***`.
pub fn mask_name(name: &str) -> String {
    name.split_whitespace().map(|w| format!("{}***", w.chars().next().unwrap_or('*'))).collect::<Vec<_>>().join(" ")
}

/// An address says too much in any part: only that there is one.
pub fn mask_address(_: &str) -> String {
    "***".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::DayKind;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn deadlines_skip_weekends_and_holidays() {
        let none = &WorkingCalendar::weekdays();
        // Received on Thursday 4 Feb 2021: Friday is day 1, then Monday, Tuesday.
        assert_eq!(deadline(d("2021-02-04"), 3, none), d("2021-02-09"));
        // Received on Saturday: the first working day after it is Monday.
        assert_eq!(deadline(d("2021-02-06"), 1, none), d("2021-02-08"));
        // Tết 2021: 10–16 February off.
        let tet = &WorkingCalendar::new((0..7).map(|n| (d("2021-02-10") + Duration::days(n), DayKind::DayOff)), []);
        assert_eq!(deadline(d("2021-02-08"), 3, tet), d("2021-02-18"));
        assert_eq!(deadline(d("2021-02-09"), 1, tet), d("2021-02-17"));
        // 2025: Friday 2 May off, Saturday 26 April worked in exchange.
        let swap = &WorkingCalendar::new(
            [
                (d("2025-04-26"), DayKind::WorkingDay),
                (d("2025-04-30"), DayKind::DayOff),
                (d("2025-05-01"), DayKind::DayOff),
                (d("2025-05-02"), DayKind::DayOff),
            ],
            [],
        );
        assert_eq!(deadline(d("2025-04-25"), 1, swap), d("2025-04-26"), "the Saturday worked counts");
        assert_eq!(deadline(d("2025-04-28"), 2, swap), d("2025-05-05"));
    }

    #[test]
    fn personal_data_is_masked() {
        assert_eq!(mask_phone("0912345678"), "09******78");
        assert_eq!(mask_phone("0912 345 678"), "09******78");
        assert_eq!(mask_email("nguyenvana@gmail.com"), "n***@gmail.com");
        assert_eq!(mask_name("Nguyễn Văn An"), "N*** V*** A***");
        assert_eq!(mask_address("12 Trần Phú, Nha Trang"), "***");
        assert_eq!(feedback_code(2021, 123), "PAKN-2021-000123");
    }

    #[test]
    fn only_received_records_may_be_rejected_or_forwarded() {
        assert!(FeedbackStatus::Received.next().contains(&FeedbackStatus::Rejected));
        assert!(!FeedbackStatus::Accepted.next().contains(&FeedbackStatus::Rejected));
        assert!(FeedbackStatus::Closed.next().is_empty());
        assert_eq!(normal_phone("+84 905 123 456").as_deref(), Some("0905123456"));
        assert_eq!(normal_phone("0905.123.456").as_deref(), Some("0905123456"));
        assert_eq!(normal_phone("84905123456").as_deref(), Some("0905123456"));
        assert_eq!(normal_phone("1080"), None);
        assert_eq!(normal_email(" Hong.Nhung@Gmail.com ").as_deref(), Some("hong.nhung@gmail.com"));
    }
}
