//! Vietnam's time for the rules: the offset, the local date and the injectable clock,
//! which live in `crate::clock` so that the settings can carry the clock.
pub use crate::clock::{Clock, day_start, local_date, vietnam};

/// Instants as the service writes them everywhere — in answers, exports and reports:
/// RFC 3339 in UTC with microseconds, `2021-03-15T02:00:00.000000Z` (PostgreSQL keeps
/// microseconds, so an `updated_since` taken from an answer loses nothing).
pub mod rfc3339 {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::Serializer;

    pub fn text(at: &DateTime<Utc>) -> String {
        at.to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    pub fn utc<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&text(at))
    }

    pub fn utc_opt<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => utc(at, s),
            None => s.serialize_none(),
        }
    }

    /// The same form in SQL, for a `timestamptz` expression.
    pub fn sql(expr: &str) -> String {
        format!("to_char({expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
    }
}

/// A `from` or `to` of a filter over instants: a day (`2021-03-15`, in Vietnam) or an
/// instant (RFC 3339). `from` a day is its first moment; `to` a day takes in the whole
/// day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    Day(chrono::NaiveDate),
    At(chrono::DateTime<chrono::Utc>),
}

impl Bound {
    /// As the start of a range (included).
    pub fn start(self) -> chrono::DateTime<chrono::Utc> {
        match self {
            Self::Day(day) => day_start(day),
            Self::At(at) => at,
        }
    }

    /// As the end of a range (excluded): the next day's start for a day.
    pub fn end(self) -> chrono::DateTime<chrono::Utc> {
        match self {
            Self::Day(day) => day.succ_opt().map_or(chrono::DateTime::<chrono::Utc>::MAX_UTC, day_start),
            Self::At(at) => at,
        }
    }
}

/// In the document: a `date` or a `date-time`.
impl utoipa::PartialSchema for Bound {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
        let string =
            |format| ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(format)));
        OneOfBuilder::new()
            .item(string(KnownFormat::Date).description(Some("A day in Vietnam, `YYYY-MM-DD`.")))
            .item(string(KnownFormat::DateTime).description(Some("An instant, RFC 3339.")))
            .into()
    }
}

impl utoipa::ToSchema for Bound {}

impl<'de> serde::Deserialize<'de> for Bound {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if let Ok(day) = chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            && text.len() == 10
        {
            return Ok(Self::Day(day));
        }
        chrono::DateTime::parse_from_rfc3339(&text).map(|at| Self::At(at.with_timezone(&chrono::Utc))).map_err(|_| {
            serde::de::Error::custom(
                "input is neither a day nor an instant: expected YYYY-MM-DD (e.g. 2021-06-30) or RFC 3339 (e.g. 2021-06-30T08:00:00+07:00)",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Bound;

    fn bound(text: &str) -> Result<Bound, serde_json::Error> {
        serde_json::from_value(serde_json::json!(text))
    }

    #[test]
    fn a_bound_is_a_day_in_vietnam_or_an_instant() {
        let day = bound("2021-03-15").unwrap();
        assert_eq!(day.start().to_rfc3339(), "2021-03-14T17:00:00+00:00");
        assert_eq!(day.end().to_rfc3339(), "2021-03-15T17:00:00+00:00", "the whole day");
        let at = bound("2021-03-15T09:00:00+07:00").unwrap();
        assert_eq!(
            (at.start().to_rfc3339(), at.end().to_rfc3339()),
            ("2021-03-15T02:00:00+00:00".into(), "2021-03-15T02:00:00+00:00".into())
        );
        for text in ["2021-3-15", "2021-02-30", "15/03/2021", "2021-03-15T09:00", "2021-03-15T25:00:00Z"] {
            assert!(bound(text).is_err(), "{text}");
        }
        for text in ["2021-03-15", "2021-03-15T09:00:00Z", "2021-03-15T09:00:00.5+07:00"] {
            assert!(bound(text).is_ok(), "{text}");
        }
    }
}
