//! Communication activities: their life, and which evidence files are accepted.
use crate::code_enum;

code_enum! {
    /// An activity's review: recorded (`draft`), sent for verification (`submitted`),
    /// `verified` by the coordinator (then read-only), or `returned` with a reason — back
    /// with the department, like a draft.
    pub enum ActivityStatus {
        Draft = "draft",
        Submitted = "submitted",
        Verified = "verified",
        Returned = "returned",
    }
}

impl ActivityStatus {
    pub fn next(self) -> &'static [ActivityStatus] {
        match self {
            Self::Draft | Self::Returned => &[Self::Submitted],
            Self::Submitted => &[Self::Verified, Self::Returned],
            Self::Verified => &[],
        }
    }

    /// Whether the coordinator's review is what moves it there.
    pub fn is_review(self) -> bool {
        matches!(self, Self::Verified | Self::Returned)
    }
}

crate::lifecycle!(ActivityStatus);

/// The kinds of evidence accepted, recognised by their content (never by name or
/// declared type): `(MIME type, usual extension)`.
pub const EVIDENCE_TYPES: &[(&str, &str)] = &[
    ("application/pdf", "pdf"),
    ("image/jpeg", "jpg"),
    ("image/png", "png"),
    ("image/webp", "webp"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    ("application/vnd.oasis.opendocument.text", "odt"),
    ("video/mp4", "mp4"),
    // As phones and offices produce them: iPhone photos, iPhone videos, and the Word and
    // Excel formats before 2007.
    ("image/heif", "heic"),
    ("video/quicktime", "mov"),
    ("application/msword", "doc"),
    ("application/vnd.ms-excel", "xls"),
];

/// The accepted kinds by their usual extensions, for people: `PDF, JPG, …, XLS`.
pub fn accepted_names() -> String {
    EVIDENCE_TYPES.iter().map(|(_, ext)| ext.to_uppercase()).collect::<Vec<_>>().join(", ")
}

/// Whether the file is an OLE2 compound file (`.doc`, `.xls`): its type is told by its
/// directory, which may lie past the first bytes, so it is read whole.
pub fn is_compound_file(head: &[u8]) -> bool {
    head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])
}

/// The accepted type of a file from its first bytes, or what it really is (`Err`).
pub fn evidence_type(head: &[u8]) -> Result<&'static str, String> {
    match infer::get(head) {
        Some(kind) => EVIDENCE_TYPES
            .iter()
            .find(|(mime, _)| *mime == kind.mime_type())
            .map(|(mime, _)| *mime)
            .ok_or_else(|| kind.mime_type().to_owned()),
        None => Err("application/octet-stream".to_owned()),
    }
}

/// Staff reached as a percentage, to two decimals; none to reach counts as 0 %.
pub fn reach_percent(reached: i64, total: i64) -> f64 {
    if total <= 0 { 0.0 } else { (reached as f64 * 10_000.0 / total as f64).round() / 100.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_known_by_their_content() {
        assert_eq!(evidence_type(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), Ok("application/pdf"));
        assert_eq!(evidence_type(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F']), Ok("image/jpeg"));
        let program = std::fs::read("/bin/true").unwrap();
        assert_eq!(evidence_type(&program), Err("application/x-executable".to_owned()));
        assert!(evidence_type(b"MZ\x90\x00\x03\x00\x00\x00").is_err());
        assert_eq!(evidence_type(b"just some text"), Err("application/octet-stream".to_owned()));
    }

    #[test]
    fn reach_is_a_percentage_of_active_staff() {
        assert_eq!(reach_percent(6, 8), 75.0);
        assert_eq!(reach_percent(1, 3), 33.33);
        assert_eq!(reach_percent(0, 0), 0.0);
    }

    #[test]
    fn only_a_submitted_activity_is_reviewed() {
        assert_eq!(ActivityStatus::Draft.next(), [ActivityStatus::Submitted]);
        assert_eq!(ActivityStatus::Submitted.next(), [ActivityStatus::Verified, ActivityStatus::Returned]);
        assert!(ActivityStatus::Verified.next().is_empty());
    }
}
