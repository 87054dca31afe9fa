//! The province's view: a three-level tree (province → board → its unit, and a sibling
//! board), plans implementing the province's item by item through an import,
//! oversight reads down the tree (404 across and up, never a feedback record, never a
//! write, each in the audit trail of the unit read), and the roll-up's figures.
use serde_json::{Value, json};

use crate::helpers::{TestApp, test_settings};

const PHONE: &str = "0905 111 222";
const NAME: &str = "Phạm Văn Oversight";

fn province_file() -> Value {
    json!({
        "format": "plan-fixture/1",
        "organizations": [
            {"code": "UBND-KH", "name": "Ủy ban nhân dân tỉnh Khánh Hòa"},
            {"code": "KDPM", "name": "Ban Quản lý dự án phát triển tỉnh", "parent": "UBND-KH"},
            {"code": "SXD", "name": "Sở Xây dựng", "parent": "UBND-KH"},
            {"code": "KDPM-DA1", "name": "Ban điều hành dự án 1", "parent": "KDPM"}
        ],
        "documents": [{"number": "590/QĐ-UBND", "issued_on": "2021-03-01", "issuer": "UBND tỉnh Khánh Hòa",
                       "title": "Kế hoạch tuyên truyền cải cách hành chính năm 2021"}],
        "decision": {"number": "590/QĐ-UBND", "issued_on": "2021-03-01", "organization": "UBND-KH"},
        "plan": {
            "code": "KH-CCHC-2021", "organization": "UBND-KH", "year": 2021,
            "title": "Kế hoạch tuyên truyền CCHC tỉnh năm 2021", "issued_by_decision": "590/QĐ-UBND",
            "period": {"from": "2021-01-01", "to": "2021-12-31"},
            "items": [
                {"ref": "II", "kind": "part", "title": "Nội dung tuyên truyền", "children": [
                    {"ref": "II.1", "kind": "content", "title": "Tuyên truyền cho cán bộ, công chức", "audience": "staff"},
                    {"ref": "II.3", "kind": "content", "title": "Tuyên truyền cho người dân", "audience": "public"}
                ]}
            ],
            "indicators": [{"code": "STAFF_INFORMED", "name": "Cán bộ được phổ biến", "unit": "percent",
                            "comparator": ">=", "target": 100}]
        }
    })
}

fn board_file(implements: &str) -> Value {
    json!({
        "format": "plan-fixture/1",
        "organizations": [{"code": "KDPM", "name": "Ban Quản lý dự án phát triển tỉnh", "parent": "UBND-KH"}],
        "departments": [{"organization": "KDPM", "code": "TCHC", "name": "Phòng Tổ chức - Hành chính"}],
        "documents": [{"number": "590/QĐ-UBND", "issued_on": "2021-03-01", "issuer": "UBND tỉnh Khánh Hòa",
                       "title": "Kế hoạch tuyên truyền cải cách hành chính năm 2021"}],
        "decision": {"number": "18/QĐ-BQL", "issued_on": "2021-03-15", "organization": "KDPM"},
        "plan": {
            "code": "KH-TTCCHC-2021", "organization": "KDPM", "year": 2021, "title": "Kế hoạch tuyên truyền CCHC năm 2021",
            "issued_by_decision": "18/QĐ-BQL",
            "implements": "590/QĐ-UBND", "period": {"from": "2021-01-01", "to": "2021-12-31"},
            "items": [
                {"ref": "II", "kind": "part", "title": "Nội dung", "children": [
                    {"ref": "II.1.1", "kind": "content", "title": "Phổ biến cho cán bộ Ban", "implements": "II.1",
                     "assignments": [{"department": "TCHC", "role": "lead", "reporting": "quarterly"}]},
                    {"ref": "II.3.c", "kind": "content", "title": "Đăng tin trên trang của Ban", "implements": implements}
                ]}
            ],
            "indicators": [{"code": "STAFF_INFORMED", "name": "Cán bộ được phổ biến", "unit": "percent",
                            "comparator": ">=", "target": 90}]
        }
    })
}

