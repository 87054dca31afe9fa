//! Messages to the senders of feedback: the kinds, the placeholders each kind's
//! templates may use, the built-in templates (Vietnamese, with diacritics), rendering,
//! and how many parts an SMS takes (GSM 03.38 or UCS-2).
use crate::code_enum;

code_enum! {
    /// What a message to a sender is about.
    pub enum MessageKind {
        /// The record was filed: its code, the legal deadline, how to track it.
        Receipt = "receipt",
        /// The deadline was extended: the new one and why.
        Extension = "extension",
        /// The record was answered.
        Answer = "answer",
        /// The result was published on the public pages.
        Publication = "publication",
        /// The sender reopened the record: the new deadline.
        Reopening = "reopening",
    }
}

code_enum! {
    /// How a sender is told.
    pub enum MessageChannel {
        Email = "email",
        Sms = "sms",
    }
}

/// Placeholders every kind may use.
const COMMON: &[&str] = &["code", "organization", "tracking_url"];

impl MessageKind {
    /// The placeholders its templates may use besides `COMMON`.
    fn own(self) -> &'static [&'static str] {
        match self {
            Self::Receipt => &["received_on", "deadline", "pin"],
            Self::Extension => &["deadline", "previous_deadline", "reason"],
            Self::Answer => &["answer", "reopen_until"],
            Self::Publication => &["summary", "public_url"],
            Self::Reopening => &["deadline", "reason"],
        }
    }

    /// Every placeholder its templates may use, as `{name}` in the text.
    pub fn placeholders(self) -> Vec<&'static str> {
        COMMON.iter().chain(self.own()).copied().collect()
    }

    /// Values to show what a template gives (`GET /message-templates`), as long as
    /// real ones usually are.
    pub fn sample(self) -> Vec<(&'static str, String)> {
        let all = [
            ("code", "PAKN-2021-000123"),
            ("organization", "Ban Quản lý dự án phát triển tỉnh Khánh Hòa"),
            ("tracking_url", "https://cchc.khanhhoa.gov.vn/api/v1/public/feedback/PAKN-2021-000123/status"),
            ("received_on", "15/03/2021"),
            ("deadline", "29/03/2021"),
            ("previous_deadline", "22/03/2021"),
            ("pin", "40718263"),
            ("reason", "Cần xác minh thêm tại hiện trường"),
            ("answer", "Hồ sơ của Ông/Bà đã được giải quyết ngày 20/03/2021."),
            ("reopen_until", "02/04/2021"),
            ("summary", "Đã giải quyết hồ sơ bồi thường"),
            ("public_url", "https://cchc.khanhhoa.gov.vn/api/v1/public/feedback/PAKN-2021-000123"),
        ];
        let names = self.placeholders();
        all.into_iter().filter(|(n, _)| names.contains(n)).map(|(n, v)| (n, v.to_owned())).collect()
    }
}

/// A template: a subject (e-mail only) and a body, with `{placeholder}`s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pub subject: Option<String>,
    pub body: String,
}

