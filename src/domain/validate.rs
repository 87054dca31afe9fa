//! Validators shared by request types (used through `#[validate(custom(...))]`) and
//! by the plan import.
use validator::ValidationError;

/// A code: 1–32 ASCII letters, digits, `-`, `_` or `.`, e.g. `UBND-KH`, `QLDA1`.
pub fn code(value: &str) -> Result<(), ValidationError> {
    let ok = !value.is_empty()
        && value.len() <= 32
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok { Ok(()) } else { Err(ValidationError::new("invalid_format")) }
}

/// What `not_blank` accepts (without NUL, which no text may hold), for the document:
/// the `pattern` of every such field is this literal.
pub const NOT_BLANK_PATTERN: &str = r"^[^\x00]*[^\s\x00-\x1f\x7f-\x9f][^\x00]*$";

/// Text with something other than white space in it.
pub fn not_blank(value: &str) -> Result<(), ValidationError> {
    // Blank: nothing but spaces, line breaks and control characters.
    if value.chars().all(|c| c.is_whitespace() || c.is_control()) {
        Err(ValidationError::new("not_blank"))
    } else {
        Ok(())
    }
}

/// A period code: `2021`, `2021-H1`, `2021-Q2`, `2021-M07` (or `2021-07`).
pub fn period(value: &str) -> Result<(), ValidationError> {
    if crate::domain::plans::valid_period(value) { Ok(()) } else { Err(ValidationError::new("invalid_period")) }
}

/// What `http_url` accepts, for the OpenAPI document.
pub const HTTP_URL_PATTERN: &str = r"^https?://[^\s/?#\[\]@\\\x00-\x1f\x7f-\x9f]+([/?#][^\s\x00-\x1f\x7f-\x9f]*)?$";

/// An http or https address (the schema of a list of links).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, pattern = r"^https?://[^\s/?#\[\]@\\\x00-\x1f\x7f-\x9f]+([/?#][^\s\x00-\x1f\x7f-\x9f]*)?$", max_length = 2048)]
pub struct HttpUrl(pub String);

/// An absolute `http` or `https` URL with a host name (or an IPv4 address, with a port
/// if need be): no user name, no IPv6 literal, nothing a URL parser would refuse.
pub fn http_url(value: &str) -> Result<(), ValidationError> {
    let rest = value.strip_prefix("https://").or_else(|| value.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    let ok = value.len() <= 2048
        && host.is_some_and(|h| !h.is_empty() && !h.contains(['[', ']', '@', '\\']))
        && !value.contains(|c: char| c.is_whitespace() || c.is_control());
    if ok { Ok(()) } else { Err(ValidationError::new("invalid_url")) }
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        /// Up to the characters JavaScript's and Rust's `\s` disagree on (none here).
        #[test]
        fn the_not_blank_pattern_is_the_check(text in "[ \t\r\n\x00\x01\x7f\u{85}\u{a0}\u{2003}a-zđ]{0,6}") {
            let pattern = regex::Regex::new(super::NOT_BLANK_PATTERN).unwrap();
            let accepted = super::not_blank(&text).is_ok() && !text.contains('\0');
            proptest::prop_assert_eq!(pattern.is_match(&text), accepted, "{:?}", text);
        }
    }

    use super::*;

    #[test]
    fn validators_accept_and_refuse() {
        assert!(code("UBND-KH").is_ok() && code("QLDA1").is_ok());
        assert!(code("").is_err() && code("Phòng").is_err() && code("a b").is_err());
        assert!(not_blank(" x ").is_ok() && not_blank("  ").is_err());
        assert!(http_url("https://kdpm.khanhhoa.gov.vn").is_ok());
        assert!(
            http_url("javascript:alert(1)").is_err() && http_url("https://").is_err() && http_url("ftp://x").is_err()
        );
        for bad in ["http://[", "http://a[b", "http://user@host", "http://a]/x", "http://a\\b"] {
            assert!(http_url(bad).is_err(), "{bad}");
        }
        assert!(http_url("http://10.0.0.1:8080/cchc?x=[1]").is_ok());
        let pattern = regex::Regex::new(HTTP_URL_PATTERN).unwrap();
        for text in ["http://[", "http://a[b", "http://user@host", "https://kdpm.khanhhoa.gov.vn/a[1]", "http://a\\b"] {
            assert_eq!(pattern.is_match(text), http_url(text).is_ok(), "{text}");
        }
    }
}
