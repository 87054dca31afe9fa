//! What staff read in notice e-mails and the daily digest, in Vietnamese or English.
use chrono::NaiveDate;

/// A notice's e-mail: subject and body.
pub fn mail(full_name: &str, english: bool, title: &str, link: &str) -> (String, String) {
    let body = if english {
        format!("Dear {full_name},\n\n{title}\n\nDetails: {link}\n\n— cchc-outreach\n")
    } else {
        format!("Kính gửi {full_name},\n\n{title}\n\nXem chi tiết: {link}\n\n— Hệ thống cchc-outreach\n")
    };
    (format!("[CCHC] {title}"), body)
}

/// One e-mail listing the day's notices.
pub fn digest(full_name: &str, english: bool, day: NaiveDate, titles: &[&str]) -> (String, String) {
    let on = day.format("%d/%m/%Y");
    let list: String = titles.iter().map(|t| format!("- {t}\n")).collect();
    if english {
        let subject = format!("[CCHC] {} notice(s) — digest of {on}", titles.len());
        let body = format!(
            "Dear {full_name},\n\nYour notices since the last digest:\n\n{list}\nAll of them are in your inbox \
             (GET /api/v1/me/notifications).\n\n— cchc-outreach\n"
        );
        (subject, body)
    } else {
        let subject = format!("[CCHC] {} thông báo — tổng hợp ngày {on}", titles.len());
        let body = format!(
            "Kính gửi {full_name},\n\nCác thông báo từ lần tổng hợp trước:\n\n{list}\nTất cả có trong hộp thông báo \
             của Ông/Bà (GET /api/v1/me/notifications).\n\n— Hệ thống cchc-outreach\n"
        );
        (subject, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_lists_every_notice_in_the_persons_language() {
        let day = NaiveDate::from_ymd_opt(2021, 3, 29).unwrap();
        let (subject, body) = digest("Lê Văn An", false, day, &["Phản ánh A quá hạn", "Báo cáo kỳ 2021-Q1 đến hạn"]);
        assert_eq!(subject, "[CCHC] 2 thông báo — tổng hợp ngày 29/03/2021");
        assert!(body.contains("- Phản ánh A quá hạn\n- Báo cáo kỳ 2021-Q1 đến hạn\n"), "{body}");
        let (subject, body) = digest("An Le", true, day, &["Feedback A is overdue"]);
        assert!(subject.starts_with("[CCHC] 1 notice(s)") && body.starts_with("Dear An Le"), "{subject} {body}");
    }
}