async fn org_id(app: &TestApp, admin: &str, code: &str) -> String {
    let res = app.get("/api/v1/organizations?limit=200").token(admin).send().await;
    res.json()["items"].as_array().unwrap().iter().find(|o| o["code"] == code).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[actix_web::test]
async fn the_province_reads_down_the_tree_and_rolls_up_its_units() {
    let mut settings = test_settings();
    settings.clock = cchc_outreach::clock::Clock::fixed(
        chrono::DateTime::parse_from_rfc3339("2021-04-06T10:00:00+07:00").unwrap().with_timezone(&chrono::Utc),
    );
    let app = TestApp::spawn_with(settings).await;
    let admin = app.admin_token().await;
    let res = app.post("/api/v1/plans/import").token(&admin).json(province_file()).send().await;
    assert_eq!(res.status, 201, "{}", res.text());
    let province_plan = res.json()["plan_id"].as_str().unwrap().to_owned();
    // An item the parent plan does not have: the import says where, and writes nothing.
    let res = app.post("/api/v1/plans/import").token(&admin).json(board_file("IX.9")).send().await;
    let problem = res.problem(422, "import_invalid");
    assert!(problem.to_string().contains("$.plan.items[0].children[1].implements"), "{problem}");
    let res = app.post("/api/v1/plans/import").token(&admin).json(board_file("II.3")).send().await;
    assert_eq!(res.status, 201, "{}", res.text());
    let board_plan = res.json()["plan_id"].as_str().unwrap().to_owned();
    let (province, board, sibling, below) = (
        org_id(&app, &admin, "UBND-KH").await,
        org_id(&app, &admin, "KDPM").await,
        org_id(&app, &admin, "SXD").await,
        org_id(&app, &admin, "KDPM-DA1").await,
    );
    let province_uuid = province.parse().unwrap();
    let prov_dept = app.department(&admin, province_uuid, "VP").await;
    let (_, leader) = app.staff(&admin, province_uuid, &prov_dept, "ubnd.leader", "leader").await;
    let (_, viewer) = app.staff(&admin, province_uuid, &prov_dept, "ubnd.viewer", "viewer").await;
    let board_uuid = board.parse().unwrap();
    let board_dept = app.department(&admin, board_uuid, "QLDA1").await;
    let (_, board_leader) = app.staff(&admin, board_uuid, &board_dept, "kdpm.leader", "leader").await;
    let (_, board_coord) = app.staff(&admin, board_uuid, &board_dept, "kdpm.coord", "coordinator").await;
    let (_, client) = app.service_client(&admin, province_uuid, &["oversight:read"]).await;

    // Items map to the province's through the import.
    let items = app.get(&format!("/api/v1/plans/{board_plan}/items?limit=50")).token(&board_coord).send().await.json();
    let province_items =
        app.get(&format!("/api/v1/plans/{province_plan}/items?limit=50")).token(&leader).send().await.json();
    let id_of = |list: &Value, reference: &str| {
        list["items"].as_array().unwrap().iter().find(|i| i["reference"] == reference).unwrap()["id"].clone()
    };
    let board_ii3c = items["items"].as_array().unwrap().iter().find(|i| i["reference"] == "II.3.c").unwrap().clone();
    assert_eq!(board_ii3c["implements_item_id"], id_of(&province_items, "II.3"));
    // Through the API too, checked: an item of another plan is refused.
    let own_ii = id_of(&items, "II");
    let res = app
        .patch(&format!("/api/v1/plan-items/{}", board_ii3c["id"].as_str().unwrap()))
        .token(&board_coord)
        .json(json!({"implements_item_id": own_ii}))
        .send()
        .await;
    res.problem(422, "rule_violated");

    // The board's data: a measurement and feedback records: one answered on time and
    // rated, one received in March and still open (overdue on the fixed clock's
    // 2021-04-06), one deleted (counted nowhere).
    let indicators = app.get(&format!("/api/v1/plans/{board_plan}/indicators")).token(&board_coord).send().await.json();
    let indicator = indicators["items"][0]["id"].as_str().unwrap().to_owned();
    let res = app
        .post(&format!("/api/v1/indicators/{indicator}/measurements"))
        .token(&board_coord)
        .json(json!({"value": 95.0, "measured_on": "2021-06-30", "citation": "Báo cáo 6 tháng"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let mut filed = Vec::new();
    for n in 0..3 {
        let res = app
            .post("/api/v1/feedback")
            .token(&board_coord)
            .json(json!({"channel": "hotline", "kind": "complaint", "sender_type": "citizen", "sender_name": NAME,
                "sender_phone": PHONE, "subject": format!("Phản ánh {n}"), "content": "Nội dung", "department_id": board_dept,
                "received_at": if n == 1 { "2021-03-01T09:00:00+07:00" } else { "2021-04-05T09:00:00+07:00" }}))
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        filed.push(res.json()["id"].as_str().unwrap().to_owned());
    }
    let res = app
        .post(&format!("/api/v1/feedback/{}/transitions", filed[0]))
        .token(&board_coord)
        .json(json!({"to": "accepted"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = app
        .post(&format!("/api/v1/feedback/{}/answers", filed[0]))
        .token(&board_coord)
        .json(json!({"text": "Đã giải quyết."}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let res = app
        .post(&format!("/api/v1/feedback/{}/satisfaction", filed[0]))
        .token(&board_coord)
        .json(json!({"rating": "satisfied", "channel": "hotline"}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = app.delete(&format!("/api/v1/feedback/{}", filed[2])).token(&board_coord).send().await;
    assert_eq!(res.status, 204, "{}", res.text());

    // Oversight reads, down the tree: one level and two.
    for (who, token) in [("leader", &leader), ("client", &client)] {
        let res = app.get(&format!("/api/v1/plans?organization_id={board}")).token(token).send().await;
        assert_eq!(res.status, 200, "{who}: {}", res.text());
        assert_eq!(res.json()["items"][0]["id"], board_plan.as_str(), "{who}");
        let res = app.get(&format!("/api/v1/plans/{board_plan}?organization_id={board}")).token(token).send().await;
        assert_eq!(res.status, 200, "{who}: {}", res.text());
        let res =
            app.get(&format!("/api/v1/plans/{board_plan}/items?organization_id={board}")).token(token).send().await;
        assert_eq!(res.status, 200, "{who}: {}", res.text());
        let res = app.get(&format!("/api/v1/assignments?organization_id={board}")).token(token).send().await;
        assert_eq!(res.status, 200, "{who}: {}", res.text());
        let res = app.get(&format!("/api/v1/activities?organization_id={board}")).token(token).send().await;
        assert_eq!(res.status, 200, "{who}: {}", res.text());
        let res = app.get(&format!("/api/v1/plans?organization_id={below}")).token(token).send().await;
        assert_eq!(res.status, 200, "{who}, two levels down: {}", res.text());
        // Who the caller is does not change with the unit read.
        let me = app.get(&format!("/api/v1/me?organization_id={board}")).token(token).send().await;
        assert_eq!(me.status, 200, "{who}: {}", me.text());
        assert_eq!(me.json()["organization_id"], province.as_str(), "{who}");
        let stats =
            app.get(&format!("/api/v1/reports/feedback?period=2021&organization_id={board}")).token(token).send().await;
        assert_eq!(stats.status, 200, "{who}: {}", stats.text());
        assert_eq!(stats.json()["total"]["received"], 2);
        assert!(!stats.text().contains("0905") && !stats.text().contains("Phạm"), "statistics only");
        // Evidence lists, not the files.
        let res = app
            .get(&format!("/api/v1/evidence/{}/content?organization_id={board}", uuid::Uuid::now_v7()))
            .token(token)
            .send()
            .await;
        assert_eq!(res.status, 403, "{who}: {}", res.text());
        // Never a feedback record, never a write.
        let res = app.get(&format!("/api/v1/feedback?organization_id={board}")).token(token).send().await;
        assert_eq!(res.status, 403, "{who}: {}", res.text());
        let res = app.get(&format!("/api/v1/feedback/{}?organization_id={board}", filed[0])).token(token).send().await;
        assert_eq!(res.status, 403, "{who}: {}", res.text());
        let res = app
            .patch(&format!("/api/v1/plans/{board_plan}?organization_id={board}"))
            .token(token)
            .json(json!({"title": "Sửa"}))
            .send()
            .await;
        // A write is not an oversight read: the leader's own organisation has no such
        // plan, and the client has no right to write plans at all.
        let refused = if who == "leader" { 404 } else { 403 };
        assert_eq!(res.status, refused, "{who} writes nothing: {}", res.text());
        // A sibling's or the level above's: 404.
        let res = app.get(&format!("/api/v1/plans?organization_id={}", uuid::Uuid::now_v7())).token(token).send().await;
        assert_eq!(res.status, 404, "{who}");
    }
    for (org, what) in [(&sibling, "a sibling"), (&province, "the level above")] {
        let res = app.get(&format!("/api/v1/plans?organization_id={org}")).token(&board_leader).send().await;
        assert_eq!(res.status, 404, "{what}: {}", res.text());
    }
    // Oversight is a permission: a viewer of the province has none.
    let res = app.get(&format!("/api/v1/plans?organization_id={board}")).token(&viewer).send().await;
    assert_eq!(res.status, 403, "{}", res.text());
    // Each oversight read is in the trail of the unit read (not in the feed).
    let board_reads = app.sql_count(&format!(
        "SELECT count(*) AS n FROM audit_events WHERE action = 'oversight_read' AND organization_id = '{board}'
           AND changes->>'by_organization_id' = '{province}'"
    ));
    // Ten reads of the board's each by the leader and the client (the refused file and
    // feedback reads included: an attempt is in the trail too; `/me` naming the board too).
    assert_eq!(board_reads, 20, "oversight reads in the board's trail");
    let below_reads = app.sql_count(&format!(
        "SELECT count(*) AS n FROM audit_events WHERE action = 'oversight_read' AND organization_id = '{below}'"
    ));
    assert_eq!(below_reads, 2, "and the unit two levels down's in its own");
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM events WHERE type LIKE '%oversight%'"), 0);

    // The roll-up.
    let rollup =
        app.get(&format!("/api/v1/reports/plans/{province_plan}/rollup?period=2021")).token(&leader).send().await;
    assert_eq!(rollup.status, 200, "{}", rollup.text());
    let text = rollup.text();
    assert!(!text.contains("0905") && !text.contains(NAME), "no personal data in the roll-up");
    let r = rollup.json();
    let parent =
        |reference: &str| r["items"].as_array().unwrap().iter().find(|i| i["reference"] == reference).unwrap().clone();
    assert_eq!(parent("II.3")["units"], 1);
    assert_eq!(parent("II.3")["implementations"][0]["reference"], "II.3.c");
    assert_eq!(parent("II.3")["implementations"][0]["organization_code"], "KDPM");
    assert_eq!(parent("II.1")["implementations"][0]["assignments"], 1, "the lead assignment the import made");
    assert_eq!(parent("II")["units"], 0);
    let units = r["units"].as_array().unwrap();
    assert_eq!(units.len(), 1, "{units:?}");
    let unit = &units[0];
    assert_eq!(unit["code"], "KDPM");
    assert_eq!(unit["feedback"]["received"], 2);
    assert_eq!(unit["feedback"]["answered"], 1);
    assert_eq!(unit["feedback"]["answered_on_time"], 1);
    assert_eq!(unit["feedback_on_time_rate"], 50.0);
    assert_eq!(unit["feedback"]["overdue"], 1, "the open record's deadline has passed");
    assert_eq!((unit["feedback"]["rated"].clone(), unit["feedback"]["satisfied"].clone()), (json!(1), json!(1)));
    // The roll-up reads the tallies the triggers keep; they hold what the records say.
    assert_eq!(app.sql_count(TALLIES_DISAGREE), 0, "tallies agree with the records");
    let staff = &unit["indicators"][0];
    assert_eq!(
        (staff["code"].clone(), staff["target_value"].clone(), staff["parent_target_value"].clone()),
        (json!("STAFF_INFORMED"), json!(90.0), json!(100.0))
    );
    assert_eq!((staff["value"].clone(), staff["status"].clone()), (json!(95.0), json!("met")));
    assert_eq!(unit["indicators_met_rate"], 100.0);
    // The score is the mean of the rates the unit has.
    let rates: Vec<f64> = ["reports_on_time_rate", "indicators_met_rate", "feedback_on_time_rate"]
        .iter()
        .filter_map(|k| unit[*k].as_f64())
        .collect();
    let mean = (rates.iter().sum::<f64>() / rates.len() as f64 * 10.0).round() / 10.0;
    assert_eq!(unit["score"].as_f64(), Some(mean));
    assert_eq!(unit["rank"], 1);
    // The sibling board has no plan implementing the province's: missing. The unit two
    // levels down is the board's to plan for, not missing here.
    let missing: Vec<&str> = r["missing"].as_array().unwrap().iter().map(|m| m["code"].as_str().unwrap()).collect();
    assert_eq!(missing, ["SXD"]);
    // CSV per section, the workbook.
    let csv = app
        .get(&format!("/api/v1/reports/plans/{province_plan}/rollup?period=2021&format=csv&section=units&bom=false"))
        .token(&client)
        .send()
        .await;
    assert_eq!(csv.status, 200, "{}", csv.text());
    assert!(csv.text().starts_with("rank,code,name,plan_code,score,"), "{}", csv.text());
    assert!(csv.text().contains("KDPM"));
    let xlsx = app
        .get(&format!("/api/v1/reports/plans/{province_plan}/rollup?period=2021&format=xlsx"))
        .token(&leader)
        .send()
        .await;
    assert_eq!(xlsx.status, 200);
    // The compiled report as the official document: its parts in order, the units' rank
    // and score, the missing unit; no personal data.
    let docx = app
        .get(&format!("/api/v1/reports/plans/{province_plan}/rollup?period=2021&format=docx"))
        .token(&leader)
        .send()
        .await;
    assert_eq!(docx.status, 200, "{}", docx.text());
    let doc = docx_rs::read_docx(&docx.body).expect("a Word document");
    let mut texts = Vec::new();
    for child in &doc.document.children {
        match child {
            docx_rs::DocumentChild::Paragraph(p) => texts.push(p.raw_text()),
            docx_rs::DocumentChild::Table(t) => {
                for docx_rs::TableChild::TableRow(row) in &t.rows {
                    for docx_rs::TableRowChild::TableCell(cell) in &row.cells {
                        for content in &cell.children {
                            if let docx_rs::TableCellContent::Paragraph(p) = content {
                                texts.push(p.raw_text());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let at =
        |needle: &str| texts.iter().position(|t| t.contains(needle)).unwrap_or_else(|| panic!("{needle}: {texts:#?}"));
    let parts = cchc_outreach::reports::docx::ROLLUP_PARTS;
    assert!(at("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM") < at("BÁO CÁO"));
    assert!(at("BÁO CÁO") < at(parts[0]) && at(parts[0]) < at(parts[1]) && at(parts[1]) < at(parts[2]));
    assert!(at(parts[2]) < at("Nơi nhận:"));
    let row = at("KDPM — ");
    assert_eq!(texts[row - 1], "1", "rank 1: {texts:#?}");
    assert_eq!(texts[row + 4], cchc_outreach::reports::docx::number(unit["score"].as_f64().unwrap()));
    assert!(texts[at(parts[2])..].iter().any(|t| t.contains("(SXD)")), "{texts:#?}");
    let all = texts.join("\n");
    assert!(!all.contains("0905") && !all.contains(NAME), "no personal data in the document");
    // Only for a plan of one's own organisation: the board's roll-up of the province's is a 404.
    let res =
        app.get(&format!("/api/v1/reports/plans/{province_plan}/rollup?period=2021")).token(&board_leader).send().await;
    assert_eq!(res.status, 404, "{}", res.text());
}

/// Reports sent upward: a quarter's report not sent by its due date is late (notice and
/// event); sent, it is frozen in the parent's inbox, returned with a note, sent again as
/// version 2 and acknowledged.
#[actix_web::test]
async fn a_unit_sends_its_report_up_and_the_province_returns_then_acknowledges_it() {
    let mut settings = test_settings();
    settings.clock = cchc_outreach::clock::Clock::fixed(
        chrono::DateTime::parse_from_rfc3339("2021-04-07T10:00:00+07:00").unwrap().with_timezone(&chrono::Utc),
    );
    settings.deadlines.scan_every = std::time::Duration::from_secs(1);
    settings.jobs.poll = std::time::Duration::from_millis(50);
    let app = TestApp::spawn_with(settings).await;
    let admin = app.admin_token().await;
    let res = app.post("/api/v1/plans/import").token(&admin).json(province_file()).send().await;
    assert_eq!(res.status, 201, "{}", res.text());
    let province_plan = res.json()["plan_id"].as_str().unwrap().to_owned();
    let res = app.post("/api/v1/plans/import").token(&admin).json(board_file("II.3")).send().await;
    assert_eq!(res.status, 201, "{}", res.text());
    let board_plan = res.json()["plan_id"].as_str().unwrap().to_owned();
    let (province, board) = (org_id(&app, &admin, "UBND-KH").await, org_id(&app, &admin, "KDPM").await);
    let prov_dept = app.department(&admin, province.parse().unwrap(), "VP").await;
    let (_, leader) = app.staff(&admin, province.parse().unwrap(), &prov_dept, "ubnd.leader", "leader").await;
    let board_dept = app.department(&admin, board.parse().unwrap(), "QLDA1").await;
    let (_, coordinator) = app.staff(&admin, board.parse().unwrap(), &board_dept, "kdpm.coord", "coordinator").await;
    let (_, board_leader) = app.staff(&admin, board.parse().unwrap(), &board_dept, "kdpm.leader", "leader").await;
    let (_, client) = app.service_client(&admin, province.parse().unwrap(), &["oversight:read"]).await;

    // Q1 as Decree 09/2019 cuts it (15/12 – 14/03, the organisation's counting), due
    // five days later: not sent, it is late — a notice and an event.
    let duties = format!("/api/v1/reports/plans/{board_plan}/submission-duties");
    let res = app.get(&duties).token(&coordinator).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let q1 = res.json()["items"][0].clone();
    assert_eq!(
        (q1["period"].clone(), q1["due_on"].clone(), q1["state"].clone()),
        (json!("2021-Q1"), json!("2021-03-19"), json!("missing"))
    );
    assert_eq!(res.json()["parent_organization_id"], province.as_str());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let late = loop {
        let inbox = app.get("/api/v1/me/notifications").token(&coordinator).send().await.json();
        let kinds: Vec<String> =
            inbox["items"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap().to_owned()).collect();
        if kinds.contains(&"report_submission.late".to_owned()) || std::time::Instant::now() > deadline {
            break kinds;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(late.contains(&"report_submission.late".to_owned()), "{late:?}");
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM events WHERE type = 'report_submission.late'"), 1);

    // Sent: frozen, in the province's inbox.
    let submit = format!("/api/v1/reports/plans/{board_plan}/submissions");
    let res = app.post(&submit).token(&coordinator).json(json!({"period": "2021-Q2"})).send().await;
    res.problem(409, "period_not_closed");
    let res =
        app.post(&submit).token(&coordinator).json(json!({"period": "2021-Q1", "note": "Báo cáo quý I"})).send().await;
    assert_eq!(res.status, 201, "{}", res.text());
    let first = res.json();
    assert_eq!(
        (first["version_no"].clone(), first["status"].clone(), first["late"].clone()),
        (json!(1), json!("submitted"), json!(true))
    );
    assert_eq!(first["parent_organization_id"], province.as_str());
    let id = first["id"].as_str().unwrap().to_owned();
    app.post(&submit)
        .token(&coordinator)
        .json(json!({"period": "2021-Q1"}))
        .send()
        .await
        .problem(409, "submission_exists");
    let res = app
        .post(&format!("/api/v1/reports/plans/{province_plan}/submissions"))
        .token(&admin)
        .json(json!({"period": "2021-Q1"}))
        .send()
        .await;
    res.problem(422, "no_parent_organization");
    let inbox = app.get("/api/v1/report-submissions?period=2021-Q1").token(&leader).send().await;
    assert_eq!(inbox.status, 200, "{}", inbox.text());
    assert_eq!(inbox.json()["items"].as_array().unwrap().len(), 1);
    let none =
        app.get(&format!("/api/v1/report-submissions?status=returned&unit_id={board}")).token(&leader).send().await;
    assert_eq!(none.json()["items"], json!([]));
    assert_eq!(
        app.get("/api/v1/report-submissions").token(&board_leader).send().await.json()["items"],
        json!([]),
        "none sent to the board"
    );
    // The province's reporting system, with only `oversight:read`, reads it as well.
    let by_client = app.get(&format!("/api/v1/report-submissions/{id}/content")).token(&client).send().await;
    assert_eq!(by_client.status, 200, "{}", by_client.text());
    let content = app.get(&format!("/api/v1/report-submissions/{id}/content")).token(&leader).send().await;
    assert_eq!(content.status, 200, "{}", content.text());
    assert_eq!(content.text(), by_client.text());
    assert_eq!(content.json()["plan"]["code"], "KH-TTCCHC-2021");
    assert_eq!(
        cchc_outreach::domain::sha256_hex(content.text().as_bytes()),
        first["sha256"].as_str().unwrap(),
        "byte for byte"
    );
    let digest = content.header("repr-digest").expect("the digest of what was frozen");
    let raw: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&first["sha256"].as_str().unwrap()[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    use base64::Engine;
    let expected = format!("sha-256=:{}:", base64::engine::general_purpose::STANDARD.encode(raw));
    assert_eq!(digest, expected, "RFC 9530: the base64 of the SHA-256 frozen");
    let told: Vec<Value> =
        app.get("/api/v1/me/notifications").token(&leader).send().await.json()["items"].as_array().unwrap().clone();
    assert!(told.iter().any(|n| n["kind"] == "report_submission.received"), "{told:?}");

    // Returned with a note (only by the level above), sent again as version 2, acknowledged.
    let decide = |what: &str| format!("/api/v1/report-submissions/{id}/{what}");
    app.post(&decide("return"))
        .token(&board_leader)
        .json(json!({"note": "Sửa"}))
        .send()
        .await
        .problem(404, "not_found");
    app.post(&decide("return")).token(&leader).json(json!({})).send().await.problem(422, "rule_violated");
    let res = app.post(&decide("return")).token(&leader).json(json!({"note": "Bổ sung số liệu mục II.3"})).send().await;
    assert_eq!((res.status, res.json()["status"].clone()), (200, json!("returned")), "{}", res.text());
    app.post(&decide("acknowledge")).token(&leader).json(json!({})).send().await.problem(409, "submission_decided");
    let res =
        app.post(&submit).token(&coordinator).json(json!({"period": "2021-Q1", "note": "Đã bổ sung"})).send().await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["version_no"], 2);
    let second = res.json()["id"].as_str().unwrap().to_owned();
    let res = app
        .post(&format!("/api/v1/report-submissions/{second}/acknowledge"))
        .token(&leader)
        .json(json!({"note": "Đã nhận"}))
        .send()
        .await;
    assert_eq!((res.status, res.json()["status"].clone()), (200, json!("acknowledged")), "{}", res.text());
    let listed = app.get(&submit).token(&coordinator).send().await.json();
    let states: Vec<(i64, String)> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["version_no"].as_i64().unwrap(), s["status"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(states, [(1, "returned".to_owned()), (2, "acknowledged".to_owned())]);
    let q1 = app.get(&duties).token(&coordinator).send().await.json()["items"][0].clone();
    assert_eq!(q1["state"], "late", "sent after its due date");
    let kinds: Vec<String> = app.get("/api/v1/me/notifications").token(&coordinator).send().await.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        kinds.contains(&"report_submission.returned".to_owned())
            && kinds.contains(&"report_submission.acknowledged".to_owned())
    );
    for kind in ["submitted", "returned", "acknowledged"] {
        let n = app.sql_count(&format!("SELECT count(*) AS n FROM events WHERE type = 'report_submission.{kind}'"));
        assert_eq!(n, if kind == "submitted" { 2 } else { 1 }, "{kind}");
    }
    // The frozen report cannot be changed, even in the database.
    let mut conn = <diesel::PgConnection as diesel::Connection>::establish(&app.database_url).unwrap();
    let changed = diesel::RunQueryDsl::execute(
        diesel::sql_query(format!("UPDATE report_submissions SET body = '{{}}' WHERE id = '{id}'")),
        &mut conn,
    );
    assert!(changed.is_err(), "frozen");
}

/// Rows where `feedback_tallies` and a count of the live records themselves differ.
const TALLIES_DISAGREE: &str = "
    WITH counted AS (
        SELECT organization_id, (received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS received_on, deadline_on,
               count(*) AS received, count(answered_at) AS answered,
               count(*) FILTER (WHERE (answered_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date <= deadline_on) AS answered_on_time,
               count(*) FILTER (WHERE status IN ('received', 'accepted', 'in_progress')) AS open,
               count(satisfaction) AS rated, count(*) FILTER (WHERE satisfaction = 'satisfied') AS satisfied
        FROM feedback WHERE deleted_at IS NULL GROUP BY 1, 2, 3),
    kept AS (
        SELECT organization_id, received_on, deadline_on, received, answered, answered_on_time, open, rated, satisfied
        FROM feedback_tallies WHERE (received, answered, answered_on_time, open, rated, satisfied) <> (0, 0, 0, 0, 0, 0))
    SELECT count(*) AS n FROM ((TABLE counted EXCEPT TABLE kept) UNION ALL (TABLE kept EXCEPT TABLE counted)) d";
