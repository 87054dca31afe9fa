//! Plans, their items and indicators: the codes and the rules.
use validator::Validate;

use crate::code_enum;

code_enum! {
    /// A plan's life: drafted, issued by its decision, carried out, closed.
    pub enum PlanStatus {
        Draft = "draft",
        Issued = "issued",
        InProgress = "in_progress",
        Closed = "closed",
    }
}

impl PlanStatus {
    /// Where a plan may go from here.
    pub fn next(self) -> &'static [PlanStatus] {
        match self {
            Self::Draft => &[Self::Issued],
            Self::Issued => &[Self::InProgress],
            Self::InProgress => &[Self::Closed],
            Self::Closed => &[],
        }
    }
}

crate::lifecycle!(PlanStatus);

code_enum! {
    /// What a plan item is: the parts and sections that structure the plan, and the
    /// objectives, requirements, content topics, channels and tasks they hold.
    pub enum ItemKind {
        Part = "part",
        Section = "section",
        Objective = "objective",
        Requirement = "requirement",
        Content = "content",
        Channel = "channel",
        Task = "task",
    }
}

code_enum! {
    /// Whom communication is for: staff (cán bộ, công chức, viên chức), the public
    /// (citizens, organisations, businesses, investors), or both.
    pub enum Audience {
        Staff = "staff",
        Public = "public",
        All = "all",
    }
}

code_enum! {
    /// How communication happens: the form a plan asks for and the form an activity used.
    pub enum Channel {
        Meeting = "meeting",
        Conference = "conference",
        Training = "training",
        InternalNetwork = "internal_network",
        WebsitePost = "website_post",
        PortalNews = "portal_news",
        PressArticle = "press_article",
        Interview = "interview",
        PartyMeeting = "party_meeting",
        Oral = "oral",
        Banner = "banner",
        SmsEmail = "sms_email",
        ContestEntry = "contest_entry",
        Other = "other",
    }
}

code_enum! {
    /// The unit of an indicator's values.
    pub enum Unit {
        Percent = "percent",
        Count = "count",
        /// A position in a ranking: lower is better.
        Rank = "rank",
        Score = "score",
        Index = "index",
        Days = "days",
        Vnd = "vnd",
        Other = "other",
    }
}

code_enum! {
    /// How a value is held against the target. `improves`: better than the baseline
    /// (lower for `rank`, higher for any other unit).
    pub enum Comparator {
        AtLeast = ">=",
        Above = ">",
        AtMost = "<=",
        Below = "<",
        Equal = "=",
        Improves = "improves",
    }
}

code_enum! {
    /// Whose result an indicator measures: the organisation's own, or the province's
    /// that the organisation contributes to.
    pub enum IndicatorScope {
        Organization = "organization",
        Province = "province",
    }
}

code_enum! {
    /// Where a measurement comes from: entered by a person with a citation, or
    /// computed by the service from its own records.
    pub enum MeasurementSource {
        Entered = "entered",
        Computed = "computed",
    }
}

code_enum! {
    /// Whether the latest value meets the target.
    pub enum TargetStatus {
        Met = "met",
        NotMet = "not_met",
        NoData = "no_data",
    }
}

/// Values closer than this count as equal (values come from reports and percentages).
const EPSILON: f64 = 1e-9;

/// The status of an indicator from its latest value. `reference` is what `improves`
/// compares with: the baseline, or failing that the first measurement.
pub fn target_status(
    comparator: Comparator,
    unit: Unit,
    target: Option<f64>,
    reference: Option<f64>,
    latest: Option<f64>,
) -> TargetStatus {
    let Some(value) = latest else { return TargetStatus::NoData };
    let met = match comparator {
        Comparator::Improves => match reference {
            Some(base) if unit == Unit::Rank => value < base - EPSILON,
            Some(base) => value > base + EPSILON,
            None => return TargetStatus::NoData,
        },
        _ => {
            let Some(target) = target else { return TargetStatus::NoData };
            match comparator {
                Comparator::AtLeast => value >= target - EPSILON,
                Comparator::Above => value > target + EPSILON,
                Comparator::AtMost => value <= target + EPSILON,
                Comparator::Below => value < target - EPSILON,
                Comparator::Equal | Comparator::Improves => (value - target).abs() <= EPSILON,
            }
        }
    };
    if met { TargetStatus::Met } else { TargetStatus::NotMet }
}

