//! The one place that says who may do what.
//!
//! People have a role in one organisation; service clients (other e-government
//! systems) have scopes. Every handler asks `Principal::require(Permission)`, and the
//! OpenAPI description of every operation and the README table are generated from
//! `MATRIX` and `OPERATIONS` below, so the documentation cannot drift from the checks.
use crate::code_enum;
pub use crate::domain::roles::Role;

code_enum! {
    /// What a service client may do.
    pub enum Scope {
        DirectoryRead = "directory:read",
        PlansRead = "plans:read",
        PlansWrite = "plans:write",
        ActivitiesRead = "activities:read",
        ActivitiesWrite = "activities:write",
        FeedbackRead = "feedback:read",
        FeedbackWrite = "feedback:write",
        ReportsRead = "reports:read",
        EventsRead = "events:read",
        WebhooksManage = "webhooks:manage",
        OversightRead = "oversight:read",
        BudgetWrite = "budget:write",
        MetricsRead = "metrics:read",
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    OrganizationsRead,
    OrganizationsManage,
    OrganizationsUpdate,
    DepartmentsRead,
    DepartmentsWrite,
    UsersRead,
    UsersWrite,
    ServiceClientsManage,
    AuditRead,
    EventsRead,
    WebhooksManage,
    MessageTemplatesManage,
    Oversee,
    SubmissionsReview,
    SubmissionsRead,
    PlansRead,
    PlansWrite,
    AssignmentsRead,
    AssignmentsWrite,
    ReportsSubmit,
    ReportsReview,
    ActivitiesRead,
    ActivitiesWrite,
    ActivitiesVerify,
    FeedbackRead,
    FeedbackCreate,
    FeedbackManage,
    FeedbackAnswer,
    ReportsRead,
    ReportsSnapshot,
    BudgetRead,
    BudgetWrite,
    DataProtection,
    MetricsRead,
}

pub struct Grant {
    pub permission: Permission,
    pub what: &'static str,
    /// `what`, shortly, in Vietnamese (for the 403's text).
    pub what_vi: &'static str,
    pub roles: &'static [Role],
    pub scopes: &'static [Scope],
}

use Role::{Admin, Coordinator, Leader, Member, OrgAdmin, Viewer};

const EVERYONE: &[Role] = &[Admin, OrgAdmin, Leader, Coordinator, Member, Viewer];

pub const MATRIX: &[Grant] = &[
    Grant {
        permission: Permission::OrganizationsRead,
        what: "read organisations (their own; the administrator all)",
        what_vi: "xem tổ chức",
        roles: EVERYONE,
        scopes: &[Scope::DirectoryRead],
    },
    Grant {
        permission: Permission::OrganizationsManage,
        what: "create and delete organisations",
        what_vi: "tạo và xóa tổ chức",
        roles: &[Admin],
        scopes: &[],
    },
    Grant {
        permission: Permission::OrganizationsUpdate,
        what: "update an organisation's details",
        what_vi: "sửa thông tin tổ chức",
        roles: &[Admin, OrgAdmin],
        scopes: &[],
    },
    Grant {
        permission: Permission::DepartmentsRead,
        what: "read departments",
        what_vi: "xem phòng",
        roles: EVERYONE,
        scopes: &[Scope::DirectoryRead],
    },
    Grant {
        permission: Permission::DepartmentsWrite,
        what: "create, change and delete departments",
        what_vi: "tạo, sửa và xóa phòng",
        roles: &[Admin, OrgAdmin],
        scopes: &[],
    },
    Grant {
        permission: Permission::UsersRead,
        what: "read people",
        what_vi: "xem người dùng",
        roles: EVERYONE,
        scopes: &[Scope::DirectoryRead],
    },
    Grant {
        permission: Permission::UsersWrite,
        what: "create, change, deactivate and delete people; set their passwords",
        what_vi: "tạo, sửa, khóa, xóa người dùng và đặt mật khẩu",
        roles: &[Admin, OrgAdmin],
        scopes: &[],
    },
    Grant {
        permission: Permission::ServiceClientsManage,
        what: "read, create, change and delete service clients; rotate their secrets",
        what_vi: "quản lý ứng dụng kết nối và khóa bí mật",
        roles: &[Admin, OrgAdmin],
        scopes: &[],
    },
    Grant {
        permission: Permission::PlansRead,
        what: "read documents, plans, plan items, indicators and measurements",
        what_vi: "xem văn bản, kế hoạch, mục, chỉ tiêu và số đo",
        roles: EVERYONE,
        scopes: &[Scope::PlansRead, Scope::PlansWrite],
    },
    Grant {
        permission: Permission::PlansWrite,
        what: "create, change, import and delete documents, plans, plan items, indicators; move plans through their statuses; enter measurements",
        what_vi: "tạo, sửa, nhập, xóa văn bản, kế hoạch, mục, chỉ tiêu; chuyển trạng thái kế hoạch; nhập số đo",
        roles: &[Admin, OrgAdmin, Leader, Coordinator],
        scopes: &[Scope::PlansWrite],
    },
    Grant {
        permission: Permission::AssignmentsRead,
        what: "read department assignments, reporting duties and progress reports",
        what_vi: "xem phân công, nghĩa vụ báo cáo và báo cáo tiến độ",
        roles: EVERYONE,
        scopes: &[Scope::PlansRead, Scope::PlansWrite],
    },
    Grant {
        permission: Permission::AssignmentsWrite,
        what: "create, change, move through their statuses and delete department assignments",
        what_vi: "tạo, sửa, chuyển trạng thái và xóa phân công",
        roles: &[Admin, OrgAdmin, Leader, Coordinator],
        scopes: &[Scope::PlansWrite],
    },
    Grant {
        permission: Permission::ReportsSubmit,
        what: "submit and correct progress reports (a `member`: only for their own department)",
        what_vi: "gửi và sửa báo cáo tiến độ",
        roles: &[Admin, OrgAdmin, Leader, Coordinator, Member],
        scopes: &[Scope::PlansWrite],
    },
    Grant {
        permission: Permission::ReportsReview,
        what: "accept (freeze) or return progress reports",
        what_vi: "chấp nhận hoặc trả lại báo cáo tiến độ",
        roles: &[Admin, OrgAdmin, Leader, Coordinator],
        scopes: &[],
    },
    Grant {
        permission: Permission::ActivitiesRead,
        what: "read activities, their evidence files and staff reach",
        what_vi: "xem hoạt động, minh chứng và mức độ bao phủ cán bộ",
        roles: EVERYONE,
        scopes: &[Scope::ActivitiesRead, Scope::ActivitiesWrite],
    },
    Grant {
        permission: Permission::ActivitiesWrite,
        what: "record, change, submit and delete activities; upload and delete their evidence (a `member`: only for their own department)",
        what_vi: "ghi, sửa, gửi, xóa hoạt động và minh chứng",
        roles: &[Admin, OrgAdmin, Leader, Coordinator, Member],
        scopes: &[Scope::ActivitiesWrite],
    },
    Grant {
        permission: Permission::ActivitiesVerify,
        what: "verify or return submitted activities",
        what_vi: "xác minh hoặc trả lại hoạt động",
        roles: &[Admin, OrgAdmin, Leader, Coordinator],
        scopes: &[],
    },
    Grant {
        permission: Permission::BudgetRead,
        what: "read budget lines, allocations and spending (not the receipts' files)",
        what_vi: "xem kinh phí",
        roles: EVERYONE,
        scopes: &[Scope::PlansRead, Scope::PlansWrite, Scope::BudgetWrite],
    },
    Grant {
        permission: Permission::BudgetWrite,
        what: "write budget lines, allocations, spending, receipts and settlement, and read the receipts' files (a `leader` or `member`: only of the organisation's finance and accounting department)",
        what_vi: "ghi kinh phí (phòng Tài chính kế toán và đầu mối)",
        roles: &[Admin, OrgAdmin, Leader, Coordinator, Member],
        scopes: &[Scope::BudgetWrite],
    },
    Grant {
        permission: Permission::FeedbackRead,
        what: "read feedback records (personal data masked but for the coordinator, leader and assigned department; a service client with `feedback:write` only the records it sent)",
        what_vi: "xem phản ánh, kiến nghị",
        roles: EVERYONE,
        scopes: &[Scope::FeedbackRead, Scope::FeedbackWrite],
    },
    Grant {
        permission: Permission::FeedbackCreate,
        what: "file feedback records and record the sender's satisfaction",
        what_vi: "tiếp nhận phản ánh và ghi mức độ hài lòng",
        roles: &[Admin, OrgAdmin, Leader, Coordinator, Member],
        scopes: &[Scope::FeedbackWrite],
    },
    Grant {
        permission: Permission::FeedbackManage,
        what: "assign, change, move through statuses, publish and delete feedback; manage categories and holidays",
        what_vi: "phân công, sửa, chuyển trạng thái, công khai, xóa phản ánh; quản lý lĩnh vực và ngày nghỉ",
        roles: &[Admin, OrgAdmin, Leader, Coordinator],
        scopes: &[],
    },
    Grant {
        permission: Permission::FeedbackAnswer,
        what: "answer feedback (people of the assigned department only)",
        what_vi: "trả lời phản ánh (phòng được giao)",
        roles: &[OrgAdmin, Leader, Coordinator, Member],
        scopes: &[],
    },
    Grant {
        permission: Permission::ReportsRead,
        what: "read reports of plans and feedback, as JSON, CSV or XLSX, and their snapshots (a `member`: their own department's section only)",
        what_vi: "xem báo cáo",
        roles: EVERYONE,
        scopes: &[Scope::ReportsRead],
    },
    Grant {
        permission: Permission::ReportsSnapshot,
        what: "freeze a plan's report for a closed period as a snapshot",
        what_vi: "chốt số liệu báo cáo",
        roles: &[Admin, OrgAdmin, Leader, Coordinator],
        scopes: &[],
    },
    Grant {
        permission: Permission::EventsRead,
        what: "read the event feed (changes, without personal data)",
        what_vi: "xem luồng sự kiện",
        roles: &[Admin, OrgAdmin, Leader, Coordinator],
        scopes: &[Scope::EventsRead],
    },
    Grant {
        permission: Permission::WebhooksManage,
        what: "manage webhook subscriptions: create, change, delete, rotate their secrets, see and retry deliveries, ping",
        what_vi: "quản lý webhook",
        roles: &[Admin, OrgAdmin],
        scopes: &[Scope::WebhooksManage],
    },
    Grant {
        permission: Permission::MessageTemplatesManage,
        what: "read and write the organisation's templates of messages to senders",
        what_vi: "quản lý mẫu tin nhắn gửi người phản ánh",
        roles: &[Admin, OrgAdmin],
        scopes: &[],
    },
    Grant {
        permission: Permission::Oversee,
        what: "oversee the organisations below their own: read their plans, items, indicators, assignments, reporting duties, activities, evidence lists and feedback statistics (never a feedback record), and the roll-up of a plan they implement",
        what_vi: "giám sát các đơn vị cấp dưới",
        roles: &[Admin, OrgAdmin, Leader],
        scopes: &[Scope::OversightRead],
    },
    Grant {
        permission: Permission::SubmissionsRead,
        what: "read a report sent upward and its frozen content: the unit's own, or one sent to their organisation",
        what_vi: "xem báo cáo gửi cấp trên",
        roles: EVERYONE,
        scopes: &[Scope::ReportsRead, Scope::OversightRead],
    },
    Grant {
        permission: Permission::SubmissionsReview,
        what: "acknowledge or return the reports the units below send",
        what_vi: "tiếp nhận, trả lại báo cáo của đơn vị cấp dưới",
        roles: &[Admin, OrgAdmin, Leader],
        scopes: &[],
    },
    Grant {
        permission: Permission::DataProtection,
        what: "act on citizens' requests about their personal data (find by phone or e-mail, export, restrict, erase), see the retention run and the erasure log, re-apply it after a restore",
        what_vi: "xử lý yêu cầu về dữ liệu cá nhân (Nghị định 13/2023)",
        roles: &[Admin, OrgAdmin],
        scopes: &[],
    },
    Grant {
        permission: Permission::MetricsRead,
        what: "read the service's metrics (`GET /metrics`, Prometheus text)",
        what_vi: "xem số đo vận hành",
        roles: &[Admin],
        scopes: &[Scope::MetricsRead],
    },
    Grant {
        permission: Permission::AuditRead,
        what: "read the audit trail",
        what_vi: "xem nhật ký hệ thống",
        roles: &[Admin, OrgAdmin, Leader],
        scopes: &[],
    },
];

/// What an oversight read may do in the organisation below (`Principal::overseeing`).
pub const OVERSIGHT_READS: &[Permission] = &[
    Permission::OrganizationsRead,
    Permission::DepartmentsRead,
    Permission::PlansRead,
    Permission::AssignmentsRead,
    Permission::ActivitiesRead,
    Permission::ReportsRead,
];

pub fn grant(permission: Permission) -> &'static Grant {
    MATRIX.iter().find(|g| g.permission == permission).expect("every permission is in MATRIX")
}

