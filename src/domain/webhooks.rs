//! Webhook rules without I/O: which events a subscription takes, which addresses the
//! service may call, when a failed delivery is tried again, and what a secret is.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine;

/// `feedback.answered` (one type), `feedback.*` (every type of a resource) or `*`
/// (every type).
pub fn valid_pattern(pattern: &str) -> bool {
    let name = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    pattern == "*"
        || pattern.len() <= 64
            && pattern.split_once('.').is_some_and(|(resource, what)| name(resource) && (what == "*" || name(what)))
}

/// What `valid_pattern` accepts, for the OpenAPI document.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, pattern = r"^(\*|[a-z_]+\.([a-z_]+|\*))$", max_length = 64, example = "feedback.*")]
pub struct EventPattern(pub String);

/// Whether an event of `kind` goes to a subscription with `patterns`.
pub fn matches(patterns: &[String], kind: &str) -> bool {
    patterns.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => kind.starts_with(prefix),
        None => p == kind,
    })
}

/// What is wrong with a receiver's URL (the problem code's field error).
pub fn check_url(text: &str, allow_http: bool, allow_private: bool) -> Result<url::Url, &'static str> {
    let url = url::Url::parse(text).map_err(|_| "invalid_url")?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        _ => return Err("webhook_https_only"),
    }
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err("invalid_url");
    }
    let refused = |r| match r {
        Refusal::Private => "webhook_private_address",
        Refusal::Never => "webhook_address_refused",
    };
    match url.host() {
        None => return Err("invalid_url"),
        Some(url::Host::Ipv4(ip)) => address_allowed(IpAddr::V4(ip), allow_private).map_err(refused)?,
        Some(url::Host::Ipv6(ip)) => address_allowed(IpAddr::V6(ip), allow_private).map_err(refused)?,
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.');
            if (name == "localhost" || name.ends_with(".localhost")) && !allow_private {
                return Err("webhook_private_address");
            }
        }
    }
    Ok(url)
}

/// Why a receiver's address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Loopback, private, link-local, shared (CGNAT) or unique-local: allowed only with
    /// `CCHC_WEBHOOK_ALLOW_PRIVATE=true`.
    Private,
    /// Cloud instance metadata, unspecified, multicast, broadcast, reserved or
    /// documentation addresses: never.
    Never,
}

/// Whether the service may send to `ip`.
pub fn address_allowed(ip: IpAddr, allow_private: bool) -> Result<(), Refusal> {
    let refusal = match ip {
        IpAddr::V4(v4) => refusal_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => refusal_v4(v4),
            None => refusal_v6(v6),
        },
    };
    match refusal {
        None => Ok(()),
        Some(Refusal::Private) if allow_private => Ok(()),
        Some(r) => Err(r),
    }
}

/// Cloud metadata services (AWS, GCP, Azure, OpenStack: 169.254.169.254; Alibaba:
/// 100.100.100.200; AWS over IPv6: fd00:ec2::254).
const METADATA_V4: [Ipv4Addr; 2] = [Ipv4Addr::new(169, 254, 169, 254), Ipv4Addr::new(100, 100, 100, 200)];
const METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);

fn refusal_v4(ip: Ipv4Addr) -> Option<Refusal> {
    let [a, b, c, _] = ip.octets();
    if METADATA_V4.contains(&ip)
        || a == 0
        || a >= 224
        || (a == 192 && b == 0 && (c == 0 || c == 2))
        || (a == 198 && (b & 0xfe) == 18)
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
    {
        return Some(Refusal::Never);
    }
    let private = a == 10
        || a == 127
        || (a == 172 && (b & 0xf0) == 16)
        || (a == 192 && b == 168)
        || (a == 169 && b == 254)
        || (a == 100 && (b & 0xc0) == 64);
    private.then_some(Refusal::Private)
}

fn refusal_v6(ip: Ipv6Addr) -> Option<Refusal> {
    let first = ip.segments()[0];
    if ip == METADATA_V6
        || ip.is_unspecified()
        || (first & 0xff00) == 0xff00
        || first == 0x2001 && ip.segments()[1] == 0xdb8
    {
        return Some(Refusal::Never);
    }
    let private = ip.is_loopback() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80;
    private.then_some(Refusal::Private)
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible or NAT64
/// (`64:ff9b::a.b.c.d`) address, which reaches that IPv4 host.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(tail),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(tail),
        [0, 0, 0, 0, 0, 0, _, _] if !ip.is_loopback() && !ip.is_unspecified() => Some(tail),
        _ => None,
    }
}

/// The waits before each retry (`CCHC_WEBHOOK_RETRY_SECONDS`): attempt `n + 1` comes
/// `seconds[n - 1]` (±20 % jitter) after attempt `n` failed; after the last, the
/// delivery has failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetrySchedule(Vec<u64>);

/// About three days: 5 s, 1 min, 5 min, 30 min, 2 h, 5 h, 10 h, then every 14 h.
pub const DEFAULT_RETRY_SECONDS: &str = "5,60,300,1800,7200,18000,36000,50400,50400,50400,50400";

