//! Problem titles and messages in Vietnamese (the default) and English, chosen by
//! `Accept-Language`. Codes are stable; texts may change.

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    /// The first of `vi`/`en` in the header by preference (q-values honoured), else `vi`.
    pub fn from_accept_language(header: Option<&str>) -> Self {
        let Some(header) = header else { return Self::Vi };
        let mut best: Option<(f32, Self)> = None;
        for part in header.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces.find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
            let lang = match tag.split('-').next() {
                Some("vi") => Self::Vi,
                Some("en") => Self::En,
                _ => continue,
            };
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map_or(Self::Vi, |(_, lang)| lang)
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Vi => "vi",
            Self::En => "en",
        }
    }
}

pub fn title(status: u16, lang: Lang) -> &'static str {
    let (vi, en) = match status {
        400 => ("Dữ liệu không hợp lệ", "Invalid request"),
        401 => ("Chưa xác thực", "Unauthenticated"),
        403 => ("Không có quyền", "Forbidden"),
        404 => ("Không tìm thấy", "Not found"),
        405 => ("Phương thức không được hỗ trợ", "Method not allowed"),
        406 => ("Không có định dạng phù hợp", "Not acceptable"),
        408 => ("Hết thời gian chờ", "Request timeout"),
        414 => ("Địa chỉ quá dài", "URI too long"),
        431 => ("Phần đầu yêu cầu quá lớn", "Request header fields too large"),
        409 => ("Xung đột", "Conflict"),
        410 => ("Không còn", "Gone"),
        412 => ("Điều kiện không thỏa", "Precondition failed"),
        413 => ("Nội dung quá lớn", "Payload too large"),
        416 => ("Khoảng byte không hợp lệ", "Range not satisfiable"),
        415 => ("Kiểu nội dung không được hỗ trợ", "Unsupported media type"),
        422 => ("Vi phạm quy tắc nghiệp vụ", "Unprocessable content"),
        429 => ("Quá nhiều yêu cầu", "Too many requests"),
        503 => ("Dịch vụ tạm thời không khả dụng", "Service unavailable"),
        _ => ("Lỗi máy chủ", "Internal server error"),
    };
    pick(lang, vi, en)
}

/// The slug of the problem `type` URI for a status.
pub fn type_slug(status: u16) -> &'static str {
    match status {
        400 => "validation",
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not-found",
        405 => "method-not-allowed",
        406 => "not-acceptable",
        408 => "request-timeout",
        414 => "uri-too-long",
        431 => "headers-too-large",
        409 => "conflict",
        410 => "gone",
        412 => "precondition-failed",
        413 => "payload-too-large",
        415 => "unsupported-media-type",
        416 => "range-not-satisfiable",
        422 => "unprocessable",
        429 => "rate-limited",
        503 => "unavailable",
        _ => "internal",
    }
}