/// Who may call an operation.
#[derive(Clone, Copy, Debug)]
pub enum Access {
    /// No token needed.
    Public,
    /// Any valid token.
    SignedIn,
    Needs(Permission),
    /// The permission, and a further rule the handler checks (in the words of the
    /// operation's description).
    Rule(Permission, &'static str),
    /// Any signed-in person (not a service client), for what the text says.
    PersonOnly(&'static str),
    /// The permission to read the collection exported.
    Export,
    /// Open311: the permission, through `api_key` (a service client's
    /// `<client_id>:<client_secret>`) or a bearer token; without either, a 403 as the
    /// specification has it.
    ApiKey(Permission),
}

/// Every operation of the API by its OpenAPI `operationId`. An operation missing here
/// fails the OpenAPI build, so a new endpoint cannot ship without deciding who may call it.
pub const OPERATIONS: &[(&str, Access)] = &[
    ("healthz", Access::Public),
    ("readyz", Access::Public),
    ("metrics", Access::Needs(Permission::MetricsRead)),
    ("issue_token", Access::Public),
    ("me", Access::SignedIn),
    ("list_notifications", Access::PersonOnly("their own notices")),
    ("read_notification", Access::PersonOnly("their own notices")),
    ("read_all_notifications", Access::PersonOnly("their own notices")),
    ("get_notification_preferences", Access::PersonOnly("their own choices")),
    ("set_notification_preferences", Access::PersonOnly("their own choices")),
    ("list_organizations", Access::Needs(Permission::OrganizationsRead)),
    ("get_organization", Access::Needs(Permission::OrganizationsRead)),
    ("create_organization", Access::Needs(Permission::OrganizationsManage)),
    ("update_organization", Access::Needs(Permission::OrganizationsUpdate)),
    ("delete_organization", Access::Needs(Permission::OrganizationsManage)),
    ("list_departments", Access::Needs(Permission::DepartmentsRead)),
    ("get_department", Access::Needs(Permission::DepartmentsRead)),
    ("create_department", Access::Needs(Permission::DepartmentsWrite)),
    ("update_department", Access::Needs(Permission::DepartmentsWrite)),
    ("delete_department", Access::Needs(Permission::DepartmentsWrite)),
    ("list_users", Access::Needs(Permission::UsersRead)),
    ("get_user", Access::Needs(Permission::UsersRead)),
    ("create_user", Access::Needs(Permission::UsersWrite)),
    ("update_user", Access::Needs(Permission::UsersWrite)),
    ("delete_user", Access::Needs(Permission::UsersWrite)),
    (
        "set_user_password",
        Access::PersonOnly(
            "their own password (with the current one), or anyone's in their organisation for `org_admin`, anyone's for `admin`",
        ),
    ),
    ("list_service_clients", Access::Needs(Permission::ServiceClientsManage)),
    ("get_service_client", Access::Needs(Permission::ServiceClientsManage)),
    ("create_service_client", Access::Needs(Permission::ServiceClientsManage)),
    ("update_service_client", Access::Needs(Permission::ServiceClientsManage)),
    ("delete_service_client", Access::Needs(Permission::ServiceClientsManage)),
    ("rotate_service_client_secret", Access::Needs(Permission::ServiceClientsManage)),
    ("list_audit_events", Access::Needs(Permission::AuditRead)),
    ("list_events", Access::Needs(Permission::EventsRead)),
    ("list_webhooks", Access::Needs(Permission::WebhooksManage)),
    ("get_webhook", Access::Needs(Permission::WebhooksManage)),
    ("create_webhook", Access::Needs(Permission::WebhooksManage)),
    ("update_webhook", Access::Needs(Permission::WebhooksManage)),
    ("delete_webhook", Access::Needs(Permission::WebhooksManage)),
    ("rotate_webhook_secret", Access::Needs(Permission::WebhooksManage)),
    ("list_webhook_deliveries", Access::Needs(Permission::WebhooksManage)),
    ("retry_webhook_delivery", Access::Needs(Permission::WebhooksManage)),
    ("ping_webhook", Access::Needs(Permission::WebhooksManage)),
    ("list_message_templates", Access::Needs(Permission::MessageTemplatesManage)),
    ("get_message_template", Access::Needs(Permission::MessageTemplatesManage)),
    ("put_message_template", Access::Needs(Permission::MessageTemplatesManage)),
    ("delete_message_template", Access::Needs(Permission::MessageTemplatesManage)),
    ("list_documents", Access::Needs(Permission::PlansRead)),
    ("get_document", Access::Needs(Permission::PlansRead)),
    ("create_document", Access::Needs(Permission::PlansWrite)),
    ("update_document", Access::Needs(Permission::PlansWrite)),
    ("delete_document", Access::Needs(Permission::PlansWrite)),
    ("list_plans", Access::Needs(Permission::PlansRead)),
    ("get_plan", Access::Needs(Permission::PlansRead)),
    ("create_plan", Access::Needs(Permission::PlansWrite)),
    ("update_plan", Access::Needs(Permission::PlansWrite)),
    ("delete_plan", Access::Needs(Permission::PlansWrite)),
    ("transition_plan", Access::Needs(Permission::PlansWrite)),
    (
        "import_plan",
        Access::Rule(
            Permission::PlansWrite,
            "creating the organisations the file names needs `create and delete organisations`, creating its departments `create, change and delete departments`",
        ),
    ),
    ("list_plan_items", Access::Needs(Permission::PlansRead)),
    ("get_plan_item", Access::Needs(Permission::PlansRead)),
    ("create_plan_item", Access::Needs(Permission::PlansWrite)),
    ("update_plan_item", Access::Needs(Permission::PlansWrite)),
    ("delete_plan_item", Access::Needs(Permission::PlansWrite)),
    ("list_indicators", Access::Needs(Permission::PlansRead)),
    ("get_indicator", Access::Needs(Permission::PlansRead)),
    ("create_indicator", Access::Needs(Permission::PlansWrite)),
    ("update_indicator", Access::Needs(Permission::PlansWrite)),
    ("delete_indicator", Access::Needs(Permission::PlansWrite)),
    ("list_measurements", Access::Needs(Permission::PlansRead)),
    ("create_measurement", Access::Needs(Permission::PlansWrite)),
    ("list_assignments", Access::Needs(Permission::AssignmentsRead)),
    ("get_assignment", Access::Needs(Permission::AssignmentsRead)),
    ("create_assignment", Access::Needs(Permission::AssignmentsWrite)),
    ("update_assignment", Access::Needs(Permission::AssignmentsWrite)),
    ("delete_assignment", Access::Needs(Permission::AssignmentsWrite)),
    ("transition_assignment", Access::Needs(Permission::AssignmentsWrite)),
    ("list_department_assignments", Access::Needs(Permission::AssignmentsRead)),
    ("list_reporting_duties", Access::Needs(Permission::AssignmentsRead)),
    ("list_plan_reporting_duties", Access::Needs(Permission::AssignmentsRead)),
    ("get_progress_report", Access::Needs(Permission::AssignmentsRead)),
    ("list_progress_report_versions", Access::Needs(Permission::AssignmentsRead)),
    ("submit_progress_report", Access::Needs(Permission::ReportsSubmit)),
    ("update_progress_report", Access::Needs(Permission::ReportsSubmit)),
    ("review_progress_report", Access::Needs(Permission::ReportsReview)),
    ("list_activities", Access::Needs(Permission::ActivitiesRead)),
    ("get_activity", Access::Needs(Permission::ActivitiesRead)),
    ("create_activity", Access::Needs(Permission::ActivitiesWrite)),
    ("update_activity", Access::Needs(Permission::ActivitiesWrite)),
    ("delete_activity", Access::Needs(Permission::ActivitiesWrite)),
    (
        "transition_activity",
        Access::Rule(
            Permission::ActivitiesWrite,
            "`verified` and `returned` need `verify activities`; the other moves, for a `member`, their own department's activities",
        ),
    ),
    ("get_staff_reach", Access::Needs(Permission::ActivitiesRead)),
    ("list_evidence", Access::Needs(Permission::ActivitiesRead)),
    ("upload_evidence", Access::Needs(Permission::ActivitiesWrite)),
    ("get_evidence", Access::Needs(Permission::ActivitiesRead)),
    ("download_evidence", Access::Needs(Permission::ActivitiesRead)),
    ("delete_evidence", Access::Needs(Permission::ActivitiesWrite)),
    ("list_budget_lines", Access::Needs(Permission::BudgetRead)),
    ("get_budget_line", Access::Needs(Permission::BudgetRead)),
    ("create_budget_line", Access::Needs(Permission::BudgetWrite)),
    ("update_budget_line", Access::Needs(Permission::BudgetWrite)),
    ("delete_budget_line", Access::Needs(Permission::BudgetWrite)),
    ("list_budget_allocations", Access::Needs(Permission::BudgetRead)),
    ("get_budget_allocation", Access::Needs(Permission::BudgetRead)),
    ("create_budget_allocation", Access::Needs(Permission::BudgetWrite)),
    ("update_budget_allocation", Access::Needs(Permission::BudgetWrite)),
    ("delete_budget_allocation", Access::Needs(Permission::BudgetWrite)),
    ("list_budget_spendings", Access::Needs(Permission::BudgetRead)),
    ("get_budget_spending", Access::Needs(Permission::BudgetRead)),
    ("create_budget_spending", Access::Needs(Permission::BudgetWrite)),
    ("update_budget_spending", Access::Needs(Permission::BudgetWrite)),
    ("delete_budget_spending", Access::Needs(Permission::BudgetWrite)),
    ("put_budget_receipt", Access::Needs(Permission::BudgetWrite)),
    ("download_budget_receipt", Access::Needs(Permission::BudgetWrite)),
    ("list_feedback_categories", Access::Needs(Permission::FeedbackRead)),
    ("get_feedback_category", Access::Needs(Permission::FeedbackRead)),
    ("create_feedback_category", Access::Needs(Permission::FeedbackManage)),
    ("update_feedback_category", Access::Needs(Permission::FeedbackManage)),
    ("delete_feedback_category", Access::Needs(Permission::FeedbackManage)),
    ("list_holidays", Access::Needs(Permission::FeedbackRead)),
    ("create_holiday", Access::Needs(Permission::FeedbackManage)),
    ("get_calendar", Access::Needs(Permission::FeedbackRead)),
    ("delete_holiday", Access::Needs(Permission::FeedbackManage)),
    ("list_feedback", Access::Needs(Permission::FeedbackRead)),
    ("get_feedback", Access::Needs(Permission::FeedbackRead)),
    (
        "create_feedback",
        Access::Rule(
            Permission::FeedbackCreate,
            "setting `deadline_on` by hand needs `assign, change, move through statuses, publish and delete feedback`",
        ),
    ),
    ("update_feedback", Access::Needs(Permission::FeedbackManage)),
    ("delete_feedback", Access::Needs(Permission::FeedbackManage)),
    (
        "transition_feedback",
        Access::Rule(
            Permission::FeedbackManage,
            "the people of the assigned department with `answer feedback` may also move it to `in_progress`",
        ),
    ),
    ("list_feedback_history", Access::Needs(Permission::FeedbackRead)),
    ("list_feedback_answers", Access::Needs(Permission::FeedbackRead)),
    ("answer_feedback", Access::Needs(Permission::FeedbackAnswer)),
    ("list_progress_notes", Access::Needs(Permission::FeedbackRead)),
    (
        "create_progress_note",
        Access::Rule(Permission::FeedbackAnswer, "people of the assigned department, or who may manage feedback"),
    ),
    ("list_feedback_extensions", Access::Needs(Permission::FeedbackRead)),
    (
        "extend_feedback",
        Access::Rule(Permission::FeedbackAnswer, "people of the assigned department, or who may manage feedback"),
    ),
    (
        "upload_feedback_attachments",
        Access::Rule(Permission::FeedbackCreate, "a service client: only to records it filed"),
    ),
    (
        "list_feedback_attachments",
        Access::Rule(Permission::FeedbackRead, "a service client with `feedback:write`: only of records it filed"),
    ),
    (
        "get_feedback_attachment",
        Access::Rule(Permission::FeedbackRead, "a service client with `feedback:write`: only of records it filed"),
    ),
    (
        "download_feedback_attachment",
        Access::Rule(Permission::FeedbackRead, "a service client with `feedback:write`: only of records it filed"),
    ),
    ("update_feedback_attachment", Access::Needs(Permission::FeedbackManage)),
    ("delete_feedback_attachment", Access::Needs(Permission::FeedbackManage)),
    ("discovery", Access::Public),
    ("list_services", Access::Public),
    ("get_service_definition", Access::Public),
    ("get_token", Access::Public),
    // Public: published results; with credentials, what the caller may read of feedback.
    ("list_requests", Access::Public),
    ("get_request", Access::Public),
    ("create_request", Access::ApiKey(Permission::FeedbackCreate)),
    ("download_public_attachment", Access::Public),
    (
        "get_similar_feedback",
        Access::Rule(
            Permission::FeedbackRead,
            "a service client with `feedback:write`: only of and among the records it filed",
        ),
    ),
    (
        "get_feedback_suggestions",
        Access::Rule(Permission::FeedbackRead, "a service client with `feedback:write`: only of records it filed"),
    ),
    ("merge_feedback", Access::Needs(Permission::FeedbackManage)),
    ("unmerge_feedback", Access::Needs(Permission::FeedbackManage)),
    ("list_sender_messages", Access::Needs(Permission::FeedbackRead)),
    ("rate_feedback", Access::Needs(Permission::FeedbackCreate)),
    ("publish_feedback", Access::Needs(Permission::FeedbackManage)),
    ("unpublish_feedback", Access::Needs(Permission::FeedbackManage)),
    ("get_satisfaction_rate", Access::Needs(Permission::FeedbackRead)),
    ("list_public_feedback", Access::Public),
    ("get_public_feedback", Access::Public),
    ("get_feedback_status", Access::Public),
    ("reopen_feedback", Access::Public),
    ("set_feedback_notify_by", Access::Public),
    ("get_plan_report", Access::Needs(Permission::ReportsRead)),
    ("get_plan_rollup", Access::Needs(Permission::Oversee)),
    ("submit_report", Access::Needs(Permission::ReportsSnapshot)),
    ("list_plan_submissions", Access::Needs(Permission::ReportsRead)),
    ("list_submission_duties", Access::Needs(Permission::ReportsRead)),
    ("list_report_submissions", Access::Needs(Permission::Oversee)),
    (
        "get_report_submission",
        Access::Rule(Permission::SubmissionsRead, "the unit that sent it, or the organisation it was sent to"),
    ),
    (
        "get_report_submission_content",
        Access::Rule(Permission::SubmissionsRead, "the unit that sent it, or the organisation it was sent to"),
    ),
    ("acknowledge_report_submission", Access::Needs(Permission::SubmissionsReview)),
    ("return_report_submission", Access::Needs(Permission::SubmissionsReview)),
    ("get_feedback_report", Access::Needs(Permission::ReportsRead)),
    ("get_register", Access::SignedIn),
    ("export_subject_data", Access::Needs(Permission::DataProtection)),
    ("restrict_subject", Access::Needs(Permission::DataProtection)),
    ("erase_subject", Access::Needs(Permission::DataProtection)),
    ("get_retention_report", Access::Needs(Permission::DataProtection)),
    ("get_erasure_log", Access::Needs(Permission::DataProtection)),
    ("reapply_erasures", Access::Needs(Permission::DataProtection)),
    ("put_legal_hold", Access::Needs(Permission::FeedbackManage)),
    ("delete_legal_hold", Access::Needs(Permission::FeedbackManage)),
    (
        "get_feedback_consent",
        Access::Rule(Permission::FeedbackRead, "a service client with `feedback:write`: only of records it filed"),
    ),
    ("withdraw_feedback_consent", Access::Needs(Permission::FeedbackManage)),
    ("get_triage_report", Access::Needs(Permission::ReportsRead)),
    ("create_report_snapshot", Access::Needs(Permission::ReportsSnapshot)),
    ("list_report_snapshots", Access::Needs(Permission::ReportsRead)),
    ("get_report_snapshot", Access::Needs(Permission::ReportsRead)),
    ("get_report_snapshot_content", Access::Needs(Permission::ReportsRead)),
    ("export_collection", Access::Export),
];

pub fn access_of(operation_id: &str) -> Option<Access> {
    OPERATIONS.iter().find(|(id, _)| *id == operation_id).map(|(_, a)| *a)
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
}

fn needs(permission: Permission) -> String {
    let g = grant(permission);
    let scopes = if g.scopes.is_empty() { "none".to_owned() } else { join(g.scopes) };
    format!("**Access:** {}: roles {}; service-client scopes {}.", g.what, join(g.roles), scopes)
}

/// The permission's roles and scopes, as a 403 names them (codes, in any language).
pub fn holders(permission: Permission) -> (String, String) {
    let g = grant(permission);
    let list = |items: Vec<String>| if items.is_empty() { "—".to_owned() } else { items.join(", ") };
    (
        list(g.roles.iter().map(ToString::to_string).collect()),
        list(g.scopes.iter().map(|s| s.as_str().to_owned()).collect()),
    )
}

/// The sentence appended to an operation's OpenAPI description.
pub fn describe(access: Access) -> String {
    match access {
        Access::Public => "**Access:** public, no token needed.".to_owned(),
        Access::SignedIn => "**Access:** any valid token (person or service client).".to_owned(),
        Access::PersonOnly(what) => format!("**Access:** a person (not a service client): {what}."),
        Access::Export => "**Access:** the permission to read the collection: `plans`, `plan-items`, \
            `indicators` and `measurements` as plans are read, `assignments` as assignments are read, \
            `activities` and `evidence` as activities are read, `feedback` as feedback is read (a service client with `feedback:write`: the \
            records it sent)."
            .to_owned(),
        Access::Needs(permission) => needs(permission),
        Access::Rule(permission, rule) => format!("{} Also: {rule}.", needs(permission)),
        Access::ApiKey(permission) => format!(
            "{} Credentials: `api_key`, a service client's `<client_id>:<client_secret>`, or a bearer token; \
             without either, a 403 (Open311's answer).",
            needs(permission)
        ),
    }
}

/// The README's table of the matrix (a unit test keeps the README in step).
pub fn matrix_markdown() -> String {
    let mut out = String::from("| permission | roles | service-client scopes |\n|---|---|---|\n");
    for g in MATRIX {
        let scopes = if g.scopes.is_empty() { "—".to_owned() } else { join(g.scopes) };
        out.push_str(&format!("| {} | {} | {} |\n", g.what, join(g.roles), scopes));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_has_a_vietnamese_label() {
        for scope in Scope::ALL {
            assert!(crate::domain::labels::vi("Scope", scope.as_str()).is_some(), "{scope}");
        }
    }

    #[test]
    fn readme_shows_the_current_matrix() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        assert!(
            readme.contains(&matrix_markdown()),
            "README.md's access table is out of date; paste this in:\n{}",
            matrix_markdown()
        );
    }
}
