//! The Vietnamese label of every code (`code_enum!`): what officials read in
//! spreadsheets and messages, where the API and CSV keep the stable code.

/// `(enum, code, label)`. A unit test keeps every code of every enum here.
const LABELS: &[(&str, &str, &str)] = &[
    ("Role", "admin", "quản trị hệ thống"),
    ("Role", "org_admin", "quản trị đơn vị"),
    ("Role", "leader", "lãnh đạo"),
    ("Role", "coordinator", "đầu mối"),
    ("Role", "member", "cán bộ"),
    ("Role", "viewer", "người xem"),
    ("Scope", "directory:read", "xem danh bạ"),
    ("Scope", "plans:read", "xem kế hoạch"),
    ("Scope", "plans:write", "ghi kế hoạch"),
    ("Scope", "activities:read", "xem hoạt động"),
    ("Scope", "activities:write", "ghi hoạt động"),
    ("Scope", "feedback:read", "xem phản ánh"),
    ("Scope", "events:read", "xem luồng sự kiện"),
    ("Scope", "webhooks:manage", "quản lý webhook"),
    ("Scope", "oversight:read", "giám sát đơn vị cấp dưới"),
    ("Scope", "budget:write", "ghi kinh phí"),
    ("Scope", "metrics:read", "xem số đo vận hành"),
    ("Scope", "feedback:write", "gửi phản ánh"),
    ("Scope", "reports:read", "xem báo cáo"),
    ("PlanStatus", "draft", "dự thảo"),
    ("PlanStatus", "issued", "đã ban hành"),
    ("PlanStatus", "in_progress", "đang thực hiện"),
    ("PlanStatus", "closed", "đã kết thúc"),
    ("ItemKind", "part", "phần"),
    ("ItemKind", "section", "mục"),
    ("ItemKind", "objective", "mục tiêu"),
    ("ItemKind", "requirement", "yêu cầu"),
    ("ItemKind", "content", "nội dung"),
    ("ItemKind", "channel", "hình thức"),
    ("ItemKind", "task", "nhiệm vụ"),
    ("Audience", "staff", "cán bộ, công chức"),
    ("Audience", "public", "người dân, doanh nghiệp"),
    ("Audience", "all", "tất cả"),
    ("MessageKind", "receipt", "xác nhận tiếp nhận"),
    ("MessageKind", "extension", "gia hạn"),
    ("MessageKind", "answer", "trả lời"),
    ("MessageKind", "publication", "công khai kết quả"),
    ("MessageKind", "reopening", "xem xét lại"),
    ("MessageChannel", "email", "thư điện tử"),
    ("MessageChannel", "sms", "tin nhắn SMS"),
    ("PayeeKind", "organization", "tổ chức, doanh nghiệp"),
    ("PayeeKind", "individual", "cá nhân ngoài cơ quan"),
    ("PayeeKind", "staff", "cán bộ, công chức, viên chức"),
    ("PayeeKind", "press", "cơ quan báo chí"),
    ("PayeeKind", "other", "khác"),
    ("PublicationState", "on_time", "đăng đúng hạn"),
    ("PublicationState", "late", "đăng trễ hạn"),
    ("PublicationState", "unposted", "quá hạn chưa đăng"),
    ("PublicationState", "pending", "chưa đến hạn đăng"),
    ("Channel", "meeting", "họp"),
    ("Channel", "conference", "hội nghị"),
    ("Channel", "training", "tập huấn"),
    ("Channel", "internal_network", "mạng nội bộ"),
    ("Channel", "website_post", "trang thông tin điện tử"),
    ("Channel", "portal_news", "cổng thông tin"),
    ("Channel", "press_article", "báo chí"),
    ("Channel", "interview", "phỏng vấn"),
    ("Channel", "party_meeting", "sinh hoạt chi bộ"),
    ("Channel", "oral", "tuyên truyền miệng"),
    ("Channel", "banner", "băng rôn, pa-nô"),
    ("Channel", "sms_email", "tin nhắn, thư điện tử"),
    ("Channel", "contest_entry", "bài dự thi"),
    ("Channel", "other", "khác"),
    ("Unit", "percent", "%"),
    ("Unit", "count", "số lượng"),
    ("Unit", "rank", "thứ hạng"),
    ("Unit", "score", "điểm"),
    ("Unit", "index", "chỉ số"),
    ("Unit", "days", "ngày"),
    ("Unit", "vnd", "đồng"),
    ("Unit", "other", "khác"),
    ("Comparator", ">=", "≥"),
    ("Comparator", ">", ">"),
    ("Comparator", "<=", "≤"),
    ("Comparator", "<", "<"),
    ("Comparator", "=", "="),
    ("Comparator", "improves", "tăng so với gốc"),
    ("IndicatorScope", "organization", "đơn vị"),
    ("IndicatorScope", "province", "tỉnh"),
    ("MeasurementSource", "entered", "nhập tay"),
    ("MeasurementSource", "computed", "tự tính"),
    ("TargetStatus", "met", "đạt"),
    ("TargetStatus", "not_met", "chưa đạt"),
    ("TargetStatus", "no_data", "chưa có số liệu"),
    ("AssignmentRole", "lead", "chủ trì"),
    ("AssignmentRole", "coordinate", "phối hợp"),
    ("AssignmentRole", "execute", "thực hiện"),
    ("Reporting", "none", "không báo cáo"),
    ("Reporting", "monthly", "hằng tháng"),
    ("Reporting", "quarterly", "hằng quý"),
    ("Reporting", "half_yearly", "6 tháng"),
    ("Reporting", "yearly", "hằng năm"),
    // The dimensions of feedback statistics (`total` and each `GroupBy`).
    ("Dimension", "total", "tổng cộng"),
    ("Dimension", "category", "lĩnh vực"),
    ("Dimension", "channel", "kênh tiếp nhận"),
    ("Dimension", "department", "phòng xử lý"),
    ("Dimension", "month", "tháng"),
    ("PeriodCounting", "calendar", "theo tháng, quý, năm dương lịch"),
    ("PeriodCounting", "decree_09", "chốt số liệu theo Nghị định 09/2019/NĐ-CP"),
    ("AssignmentStatus", "assigned", "đã giao"),
    ("AssignmentStatus", "in_progress", "đang thực hiện"),
    ("AssignmentStatus", "done", "hoàn thành"),
    ("AssignmentStatus", "cancelled", "đã hủy"),
    ("DutyState", "upcoming", "chưa đến kỳ"),
    ("DutyState", "due", "đến hạn"),
    ("DutyState", "submitted", "đã báo cáo"),
    ("DutyState", "late", "trễ hạn"),
    ("DutyState", "missing", "chưa báo cáo"),
    ("ReportStatus", "submitted", "đã gửi"),
    ("ReportStatus", "accepted", "đã chấp nhận"),
    ("ReportStatus", "returned", "bị trả lại"),
    ("ActivityStatus", "draft", "nháp"),
    ("ActivityStatus", "submitted", "đã gửi"),
    ("ActivityStatus", "verified", "đã xác minh"),
    ("ActivityStatus", "returned", "bị trả lại"),
    ("FeedbackChannel", "hotline", "đường dây nóng"),
    ("FeedbackChannel", "email", "thư điện tử"),
    ("FeedbackChannel", "website", "trang thông tin điện tử"),
    ("FeedbackChannel", "letter", "văn bản, thư"),
    ("FeedbackChannel", "in_person", "trực tiếp"),
    ("FeedbackChannel", "portal", "cổng dịch vụ công"),
    ("FeedbackChannel", "press", "báo chí"),
    ("FeedbackChannel", "other", "khác"),
    ("FeedbackKind", "feedback", "phản ánh"),
    ("FeedbackKind", "complaint", "khiếu nại"),
    ("FeedbackKind", "recommendation", "kiến nghị"),
    ("FeedbackKind", "question", "hỏi đáp"),
    ("SenderType", "citizen", "công dân"),
    ("SenderType", "organization", "tổ chức"),
    ("SenderType", "business", "doanh nghiệp"),
    ("SenderType", "investor", "nhà đầu tư"),
    ("FeedbackStatus", "received", "đã tiếp nhận"),
    ("FeedbackStatus", "accepted", "đã thụ lý"),
    ("FeedbackStatus", "in_progress", "đang xử lý"),
    ("FeedbackStatus", "answered", "đã trả lời"),
    ("FeedbackStatus", "closed", "đã đóng"),
    ("FeedbackStatus", "rejected", "không thuộc thẩm quyền"),
    ("FeedbackStatus", "forwarded", "đã chuyển cơ quan khác"),
    ("FeedbackStatus", "merged", "đã gộp vào phản ánh cùng nội dung"),
    ("Satisfaction", "satisfied", "hài lòng"),
    ("Satisfaction", "neutral", "bình thường"),
    ("Satisfaction", "dissatisfied", "không hài lòng"),
];