impl RetrySchedule {
    pub fn parse(text: &str) -> Result<Self, String> {
        let waits: Result<Vec<u64>, _> = text.split(',').map(|s| s.trim().parse::<u64>()).collect();
        match waits {
            Ok(w) if !w.is_empty() && w.len() <= 50 && w.iter().all(|s| (1..=7 * 86_400).contains(s)) => Ok(Self(w)),
            _ => Err(format!(
                "CCHC_WEBHOOK_RETRY_SECONDS takes 1 to 50 waits in seconds (1 to 604800), comma-separated, got {text:?}"
            )),
        }
    }

    /// How long to wait after failed attempt `attempt` (1-based), with `jitter` in
    /// [0, 1) spreading it over ±20 %; `None` when there is no further attempt.
    pub fn wait_after(&self, attempt: i32, jitter: f64) -> Option<std::time::Duration> {
        let base = *self.0.get(usize::try_from(attempt).ok()?.checked_sub(1)?)? as f64;
        Some(std::time::Duration::from_secs_f64(base * (0.8 + 0.4 * jitter.clamp(0.0, 1.0))))
    }

    /// How many attempts a delivery gets in all.
    pub fn attempts(&self) -> usize {
        self.0.len() + 1
    }
}

/// A new signing secret as Standard Webhooks writes one: `whsec_` and 32 random bytes
/// in base64.
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_one_type_a_resource_or_everything() {
        let p = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(matches(&p(&["feedback.*"]), "feedback.answered"));
        assert!(!matches(&p(&["feedback.*"]), "feedback_category.created"));
        assert!(matches(&p(&["activity.verified", "plan.*"]), "activity.verified"));
        assert!(!matches(&p(&["activity.verified"]), "activity.returned"));
        assert!(matches(&p(&["*"]), "anything.at_all"));
        for good in ["*", "feedback.*", "feedback.answered", "plan_item.created"] {
            assert!(valid_pattern(good), "{good}");
        }
        for bad in ["", "feedback", "feedback.", ".x", "Feedback.x", "a.b.c", "feedback.**", "**", "a.*x"] {
            assert!(!valid_pattern(bad), "{bad}");
        }
        let schema = regex::Regex::new(r"^(\*|[a-z_]+\.([a-z_]+|\*))$").unwrap();
        for text in ["*", "a.b", "a_b.*", "a.b.c", "A.b", "a.", "*.*", "a.**"] {
            assert_eq!(schema.is_match(text), valid_pattern(text), "{text}");
        }
    }

    #[test]
    fn private_addresses_need_leave_and_metadata_never_goes() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        for public in ["203.162.4.191", "8.8.8.8", "2001:4860:4860::8888", "14.225.0.1"] {
            assert_eq!(address_allowed(ip(public), false), Ok(()), "{public}");
        }
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.10.1",
            "100.64.0.1",
            "::1",
            "fd12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert_eq!(address_allowed(ip(private), false), Err(Refusal::Private), "{private}");
            assert_eq!(address_allowed(ip(private), true), Ok(()), "{private}");
        }
        for never in [
            "169.254.169.254",
            "100.100.100.200",
            "fd00:ec2::254",
            "::ffff:169.254.169.254",
            "0.0.0.0",
            "::",
            "224.0.0.1",
            "255.255.255.255",
            "ff02::1",
            "192.0.2.1",
            "2001:db8::1",
        ] {
            assert_eq!(address_allowed(ip(never), true), Err(Refusal::Never), "{never}");
        }
        assert_eq!(address_allowed(ip("172.32.0.1"), false), Ok(()));
    }

    #[test]
    fn the_schedule_grows_with_jitter_and_ends() {
        let s = RetrySchedule::parse(DEFAULT_RETRY_SECONDS).unwrap();
        let total: f64 = (1..s.attempts() as i32).map(|n| s.wait_after(n, 0.5).unwrap().as_secs_f64()).sum();
        assert!((2.5 * 86_400.0..3.5 * 86_400.0).contains(&total), "about three days: {total}");
        assert_eq!(s.wait_after(s.attempts() as i32, 0.5), None);
        assert_eq!(s.wait_after(0, 0.5), None);
        let two = RetrySchedule::parse("1, 3").unwrap();
        assert_eq!(two.wait_after(1, 0.0).unwrap().as_millis(), 800);
        assert_eq!(two.wait_after(2, 1.0).unwrap().as_millis(), 3600);
        for bad in ["", "a", "0", "1,,2", "-1", "700000"] {
            assert!(RetrySchedule::parse(bad).is_err(), "{bad}");
        }
        let secret = new_secret();
        assert_eq!(check_url("https://portal.khanhhoa.gov.vn/hooks/cchc", false, false).map(|u| u.port()), Ok(None));
        assert_eq!(check_url("http://portal.example/x", false, false), Err("webhook_https_only"));
        assert!(check_url("http://portal.example/x", true, false).is_ok());
        assert_eq!(check_url("https://127.0.0.1:9/x", false, false), Err("webhook_private_address"));
        assert!(check_url("https://127.0.0.1:9/x", false, true).is_ok());
        assert_eq!(check_url("https://[::ffff:169.254.169.254]/", false, true), Err("webhook_address_refused"));
        assert_eq!(check_url("https://api.localhost/", false, false), Err("webhook_private_address"));
        for bad in ["portal.example", "https://u:p@portal.example/", "https://portal.example/#x", "ftp://x.example/"] {
            assert!(check_url(bad, false, false).is_err(), "{bad}");
        }
        assert!(secret.starts_with("whsec_") && secret.len() == 6 + 44 && secret != new_secret());
    }
}