/// The built-in template of `kind` on `channel`, used while the organisation has none.
pub fn builtin(kind: MessageKind, channel: MessageChannel) -> Template {
    use MessageChannel::*;
    use MessageKind::*;
    let (subject, body) = match (kind, channel) {
        (Receipt, Email) => (
            "Đã tiếp nhận phản ánh, kiến nghị {code}",
            "Kính gửi Ông/Bà,\n\n{organization} đã tiếp nhận phản ánh, kiến nghị của Ông/Bà ngày {received_on}, \
             số {code}. Thời hạn trả lời theo quy định: {deadline}.\n\nÔng/Bà theo dõi kết quả tại {tracking_url} \
             với mã PIN {pin} (xin giữ kín mã này).\n\nTrân trọng.",
        ),
        (Receipt, Sms) => {
            ("", "{organization}: đã tiếp nhận PAKN {code}, hạn trả lời {deadline}. Mã PIN tra cứu: {pin}")
        }
        (Extension, Email) => (
            "Gia hạn thời hạn trả lời phản ánh, kiến nghị {code}",
            "Kính gửi Ông/Bà,\n\nThời hạn trả lời phản ánh, kiến nghị số {code} được gia hạn từ {previous_deadline} \
             đến {deadline}. Lý do: {reason}.\n\nTheo dõi tại {tracking_url}.\n\nTrân trọng.\n{organization}",
        ),
        (Extension, Sms) => ("", "{organization}: PAKN {code} được gia hạn trả lời đến {deadline}. Lý do: {reason}"),
        (Answer, Email) => (
            "Trả lời phản ánh, kiến nghị {code}",
            "Kính gửi Ông/Bà,\n\n{organization} trả lời phản ánh, kiến nghị số {code} như sau:\n\n{answer}\n\n\
             Nếu chưa đồng ý, Ông/Bà có thể đề nghị xem xét lại đến hết ngày {reopen_until} tại {tracking_url}.\n\n\
             Trân trọng.",
        ),
        (Answer, Sms) => ("", "{organization} đã trả lời PAKN {code}. Xem tại {tracking_url}"),
        (Publication, Email) => (
            "Kết quả giải quyết phản ánh, kiến nghị {code} đã được công khai",
            "Kính gửi Ông/Bà,\n\nKết quả giải quyết phản ánh, kiến nghị số {code} đã được công khai tại {public_url}:\n\n\
             {summary}\n\nTrân trọng.\n{organization}",
        ),
        (Publication, Sms) => ("", "{organization}: kết quả PAKN {code} đã được công khai tại {public_url}"),
        (Reopening, Email) => (
            "Đã tiếp nhận đề nghị xem xét lại phản ánh, kiến nghị {code}",
            "Kính gửi Ông/Bà,\n\n{organization} đã tiếp nhận đề nghị xem xét lại phản ánh, kiến nghị số {code}. \
             Thời hạn trả lời mới: {deadline}.\n\nTheo dõi tại {tracking_url}.\n\nTrân trọng.",
        ),
        (Reopening, Sms) => {
            ("", "{organization}: đã tiếp nhận đề nghị xem xét lại PAKN {code}, hạn trả lời {deadline}")
        }
    };
    Template { subject: (channel == Email).then(|| subject.to_owned()), body: body.to_owned() }
}

/// The placeholders in `text`, or why it is not a template: `Err(("template_placeholder_unknown", name))`
/// for a name `kind` does not have, `Err(("template_brace_unmatched", ""))` for a lone brace.
pub fn check(kind: MessageKind, text: &str) -> Result<Vec<String>, (&'static str, String)> {
    let known = kind.placeholders();
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(['{', '}']) {
        if rest.as_bytes()[i] == b'}' {
            return Err(("template_brace_unmatched", String::new()));
        }
        let after = &rest[i + 1..];
        let Some(end) = after.find(['{', '}']).filter(|&e| after.as_bytes()[e] == b'}') else {
            return Err(("template_brace_unmatched", String::new()));
        };
        let name = &after[..end];
        if !known.contains(&name) {
            return Err(("template_placeholder_unknown", name.chars().take(40).collect()));
        }
        found.push(name.to_owned());
        rest = &after[end + 1..];
    }
    Ok(found)
}