/// The message for `code`, with `{name}` placeholders filled from `args`.
///
/// In Vietnamese, a value is said in Vietnamese: an argument `<name>_vi` given beside
/// `<name>` replaces it, a date `YYYY-MM-DD` is written `dd/mm/yyyy`, and the English
/// names of records (`users`, `organization` …) are translated.
pub fn message(code: &str, lang: Lang, args: &[(&'static str, String)]) -> String {
    let template = messages().find(|(c, _, _)| *c == code).map_or(code, |(_, vi, en)| pick(lang, vi, en));
    let mut text = template.to_owned();
    for (name, value) in args {
        let value = match lang {
            Lang::En => value.clone(),
            Lang::Vi => in_vietnamese(name, value, args),
        };
        text = text.replace(&format!("{{{name}}}"), &value);
    }
    text
}

/// The English names of records that messages name, in Vietnamese.
const RECORD_NAMES: &[(&str, &str)] = &[
    ("organization", "tổ chức"),
    ("organizations", "tổ chức"),
    ("department", "phòng"),
    ("departments", "phòng"),
    ("users", "người dùng"),
    ("plan", "kế hoạch"),
    ("plans", "kế hoạch"),
    ("plan_items", "mục kế hoạch"),
    ("document", "văn bản"),
    ("documents", "văn bản"),
    ("indicators", "chỉ tiêu"),
    ("assignments", "phân công"),
    ("progress_reports", "báo cáo tiến độ"),
    ("activities", "hoạt động"),
    ("evidence", "minh chứng"),
    ("feedback", "phản ánh"),
    ("category", "lĩnh vực"),
    ("plan item", "mục kế hoạch"),
    ("service_clients", "ứng dụng kết nối"),
];

fn in_vietnamese(name: &str, value: &str, args: &[(&'static str, String)]) -> String {
    if let Some((_, vi)) = args.iter().find(|(n, _)| n.strip_suffix("_vi") == Some(name)) {
        return vi.clone();
    }
    if let Ok(day) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return day.format("%d/%m/%Y").to_string();
    }
    let words: Vec<String> = value
        .split(", ")
        .map(|word| RECORD_NAMES.iter().find(|(en, _)| *en == word).map_or(word, |(_, vi)| vi).to_owned())
        .collect();
    words.join(", ")
}

fn messages() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str)> {
    PROBLEMS.iter().chain(FIELDS)
}

/// Every code a problem may carry, in the order written.
pub fn problem_codes() -> impl Iterator<Item = &'static str> {
    PROBLEMS.iter().map(|(code, _, _)| *code)
}

fn pick(lang: Lang, vi: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

/// (code, Vietnamese, English) of every problem's `code`: also the enum of
/// `Problem.code` in the OpenAPI document.
const PROBLEMS: &[(&str, &str, &str)] = &[
    ("bad_request", "Yêu cầu không hợp lệ.", "The request is invalid."),
    ("validation_failed", "Dữ liệu gửi lên không hợp lệ.", "The request data is invalid."),
    (
        "malformed_json",
        "Nội dung JSON không đọc được (sai cú pháp ở dòng {line}, cột {column}).",
        "The JSON body could not be read: {reason}",
    ),
    ("malformed_form", "Nội dung biểu mẫu không đọc được.", "The form body could not be read."),
    ("json_object_expected", "Nội dung phải là một đối tượng JSON.", "The body must be a JSON object."),
    ("invalid_query", "Tham số truy vấn không hợp lệ.", "The query parameters are invalid."),
    ("invalid_path", "Đường dẫn chứa giá trị không hợp lệ.", "The path holds an invalid value."),
    (
        "invalid_cursor",
        "Con trỏ phân trang không hợp lệ hoặc đã bị sửa.",
        "The pagination cursor is invalid or was altered.",
    ),
    (
        "unknown_cursor",
        "Con trỏ phân trang không do danh sách này cấp (đã bị sửa, của danh sách khác hoặc của thứ tự khác).",
        "This list did not issue this pagination cursor (altered, from another list, or of the other ordering).",
    ),
    ("invalid_header", "Tiêu đề {header} không hợp lệ.", "The {header} header is invalid."),
    (
        "unauthenticated",
        "Cần gửi mã truy cập (Authorization: Bearer).",
        "A bearer token is required (Authorization: Bearer).",
    ),
    ("invalid_token", "Mã truy cập không hợp lệ hoặc đã hết hạn.", "The access token is invalid or has expired."),
    ("invalid_grant", "Tên đăng nhập hoặc mật khẩu không đúng.", "The username or password is wrong."),
    ("invalid_client", "Mã ứng dụng hoặc khóa bí mật không đúng.", "The client id or secret is wrong."),
    (
        "unsupported_grant_type",
        "Chỉ hỗ trợ grant_type password và client_credentials.",
        "Only the password and client_credentials grant types are supported.",
    ),
    (
        "several_client_credentials",
        "Chỉ xác thực ứng dụng một cách: HTTP Basic hoặc client_id và client_secret trong nội dung.",
        "Authenticate the client one way only: HTTP Basic, or client_id and client_secret in the body.",
    ),
    ("invalid_scope", "Phạm vi yêu cầu vượt quá phạm vi được cấp.", "The requested scope exceeds the granted scopes."),
    (
        "login_locked",
        "Đăng nhập sai quá nhiều lần; thử lại sau {seconds} giây.",
        "Too many failed sign-ins; try again in {seconds} seconds.",
    ),
    ("wrong_password", "Mật khẩu hiện tại không đúng.", "The current password is wrong."),
    ("forbidden", "Bạn không có quyền thực hiện thao tác này.", "You are not allowed to do this."),
    ("not_found", "Không tìm thấy tài nguyên.", "The resource was not found."),
    ("route_not_found", "Không có địa chỉ {path}.", "There is no route {path}."),
    (
        "method_not_allowed",
        "Địa chỉ này không hỗ trợ phương thức {method}; cho phép: {allow}.",
        "This route does not support {method}; allowed: {allow}.",
    ),
    (
        "not_acceptable",
        "Không có biểu diễn phù hợp với Accept; có: {available}.",
        "No representation matches Accept; available: {available}.",
    ),
    (
        "version_mismatch",
        "Bản ghi đã được sửa (phiên bản hiện tại là {current}); hãy tải lại rồi thử lại.",
        "The record has changed (current version {current}); reload it and try again.",
    ),
    ("payload_too_large", "Nội dung vượt quá giới hạn {limit} byte.", "The body exceeds the limit of {limit} bytes."),
    (
        "unsupported_media_type",
        "Kiểu nội dung không được hỗ trợ; cần {expected}.",
        "Unsupported content type; expected {expected}.",
    ),
    (
        "idempotency_key_reused",
        "Idempotency-Key này đã được dùng cho một yêu cầu khác.",
        "This Idempotency-Key was already used for a different request.",
    ),
    (
        "idempotency_in_progress",
        "Yêu cầu với Idempotency-Key này đang được xử lý.",
        "A request with this Idempotency-Key is still being processed.",
    ),
    (
        "database_unavailable",
        "Cơ sở dữ liệu tạm thời không khả dụng; hãy thử lại sau.",
        "The database is temporarily unavailable; try again later.",
    ),
    (
        "internal_error",
        "Đã xảy ra lỗi máy chủ; mã yêu cầu giúp tra cứu nhật ký.",
        "A server error occurred; the request id helps find it in the logs.",
    ),
    ("organization_code_taken", "Mã tổ chức này đã tồn tại.", "This organisation code is already taken."),
    (
        "department_code_taken",
        "Mã phòng ban này đã có trong tổ chức.",
        "This department code is already taken in the organisation.",
    ),
    ("username_taken", "Tên đăng nhập này đã tồn tại.", "This username is already taken."),
    ("code_taken", "Giá trị đã tồn tại.", "The value is already taken."),
    ("has_dependents", "Không thể xóa: còn {what} liên quan.", "Cannot delete: {what} still refer to it."),
    ("parent_cycle", "Tổ chức cấp trên tạo thành vòng lặp.", "The parent organisation would create a cycle."),
    ("reference_invalid", "Bản ghi tham chiếu không tồn tại.", "A referenced record does not exist."),
    (
        "cannot_change_own_account",
        "Không thể tự thay đổi vai trò, trạng thái hoặc xóa tài khoản của chính mình.",
        "You cannot change your own role or active flag, or delete yourself.",
    ),
    ("not_a_client", "Chỉ người dùng mới đổi được mật khẩu.", "Only people have passwords."),
    (
        "transition_not_allowed",
        "Không thể chuyển từ trạng thái “{from_vi}” sang “{to_vi}”; được phép: {allowed_vi}.",
        "Cannot go from {from} to {to}; allowed: {allowed}.",
    ),
    ("plan_closed", "Kế hoạch đã kết thúc; không thể sửa.", "The plan is closed and can no longer be changed."),
    ("plan_code_taken", "Mã kế hoạch này đã có trong tổ chức.", "This plan code is already taken in the organisation."),
    (
        "plan_exists",
        "Kế hoạch {code} đã có; muốn cập nhật thì yêu cầu rõ (on_conflict=update, hoặc --update).",
        "The plan {code} already exists; to update it, ask explicitly (on_conflict=update, or --update).",
    ),
    (
        "budget_line_code_taken",
        "Mã dòng kinh phí này đã có trong kế hoạch.",
        "This budget line code is already used in the plan.",
    ),
    (
        "budget_line_has_entries",
        "Dòng kinh phí đã có khoản cấp hoặc khoản chi; xóa các khoản đó trước.",
        "The budget line has allocations or spending; delete those first.",
    ),
    (
        "document_number_taken",
        "Văn bản cùng số và cơ quan ban hành đã có.",
        "A document with this number and issuer is already recorded.",
    ),
    ("reference_taken", "Số hiệu mục này đã có trong kế hoạch.", "This item reference is already used in the plan."),
    (
        "indicator_code_taken",
        "Mã chỉ tiêu này đã có trong kế hoạch.",
        "This indicator code is already used in the plan.",
    ),
    (
        "item_cycle",
        "Không thể đặt mục vào chính nó hoặc mục con của nó.",
        "An item cannot be placed under itself or one of its descendants.",
    ),
    ("parent_other_plan", "Mục cha phải thuộc cùng kế hoạch.", "The parent item must belong to the same plan."),
    (
        "item_has_dependents",
        "Mục còn {what}; gửi cascade=true để xóa cả.",
        "The item still has {what}; send cascade=true to delete them too.",
    ),
    (
        "import_invalid",
        "Tệp nhập có {count} lỗi; không có gì được ghi.",
        "The file has {count} problem(s); nothing was written.",
    ),
    (
        "document_cited",
        "Văn bản đang được kế hoạch hoặc mục kế hoạch trích dẫn.",
        "The document is cited by a plan or plan item.",
    ),
    ("plan_has_children", "Kế hoạch đang được kế hoạch khác triển khai.", "Other plans implement this plan."),
    (
        "parent_plan_invalid",
        "Kế hoạch cấp trên phải thuộc tổ chức này hoặc tổ chức cấp trên.",
        "The parent plan must belong to this organisation or one above it.",
    ),
    ("lead_taken", "Mục này đã có phòng chủ trì.", "This item already has a lead department."),
    ("already_assigned", "Phòng này đã được giao mục này.", "This department is already assigned to this item."),
    (
        "report_pending",
        "Báo cáo kỳ này đang chờ duyệt; hãy sửa bằng PATCH.",
        "This period's report awaits review; change it with PATCH.",
    ),
    (
        "report_frozen",
        "Báo cáo đã được chấp nhận và không sửa được; hãy gửi bản đính chính.",
        "The report was accepted and is frozen; submit a correction instead.",
    ),
    (
        "unknown_period",
        "Kỳ {period} không phải là kỳ báo cáo của nhiệm vụ này; các kỳ: {allowed}.",
        "{period} is not a reporting period of this assignment; its periods: {allowed}.",
    ),
    ("no_reporting", "Nhiệm vụ này không có nghĩa vụ báo cáo định kỳ.", "This assignment has no periodic reporting."),
    ("other_department", "Chỉ được làm việc này cho phòng của mình.", "You may only do this for your own department."),
    ("plan_or_item_required", "Cần plan_id hoặc plan_item_id.", "Give plan_id or plan_item_id."),
    (
        "activity_verified",
        "Hoạt động đã được xác minh và không sửa được.",
        "The activity is verified and can no longer change.",
    ),
    (
        "items_other_plan",
        "Các mục phải thuộc cùng một kế hoạch của tổ chức.",
        "The items must belong to one plan of the organisation.",
    ),
    (
        "unsupported_file_type",
        "Tệp {file} là {found}; chỉ nhận {accepted}.",
        "The file {file} is {found}; only {accepted} are accepted.",
    ),
    ("file_too_large", "Tệp vượt quá giới hạn {limit} byte.", "A file exceeds the limit of {limit} bytes."),
    ("no_files", "Không có tệp nào trong yêu cầu (trường file).", "The request holds no file (field file)."),
    ("multipart_invalid", "Nội dung multipart không đọc được.", "The multipart body could not be read: {reason}"),
    (
        "range_not_satisfiable",
        "Khoảng byte yêu cầu nằm ngoài tệp ({size} byte).",
        "The requested byte range lies outside the file ({size} bytes).",
    ),
    (
        "content_corrupted",
        "Nội dung tệp không khớp mã SHA-256 đã ghi.",
        "The file's content does not match its recorded SHA-256.",
    ),
    (
        "anonymous_with_sender",
        "Phản ánh ẩn danh không được kèm thông tin người gửi.",
        "An anonymous record carries no sender details.",
    ),
    (
        "notify_by_without_contact",
        "Muốn được báo qua email cần có email người gửi, qua SMS cần có số điện thoại.",
        "Being told by e-mail needs the sender's e-mail address; by SMS, their phone.",
    ),
    (
        "notify_by_not_consented",
        "Chỉ có thể bỏ bớt cách nhận tin đã đồng ý khi gửi phản ánh.",
        "Only ways of being told consented to at filing can be kept; others can only be dropped.",
    ),
    (
        "template_placeholder_unknown",
        "Mẫu tin loại này không có trường «{name}»; các trường dùng được: {allowed}.",
        "This kind of template has no placeholder «{name}»; it may use: {allowed}.",
    ),
    (
        "template_brace_unmatched",
        "Dấu ngoặc nhọn chỉ dùng để bao tên một trường của mẫu.",
        "Braces only enclose the name of one of the template's placeholders.",
    ),
    (
        "template_subject_email_only",
        "Chỉ mẫu thư điện tử mới có tiêu đề, và phải có.",
        "An e-mail template has a subject, and only it.",
    ),
    (
        "implements_not_in_parent_plan",
        "Mục được thực hiện phải là một mục của kế hoạch cấp trên mà kế hoạch này triển khai.",
        "The item implemented must be an item of the parent plan this plan implements.",
    ),
    (
        "no_parent_organization",
        "Đơn vị không có cơ quan cấp trên để gửi báo cáo.",
        "The organisation has none above it to send a report to.",
    ),
    (
        "submission_exists",
        "Báo cáo kỳ {period} đã được gửi và chưa bị trả lại.",
        "The {period} report was sent already and has not been returned.",
    ),
    ("submission_decided", "Báo cáo đã được xử lý ({status}).", "The report has been dealt with already ({status})."),
    ("department_required", "Cần giao phòng xử lý trước.", "Assign a department first."),
    ("feedback_not_accepted", "Phản ánh chưa được tiếp nhận xử lý.", "The record has not been accepted for handling."),
    ("feedback_not_answered", "Phản ánh chưa được trả lời.", "The record has not been answered."),
    (
        "evidence_erased",
        "Tệp minh chứng có hình ảnh cá nhân đã bị xóa khi hết thời hạn lưu trữ.",
        "The evidence file showed a person and was erased when its retention ran out.",
    ),
    (
        "publication_not_consented",
        "Người gửi không đồng ý hoặc đã rút lại sự đồng ý công khai kết quả xử lý.",
        "The sender did not consent to the publication of the result, or withdrew that consent.",
    ),
    ("not_assigned_department", "Chỉ phòng được giao mới trả lời được.", "Only the assigned department answers."),
    (
        "value_out_of_range",
        "Một giá trị (ngày, số) nằm ngoài phạm vi lưu trữ được.",
        "A value (a date, a number) is beyond the range that can be kept.",
    ),
    (
        "rate_limited",
        "Quá nhiều yêu cầu từ địa chỉ này; thử lại sau {seconds} giây.",
        "Too many requests from this address; try again in {seconds} seconds.",
    ),
    (
        "code_ambiguous",
        "Nhiều tổ chức đã công bố mã này; hãy nêu tổ chức (organization).",
        "Several organisations published this code; name one with `organization`.",
    ),
    ("sync_not_supported", "Danh sách này không hỗ trợ updated_since.", "This list does not support updated_since."),
    (
        "storage_unavailable",
        "Kho lưu trữ tệp minh chứng tạm thời không truy cập được; thử lại sau.",
        "The evidence store is unavailable for now; try again later.",
    ),
    (
        "request_timeout",
        "Nội dung yêu cầu gửi đến quá chậm; kết nối bị đóng.",
        "The request body arrived too slowly; the connection is closed.",
    ),
    ("uri_too_long", "Địa chỉ yêu cầu dài quá {limit} byte.", "The request target is longer than {limit} bytes."),
    ("headers_too_large", "Phần đầu yêu cầu lớn quá {limit} byte.", "The request headers exceed {limit} bytes."),
    (
        "rule_violated",
        "Yêu cầu không thỏa quy tắc nghiệp vụ; xem chi tiết từng trường.",
        "The request breaks a rule; see each field.",
    ),
    (
        "period_not_closed",
        "Kỳ báo cáo chưa kết thúc (đến hết ngày {to}); chỉ chốt số liệu kỳ đã qua.",
        "The period has not ended (it runs to {to}); only a past period can be frozen.",
    ),
    ("snapshot_exists", "Báo cáo kỳ này đã được chốt.", "The report of this period is frozen already."),
    (
        "category_code_taken",
        "Mã lĩnh vực này đã có trong tổ chức.",
        "This category code is already taken in the organisation.",
    ),
    (
        "external_reference_taken",
        "Mã tham chiếu này đang được gửi đồng thời; gửi lại để nhận bản ghi đã lưu.",
        "This external reference is being filed concurrently; send again to get the record filed.",
    ),
    (
        "external_reference_reused",
        "Mã tham chiếu {reference} đã được tiếp nhận với nội dung khác; gửi lại đúng nội dung đã gửi, hoặc dùng mã tham chiếu mới.",
        "The reference {reference} was filed before with other fields: resend what was sent then, or use a new reference.",
    ),
    ("merge_into_self", "Không gộp phản ánh vào chính nó.", "A record is not merged into itself."),
    (
        "feedback_merged",
        "Phản ánh đã được gộp vào phản ánh khác (bỏ gộp trước).",
        "The record is merged into another already (unmerge it first).",
    ),
    (
        "merge_into_merged",
        "Không gộp vào phản ánh đã gộp: gộp vào phản ánh mà nó được gộp vào.",
        "Not into a merged record: merge into the record it was merged into.",
    ),
    (
        "feedback_has_merged",
        "Đã có phản ánh được gộp vào phản ánh này; không gộp tiếp nó vào phản ánh khác.",
        "Other records are merged into this one; it is not merged into another.",
    ),
    ("feedback_not_merged", "Phản ánh chưa được gộp.", "The record is not merged."),
    (
        "external_reference_deleted",
        "Bản ghi đã tiếp nhận với mã tham chiếu này đã bị xóa.",
        "The record filed with this external reference was deleted.",
    ),
    (
        "feedback_not_open",
        "Phản ánh không còn đang xử lý (chỉ khi đã tiếp nhận hoặc đang xử lý).",
        "The record is not being handled (only accepted or in-progress records).",
    ),
    (
        "extension_limit",
        "Phản ánh đã được gia hạn tối đa {max} lần.",
        "The record has had every extension allowed ({max}).",
    ),
    (
        "reopen_not_allowed",
        "Chỉ mở lại được phản ánh đã trả lời, trong {days} ngày kể từ khi trả lời.",
        "Only an answered record may be reopened, within {days} days of the answer.",
    ),
    (
        "webhook_inactive",
        "Webhook đang tắt; bật lại (active = true) rồi thử lại.",
        "The webhook is off; turn it on (active = true) and try again.",
    ),
    (
        "holiday_taken",
        "Ngày này đã có trong lịch làm việc của đơn vị.",
        "This day is already in the organisation's calendar.",
    ),
    (
        "working_day_not_needed",
        "Ngày {day} vốn là ngày làm việc; chỉ ghi ngày làm bù vào thứ Bảy, Chủ nhật hoặc ngày nghỉ chung.",
        "{day} is a working day anyway; a working day is only for a Saturday, a Sunday or a national day off.",
    ),
    ("deadline_reason_required", "Đổi hạn xử lý cần nêu lý do.", "Changing the deadline needs a reason."),
    ("department_not_found", "Phòng ban không tồn tại trong tổ chức.", "No such department in the organisation."),
    (
        "invalid_role",
        "Vai trò không hợp lệ cho tài khoản thuộc tổ chức.",
        "This role is not valid for an account of an organisation.",
    ),
    (
        "organization_not_allowed",
        "Chỉ quản trị hệ thống mới được chỉ định tổ chức.",
        "Only a system administrator names an organisation.",
    ),
    ("organization_not_found", "Tổ chức không tồn tại.", "No such organisation."),
    (
        "organization_required",
        "Quản trị hệ thống phải chỉ định tổ chức.",
        "A system administrator must name the organisation.",
    ),
];

/// (code, Vietnamese, English) of the field-level codes (`errors[].code`), and of the
/// texts that say more than a problem's code (`ApiError::saying`).
const FIELDS: &[(&str, &str, &str)] = &[
    (
        "permission_missing",
        "Bạn không có quyền thực hiện thao tác này: cần quyền “{permission_vi}” (vai trò: {roles}; phạm vi của ứng dụng: {scopes}).",
        "You are not allowed to do this: it needs “{permission}” (roles: {roles}; service-client scopes: {scopes}).",
    ),
    (
        "parent_admin_only",
        "Chỉ quản trị hệ thống được đổi tổ chức cấp trên.",
        "Only the system administrator changes an organisation's parent.",
    ),
    (
        "admin_role_admin_only",
        "Chỉ quản trị hệ thống được tạo hoặc phong tài khoản quản trị hệ thống.",
        "Only the system administrator makes system administrators.",
    ),
    (
        "password_not_yours",
        "Chỉ được đổi mật khẩu của chính mình (người quản trị tổ chức: của người trong tổ chức).",
        "You may only change your own password (an organisation administrator: those of its people).",
    ),
    (
        "budget_finance_department_only",
        "Chỉ phòng Tài chính kế toán của đơn vị và đầu mối được ghi kinh phí.",
        "Only the organisation's finance and accounting department and coordinators write the budget.",
    ),
    (
        "oversight_lists_only",
        "Giám sát cấp trên xem được danh sách minh chứng, không tải tệp.",
        "Oversight reads the lists of evidence, not the files.",
    ),
    (
        "notices_are_personal",
        "Hộp thông báo là của từng người; ứng dụng kết nối không có.",
        "Notices belong to people; a service client has none.",
    ),
    ("required", "Bắt buộc nhập.", "Required."),
    ("too_short", "Quá ngắn (tối thiểu {min}).", "Too short (at least {min})."),
    ("too_long", "Quá dài (tối đa {max}).", "Too long (at most {max})."),
    ("out_of_range", "Ngoài khoảng cho phép ({min}–{max}).", "Out of range ({min}–{max})."),
    ("invalid_email", "Địa chỉ email không hợp lệ.", "Not a valid email address."),
    ("webhook_https_only", "Địa chỉ nhận webhook phải là https://.", "A webhook receiver's address must be https://."),
    (
        "webhook_private_address",
        "Không gửi webhook tới địa chỉ nội bộ (loopback, mạng riêng, link-local).",
        "Webhooks are not sent to loopback, private or link-local addresses here.",
    ),
    (
        "webhook_address_refused",
        "Không bao giờ gửi webhook tới địa chỉ này (metadata đám mây, multicast, dành riêng).",
        "Webhooks are never sent to this address (cloud metadata, multicast, reserved).",
    ),
    (
        "invalid_event_type",
        "Loại sự kiện không hợp lệ (ví dụ feedback.answered, feedback.* hoặc *).",
        "Not an event type (e.g. feedback.answered, feedback.* or *).",
    ),
    ("committed_on_past", "Ngày cam kết phải từ hôm nay trở đi.", "The committed date must be today or later."),
    ("invalid_pin", "Mã tra cứu gồm 8 chữ số.", "A tracking PIN is 8 digits."),
    ("invalid_url", "Địa chỉ web không hợp lệ (chỉ http/https).", "Not a valid web address (http/https only)."),
    ("invalid_format", "Sai định dạng.", "Invalid format."),
    ("invalid_value", "Giá trị không hợp lệ: {reason_vi}", "Invalid value: {reason}"),
    ("invalid_uuid", "Không phải UUID hợp lệ.", "Not a valid UUID."),
    ("invalid_timestamp", "Không phải thời điểm RFC 3339 hợp lệ.", "Not a valid RFC 3339 timestamp."),
    ("unknown_field", "Trường không được hỗ trợ.", "Unknown field."),
    ("unknown_parameter", "Tham số không được hỗ trợ.", "Unknown parameter."),
    ("read_only", "Trường do máy chủ quản lý, không được gửi lên.", "Server-owned field: it must not be sent."),
    ("nul_character", "Không được chứa ký tự NUL.", "Must not contain a NUL character."),
    ("invalid_utf8", "Không phải văn bản UTF-8 hợp lệ.", "Is not valid UTF-8 text."),
    ("not_blank", "Không được để trống.", "Must not be blank."),
    (
        "location_empty",
        "Vị trí cần có toạ độ (lat, long) hoặc địa chỉ.",
        "A location needs a point (lat, long) or an address.",
    ),
    ("invalid_near", "Dạng vĩ độ,kinh độ (ví dụ 12.2388,109.1967).", "Latitude,longitude (e.g. 12.2388,109.1967)."),
    ("weak_password", "Mật khẩu phải có ít nhất 10 ký tự.", "The password must have at least 10 characters."),
    ("unknown_scope", "Phạm vi không tồn tại: {scope}.", "Unknown scope: {scope}."),
    ("limit_too_large", "Tối đa {max}.", "At most {max}."),
    ("computed_by_service", "Chỉ dịch vụ mới ghi số liệu tính toán.", "Only the service records computed values."),
    (
        "tree_view_unpaged",
        "Dạng cây trả về toàn bộ cây; không dùng tham số phân trang.",
        "The tree view returns the whole tree; paging parameters do not apply.",
    ),
    ("unknown_reference", "Không tìm thấy {what} “{value}”.", "No {what} “{value}”."),
    ("duplicate", "Trùng lặp: {value}.", "Duplicate: {value}."),
    ("not_permitted_here", "Bạn không có quyền tạo {what} này.", "You may not create this {what}."),
    (
        "invalid_period",
        "Kỳ phải có dạng 2021, 2021-H1, 2021-Q2 hoặc 2021-M07.",
        "A period is 2021, 2021-H1, 2021-Q2 or 2021-M07.",
    ),
    (
        "citation_required",
        "Số liệu nhập tay cần nguồn trích dẫn hoặc đường dẫn.",
        "An entered value needs a citation or a link.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_prefers_highest_quality() {
        assert_eq!(Lang::from_accept_language(None), Lang::Vi);
        assert_eq!(Lang::from_accept_language(Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("fr, en;q=0.5, vi;q=0.8")), Lang::Vi);
        assert_eq!(Lang::from_accept_language(Some("de")), Lang::Vi);
        assert_eq!(Lang::from_accept_language(Some("vi;q=0, en")), Lang::En);
    }

    #[test]
    fn messages_fill_placeholders_and_every_code_has_both_languages() {
        let text = message("payload_too_large", Lang::En, &[("limit", "10".into())]);
        assert_eq!(text, "The body exceeds the limit of 10 bytes.");
        for (code, vi, en) in messages() {
            assert!(!vi.is_empty() && !en.is_empty(), "{code}");
        }
    }

    /// Every problem and field code written in the source has its message: a code
    /// without one would reach callers as a bare code.
    #[test]
    fn every_code_used_in_the_source_has_a_message() {
        fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    files(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let mut paths = Vec::new();
        files(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut paths);
        let calls = [
            "ApiError::unprocessable(\"",
            "ApiError::conflict(\"",
            "ApiError::bad_request(\"",
            "ApiError::too_many_requests(\"",
            "ValidationError::new(\"",
            ", \"",
        ];
        let mut missing = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(&path).unwrap();
            for call in calls {
                for (at, _) in text.match_indices(call) {
                    let rest = &text[at + call.len()..];
                    let code: String = rest.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                    let closed = rest[code.len()..].starts_with('"');
                    // Only snake_case codes of the calls above; `, "` also finds the code in
                    // `field(…, "code")`, `rule(…, "code")`, `FieldError::new(…, "code")`,
                    // `ApiError::new(status, "code")` and the constraint table.
                    let is_code = code.contains('_') || messages().any(|(c, _, _)| *c == code);
                    let caller = &text[text[..at].rfind('\n').unwrap_or(0)..at];
                    // After a status, only the string right after it is a code (the
                    // constraint table goes on with field names).
                    let after_status = caller.rsplit("StatusCode::").next().is_some_and(|tail| !tail.contains('"'));
                    let relevant = call != ", \""
                        || ["ApiError::field(", "ApiError::rule(", "FieldError::new("]
                            .iter()
                            .any(|c| caller.contains(c))
                        || (caller.contains("StatusCode::") && after_status);
                    // A problem's code must be in `PROBLEMS` (the document's enum).
                    let problem = call.starts_with("ApiError::") || (caller.contains("StatusCode::") && after_status);
                    let known = if problem {
                        PROBLEMS.iter().any(|(c, _, _)| *c == code)
                    } else {
                        messages().any(|(c, _, _)| *c == code)
                    };
                    if closed && relevant && is_code && !known {
                        missing.push(format!("{code} ({})", path.display()));
                    }
                }
            }
        }
        missing.sort();
        missing.dedup();
        assert!(missing.is_empty(), "codes without a message: {missing:#?}");
    }
}