/// The Vietnamese label of `code` of the enum named `kind`.
pub fn vi(kind: &str, code: &str) -> Option<&'static str> {
    LABELS.iter().find(|(k, c, _)| *k == kind && *c == code).map(|(_, _, label)| *label)
}

/// The labels of `code` in every enum that has it (for readers that meet a code
/// without knowing its enum, such as a test comparing a CSV file with a workbook).
pub fn of_code(code: &str) -> impl Iterator<Item = &'static str> + '_ {
    LABELS.iter().filter(move |(_, c, _)| *c == code).map(|(_, _, label)| *label)
}

#[cfg(test)]
mod tests {
    use super::vi;
    use crate::domain::{
        activities::ActivityStatus,
        assignments::{AssignmentRole, AssignmentStatus, DutyState, PeriodCounting, ReportStatus, Reporting},
        budget::{PayeeKind, PublicationState},
        feedback::{FeedbackChannel, FeedbackKind, FeedbackStatus, Satisfaction, SenderType},
        messages::{MessageChannel, MessageKind},
        plans::{
            Audience, Channel, Comparator, IndicatorScope, ItemKind, MeasurementSource, PlanStatus, TargetStatus, Unit,
        },
        roles::Role,
    };

    #[test]
    fn every_code_has_a_vietnamese_label() {
        macro_rules! all {
            ($($kind:ident),+) => {{
                let mut missing = Vec::new();
                $(for code in $kind::ALL {
                    if vi(stringify!($kind), code.as_str()).is_none() {
                        missing.push(format!("{}::{}", stringify!($kind), code.as_str()));
                    }
                    assert_eq!(code.label(), vi(stringify!($kind), code.as_str()).unwrap_or(code.as_str()));
                })+
                missing
            }};
        }
        let missing = all!(
            Role,
            PlanStatus,
            ItemKind,
            Audience,
            Channel,
            Unit,
            Comparator,
            IndicatorScope,
            MeasurementSource,
            TargetStatus,
            AssignmentRole,
            Reporting,
            PeriodCounting,
            AssignmentStatus,
            DutyState,
            ReportStatus,
            ActivityStatus,
            FeedbackChannel,
            FeedbackKind,
            SenderType,
            FeedbackStatus,
            Satisfaction,
            MessageKind,
            MessageChannel,
            PayeeKind,
            PublicationState
        );
        assert!(missing.is_empty(), "codes without a label: {missing:?}");
    }
}
