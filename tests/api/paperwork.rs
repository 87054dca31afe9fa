//! The plan's money and paperwork (issue 21): budget lines with allocations, spending,
//! receipts and settlement; documents posted on the website on time; the official
//! report document. Every expected figure is worked out here from what the test enters.
use cchc_outreach::domain::time::Clock;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use docx_rs::{DocumentChild, TableCellContent, TableChild, TableRowChild};
use serde_json::{Value, json};

use crate::helpers::{TestApp, multipart, test_settings};

const PDF: &[u8] = include_bytes!("../fixtures/minutes.pdf");

fn at(instant: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(instant).unwrap().with_timezone(&Utc)
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The national days off of spring 2021 that the service ships: Hùng Kings' day, 30/4,
/// and Monday 3/5 in lieu of Saturday 1/5.
const DAYS_OFF: [&str; 4] = ["2021-04-21", "2021-04-30", "2021-05-01", "2021-05-03"];

fn working(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !DAYS_OFF.iter().any(|h| day(h) == d)
}

/// Working days after `from` up to and including `to`.
fn working_days(from: NaiveDate, to: NaiveDate) -> i64 {
    let mut n = 0;
    let mut d = from;
    while d < to {
        d += Duration::days(1);
        n += i64::from(working(d));
    }
    n
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let res = app.post(path).token(token).json(body).send().await;
    assert_eq!(res.status, 201, "{path}: {}", res.text());
    res.json()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

struct Unit {
    app: TestApp,
    clock: Clock,
    admin: String,
    org: uuid::Uuid,
    coordinator: String,
    plan: String,
    tchc: String,
    tckt: String,
}

/// An organisation with TCHC (its coordinator), TCKT and QLDA1, and a plan.
async fn unit() -> Unit {
    let clock = Clock::fixed(at("2021-03-20T03:00:00Z"));
    let mut settings = test_settings();
    settings.clock = clock.clone();
    let app = TestApp::spawn_with(settings).await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    app.count_periods(&admin, org, "calendar").await;
    let tchc = app.department(&admin, org, "TCHC").await;
    let tckt = app.department(&admin, org, "TCKT").await;
    let (_, coordinator) = app.staff(&admin, org, &tchc, "tchc.dm", "coordinator").await;
    let plan = id(&post(
        &app,
        &coordinator,
        "/api/v1/plans",
        json!({"code": "KH-2021", "year": 2021, "title": "Kế hoạch tuyên truyền cải cách hành chính năm 2021",
            "decision": {"number": "18/QĐ-BQL", "recipients": [
                {"name": "UBND tỉnh", "purpose": "báo cáo"}, {"name": "Sở Nội vụ", "purpose": "báo cáo"},
                {"name": "Lưu: VT, TCHC", "purpose": "lưu"}]}}),
    )
    .await);
    Unit { app, clock, admin, org, coordinator, plan, tchc, tckt }
}

#[actix_web::test]
async fn budget_totals_and_variances_follow_the_entries_and_only_finance_writes() {
    let u = unit().await;
    let (app, c) = (&u.app, u.coordinator.as_str());
    let qlda = app.department(&u.admin, u.org, "QLDA1").await;
    let (_, finance) = app.staff(&u.admin, u.org, &u.tckt, "tckt.cb", "member").await;
    let (_, other) = app.staff(&u.admin, u.org, &qlda, "qlda1.cb", "member").await;
    let (_, viewer) = app.staff(&u.admin, u.org, &u.tchc, "tchc.xem", "viewer").await;
    let line = |code: &str, estimate: Value| json!({"plan_id": u.plan, "code": code, "title": format!("Dòng {code}"), "estimate": estimate});

    // Before the organisation names its finance department, its people cannot write.
    let res = app.post("/api/v1/budget-lines").token(&finance).json(line("0", json!(1))).send().await;
    res.problem(403, "forbidden");
    let res = app
        .patch(&format!("/api/v1/organizations/{}", u.org))
        .token(&u.admin)
        .json(json!({"finance_department_id": u.tckt}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["finance_department_id"], u.tckt.as_str());
    // Another department's member, and a viewer, are refused; nothing is written.
    app.post("/api/v1/budget-lines").token(&other).json(line("0", json!(1))).send().await.problem(403, "forbidden");
    assert_eq!(app.post("/api/v1/budget-lines").token(&viewer).json(line("0", json!(1))).send().await.status, 403);
    // Amounts are whole đồng: a fraction, a string, a negative or too much is refused
    // (`1000.0` is the integer 1000, as JSON Schema has it).
    for bad in [json!(1000.5), json!(0.1), json!("1000"), json!(-1), json!(100_000_000_000_001_i64), json!(1e300)] {
        let res = app.post("/api/v1/budget-lines").token(c).json(line("X", bad.clone())).send().await;
        assert!(res.status == 400 || res.status == 422, "{bad}: {} {}", res.status, res.text());
    }
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM budget_lines"), 0);

    // Two lines: one by the coordinator (TCHC's), one by the finance department's member.
    let l1 = post(
        app,
        c,
        "/api/v1/budget-lines",
        json!({"plan_id": u.plan, "code": "1", "title": "In tài liệu",
        "estimate": 20_000_000, "department_id": u.tchc}),
    )
    .await;
    let l2 = post(
        app,
        &finance,
        "/api/v1/budget-lines",
        json!({"plan_id": u.plan, "code": "2", "title": "Hội thi",
        "estimate": 7_500_000, "department_id": u.tckt}),
    )
    .await;
    let (l1, l2) = (id(&l1), id(&l2));
    let same_code = app.post("/api/v1/budget-lines").token(c).json(line("1", json!(5))).send().await;
    same_code.problem(409, "budget_line_code_taken");
    let allocations =
        [(&l1, "2021-03-20", 10_000_000_i64), (&l1, "2021-05-02", 5_000_000), (&l2, "2021-04-10", 7_500_000)];
    for (l, on, amount) in allocations {
        post(
            app,
            &finance,
            &format!("/api/v1/budget-lines/{l}/allocations"),
            json!({"allocated_on": on, "amount": amount, "decision_number": "45/QĐ-BQL"}),
        )
        .await;
    }
    let spendings = [
        (&l1, "2021-04-20", 4_250_000_i64, "organization"),
        (&l1, "2021-07-05", 1_000_000, "press"),
        (&l2, "2021-06-30", 8_000_000, "individual"),
        (&l2, "2021-06-30", 333, "other"),
    ];
    let mut spent_ids = Vec::new();
    for (l, on, amount, payee) in spendings {
        let s = post(
            app,
            c,
            &format!("/api/v1/budget-lines/{l}/spendings"),
            json!({"spent_on": on, "amount": amount, "payee_kind": payee, "description": "Chi tuyên truyền"}),
        )
        .await;
        spent_ids.push(id(&s));
    }
    // Taking one back: the line's totals follow at once.
    let res = app.delete(&format!("/api/v1/budget-spendings/{}", spent_ids[3])).token(&finance).send().await;
    assert_eq!(res.status, 204, "{}", res.text());
    let res = app
        .patch(&format!("/api/v1/budget-lines/{l2}"))
        .token(&finance)
        .json(json!({"settlement": {"settled_on": "2021-06-30", "amount": 8_000_000, "note": "Quyết toán"}}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());

    // Each line, as kept: every entry whatever its date.
    let sums = |l: &String, entries: &[(&String, &str, i64)]| -> i64 {
        entries.iter().filter(|(x, ..)| *x == l).map(|(_, _, a)| a).sum()
    };
    let spent_entries: Vec<(&String, &str, i64)> = spendings[..3].iter().map(|(l, on, a, _)| (*l, *on, *a)).collect();
    for (l, estimate) in [(&l1, 20_000_000_i64), (&l2, 7_500_000)] {
        let got = app.get(&format!("/api/v1/budget-lines/{l}")).token(&viewer).send().await.json();
        let (allocated, spent) = (sums(l, &allocations), sums(l, &spent_entries));
        assert_eq!(got["allocated"].as_i64(), Some(allocated), "{got}");
        assert_eq!(got["spent"].as_i64(), Some(spent), "{got}");
        assert_eq!(got["remaining"].as_i64(), Some(allocated - spent));
        assert_eq!(got["variance"].as_i64(), Some(spent - estimate));
    }
    // A line with entries is not deleted.
    app.delete(&format!("/api/v1/budget-lines/{l1}")).token(c).send().await.problem(409, "budget_line_has_entries");

    // The receipt: recognised from its content, kept, served back; text is refused.
    let (ct, body) = multipart(&[("file", Some("hóa đơn.pdf"), PDF)]);
    let res = app
        .put(&format!("/api/v1/budget-spendings/{}/receipt", spent_ids[0]))
        .token(&finance)
        .raw(&ct, body)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["receipt"]["content_type"], "application/pdf");
    // An invoice may name the person paid: who keeps the books reads it, no one else.
    let refused = app.get(&format!("/api/v1/budget-spendings/{}/receipt", spent_ids[0])).token(&viewer).send().await;
    assert_eq!(refused.status, 403);
    let got = app.get(&format!("/api/v1/budget-spendings/{}/receipt", spent_ids[0])).token(&finance).send().await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, PDF);
    let (ct, body) = multipart(&[("file", Some("hóa đơn.pdf"), b"=SUM(A1) not an invoice")]);
    let res = app
        .put(&format!("/api/v1/budget-spendings/{}/receipt", spent_ids[1]))
        .token(&finance)
        .raw(&ct, body)
        .send()
        .await;
    res.problem(415, "unsupported_file_type");

    // The second quarter's report: the budget as of 30 June.
    u.clock.set(at("2021-07-20T03:00:00Z"));
    let report = app.get(&format!("/api/v1/reports/plans/{}?period=2021-Q2", u.plan)).token(c).send().await;
    assert_eq!(report.status, 200, "{}", report.text());
    let b = report.json()["budget"].clone();
    let end = day("2021-06-30");
    let upto = |l: &String, entries: &[(&String, &str, i64)]| -> i64 {
        entries.iter().filter(|(x, on, _)| *x == l && day(on) <= end).map(|(_, _, a)| a).sum()
    };
    let mut total = (0, 0, 0, 0);
    for (l, estimate, settled) in [(&l1, 20_000_000_i64, 0_i64), (&l2, 7_500_000, 8_000_000)] {
        let row = b["lines"].as_array().unwrap().iter().find(|r| r["line_id"] == l.as_str()).unwrap();
        let (allocated, spent) = (upto(l, &allocations), upto(l, &spent_entries));
        assert_eq!(row["estimate"].as_i64(), Some(estimate));
        assert_eq!(row["allocated"].as_i64(), Some(allocated), "{row}");
        assert_eq!(row["spent"].as_i64(), Some(spent), "{row}");
        assert_eq!(row["settled"].as_i64(), Some(settled));
        assert_eq!(row["variance"].as_i64(), Some(spent - estimate));
        assert_eq!(row["remaining"].as_i64(), Some(allocated - spent));
        total = (total.0 + estimate, total.1 + allocated, total.2 + spent, total.3 + settled);
    }
    assert_eq!(
        b["total"],
        json!({"estimate": total.0, "allocated": total.1, "spent": total.2, "settled": total.3,
            "remaining": total.1 - total.2, "variance": total.2 - total.0})
    );
    let tckt_row = b["by_department"].as_array().unwrap().iter().find(|d| d["code"] == "TCKT").unwrap();
    assert_eq!(tckt_row["variance"].as_i64(), Some(8_000_000 - 7_500_000));
    assert_eq!(
        b["by_quarter"],
        json!([
            {"quarter": "2021-Q1", "allocated": 10_000_000, "spent": 0},
            {"quarter": "2021-Q2", "allocated": 12_500_000, "spent": 12_250_000},
        ])
    );
    // Integers everywhere, in JSON and in the CSV.
    for v in b["lines"].as_array().unwrap() {
        for key in ["estimate", "allocated", "spent", "settled", "remaining", "variance"] {
            assert!(v[key].is_i64(), "{key} of {v}");
        }
    }
    let csv = app
        .get(&format!(
            "/api/v1/reports/plans/{}?period=2021-Q2&format=csv&section=budget_departments&bom=false",
            u.plan
        ))
        .token(c)
        .send()
        .await;
    assert_eq!(csv.status, 200, "{}", csv.text());
    let text = csv.text();
    let first = text.lines().nth(1).unwrap();
    assert_eq!(
        first,
        format!(
            ",total,Tổng cộng,{},{},{},{},{},{}",
            total.0,
            total.1,
            total.2,
            total.3,
            total.1 - total.2,
            total.2 - total.0
        )
    );

    // Another organisation sees none of it.
    let other_org = app.organization(&u.admin, "SXD").await;
    let other_dept = app.department(&u.admin, other_org, "TCHC").await;
    let (_, outsider) = app.staff(&u.admin, other_org, &other_dept, "sxd.dm", "coordinator").await;
    assert_eq!(app.get(&format!("/api/v1/budget-lines/{l1}")).token(&outsider).send().await.status, 404);
    assert_eq!(app.get(&format!("/api/v1/budget-lines/{l1}/spendings")).token(&outsider).send().await.status, 404);
    let res =
        app.patch(&format!("/api/v1/budget-lines/{l1}")).token(&outsider).json(json!({"title": "x"})).send().await;
    assert_eq!(res.status, 404);
    let res = app
        .post(&format!("/api/v1/budget-lines/{l1}/allocations"))
        .token(&outsider)
        .json(json!({"allocated_on": "2021-04-01", "amount": 5, "decision_number": "1/QĐ"}))
        .send()
        .await;
    assert_eq!(res.status, 404);
    let listed = app.get("/api/v1/budget-lines").token(&outsider).send().await.json();
    assert_eq!(listed["items"], json!([]));
    let res = app.post("/api/v1/budget-lines").token(&outsider).json(line("9", json!(1))).send().await;
    res.problem(422, "reference_invalid");
    assert_eq!(
        app.get(&format!("/api/v1/reports/plans/{}?period=2021-Q2&format=docx", u.plan))
            .token(&outsider)
            .send()
            .await
            .status,
        404
    );
}

#[actix_web::test]
async fn documents_posted_on_time_late_and_never_across_a_weekend_and_a_holiday() {
    let u = unit().await;
    let (app, c) = (&u.app, u.coordinator.as_str());
    let items = post(
        app,
        c,
        &format!("/api/v1/plans/{}/items", u.plan),
        json!({"reference": "II.3.c", "kind": "task", "title": "Trang thông tin điện tử"}),
    )
    .await;
    let item = id(&items);
    let indicator = id(&post(
        app,
        c,
        &format!("/api/v1/plans/{}/indicators", u.plan),
        json!({"code": "PUBLICATION_TIMELINESS", "name": "Văn bản CCHC đăng đúng hạn", "unit": "percent",
            "comparator": ">=", "target_value": 100}),
    )
    .await);
    // Its own documents (issuer: its code) must be posted; another body's need not be.
    let issued = [
        ("1/QĐ-BQL", "2021-04-29"),
        ("2/QĐ-BQL", "2021-04-09"),
        ("3/QĐ-BQL", "2021-05-10"),
        ("4/QĐ-BQL", "2021-06-30"),
    ];
    let mut docs = Vec::new();
    for (number, on) in issued {
        let d = post(
            app,
            c,
            "/api/v1/documents",
            json!({"number": number, "issuer": "KDPM", "issued_on": on, "title": number}),
        )
        .await;
        assert_eq!(d["post_required"], true);
        docs.push(id(&d));
    }
    let outside = post(
        app,
        c,
        "/api/v1/documents",
        json!({"number": "9/QĐ-UBND", "issuer": "UBND tỉnh", "issued_on": "2021-05-04", "title": "Khác"}),
    )
    .await;
    assert_eq!(outside["post_required"], false);
    // Thursday 29/4 posted Wednesday 5/5 (30/4, the weekend and 3/5 off): on time.
    // Friday 9/4 posted Wednesday 14/4: late. 3 never (a post not verified does not count).
    let posts =
        [(0, "2021-05-05T02:00:00Z", true), (1, "2021-04-14T02:00:00Z", true), (2, "2021-05-11T02:00:00Z", false)];
    let post_activity = |doc: &str, held: &str, channel: &str| {
        json!({"title": "Đăng văn bản", "plan_item_ids": [item], "department_id": u.tchc, "channel": channel,
            "audience": "all", "held_from": held, "document_id": doc})
    };
    // Only a website post names a document.
    let res = app.post("/api/v1/activities").token(c).json(post_activity(&docs[0], posts[0].1, "meeting")).send().await;
    assert_eq!(res.status, 422, "{}", res.text());
    u.clock.set(at("2021-07-01T03:00:00Z"));
    for (i, held, verify) in posts {
        let a = id(&post(app, c, "/api/v1/activities", post_activity(&docs[i], held, "website_post")).await);
        post_transition(app, c, &a, "submitted").await;
        if verify {
            post_transition(app, c, &a, "verified").await;
        }
    }
    let expected = [
        ("on_time", Some(working_days(day("2021-04-29"), day("2021-05-05")))),
        ("late", Some(working_days(day("2021-04-09"), day("2021-04-14")))),
        ("unposted", None),
        ("pending", None),
    ];
    assert_eq!(expected[0].1, Some(2));
    assert_eq!(expected[1].1, Some(3));
    assert!(working_days(day("2021-05-10"), day("2021-07-01")) > 2);
    assert_eq!(working_days(day("2021-06-30"), day("2021-07-01")), 1);

    let report =
        app.get(&format!("/api/v1/reports/plans/{}?from=2021-04-01&to=2021-07-01", u.plan)).token(c).send().await;
    assert_eq!(report.status, 200, "{}", report.text());
    let r = report.json();
    let p = &r["publications"];
    assert_eq!(p["within_working_days"], 2);
    let listed = p["documents"].as_array().unwrap();
    assert_eq!(listed.len(), 4, "{p}");
    for (doc, (state, days)) in docs.iter().zip(expected) {
        let line = listed.iter().find(|l| l["document_id"] == doc.as_str()).unwrap();
        assert_eq!(line["state"], state, "{line}");
        assert_eq!(line["working_days"].as_i64(), days, "{line}");
    }
    assert_eq!(
        (p["on_time"].as_i64(), p["late"].as_i64(), p["unposted"].as_i64(), p["pending"].as_i64()),
        (Some(1), Some(1), Some(1), Some(1))
    );
    let share = (1.0_f64 * 10_000.0 / 3.0).round() / 100.0;
    assert_eq!(p["timeliness_percent"].as_f64(), Some(share));
    // The indicator, computed on verification like STAFF_INFORMED.
    let line = r["indicators"].as_array().unwrap().iter().find(|i| i["indicator_id"] == indicator.as_str()).unwrap();
    assert_eq!(line["value"].as_f64(), Some(share), "{line}");
    assert_eq!(line["source"], "computed");
    // The organisation allows four working days: the late one is on time.
    let res = app
        .patch(&format!("/api/v1/organizations/{}", u.org))
        .token(&u.admin)
        .json(json!({"publication_days": 4}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let r = app
        .get(&format!(
            "/api/v1/reports/plans/{}?from=2021-04-01&to=2021-07-01&format=csv&section=publications&bom=false",
            u.plan
        ))
        .token(c)
        .send()
        .await;
    let text = r.text();
    assert_eq!(
        text.lines().next(),
        Some("document_id,number,title,issued_on,posted_on,working_days,state,activity_id")
    );
    assert_eq!(text.matches(",on_time,").count(), 2, "{text}");
}

async fn post_transition(app: &TestApp, token: &str, activity: &str, to: &str) {
    let res = app
        .post(&format!("/api/v1/activities/{activity}/transitions"))
        .token(token)
        .json(json!({"to": to}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
}

/// The text of a paragraph or table cell, in document order.
fn texts(doc: &docx_rs::Docx) -> Vec<String> {
    let mut out = Vec::new();
    for child in &doc.document.children {
        match child {
            DocumentChild::Paragraph(p) => out.push(p.raw_text()),
            DocumentChild::Table(t) => {
                for TableChild::TableRow(row) in &t.rows {
                    for TableRowChild::TableCell(cell) in &row.cells {
                        for content in &cell.children {
                            if let TableCellContent::Paragraph(p) = content {
                                out.push(p.raw_text());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

#[actix_web::test]
async fn the_official_report_is_a_word_document_with_the_decrees_parts_and_the_reports_figures() {
    let u = unit().await;
    let (app, c) = (&u.app, u.coordinator.as_str());
    let res = app
        .patch(&format!("/api/v1/organizations/{}", u.org))
        .token(&u.admin)
        .json(json!({"abbreviation": "BQL", "place_name": "Khánh Hòa", "signer_name": "Châu Ngô Anh Nhân",
            "signer_title": "Giám đốc", "finance_department_id": u.tckt}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let line = id(&post(
        app,
        c,
        "/api/v1/budget-lines",
        json!({"plan_id": u.plan, "code": "1", "title": "In tài liệu", "estimate": 20_000_000}),
    )
    .await);
    post(
        app,
        c,
        &format!("/api/v1/budget-lines/{line}/allocations"),
        json!({"allocated_on": "2021-04-05", "amount": 15_000_000, "decision_number": "45/QĐ-BQL"}),
    )
    .await;
    post(app, c, &format!("/api/v1/budget-lines/{line}/spendings"), json!({"spent_on": "2021-04-20", "amount": 4_500_000, "payee_kind": "organization", "description": "In tờ gấp"})).await;
    for (i, received) in ["2021-04-12T02:00:00Z", "2021-05-12T02:00:00Z"].iter().enumerate() {
        post(
            app,
            c,
            "/api/v1/feedback",
            json!({"channel": "hotline", "kind": "question", "sender_type": "citizen",
            "anonymous": true, "subject": format!("Câu hỏi {i}"), "content": "Nội dung", "received_at": received}),
        )
        .await;
    }
    u.clock.set(at("2021-07-05T03:00:00Z"));
    let json_report = app.get(&format!("/api/v1/reports/plans/{}?period=2021-Q2", u.plan)).token(c).send().await.json();
    let res = app.get(&format!("/api/v1/reports/plans/{}?period=2021-Q2&format=docx", u.plan)).token(c).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    );
    assert!(res.header("content-disposition").unwrap().contains(".docx"));
    // The same by content negotiation.
    let negotiated = app
        .get(&format!("/api/v1/reports/plans/{}?period=2021-Q2", u.plan))
        .token(c)
        .header("Accept", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        .send()
        .await;
    assert_eq!(negotiated.header("content-type"), res.header("content-type"));

    let doc = docx_rs::read_docx(&res.body).expect("a Word document");
    // A4, the decree's margins, Times New Roman 13 pt.
    let section = &doc.document.section_property;
    let size = serde_json::to_value(&section.page_size).unwrap();
    assert_eq!((size["w"].as_u64(), size["h"].as_u64()), (Some(11906), Some(16838)), "{size}");
    let m = &section.page_margin;
    assert_eq!((m.top, m.bottom, m.left, m.right), (1134, 1134, 1701, 851));
    let defaults = serde_json::to_value(&doc.styles.doc_defaults).unwrap();
    let run = &defaults["runPropertyDefault"]["runProperty"];
    assert_eq!(run["fonts"]["ascii"], "Times New Roman", "{defaults}");
    assert_eq!(run["sz"], 26, "{defaults}");

    // The parts, in order.
    let texts = texts(&doc);
    let position = |needle: &str| {
        texts.iter().position(|t| t.contains(needle)).unwrap_or_else(|| panic!("no {needle:?} in {texts:#?}"))
    };
    let order = [
        "TỔ CHỨC KDPM",
        "Số:",
        "/BC-BQL",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Khánh Hòa, ngày 05 tháng 7 năm 2021",
        "BÁO CÁO",
        "Kết quả thực hiện Kế hoạch tuyên truyền cải cách hành chính năm 2021",
    ];
    let mut last = 0;
    for needle in order.iter().copied().chain(cchc_outreach::reports::docx::PARTS).chain([
        "Nơi nhận:",
        "UBND tỉnh (báo cáo)",
        "Lưu: VT, TCHC",
        "GIÁM ĐỐC",
        "Châu Ngô Anh Nhân",
    ]) {
        let at = position(needle);
        assert!(at >= last, "{needle:?} at {at}, before {last}: {texts:#?}");
        last = at;
    }
    // The figures are the JSON report's.
    let b = &json_report["budget"]["total"];
    let money = |key: &str| cchc_outreach::reports::docx::money(b[key].as_i64().unwrap());
    let total_row = position("Tổng cộng");
    assert_eq!(
        texts[total_row..total_row + 6].to_vec(),
        vec![
            "Tổng cộng".to_owned(),
            money("estimate"),
            money("allocated"),
            money("spent"),
            money("settled"),
            money("variance")
        ]
    );
    assert_eq!(money("estimate"), "20.000.000");
    let received = json_report["feedback"]["total"]["received"].as_i64().unwrap();
    assert_eq!(received, 2);
    assert!(texts.iter().any(|t| t.contains(&format!("Trong kỳ tiếp nhận {received} phản ánh"))), "{texts:#?}");
    let items = json_report["items"].as_array().unwrap().iter().filter(|i| !i["item_id"].is_null()).count();
    assert!(texts.iter().any(|t| t.starts_with(&format!("Kế hoạch có {items} nội dung"))), "{texts:#?}");
}