/// A reporting period: `2021`, `2021-H1`, `2021-Q2` or `2021-M07` (a month also as
/// `2021-07`, as people write it; `canonical_period` gives the `M` form kept).
/// The form `valid_period` accepts, as the OpenAPI document states it.
pub const PERIOD_PATTERN: &str = "^[1-9][0-9]{3}(-(H[12]|Q[1-4]|M?(0[1-9]|1[0-2])))?$";

/// A period as given, in its stored form when it is one (else as given, for the
/// caller's own check to refuse or not match).
pub fn period_as_kept(period: String) -> String {
    canonical_period(&period).unwrap_or(period)
}

/// The stored form of a period: a month as `2021-M07`; `None` if it is not one.
pub fn canonical_period(period: &str) -> Option<String> {
    if !valid_period(period) {
        return None;
    }
    match period.as_bytes().get(5) {
        Some(b'0' | b'1') => Some(format!("{}-M{}", &period[..4], &period[5..])),
        _ => Some(period.to_owned()),
    }
}

pub fn valid_period(period: &str) -> bool {
    // Bytes, not characters: the text may be anything, and must not be cut inside one.
    let bytes = period.as_bytes();
    // Years 1000–9999: a year 0 would begin, under the decree's cut-off, in the year -1,
    // which no date format carries.
    if bytes.len() < 4 || !bytes[..4].iter().all(u8::is_ascii_digit) || bytes[0] == b'0' {
        return false;
    }
    let rest = &period[4..];
    match rest.strip_prefix('-') {
        None => rest.is_empty(),
        Some(p) => {
            let m = p.strip_prefix('M').unwrap_or(p);
            matches!(p, "H1" | "H2" | "Q1" | "Q2" | "Q3" | "Q4")
                || (m.len() == 2
                    && m.bytes().all(|b| b.is_ascii_digit())
                    && (1..=12).contains(&m.parse::<u8>().unwrap_or(0)))
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{Comparator::*, PERIOD_PATTERN, TargetStatus::*, Unit, target_status, valid_period};

    #[test]
    fn odd_period_strings_are_refused_not_panicked_on() {
        for text in [
            "^\u{dbb1f}",
            "202\u{1ec5}",
            "2021-M+1",
            "2021-M1",
            "2021-M13",
            "2021-Q5",
            "2021-",
            "12345",
            "0000",
            "0999-Q1",
        ] {
            assert!(!valid_period(text), "{text}");
        }
    }

    proptest! {
        /// The document's pattern accepts exactly the periods the service reads.
        #[test]
        fn the_period_pattern_is_the_check(text in "[0-9]{3,5}(-[HQM0-9+]{0,3}[0-9]?)?|\\PC{0,8}") {
            let pattern = regex::Regex::new(PERIOD_PATTERN).unwrap();
            prop_assert_eq!(pattern.is_match(&text), valid_period(&text), "{:?}", text);
        }
    }

    #[test]
    fn every_comparator_decides_against_the_target() {
        let s = |c, target, latest| target_status(c, Unit::Percent, Some(target), None, latest);
        assert_eq!(s(AtLeast, 30.0, Some(30.0)), Met);
        assert_eq!(s(AtLeast, 30.0, Some(29.9)), NotMet);
        assert_eq!(s(Above, 81.0, Some(81.0)), NotMet);
        assert_eq!(s(Above, 81.0, Some(81.5)), Met);
        assert_eq!(s(AtMost, 5.0, Some(5.0)), Met);
        assert_eq!(s(AtMost, 5.0, Some(6.0)), NotMet);
        assert_eq!(s(Below, 5.0, Some(5.0)), NotMet);
        assert_eq!(s(Below, 5.0, Some(4.0)), Met);
        assert_eq!(s(Equal, 100.0, Some(100.0)), Met);
        assert_eq!(s(Equal, 100.0, Some(99.0)), NotMet);
        assert_eq!(s(AtLeast, 30.0, None), NoData);
    }

    #[test]
    fn improves_compares_with_the_baseline_and_ranks_improve_downwards() {
        assert_eq!(target_status(Improves, Unit::Rank, None, Some(20.0), Some(15.0)), Met);
        assert_eq!(target_status(Improves, Unit::Rank, None, Some(20.0), Some(20.0)), NotMet);
        assert_eq!(target_status(Improves, Unit::Score, None, Some(60.0), Some(65.5)), Met);
        assert_eq!(target_status(Improves, Unit::Score, None, Some(60.0), Some(59.0)), NotMet);
        assert_eq!(target_status(Improves, Unit::Score, None, None, Some(59.0)), NoData);
    }

    #[test]
    fn periods_are_years_halves_quarters_or_months() {
        assert_eq!(super::canonical_period("2021-06").as_deref(), Some("2021-M06"));
        assert_eq!(super::canonical_period("2021-M06").as_deref(), Some("2021-M06"));
        assert_eq!(super::canonical_period("2021-Q2").as_deref(), Some("2021-Q2"));
        assert_eq!(super::canonical_period("2021-13"), None);
        for ok in ["2021", "2021-H1", "2021-Q4", "2021-M07", "2021-M12", "2021-07", "2021-12"] {
            assert!(valid_period(ok), "{ok}");
        }
        for bad in ["21", "2021-Q5", "2021-M13", "2021-M7", "2021-", "2021-H3", "abcd", "2021-M00"] {
            assert!(!valid_period(bad), "{bad}");
        }
    }
}

/// The decision (quyết định) that issues a plan, as written.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"number": "18/QĐ-BQL", "issued_on": "2021-03-24", "place": "Khánh Hòa",
    "signer": {"name": "Châu Ngô Anh Nhân", "title": "Giám đốc"},
    "articles": [{"no": 2, "text": "Phòng Tổ chức hành chính có trách nhiệm tham mưu…", "departments": [{"code": "TCHC", "role": "lead"}]}],
    "recipients": [{"name": "UBND tỉnh", "purpose": "báo cáo"}]}))]
