//! The authorisation matrix, checked for every operation in the OpenAPI document:
//! (a) without a token, 401; (b) with a token of another organisation on this
//! organisation's records, 404; (c) with every role and scope the matrix does not
//! grant, 403; (d) with one it grants, success. An operation without a recipe here
//! fails the test, so no endpoint escapes the matrix.
use std::collections::HashMap;

use cchc_outreach::auth::{
    Permission, Role, Scope,
    permissions::{Access, access_of, grant},
};
use serde_json::{Value, json};

use crate::helpers::{TestApp, multipart};

const FIXTURE: &str = include_str!("../../fixtures/kdpm-2021.json");
const PDF: &[u8] = include_bytes!("../fixtures/minutes.pdf");
const PHOTO: &[u8] = include_bytes!("../fixtures/photo.jpg");

/// A request to make: path (ids filled in), body, who succeeds with it.
struct Recipe {
    path: String,
    body: Body,
    /// The principal of (d); default: the first allowed of coordinator, org_admin, admin.
    who: Option<&'static str>,
}

#[derive(Clone)]
enum Body {
    None,
    Json(Value),
    Upload,
    /// A citizen's photo for a feedback record.
    Attach,
    /// A form, `application/x-www-form-urlencoded` (Open311).
    Form(Vec<(&'static str, String)>),
    /// A receipt for a spending entry: one file part.
    Receipt,
}

/// The ids of what the checks work on, all in organisation SXD.
#[derive(Default)]
struct Ids(HashMap<String, String>);

impl Ids {
    fn get(&self, key: &str) -> &str {
        self.0.get(key).unwrap_or_else(|| panic!("no {key} in the fixture"))
    }
}

async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> String {
    let res = app.post(path).token(token).json(body).send().await;
    assert!(res.status == 201 || res.status == 200, "{path}: {}", res.text());
    res.json()["id"].as_str().map(str::to_owned).unwrap_or_default()
}

/// Tokens by name: roles (`admin`, `org_admin`, …), scopes (`scope:plans:read`, …), and
/// `other_org_admin`, `other_coordinator` of another organisation.
struct World {
    app: TestApp,
    tokens: HashMap<String, String>,
    ids: Ids,
}

async fn world() -> World {
    let mut settings = crate::helpers::test_settings();
    settings.rate_limit_per_token = 0;
    settings.rate_limit_per_address = 0;
    let app = TestApp::spawn_with(settings).await;
    let admin = app.admin_token().await;
    let mut tokens = HashMap::from([("admin".to_owned(), admin.clone())]);
    let mut ids = Ids::default();
    let org = app.organization(&admin, "SXD").await;
    ids.0.insert("org".to_owned(), org.to_string());
    // The province above it, which its reports go to.
    let province = app.organization(&admin, "UBND").await;
    let res = app
        .patch(&format!("/api/v1/organizations/{org}"))
        .token(&admin)
        .json(json!({"parent_id": province}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    for (key, code) in [("dept0", "TCHC"), ("dept1", "QLDA1"), ("dept_spare", "SPARE")] {
        let id =
            created(&app, &admin, "/api/v1/departments", json!({"code": code, "name": code, "organization_id": org}))
                .await;
        ids.0.insert(key.to_owned(), id);
    }
    for (role, dept) in [
        ("org_admin", "dept0"),
        ("leader", "dept0"),
        ("coordinator", "dept0"),
        ("member", "dept1"),
        ("viewer", "dept0"),
    ] {
        let (id, token) = app.staff(&admin, org, ids.get(dept), &format!("sxd.{role}"), role).await;
        tokens.insert(role.to_owned(), token);
        ids.0.insert(format!("user_{role}"), id);
    }
    let (spare_user, _) = app.staff(&admin, org, ids.get("dept0"), "sxd.spare", "viewer").await;
    ids.0.insert("user_spare".to_owned(), spare_user);
    for scope in Scope::ALL {
        let (_, token) = app.service_client(&admin, org, &[scope.as_str()]).await;
        tokens.insert(format!("scope:{}", scope.as_str()), token);
    }
    let (client, _) = app.service_client(&admin, org, &["plans:read"]).await;
    ids.0.insert("client".to_owned(), client);
    let hook = json!({"url": "https://portal.example.gov.vn/hooks/cchc", "event_types": ["feedback.*"], "organization_id": org});
    let webhook = created(&app, &admin, "/api/v1/webhooks", hook).await;
    ids.0.insert("webhook".to_owned(), webhook.clone());
    let ping = app.post(&format!("/api/v1/webhooks/{webhook}/ping")).token(&admin).send().await;
    assert_eq!(ping.status, 202, "{}", ping.text());
    ids.0.insert("delivery".to_owned(), ping.json()["id"].as_str().unwrap().to_owned());
    let notice = uuid::Uuid::now_v7();
    app.sql(&format!(
        "INSERT INTO notifications (id, organization_id, user_id, kind, cause, subject_type, title)
         VALUES ('{notice}', '{org}', '{}', 'feedback.overdue', 'test', 'feedback', 'Quá hạn')",
        ids.get("user_coordinator")
    ));
    ids.0.insert("notice".to_owned(), notice.to_string());
    let other = app.organization(&admin, "SYT").await;
    let other_dept =
        created(&app, &admin, "/api/v1/departments", json!({"code": "VP", "name": "VP", "organization_id": other}))
            .await;
    for role in ["org_admin", "coordinator", "member"] {
        let (_, token) = app.staff(&admin, other, &other_dept, &format!("syt.{role}"), role).await;
        tokens.insert(format!("other_{role}"), token);
    }

    let c = tokens["coordinator"].clone();
    let c = c.as_str();
    for key in ["doc", "doc_spare"] {
        let id = created(
            &app,
            c,
            "/api/v1/documents",
            json!({"number": format!("{key}/QĐ-UBND"), "issuer": "UBND tỉnh", "title": key}),
        )
        .await;
        ids.0.insert(key.to_owned(), id);
    }
    for key in ["plan", "plan_t", "plan_spare"] {
        let id = created(&app, c, "/api/v1/plans", json!({"code": key, "year": 2021, "title": key})).await;
        ids.0.insert(key.to_owned(), id);
    }
    let plan = ids.get("plan").to_owned();
    for key in ["item", "item2", "item_spare"] {
        let id = created(
            &app,
            c,
            &format!("/api/v1/plans/{plan}/items"),
            json!({"reference": key, "kind": "task", "title": key}),
        )
        .await;
        ids.0.insert(key.to_owned(), id);
    }
    let item = ids.get("item").to_owned();
    for key in ["indicator", "indicator_spare"] {
        let id = created(
            &app,
            c,
            &format!("/api/v1/plans/{plan}/indicators"),
            json!({"code": key, "name": key, "unit": "count", "comparator": ">=", "target_value": 5}),
        )
        .await;
        ids.0.insert(key.to_owned(), id);
    }
    let asg = created(
        &app,
        c,
        "/api/v1/assignments",
        json!({"plan_item_id": item, "department_id": ids.get("dept1"), "role": "lead", "reporting": "quarterly"}),
    )
    .await;
    ids.0.insert("assignment".to_owned(), asg.clone());
    let spare = created(
        &app,
        c,
        "/api/v1/assignments",
        json!({"plan_item_id": item, "department_id": ids.get("dept0"), "role": "execute"}),
    )
    .await;
    ids.0.insert("assignment_spare".to_owned(), spare);
    created(&app, c, &format!("/api/v1/assignments/{asg}/reports/2021-Q1"), json!({"summary": "Quý I"})).await;
    let dept1 = ids.get("dept1").to_owned();
    let activity = |title: &'static str| {
        let (app, item, dept) = (&app, item.clone(), dept1.clone());
        async move {
            created(
                app,
                c,
                "/api/v1/activities",
                json!({"title": title, "plan_item_ids": [item], "department_id": dept,
                "channel": "meeting", "audience": "public", "held_from": "2021-04-12T08:00:00+07:00"}),
            )
            .await
        }
    };
    for key in ["activity", "activity_t", "activity_spare"] {
        let id = activity(key).await;
        ids.0.insert(key.to_owned(), id);
    }
    for key in ["evidence", "evidence_spare"] {
        let (ct, body) = multipart(&[("file", Some("biên bản.pdf"), PDF), ("caption", None, key.as_bytes())]);
        let res = app
            .post(&format!("/api/v1/activities/{}/evidence", ids.get("activity")))
            .token(c)
            .raw(&ct, body)
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        ids.0.insert(key.to_owned(), res.json()["items"][0]["id"].as_str().unwrap().to_owned());
    }
    // The plan's budget: lines, allocations, spending with a receipt.
    for key in ["budget_line", "budget_line_spare"] {
        let id = created(
            &app,
            c,
            "/api/v1/budget-lines",
            json!({"plan_id": ids.get("plan"), "code": key, "title": key, "estimate": 1_000_000}),
        )
        .await;
        ids.0.insert(key.to_owned(), id);
    }
    let line = ids.get("budget_line").to_owned();
    for key in ["allocation", "allocation_spare"] {
        let id = created(
            &app,
            c,
            &format!("/api/v1/budget-lines/{line}/allocations"),
            json!({"allocated_on": "2021-04-01", "amount": 500_000, "decision_number": "12/QĐ-SXD"}),
        )
        .await;
        ids.0.insert(key.to_owned(), id);
    }
    for key in ["spending", "spending_spare"] {
        let id = created(
            &app,
            c,
            &format!("/api/v1/budget-lines/{line}/spendings"),
            json!({"spent_on": "2021-04-02", "amount": 100_000, "payee_kind": "organization", "description": key}),
        )
        .await;
        ids.0.insert(key.to_owned(), id);
    }
    let (ct, body) = multipart(&[("file", Some("hóa đơn.pdf"), PDF)]);
    let res = app
        .put(&format!("/api/v1/budget-spendings/{}/receipt", ids.get("spending")))
        .token(c)
        .raw(&ct, body)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    for key in ["category", "category_spare"] {
        let id = created(
            &app,
            c,
            "/api/v1/feedback-categories",
            json!({"code": key, "name": key, "deadline_days": 10, "default_department_id": ids.get("dept1")}),
        )
        .await;
        ids.0.insert(key.to_owned(), id);
    }
    created(&app, c, "/api/v1/holidays", json!({"day": "2021-09-02", "name": "Quốc khánh"})).await;
    created(&app, c, "/api/v1/holidays", json!({"day": "2021-04-30", "name": "Giải phóng"})).await;
    let category = ids.get("category").to_owned();
    let feedback = |subject: &'static str| {
        let (app, category) = (&app, category.clone());
        async move {
            let res = app
                .post("/api/v1/feedback")
                .token(c)
                .json(json!({"channel": "hotline", "kind": "question", "sender_type": "citizen",
                "sender_phone": "0912345678", "consent": {"publish": true}, "subject": subject, "content": "Nội dung", "category_id": category,
                "received_at": "2021-05-04T08:00:00+07:00"}))
                .send()
                .await;
            assert_eq!(res.status, 201, "{}", res.text());
            let body = res.json();
            (body["id"].as_str().unwrap().to_owned(), body["tracking_pin"].as_str().unwrap().to_owned())
        }
    };
    for key in [
        "feedback",
        "feedback_answer",
        "feedback_answered",
        "feedback_t",
        "feedback_spare",
        "feedback_merge",
        "feedback_unmerge",
    ] {
        let (id, pin) = feedback(key).await;
        ids.0.insert(key.to_owned(), id);
        ids.0.insert(format!("{key}_pin"), pin);
    }
    let res = app
        .post(&format!("/api/v1/feedback/{}/merge", ids.get("feedback_unmerge")))
        .token(c)
        .json(json!({"into": ids.get("feedback_answered")}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let member = tokens["member"].clone();
    for key in ["feedback", "feedback_answer", "feedback_answered"] {
        let res = app
            .post(&format!("/api/v1/feedback/{}/transitions", ids.get(key)))
            .token(c)
            .json(json!({"to": "accepted"}))
            .send()
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
    }
    let res = app
        .post(&format!("/api/v1/feedback/{}/answers", ids.get("feedback_answered")))
        .token(&member)
        .json(json!({"text": "Trả lời"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let res = app
        .post(&format!("/api/v1/feedback/{}/publish", ids.get("feedback_answered")))
        .token(c)
        .json(json!({"summary": "Đã trả lời"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let code =
        app.get(&format!("/api/v1/feedback/{}", ids.get("feedback_answered"))).token(c).send().await.json()["code"]
            .as_str()
            .unwrap()
            .to_owned();
    ids.0.insert("feedback_code".to_owned(), code);
    for (key, on) in
        [("attachment", "feedback"), ("attachment_spare", "feedback"), ("attachment_public", "feedback_answered")]
    {
        let (ct, body) = multipart(&[("file", Some("ảnh.jpg"), PHOTO)]);
        let res =
            app.post(&format!("/api/v1/feedback/{}/attachments", ids.get(on))).token(c).raw(&ct, body).send().await;
        assert_eq!(res.status, 201, "{}", res.text());
        ids.0.insert(key.to_owned(), res.json()["items"][0]["id"].as_str().unwrap().to_owned());
    }
    let res = app
        .patch(&format!("/api/v1/feedback-attachments/{}", ids.get("attachment_public")))
        .token(c)
        .json(json!({"publishable": true}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let snap = created(&app, c, &format!("/api/v1/reports/plans/{plan}/snapshots"), json!({"period": "2021-Q1"})).await;
    ids.0.insert("snapshot".to_owned(), snap);
    let plan_t = ids.get("plan_t").to_owned();
    for (key, period) in [("submission", "2021-Q2"), ("submission_r", "2021-Q3")] {
        let id =
            created(&app, c, &format!("/api/v1/reports/plans/{plan_t}/submissions"), json!({"period": period})).await;
        ids.0.insert(key.to_owned(), id);
    }
    World { app, tokens, ids }
}

/// How to call each operation, in the order (d) runs them: reads, then writes, then
/// deletions (of spare records).
fn recipes(ids: &Ids) -> Vec<(&'static str, Recipe)> {
    let i = |k: &str| ids.get(k).to_owned();
    let r = |path: String| Recipe { path, body: Body::None, who: None };
    let j = |path: String, body: Value| Recipe { path, body: Body::Json(body), who: None };
    let by = |mut recipe: Recipe, who: &'static str| {
        recipe.who = Some(who);
        recipe
    };
    let (org, plan, item, asg) = (i("org"), i("plan"), i("item"), i("assignment"));
    vec![
        ("healthz", r("/healthz".into())),
        ("readyz", r("/readyz".into())),
        ("metrics", r("/metrics".into())),
        ("me", r("/api/v1/me".into())),
        ("list_notifications", r("/api/v1/me/notifications".into())),
        ("get_notification_preferences", r("/api/v1/me/notification-preferences".into())),
        ("list_organizations", r("/api/v1/organizations".into())),
        ("get_organization", r(format!("/api/v1/organizations/{org}"))),
        ("list_departments", r("/api/v1/departments".into())),
        ("get_department", r(format!("/api/v1/departments/{}", i("dept0")))),
        ("list_department_assignments", r(format!("/api/v1/departments/{}/assignments", i("dept1")))),
        ("list_users", r("/api/v1/users".into())),
        ("get_user", r(format!("/api/v1/users/{}", i("user_viewer")))),
        ("list_service_clients", r("/api/v1/service-clients".into())),
        ("get_service_client", r(format!("/api/v1/service-clients/{}", i("client")))),
        ("list_audit_events", r("/api/v1/audit-events".into())),
        ("list_events", r("/api/v1/events".into())),
        ("list_webhooks", r("/api/v1/webhooks".into())),
        ("list_message_templates", r("/api/v1/message-templates".into())),
        ("get_message_template", r("/api/v1/message-templates/receipt/sms".into())),
        ("list_sender_messages", r(format!("/api/v1/feedback/{}/messages", i("feedback")))),
        ("list_progress_notes", r(format!("/api/v1/feedback/{}/progress-notes", i("feedback")))),
        ("list_feedback_extensions", r(format!("/api/v1/feedback/{}/extensions", i("feedback")))),
        ("get_webhook", r(format!("/api/v1/webhooks/{}", i("webhook")))),
        ("list_webhook_deliveries", r(format!("/api/v1/webhooks/{}/deliveries", i("webhook")))),
        ("get_register", r("/api/v1/data-protection/register".into())),
        ("get_retention_report", r("/api/v1/data-protection/retention".into())),
        ("get_erasure_log", r("/api/v1/data-protection/erasures".into())),
        (
            "export_subject_data",
            j(
                "/api/v1/data-protection/subjects/export".into(),
                json!({"phone": "0900000001", "legal_basis": "Điều 14", "request_reference": "YC-1"}),
            ),
        ),
        (
            "restrict_subject",
            j(
                "/api/v1/data-protection/subjects/restrict".into(),
                json!({"phone": "0900000001", "legal_basis": "Điều 15", "request_reference": "YC-2"}),
            ),
        ),
        (
            "erase_subject",
            j(
                "/api/v1/data-protection/subjects/erase".into(),
                json!({"phone": "0900000001", "legal_basis": "Điều 16", "request_reference": "YC-3"}),
            ),
        ),
        ("reapply_erasures", j("/api/v1/data-protection/erasures/reapply".into(), json!({"feedback_ids": []}))),
        ("put_legal_hold", j(format!("/api/v1/feedback/{}/legal-hold", i("feedback")), json!({"reason": "Thanh tra"}))),
        ("delete_legal_hold", r(format!("/api/v1/feedback/{}/legal-hold", i("feedback")))),
        ("get_feedback_consent", r(format!("/api/v1/feedback/{}/consent", i("feedback")))),
        (
            "withdraw_feedback_consent",
            j(format!("/api/v1/feedback/{}/consent/withdraw", i("feedback")), json!({"publish": true})),
        ),
        ("list_budget_lines", r("/api/v1/budget-lines".into())),
        ("get_budget_line", r(format!("/api/v1/budget-lines/{}", i("budget_line")))),
        ("list_budget_allocations", r(format!("/api/v1/budget-lines/{}/allocations", i("budget_line")))),
        ("get_budget_allocation", r(format!("/api/v1/budget-allocations/{}", i("allocation")))),
        ("list_budget_spendings", r(format!("/api/v1/budget-lines/{}/spendings", i("budget_line")))),
        ("get_budget_spending", r(format!("/api/v1/budget-spendings/{}", i("spending")))),
        ("download_budget_receipt", r(format!("/api/v1/budget-spendings/{}/receipt", i("spending")))),
        (
            "create_budget_line",
            j("/api/v1/budget-lines".into(), json!({"plan_id": plan, "code": "new", "title": "Mới", "estimate": 1000})),
        ),
        ("update_budget_line", j(format!("/api/v1/budget-lines/{}", i("budget_line")), json!({"title": "Sửa"}))),
        (
            "create_budget_allocation",
            j(
                format!("/api/v1/budget-lines/{}/allocations", i("budget_line")),
                json!({"allocated_on": "2021-05-01", "amount": 1000, "decision_number": "13/QĐ-SXD"}),
            ),
        ),
        (
            "update_budget_allocation",
            j(format!("/api/v1/budget-allocations/{}", i("allocation")), json!({"amount": 2000})),
        ),
        (
            "create_budget_spending",
            j(
                format!("/api/v1/budget-lines/{}/spendings", i("budget_line")),
                json!({"spent_on": "2021-05-02", "amount": 500, "payee_kind": "press", "description": "Bài báo"}),
            ),
        ),
        ("update_budget_spending", j(format!("/api/v1/budget-spendings/{}", i("spending")), json!({"amount": 700}))),
        (
            "put_budget_receipt",
            Recipe {
                path: format!("/api/v1/budget-spendings/{}/receipt", i("spending")),
                body: Body::Receipt,
                who: None,
            },
        ),
        ("list_documents", r("/api/v1/documents".into())),
        ("get_document", r(format!("/api/v1/documents/{}", i("doc")))),
        ("list_plans", r("/api/v1/plans".into())),
        ("get_plan", r(format!("/api/v1/plans/{plan}"))),
        ("list_plan_items", r(format!("/api/v1/plans/{plan}/items"))),
        ("get_plan_item", r(format!("/api/v1/plan-items/{item}"))),
        ("list_indicators", r(format!("/api/v1/plans/{plan}/indicators"))),
        ("get_indicator", r(format!("/api/v1/indicators/{}", i("indicator")))),
        ("list_measurements", r(format!("/api/v1/indicators/{}/measurements", i("indicator")))),
        ("get_staff_reach", r(format!("/api/v1/plans/{plan}/staff-reach"))),
        ("list_assignments", r("/api/v1/assignments".into())),
        ("get_assignment", r(format!("/api/v1/assignments/{asg}"))),
        ("list_reporting_duties", r(format!("/api/v1/assignments/{asg}/reports"))),
        ("list_plan_reporting_duties", r(format!("/api/v1/plans/{plan}/reporting-duties"))),
        ("get_progress_report", r(format!("/api/v1/assignments/{asg}/reports/2021-Q1"))),
        ("list_progress_report_versions", r(format!("/api/v1/assignments/{asg}/reports/2021-Q1/versions"))),
        ("list_activities", r("/api/v1/activities".into())),
        ("get_activity", r(format!("/api/v1/activities/{}", i("activity")))),
        ("list_evidence", r(format!("/api/v1/activities/{}/evidence", i("activity")))),
        ("discovery", r("/open311/v2/discovery.json".into())),
        ("list_services", r("/open311/v2/services.json?jurisdiction_id=SXD".into())),
        ("get_service_definition", r("/open311/v2/services/category.json?jurisdiction_id=SXD".into())),
        ("get_token", r(format!("/open311/v2/tokens/{}.json?jurisdiction_id=SXD", i("feedback")))),
        ("list_requests", r("/open311/v2/requests.json?jurisdiction_id=SXD".into())),
        ("get_request", r(format!("/open311/v2/requests/{}.json?jurisdiction_id=SXD", i("feedback_code")))),
        ("get_similar_feedback", r(format!("/api/v1/feedback/{}/similar", i("feedback")))),
        ("get_feedback_suggestions", r(format!("/api/v1/feedback/{}/suggestions", i("feedback")))),
        ("get_triage_report", r("/api/v1/reports/triage?period=2021".into())),
        ("list_feedback_attachments", r(format!("/api/v1/feedback/{}/attachments", i("feedback")))),
        ("get_feedback_attachment", r(format!("/api/v1/feedback-attachments/{}", i("attachment")))),
        ("download_feedback_attachment", r(format!("/api/v1/feedback-attachments/{}/content", i("attachment")))),
        (
            "download_public_attachment",
            r(format!("/api/v1/public/feedback-attachments/{}/content", i("attachment_public"))),
        ),
        ("get_evidence", r(format!("/api/v1/evidence/{}", i("evidence")))),
        ("download_evidence", r(format!("/api/v1/evidence/{}/content", i("evidence")))),
        ("list_feedback_categories", r("/api/v1/feedback-categories".into())),
        ("get_feedback_category", r(format!("/api/v1/feedback-categories/{}", i("category")))),
        ("list_holidays", r("/api/v1/holidays".into())),
        ("get_calendar", r("/api/v1/calendar?from=2021-01-01&to=2021-12-31".into())),
        ("list_feedback", r("/api/v1/feedback".into())),
        ("get_feedback", r(format!("/api/v1/feedback/{}", i("feedback")))),
        ("list_feedback_history", r(format!("/api/v1/feedback/{}/history", i("feedback")))),
        ("list_feedback_answers", r(format!("/api/v1/feedback/{}/answers", i("feedback_answered")))),
        ("get_satisfaction_rate", r("/api/v1/feedback/satisfaction".into())),
        ("list_public_feedback", r("/api/v1/public/organizations/SXD/feedback".into())),
        ("get_public_feedback", r(format!("/api/v1/public/feedback/{}?organization=SXD", i("feedback_code")))),
        ("get_plan_report", r(format!("/api/v1/reports/plans/{plan}?period=2021-Q2"))),
        ("get_plan_rollup", r(format!("/api/v1/reports/plans/{plan}/rollup?period=2021"))),
        ("list_plan_submissions", r(format!("/api/v1/reports/plans/{plan}/submissions"))),
        ("list_submission_duties", r(format!("/api/v1/reports/plans/{plan}/submission-duties"))),
        ("list_report_submissions", r("/api/v1/report-submissions".into())),
        ("get_report_submission", r(format!("/api/v1/report-submissions/{}", i("submission")))),
        ("get_report_submission_content", r(format!("/api/v1/report-submissions/{}/content", i("submission")))),
        ("get_feedback_report", r("/api/v1/reports/feedback?period=2021".into())),
        ("list_report_snapshots", r(format!("/api/v1/reports/plans/{plan}/snapshots"))),
        ("get_report_snapshot", r(format!("/api/v1/reports/snapshots/{}", i("snapshot")))),
        ("get_report_snapshot_content", r(format!("/api/v1/reports/snapshots/{}/content", i("snapshot")))),
        ("export_collection", r("/api/v1/exports/feedback".into())),
        // Writes.
        (
            "issue_token",
            j(
                "/api/v1/auth/token".into(),
                json!({"grant_type": "password", "username": "sxd.viewer", "password": crate::helpers::PASSWORD}),
            ),
        ),
        ("create_organization", j("/api/v1/organizations".into(), json!({"code": "SGTVT", "name": "Sở Giao thông"}))),
        ("update_organization", j(format!("/api/v1/organizations/{org}"), json!({"name": "Sở Xây dựng"}))),
        (
            "create_department",
            by(j("/api/v1/departments".into(), json!({"code": "NEW", "name": "Mới", "organization_id": org})), "admin"),
        ),
        (
            "update_department",
            j(format!("/api/v1/departments/{}", i("dept0")), json!({"name": "Tổ chức - Hành chính"})),
        ),
        (
            "create_user",
            by(
                j(
                    "/api/v1/users".into(),
                    json!({"username": "sxd.new", "full_name": "Mới", "role": "viewer", "password": "a long enough password", "organization_id": org}),
                ),
                "admin",
            ),
        ),
        ("update_user", j(format!("/api/v1/users/{}", i("user_spare")), json!({"full_name": "Tên mới"}))),
        (
            "set_user_password",
            by(
                j(
                    format!("/api/v1/users/{}/password", i("user_spare")),
                    json!({"new_password": "another long password"}),
                ),
                "org_admin",
            ),
        ),
        (
            "create_service_client",
            by(
                j(
                    "/api/v1/service-clients".into(),
                    json!({"name": "Cổng", "scopes": ["plans:read"], "organization_id": org}),
                ),
                "admin",
            ),
        ),
        ("update_service_client", j(format!("/api/v1/service-clients/{}", i("client")), json!({"name": "Cổng mới"}))),
        ("rotate_service_client_secret", r(format!("/api/v1/service-clients/{}/secret", i("client")))),
        (
            "create_webhook",
            j("/api/v1/webhooks".into(), json!({"url": "https://hotline.example.gov.vn/cchc", "event_types": ["*"]})),
        ),
        ("update_webhook", j(format!("/api/v1/webhooks/{}", i("webhook")), json!({"description": "Cổng tỉnh"}))),
        ("rotate_webhook_secret", r(format!("/api/v1/webhooks/{}/rotate-secret", i("webhook")))),
        ("submit_report", j(format!("/api/v1/reports/plans/{plan}/submissions"), json!({"period": "2021-Q1"}))),
        (
            "acknowledge_report_submission",
            by(j(format!("/api/v1/report-submissions/{}/acknowledge", i("submission")), json!({})), "admin"),
        ),
        (
            "return_report_submission",
            by(
                j(format!("/api/v1/report-submissions/{}/return", i("submission_r")), json!({"note": "Bổ sung"})),
                "admin",
            ),
        ),
        (
            "put_message_template",
            j(
                "/api/v1/message-templates/receipt/sms".into(),
                json!({"body": "{organization}: đã nhận {code}, PIN {pin}"}),
            ),
        ),
        ("ping_webhook", r(format!("/api/v1/webhooks/{}/ping", i("webhook")))),
        ("read_notification", r(format!("/api/v1/me/notifications/{}/read", i("notice")))),
        ("read_all_notifications", r("/api/v1/me/notifications/read-all".into())),
        (
            "set_notification_preferences",
            j("/api/v1/me/notification-preferences".into(), json!({"email_off": ["feedback.deadline_near"]})),
        ),
        (
            "create_progress_note",
            j(
                format!("/api/v1/feedback/{}/progress-notes", i("feedback")),
                json!({"text": "Đang xử lý", "committed_on": "2099-01-01"}),
            ),
        ),
        (
            "extend_feedback",
            j(
                format!("/api/v1/feedback/{}/extensions", i("feedback")),
                json!({"working_days": 2, "reason": "Cần thêm thời gian"}),
            ),
        ),
        ("retry_webhook_delivery", r(format!("/api/v1/webhooks/{}/deliveries/{}/retry", i("webhook"), i("delivery")))),
        (
            "create_document",
            j("/api/v1/documents".into(), json!({"number": "99/KH-UBND", "issuer": "UBND", "title": "Mới"})),
        ),
        ("update_document", j(format!("/api/v1/documents/{}", i("doc")), json!({"title": "Sửa"}))),
        ("create_plan", j("/api/v1/plans".into(), json!({"code": "KH-NEW", "year": 2022, "title": "Mới"}))),
        ("import_plan", by(j("/api/v1/plans/import".into(), serde_json::from_str(FIXTURE).unwrap()), "admin")),
        ("update_plan", j(format!("/api/v1/plans/{plan}"), json!({"title": "Sửa"}))),
        ("transition_plan", j(format!("/api/v1/plans/{}/transitions", i("plan_t")), json!({"to": "issued"}))),
        (
            "create_plan_item",
            j(format!("/api/v1/plans/{plan}/items"), json!({"reference": "NEW", "kind": "task", "title": "Mới"})),
        ),
        ("update_plan_item", j(format!("/api/v1/plan-items/{item}"), json!({"title": "Sửa"}))),
        (
            "create_indicator",
            j(
                format!("/api/v1/plans/{plan}/indicators"),
                json!({"code": "NEW", "name": "Mới", "unit": "count", "comparator": ">=", "target_value": 1}),
            ),
        ),
        ("update_indicator", j(format!("/api/v1/indicators/{}", i("indicator")), json!({"name": "Sửa"}))),
        (
            "create_measurement",
            j(
                format!("/api/v1/indicators/{}/measurements", i("indicator")),
                json!({"value": 3, "measured_on": "2021-06-30", "citation": "Báo cáo"}),
            ),
        ),
        (
            "create_assignment",
            j(
                "/api/v1/assignments".into(),
                json!({"plan_item_id": i("item2"), "department_id": i("dept1"), "role": "lead"}),
            ),
        ),
        ("update_assignment", j(format!("/api/v1/assignments/{asg}"), json!({"duty": "Chủ trì"}))),
        ("transition_assignment", j(format!("/api/v1/assignments/{asg}/transitions"), json!({"to": "in_progress"}))),
        (
            "submit_progress_report",
            j(format!("/api/v1/assignments/{asg}/reports/2021-Q2"), json!({"summary": "Quý II"})),
        ),
        (
            "update_progress_report",
            j(format!("/api/v1/assignments/{asg}/reports/2021-Q1"), json!({"summary": "Quý I, sửa"})),
        ),
        (
            "review_progress_report",
            j(format!("/api/v1/assignments/{asg}/reports/2021-Q1/transitions"), json!({"to": "accepted"})),
        ),
        (
            "create_activity",
            j(
                "/api/v1/activities".into(),
                json!({"title": "Mới", "plan_item_ids": [item], "department_id": i("dept1"), "channel": "oral", "audience": "staff", "held_from": "2021-05-01T08:00:00+07:00"}),
            ),
        ),
        ("update_activity", j(format!("/api/v1/activities/{}", i("activity")), json!({"title": "Sửa"}))),
        (
            "upload_evidence",
            Recipe { path: format!("/api/v1/activities/{}/evidence", i("activity")), body: Body::Upload, who: None },
        ),
        (
            "merge_feedback",
            j(format!("/api/v1/feedback/{}/merge", i("feedback_merge")), json!({"into": i("feedback")})),
        ),
        ("unmerge_feedback", r(format!("/api/v1/feedback/{}/unmerge", i("feedback_unmerge")))),
        (
            "create_request",
            Recipe {
                path: "/open311/v2/requests.json".into(),
                body: Body::Form(vec![
                    ("jurisdiction_id", "SXD".into()),
                    ("service_code", "category".into()),
                    ("address_string", "Chợ Đầm".into()),
                    ("description", "Rác thải tồn đọng".into()),
                ]),
                who: None,
            },
        ),
        (
            "upload_feedback_attachments",
            Recipe { path: format!("/api/v1/feedback/{}/attachments", i("feedback")), body: Body::Attach, who: None },
        ),
        (
            "update_feedback_attachment",
            j(format!("/api/v1/feedback-attachments/{}", i("attachment")), json!({"publishable": true})),
        ),
        (
            "transition_activity",
            j(format!("/api/v1/activities/{}/transitions", i("activity_t")), json!({"to": "submitted"})),
        ),
        (
            "create_feedback_category",
            j("/api/v1/feedback-categories".into(), json!({"code": "NEW", "name": "Mới", "deadline_days": 5})),
        ),
        (
            "update_feedback_category",
            j(format!("/api/v1/feedback-categories/{}", i("category")), json!({"name": "Sửa"})),
        ),
        ("create_holiday", j("/api/v1/holidays".into(), json!({"day": "2021-01-01", "name": "Tết Dương lịch"}))),
        (
            "create_feedback",
            j(
                "/api/v1/feedback".into(),
                json!({"channel": "email", "kind": "feedback", "sender_type": "business", "subject": "Mới", "content": "Nội dung"}),
            ),
        ),
        ("update_feedback", j(format!("/api/v1/feedback/{}", i("feedback")), json!({"subject": "Sửa"}))),
        (
            "transition_feedback",
            j(format!("/api/v1/feedback/{}/transitions", i("feedback_t")), json!({"to": "accepted"})),
        ),
        (
            "answer_feedback",
            by(j(format!("/api/v1/feedback/{}/answers", i("feedback_answer")), json!({"text": "Trả lời"})), "member"),
        ),
        (
            "rate_feedback",
            j(
                format!("/api/v1/feedback/{}/satisfaction", i("feedback_answered")),
                json!({"rating": "satisfied", "channel": "hotline"}),
            ),
        ),
        (
            "publish_feedback",
            j(format!("/api/v1/feedback/{}/publish", i("feedback_answered")), json!({"summary": "Công khai"})),
        ),
        ("unpublish_feedback", r(format!("/api/v1/feedback/{}/publish", i("feedback_answered")))),
        ("create_report_snapshot", j(format!("/api/v1/reports/plans/{plan}/snapshots"), json!({"period": "2021-Q2"}))),
        (
            "get_feedback_status",
            r(format!("/api/v1/public/feedback/{}/status?pin={}", i("feedback_code"), i("feedback_answered_pin"))),
        ),
        (
            "set_feedback_notify_by",
            j(
                format!("/api/v1/public/feedback/{}/notify-by", i("feedback_code")),
                json!({"pin": i("feedback_answered_pin"), "notify_by": []}),
            ),
        ),
        // Last of the writes: it moves the answered record back to in progress.
        (
            "reopen_feedback",
            j(
                format!("/api/v1/public/feedback/{}/reopen", i("feedback_code")),
                json!({"pin": i("feedback_answered_pin"), "reason": "Chưa thỏa đáng"}),
            ),
        ),
        // Deletions, of spare records.
        ("delete_evidence", r(format!("/api/v1/evidence/{}", i("evidence_spare")))),
        ("delete_budget_allocation", r(format!("/api/v1/budget-allocations/{}", i("allocation_spare")))),
        ("delete_budget_spending", r(format!("/api/v1/budget-spendings/{}", i("spending_spare")))),
        ("delete_budget_line", r(format!("/api/v1/budget-lines/{}", i("budget_line_spare")))),
        ("delete_feedback_attachment", r(format!("/api/v1/feedback-attachments/{}", i("attachment_spare")))),
        ("delete_activity", r(format!("/api/v1/activities/{}", i("activity_spare")))),
        ("delete_feedback", r(format!("/api/v1/feedback/{}", i("feedback_spare")))),
        ("delete_feedback_category", r(format!("/api/v1/feedback-categories/{}", i("category_spare")))),
        ("delete_holiday", r("/api/v1/holidays/2021-04-30".into())),
        ("delete_assignment", r(format!("/api/v1/assignments/{}", i("assignment_spare")))),
        ("delete_indicator", r(format!("/api/v1/indicators/{}", i("indicator_spare")))),
        ("delete_plan_item", r(format!("/api/v1/plan-items/{}", i("item_spare")))),
        ("delete_plan", r(format!("/api/v1/plans/{}", i("plan_spare")))),
        ("delete_document", r(format!("/api/v1/documents/{}", i("doc_spare")))),
        ("delete_service_client", r(format!("/api/v1/service-clients/{}", i("client")))),
        ("delete_webhook", r(format!("/api/v1/webhooks/{}", i("webhook")))),
        ("delete_message_template", r("/api/v1/message-templates/receipt/sms".into())),
        ("delete_user", r(format!("/api/v1/users/{}", i("user_spare")))),
        ("delete_department", r(format!("/api/v1/departments/{}", i("dept_spare")))),
        ("delete_organization", by(r(format!("/api/v1/organizations/{}", "ORG_TO_DELETE")), "admin")),
    ]
}

impl World {
    async fn call(&self, method: &str, recipe: &Recipe, token: Option<&str>) -> crate::helpers::TestResponse {
        let method = actix_web::http::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let mut call = self.app.call(method, &recipe.path);
        if let Some(token) = token {
            call = call.token(token);
        }
        match &recipe.body {
            Body::None => call.send().await,
            Body::Json(v) => call.json(v.clone()).send().await,
            Body::Upload => {
                let (ct, body) = multipart(&[("file", Some("ảnh.pdf"), PDF), ("caption", None, b"Bien ban")]);
                call.raw(&ct, body).send().await
            }
            Body::Attach => {
                let (ct, body) = multipart(&[("file", Some("ảnh.jpg"), PHOTO)]);
                call.raw(&ct, body).send().await
            }
            Body::Receipt => {
                let (ct, body) = multipart(&[("file", Some("hóa đơn.pdf"), PDF)]);
                call.raw(&ct, body).send().await
            }
            Body::Form(fields) => {
                let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
                call.raw("application/x-www-form-urlencoded", body.into_bytes()).send().await
            }
        }
    }
}

fn role_name(role: Role) -> &'static str {
    role.as_str()
}

#[actix_web::test]
async fn every_operation_answers_each_caller_as_the_matrix_says() {
    let w = world().await;
    // An organisation to delete last.
    let spare_org = w.app.organization(&w.tokens["admin"], "SPARE-ORG").await;
    let doc: Value = serde_json::from_str(&cchc_outreach::openapi::document_json()).unwrap();
    let mut operations: HashMap<String, (String, String)> = HashMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations.insert(op["operationId"].as_str().unwrap().to_owned(), (method.clone(), path.clone()));
        }
    }
    let mut table = recipes(&w.ids);
    for (op, recipe) in &mut table {
        if *op == "delete_organization" {
            recipe.path = format!("/api/v1/organizations/{spare_org}");
        }
    }
    let listed: Vec<&str> = table.iter().map(|(op, _)| *op).collect();
    let missing: Vec<&String> = operations.keys().filter(|op| !listed.contains(&op.as_str())).collect();
    assert!(missing.is_empty(), "operations the matrix test does not call: {missing:?}");
    let unknown: Vec<&&str> = listed.iter().filter(|op| !operations.contains_key(**op)).collect();
    assert!(unknown.is_empty(), "recipes for operations that do not exist: {unknown:?}");

    let mut failures = Vec::new();
    let mut checks = 0;
    for (op, recipe) in &table {
        let (method, _) = &operations[*op];
        let access = access_of(op).unwrap_or_else(|| panic!("{op} is not in OPERATIONS"));
        let permission: Option<Permission> = match access {
            Access::Needs(p) | Access::Rule(p, _) | Access::ApiKey(p) => Some(p),
            Access::Export => Some(Permission::FeedbackRead),
            _ => None,
        };
        // (a) No token (Open311's answer to no credentials is a 403).
        if !matches!(access, Access::Public) {
            checks += 1;
            let res = w.call(method, recipe, None).await;
            if res.status != if matches!(access, Access::ApiKey(_)) { 403 } else { 401 } {
                failures.push(format!("{op} without a token: {} {}", res.status, res.text()));
            }
        }
        // (b) Another organisation, on this one's records.
        let names_a_record = recipe.path.contains(w.ids.get("org")) || has_record_id(&recipe.path);
        if let Some(p) = permission.filter(|_| names_a_record && *op != "export_collection") {
            let outsider = ["org_admin", "coordinator", "member"]
                .into_iter()
                .find(|r| grant(p).roles.contains(&Role::parse(r).unwrap()))
                .map(|r| w.tokens[&format!("other_{r}")].as_str());
            if let Some(token) = outsider {
                checks += 1;
                let res = w.call(method, recipe, Some(token)).await;
                if res.status != 404 {
                    failures.push(format!("{op} by another organisation: {} {}", res.status, res.text()));
                }
            }
        }
        // (c) Every role and scope not granted.
        let (roles, scopes): (Vec<Role>, Vec<Scope>) = match access {
            Access::Public | Access::SignedIn => (Vec::new(), Vec::new()),
            Access::PersonOnly(_) => (Vec::new(), Scope::ALL.to_vec()),
            _ => {
                let g = grant(permission.unwrap());
                (
                    Role::ALL.iter().copied().filter(|r| !g.roles.contains(r)).collect(),
                    Scope::ALL.iter().copied().filter(|s| !g.scopes.contains(s)).collect(),
                )
            }
        };
        let refused: Vec<String> = roles
            .iter()
            .map(|r| role_name(*r).to_owned())
            .chain(scopes.iter().map(|s| format!("scope:{}", s.as_str())))
            .collect();
        for name in refused {
            checks += 1;
            let res = w.call(method, recipe, Some(&w.tokens[&name])).await;
            if res.status != 403 {
                failures.push(format!("{op} by {name}: {} {}", res.status, res.text()));
            }
        }
        // (d) One that is granted.
        let who = recipe.who.map(str::to_owned).or_else(|| match access {
            Access::Public => None,
            Access::SignedIn | Access::PersonOnly(_) => Some("coordinator".to_owned()),
            _ => {
                let g = grant(permission.unwrap());
                ["coordinator", "org_admin", "admin"]
                    .into_iter()
                    .find(|r| g.roles.contains(&Role::parse(r).unwrap()))
                    .map(str::to_owned)
                    .or_else(|| g.scopes.first().map(|s| format!("scope:{}", s.as_str())))
            }
        });
        checks += 1;
        let res = w.call(method, recipe, who.as_deref().map(|w2| w.tokens[w2].as_str())).await;
        if !(200..300).contains(&res.status) {
            failures.push(format!("{op} by {who:?}: {} {}", res.status, res.text()));
        }
    }
    eprintln!("authorisation matrix: {checks} checks over {} operations", table.len());
    assert!(failures.is_empty(), "{} of {checks} checks failed:\n{}", failures.len(), failures.join("\n"));
    assert!(checks > 500, "{checks}");
    // Every operation has run once: every event type it caused is in the document's
    // `webhooks` section (made from domain::events::CATALOG).
    let listed: Vec<String> =
        cchc_outreach::domain::events::CATALOG.iter().map(|(kind, ..)| format!("'{kind}'")).collect();
    #[derive(diesel::QueryableByName)]
    struct Kind {
        #[diesel(sql_type = diesel::sql_types::Text)]
        kind: String,
    }
    let mut conn = <diesel::PgConnection as diesel::Connection>::establish(&w.app.database_url).unwrap();
    let unlisted: Vec<String> = diesel::RunQueryDsl::load::<Kind>(
        diesel::sql_query(format!(
            "SELECT DISTINCT type AS kind FROM events WHERE type NOT IN ({}) ORDER BY 1",
            listed.join(", ")
        )),
        &mut conn,
    )
    .unwrap()
    .into_iter()
    .map(|k| k.kind)
    .collect();
    let seen = w.app.sql_count("SELECT count(DISTINCT type) AS n FROM events");
    assert_eq!(unlisted, Vec::<String>::new(), "event types the suite caused that the document does not list");
    assert!(seen >= 40, "the matrix causes most event types: {seen}");
}

/// Whether the path names a record (a UUID, a date, a period or a code).
fn has_record_id(path: &str) -> bool {
    path.split(['/', '?']).any(|seg| uuid::Uuid::parse_str(seg).is_ok() || seg.starts_with("2021-"))
}

/// A 403 says what was missing — the permission, with the roles and scopes that hold
/// it — in the caller's language; and the document's access text is what the handler checks.
#[actix_web::test]
async fn a_refusal_names_what_was_missing_and_the_document_says_the_same() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let (_, viewer) = app.person(&admin, org, "xem", "viewer").await;
    let create = || {
        app.post("/api/v1/departments")
            .token(&viewer)
            .json(json!({"code": "VP", "name": "Văn phòng", "organization_id": org}))
    };
    let vi = create().send().await.problem(403, "forbidden");
    assert_eq!(
        vi["detail"],
        "Bạn không có quyền thực hiện thao tác này: cần quyền “tạo, sửa và xóa phòng” (vai trò: admin, org_admin; phạm vi của ứng dụng: —)."
    );
    let en = create().header("Accept-Language", "en").send().await.problem(403, "forbidden");
    assert_eq!(
        en["detail"],
        "You are not allowed to do this: it needs “create, change and delete departments” (roles: admin, org_admin; service-client scopes: —)."
    );
    let (_, client) = app.service_client(&admin, org, &["directory:read"]).await;
    let res = app.get("/api/v1/plans").token(&client).send().await;
    assert!(res.problem(403, "forbidden")["detail"].as_str().unwrap().contains("plans:read"), "{}", res.text());

    // The feedback transition: managing, or the assigned department moving it to in_progress.
    let doc: Value = serde_json::from_str(&cchc_outreach::openapi::document_json()).unwrap();
    let text = doc["paths"]["/api/v1/feedback/{id}/transitions"]["post"]["description"].as_str().unwrap();
    let manage = grant(Permission::FeedbackManage).what;
    assert!(text.contains(manage) && text.contains("`in_progress`"), "{text}");
    assert!(!text.contains(grant(Permission::FeedbackRead).what), "{text}");
}