/// `text` with each `{name}` replaced by its value (a checked template has only known ones).
pub fn render(text: &str, values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                match values.iter().find(|(n, _)| *n == name) {
                    Some((_, value)) => out.push_str(value),
                    None => out.push_str(&rest[i..i + end + 2]),
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// How an SMS is encoded and how many parts it takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmsSize {
    /// `gsm` (GSM 03.38, 160 characters in one part, 153 per part of a longer one) or
    /// `ucs2` (70, then 67: any Vietnamese letter with a diacritic outside GSM's few).
    pub encoding: &'static str,
    /// Characters as the network counts them (GSM extension characters count two;
    /// UCS-2 counts UTF-16 units).
    pub length: usize,
    pub parts: usize,
}

/// GSM 03.38's basic characters.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Its extension table (each an escape and a character: two).
const GSM_EXTENDED: &str = "^{}\\[~]|€\u{c}";

pub fn sms_size(text: &str) -> SmsSize {
    let gsm: Option<usize> = text
        .chars()
        .map(|c| {
            if GSM_BASIC.contains(c) {
                Some(1)
            } else if GSM_EXTENDED.contains(c) {
                Some(2)
            } else {
                None
            }
        })
        .sum();
    let (encoding, length, single, multi) = match gsm {
        Some(n) => ("gsm", n, 160, 153),
        None => ("ucs2", text.encode_utf16().count(), 70, 67),
    };
    let parts = if length <= single { 1 } else { length.div_ceil(multi) };
    SmsSize { encoding, length, parts }
}

/// A Vietnamese phone number as a gateway takes it: `0912 345 678` → `+84912345678`;
/// `None` when it has too few digits to be one.
pub fn e164(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let international = phone.trim_start().starts_with('+');
    let number = if international {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_owned()
    } else if let Some(rest) = digits.strip_prefix('0') {
        format!("84{rest}")
    } else {
        digits
    };
    (8..=15).contains(&number.len()).then(|| format!("+{number}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_template_is_a_valid_one_of_its_kind() {
        for &kind in MessageKind::ALL {
            for &channel in MessageChannel::ALL {
                let t = builtin(kind, channel);
                assert!(check(kind, &t.body).is_ok(), "{kind} {channel}");
                assert_eq!(t.subject.is_some(), channel == MessageChannel::Email);
                if let Some(subject) = &t.subject {
                    assert!(check(kind, subject).is_ok());
                }
                let text = render(&t.body, &kind.sample());
                assert!(!text.contains('{'), "{kind} {channel}: {text}");
                if channel == MessageChannel::Sms {
                    assert!(sms_size(&text).parts <= 3, "{kind}: {} parts", sms_size(&text).parts);
                }
            }
        }
        assert!(builtin(MessageKind::Receipt, MessageChannel::Email).body.contains("{pin}"));
    }

    #[test]
    fn placeholders_are_checked() {
        assert_eq!(check(MessageKind::Receipt, "Mã {code}, PIN {pin}").unwrap(), vec!["code", "pin"]);
        assert_eq!(check(MessageKind::Answer, "PIN {pin}"), Err(("template_placeholder_unknown", "pin".to_owned())));
        assert_eq!(check(MessageKind::Answer, "{code"), Err(("template_brace_unmatched", String::new())));
        assert_eq!(check(MessageKind::Answer, "code}"), Err(("template_brace_unmatched", String::new())));
        assert_eq!(check(MessageKind::Answer, "{{code}}"), Err(("template_brace_unmatched", String::new())));
        assert_eq!(check(MessageKind::Answer, "{}"), Err(("template_placeholder_unknown", String::new())));
        assert_eq!(render("Số {code}: {answer}", &[("code", "A".into()), ("answer", "{pin}".into())]), "Số A: {pin}");
    }

    #[test]
    fn sms_parts_follow_gsm_and_ucs2_limits() {
        assert_eq!(sms_size(&"a".repeat(160)), SmsSize { encoding: "gsm", length: 160, parts: 1 });
        assert_eq!(sms_size(&"a".repeat(161)).parts, 2);
        assert_eq!(sms_size(&"a".repeat(306)).parts, 2);
        assert_eq!(sms_size(&"a".repeat(307)).parts, 3);
        assert_eq!(sms_size("€").length, 2);
        assert_eq!(sms_size("Đã tiếp nhận").encoding, "ucs2");
        assert_eq!(sms_size(&"ệ".repeat(70)).parts, 1);
        assert_eq!(sms_size(&"ệ".repeat(71)).parts, 2);
        assert_eq!(sms_size(&"ệ".repeat(134)).parts, 2);
        assert_eq!(sms_size(&"ệ".repeat(135)).parts, 3);
        let receipt = render(&builtin(MessageKind::Receipt, MessageChannel::Sms).body, &MessageKind::Receipt.sample());
        assert_eq!((sms_size(&receipt).encoding, sms_size(&receipt).parts), ("ucs2", 2), "{receipt}");
    }

    #[test]
    fn phones_become_international() {
        assert_eq!(e164("0912 345 678").as_deref(), Some("+84912345678"));
        assert_eq!(e164("+84 912.345.678").as_deref(), Some("+84912345678"));
        assert_eq!(e164("0084912345678").as_deref(), Some("+84912345678"));
        assert_eq!(e164("(0258) 3822 123").as_deref(), Some("+842583822123"));
        assert_eq!(e164("12345"), None);
    }
}