pub struct Decision {
    /// E.g. `18/QĐ-BQL`.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub number: String,
    pub issued_on: Option<chrono::NaiveDate>,
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    pub place: Option<String>,
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    pub title: Option<String>,
    #[validate(nested)]
    pub signer: Option<Signer>,
    /// Who proposed it, e.g. `Trưởng phòng Tổ chức hành chính`.
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    pub proposed_by: Option<String>,
    #[serde(default)]
    #[validate(nested, length(max = 50))]
    #[schema(max_items = 50)]
    pub articles: Vec<Article>,
    /// Nơi nhận: who receives it, and why.
    #[serde(default)]
    #[validate(nested, length(max = 50))]
    #[schema(max_items = 50)]
    pub recipients: Vec<Recipient>,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct Signer {
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub name: String,
    /// E.g. `Giám đốc`.
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    pub title: Option<String>,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct Article {
    #[validate(range(min = 1, max = 100))]
    #[schema(minimum = 1, maximum = 100)]
    pub no: i32,
    #[validate(length(min = 1, max = 10000))]
    #[schema(min_length = 1, max_length = 10000)]
    pub text: String,
    /// Departments the article makes responsible, by code.
    #[serde(default)]
    #[validate(nested, length(max = 50))]
    #[schema(max_items = 50)]
    pub departments: Vec<ArticleDepartment>,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ArticleDepartment {
    #[validate(length(min = 1, max = 32))]
    #[schema(min_length = 1, max_length = 32)]
    pub code: String,
    /// `lead`, `coordinate` or `execute`.
    #[validate(custom(function = "assignment_role"))]
    #[schema(pattern = "^(lead|coordinate|execute)$")]
    pub role: String,
}

fn assignment_role(role: &str) -> Result<(), validator::ValidationError> {
    if matches!(role, "lead" | "coordinate" | "execute") {
        Ok(())
    } else {
        Err(validator::ValidationError::new("invalid_format"))
    }
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub name: String,
    /// E.g. `báo cáo` (for report), `thi hành` (to carry out).
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    pub purpose: Option<String>,
}
