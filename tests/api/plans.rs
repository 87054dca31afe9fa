//! Plans, their items and indicators, and importing the real 2021 plan.
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, test_settings};

const FIXTURE: &str = include_str!("../../fixtures/kdpm-2021.json");

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).unwrap()
}

/// Imports the fixture as `token`; returns the plan id.
async fn import(app: &TestApp, token: &str) -> Uuid {
    let res = app.post("/api/v1/plans/import").token(token).json(fixture()).send().await;
    assert_eq!(res.status, 201, "{}", res.text());
    Uuid::parse_str(res.json()["plan_id"].as_str().unwrap()).unwrap()
}

/// References in depth-first order, from the tree view.
fn flatten(nodes: &Value, out: &mut Vec<String>) {
    for node in nodes.as_array().unwrap() {
        out.push(node["reference"].as_str().unwrap().to_owned());
        flatten(&node["children"], out);
    }
}

async fn tree_refs(app: &TestApp, token: &str, plan: Uuid) -> Vec<String> {
    let res = app.get(&format!("/api/v1/plans/{plan}/items?view=tree")).token(token).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let mut refs = Vec::new();
    flatten(&res.json()["items"], &mut refs);
    refs
}

fn fixture_refs() -> Vec<String> {
    fn walk(items: &Value, out: &mut Vec<String>) {
        for item in items.as_array().unwrap() {
            out.push(item["ref"].as_str().unwrap().to_owned());
            if let Some(children) = item.get("children") {
                walk(children, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&fixture()["plan"]["items"], &mut out);
    out
}

#[actix_web::test]
async fn importing_the_2021_plan_creates_exactly_what_the_decision_says() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let res = app.post("/api/v1/plans/import").token(&admin).json(fixture()).send().await;
    assert_eq!(res.status, 201, "{}", res.text());
    let summary = res.json();
    assert_eq!(summary["outcome"], "created");
    assert_eq!(
        (&summary["organizations_created"], &summary["departments_created"], &summary["documents_created"]),
        (&json!(2), &json!(7), &json!(10))
    );
    let plan: Uuid = summary["plan_id"].as_str().unwrap().parse().unwrap();
    assert_eq!(res.header("location").unwrap(), format!("/api/v1/plans/{plan}"));

    assert_eq!(app.sql_count("SELECT count(*) AS n FROM organizations"), 2);
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM departments d JOIN organizations o ON o.id = d.organization_id WHERE o.code = 'KDPM'"), 7);
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM documents"), 10);
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM plans"), 1);
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM plan_items WHERE deleted_at IS NULL"), 45);
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM indicators WHERE deleted_at IS NULL"), 5);

    let read = app.get(&format!("/api/v1/plans/{plan}")).token(&admin).send().await.json();
    assert_eq!(read["code"], "KH-TTCCHC-2021");
    assert_eq!(read["status"], "issued");
    assert_eq!(read["decision"]["number"], "18/QĐ-BQL");
    assert_eq!(read["decision"]["signer"]["name"], "Châu Ngô Anh Nhân");
    assert_eq!(read["decision"]["articles"][2]["departments"].as_array().unwrap().len(), 6);
    assert_eq!(read["legal_basis_ids"].as_array().unwrap().len(), 4);
    assert_eq!((read["period_from"].as_str(), read["period_to"].as_str()), (Some("2021-03-24"), Some("2021-12-31")));
    let implements = read["implements_document_id"].as_str().unwrap();
    let doc = app.get(&format!("/api/v1/documents/{implements}")).token(&admin).send().await.json();
    assert_eq!(doc["number"], "590/QĐ-UBND");

    // The tree, in the decision's order.
    assert_eq!(tree_refs(&app, &admin, plan).await, fixture_refs());
    let tree = app.get(&format!("/api/v1/plans/{plan}/items?view=tree")).token(&admin).send().await.json();
    assert_eq!(tree["count"], 45);
    let part_two = &tree["items"][1];
    assert_eq!(part_two["reference"], "II");
    assert_eq!(part_two["children"][2]["children"][4]["reference"], "II.3.đ");
    assert_eq!(part_two["children"][2]["children"][4]["channel"], "party_meeting");
    assert_eq!(part_two["children"][2]["children"][4]["document_ids"].as_array().unwrap().len(), 3);

    // Indicators with their targets, linked to their items.
    let indicators = app.get(&format!("/api/v1/plans/{plan}/indicators")).token(&admin).send().await.json();
    let codes: Vec<&str> =
        indicators["items"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect();
    assert_eq!(
        codes,
        ["STAFF_INFORMED", "ONLINE_DOSSIER_RATE", "SATISFACTION_RATE", "STAFF_VISIT_CCHC_PORTAL", "PROVINCIAL_INDICES"]
    );
    assert!(
        indicators["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["status"] == "no_data" && !i["plan_item_id"].is_null())
    );

    // The assignments the file names are kept with it for the assignments feature.
    assert_eq!(
        app.sql_count("SELECT count(*) AS n FROM plan_imports WHERE jsonb_path_exists(content, '$.plan.items[*].children[*].assignments[*] ? (@.department == \"TCKT\")')"),
        1
    );

    // Importing again does not duplicate: a conflict, or an update when asked.
    app.post("/api/v1/plans/import").token(&admin).json(fixture()).send().await.problem(409, "plan_exists");
    let res = app.post("/api/v1/plans/import?on_conflict=update").token(&admin).json(fixture()).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["outcome"], "updated");
    assert_eq!(res.json()["plan_id"], json!(plan));
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM plans"), 1);
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM plan_items WHERE deleted_at IS NULL"), 45);
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM documents"), 10);
    assert_eq!(tree_refs(&app, &admin, plan).await, fixture_refs());
}

#[actix_web::test]
async fn a_file_with_problems_reports_them_all_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut bad = fixture();
    bad["plan"]["items"][1]["children"][0]["children"][3]["kind"] = json!("wish");
    bad["documents"][2]["issued_on"] = json!("03/11/2017");
    bad["plan"]["items"][2]["children"][4]["documents"] = json!(["99/QĐ-XYZ"]);
    let res = app.post("/api/v1/plans/import").token(&admin).json(bad).send().await;
    let body = res.problem(422, "import_invalid");
    assert_eq!(
        res.field_errors(),
        vec![
            ("$.documents[2].issued_on".to_owned(), "invalid_value".to_owned()),
            ("$.plan.items[1].children[0].children[3].kind".to_owned(), "invalid_value".to_owned()),
            ("$.plan.items[2].children[4].documents[0]".to_owned(), "unknown_reference".to_owned()),
        ]
    );
    assert!(body["detail"].as_str().unwrap().contains('3'), "{body}");
    for table in ["organizations", "departments", "documents", "plans", "plan_items", "indicators", "plan_imports"] {
        assert_eq!(app.sql_count(&format!("SELECT count(*) AS n FROM {table}")), 0, "{table}");
    }
    // A failure after the checks (here: a person may not create organisations) also writes nothing.
    let other_org = app.organization(&admin, "OTHER").await;
    let (_, coordinator) = app.person(&admin, other_org, "coord", "coordinator").await;
    let res = app.post("/api/v1/plans/import").token(&coordinator).json(fixture()).send().await;
    res.problem(422, "import_invalid");
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM organizations"), 1);
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM documents"), 0);
    app.post("/api/v1/plans/import")
        .token(&admin)
        .raw("application/json", "[]")
        .send()
        .await
        .problem(400, "json_object_expected");
}

#[actix_web::test]
async fn the_tree_stays_a_tree_when_items_move() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let plan = import(&app, &admin).await;
    let items = app.get(&format!("/api/v1/plans/{plan}/items?limit=200")).token(&admin).send().await.json();
    let id_of = |reference: &str| -> String {
        items["items"].as_array().unwrap().iter().find(|i| i["reference"] == reference).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (part_one, section_one, objective) = (id_of("I"), id_of("I.1"), id_of("I.1.2"));

    // Under itself, or under its own descendant: refused.
    for target in [&part_one, &section_one, &objective] {
        let res = app
            .patch(&format!("/api/v1/plan-items/{part_one}"))
            .token(&admin)
            .json(json!({"parent_id": target}))
            .send()
            .await;
        res.problem(422, "item_cycle");
    }
    // Under an item of another plan: refused.
    let org = app.get(&format!("/api/v1/plans/{plan}")).token(&admin).send().await.json()["organization_id"].clone();
    let other = app
        .post("/api/v1/plans")
        .token(&admin)
        .json(json!({"code": "KH-2022", "year": 2022, "title": "Kế hoạch 2022", "organization_id": org}))
        .send()
        .await;
    assert_eq!(other.status, 201, "{}", other.text());
    let other_plan = other.id();
    let foreign = app
        .post(&format!("/api/v1/plans/{other_plan}/items"))
        .token(&admin)
        .json(json!({"reference": "I", "kind": "part", "title": "Phần I"}))
        .send()
        .await;
    assert_eq!(foreign.status, 201, "{}", foreign.text());
    let res = app
        .patch(&format!("/api/v1/plan-items/{objective}"))
        .token(&admin)
        .json(json!({"parent_id": foreign.id()}))
        .send()
        .await;
    res.problem(422, "parent_other_plan");
    assert_eq!(tree_refs(&app, &admin, plan).await, fixture_refs(), "refused moves change nothing");

    // A real move: I.1.2 to the top of section I.2; both sections renumber.
    let res = app
        .patch(&format!("/api/v1/plan-items/{objective}"))
        .token(&admin)
        .json(json!({"parent_id": id_of("I.2"), "position": 0}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["position"], 0);
    let refs = tree_refs(&app, &admin, plan).await;
    assert_eq!(&refs[..10], ["I", "I.1", "I.1.1", "I.1.3", "I.2", "I.1.2", "I.2.1", "I.2.2", "I.2.3", "I.2.4"]);
    let section =
        app.get(&format!("/api/v1/plans/{plan}/items?parent_id={}", id_of("I.1"))).token(&admin).send().await.json();
    let positions: Vec<i64> =
        section["items"].as_array().unwrap().iter().map(|i| i["position"].as_i64().unwrap()).collect();
    assert_eq!(positions, [0, 1], "the old siblings close the gap");

    // Reordering within a section, and a new item at a chosen place.
    let res = app
        .patch(&format!("/api/v1/plan-items/{}", id_of("II.3.e")))
        .token(&admin)
        .json(json!({"position": 0}))
        .send()
        .await;
    assert_eq!(res.status, 200);
    let res = app
        .post(&format!("/api/v1/plans/{plan}/items"))
        .token(&admin)
        .json(json!({"reference": "II.3.g", "kind": "channel", "channel": "sms_email", "parent_id": id_of("II.3"), "position": 1,
            "title": "Tin nhắn SMS, thư điện tử", "audience": "public"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let refs = tree_refs(&app, &admin, plan).await;
    let start = refs.iter().position(|r| r == "II.3").unwrap();
    assert_eq!(
        &refs[start..start + 9],
        ["II.3", "II.3.e", "II.3.g", "II.3.a", "II.3.b", "II.3.c", "II.3.d", "II.3.đ", "III"]
    );
    app.post(&format!("/api/v1/plans/{plan}/items"))
        .token(&admin)
        .json(json!({"reference": "II.3.g", "kind": "task", "title": "Trùng số hiệu"}))
        .send()
        .await
        .problem(409, "reference_taken");

    // Deleting: refused while it has children, unless cascading.
    let section = id_of("II.3");
    let res = app.delete(&format!("/api/v1/plan-items/{section}")).token(&admin).send().await;
    res.problem(409, "item_has_dependents");
    let res = app.delete(&format!("/api/v1/plan-items/{section}?cascade=true")).token(&admin).send().await;
    assert_eq!(res.status, 204, "{}", res.text());
    let refs = tree_refs(&app, &admin, plan).await;
    assert!(!refs.iter().any(|r| r.starts_with("II.3")), "{refs:?}");
    assert_eq!(refs.len(), 45 + 1 - 8);
    let portal = app.get(&format!("/api/v1/plans/{plan}/indicators")).token(&admin).send().await.json();
    let portal =
        portal["items"].as_array().unwrap().iter().find(|i| i["code"] == "STAFF_VISIT_CCHC_PORTAL").unwrap().clone();
    assert_eq!(portal["plan_item_id"], Value::Null, "the indicator of a deleted item now measures the plan");
    app.get("/api/v1/plans/{plan}/items?view=tree&limit=5".replace("{plan}", &plan.to_string()).as_str())
        .token(&admin)
        .send()
        .await
        .problem(422, "rule_violated");
}

#[actix_web::test]
async fn search_ignores_case_and_vietnamese_diacritics() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let plan = import(&app, &admin).await;
    let search = |q: &'static str| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let body =
                app.get(&format!("/api/v1/plans/{plan}/items?limit=200&q={q}")).token(&admin).send().await.json();
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["reference"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let plain = search("dich%20vu%20cong").await;
    let accented = search("d%E1%BB%8Bch%20v%E1%BB%A5%20c%C3%B4ng").await;
    assert!(plain.contains(&"II.2.5".to_owned()) && plain.contains(&"II.3.c".to_owned()), "{plain:?}");
    assert_eq!(plain, accented);
    let upper = search("TUYEN%20TRUYEN%20MIENG").await;
    assert_eq!(upper, ["II.3.đ", "III.2"]);
    assert_eq!(search("%C4%91%E1%BA%A3ng%20vi%C3%AAn").await, search("dang%20vien").await);
    assert!(search("100%25").await.contains(&"I.1.2".to_owned()), "a literal % is not a wildcard");
    assert_eq!(search("xyzzy").await, Vec::<String>::new());

    let plans = app.get("/api/v1/plans?q=tuyen%20truyen%20cai%20cach").token(&admin).send().await.json();
    assert_eq!(plans["items"].as_array().unwrap().len(), 1);
    let none = app.get("/api/v1/plans?q=ke%20hoach%20dau%20tu").token(&admin).send().await.json();
    assert_eq!(none["items"], json!([]));
}

#[actix_web::test]
async fn indicators_report_met_not_met_or_no_data_for_every_comparator() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let plan = app
        .post("/api/v1/plans")
        .token(&admin)
        .json(json!({"code": "P", "year": 2021, "title": "Kế hoạch", "organization_id": org}))
        .send()
        .await
        .id();
    let cases = [
        // (comparator, unit, target, baseline, values in order measured, expected)
        (">=", "percent", Some(30.0), None, vec![25.0, 30.0], "met"),
        (">=", "percent", Some(30.0), None, vec![35.0, 29.5], "not_met"),
        (">", "percent", Some(81.0), None, vec![81.0], "not_met"),
        (">", "percent", Some(81.0), None, vec![81.2], "met"),
        ("<=", "days", Some(15.0), None, vec![15.0], "met"),
        ("<", "days", Some(15.0), None, vec![15.0], "not_met"),
        ("=", "count", Some(12.0), None, vec![12.0], "met"),
        ("improves", "rank", None, Some(20.0), vec![17.0], "met"),
        ("improves", "rank", None, Some(20.0), vec![23.0], "not_met"),
        ("improves", "score", None, Some(60.5), vec![62.0], "met"),
        ("improves", "index", None, None, vec![0.71, 0.69], "not_met"),
        ("improves", "index", None, None, vec![0.71], "not_met"),
        (">=", "percent", Some(100.0), None, vec![], "no_data"),
    ];
    for (i, (comparator, unit, target, baseline, values, expected)) in cases.iter().enumerate() {
        let res = app
            .post(&format!("/api/v1/plans/{plan}/indicators"))
            .token(&admin)
            .json(
                json!({"code": format!("I{i}"), "name": format!("Chỉ tiêu {i}"), "unit": unit, "comparator": comparator,
                "target_value": target, "baseline": baseline}),
            )
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        let id = res.id();
        for (day, value) in values.iter().enumerate() {
            let res = app
                .post(&format!("/api/v1/indicators/{id}/measurements"))
                .token(&admin)
                .json(json!({"value": value, "measured_on": format!("2021-0{}-01", day + 3), "period": "2021", "citation": "Báo cáo quý"}))
                .send()
                .await;
            assert_eq!(res.status, 201, "{}", res.text());
        }
        let read = app.get(&format!("/api/v1/indicators/{id}")).token(&admin).send().await.json();
        assert_eq!(read["status"], *expected, "case {i}: {comparator} {unit} {values:?}");
        if let Some(last) = values.last() {
            assert_eq!(read["latest"]["value"], json!(last));
        }
    }
    // The latest is by date measured, not by entry order.
    let id = app
        .post(&format!("/api/v1/plans/{plan}/indicators"))
        .token(&admin)
        .json(json!({"code": "LATE", "name": "Nhập muộn", "unit": "percent", "comparator": ">=", "target_value": 50}))
        .send()
        .await
        .id();
    for (value, date) in [(60.0, "2021-12-31"), (10.0, "2021-06-30")] {
        app.post(&format!("/api/v1/indicators/{id}/measurements"))
            .token(&admin)
            .json(json!({"value": value, "measured_on": date, "link": "https://cchc.khanhhoa.gov.vn/bao-cao"}))
            .send()
            .await;
    }
    let read = app.get(&format!("/api/v1/indicators/{id}")).token(&admin).send().await.json();
    assert_eq!((read["latest"]["value"].clone(), read["status"].clone()), (json!(60.0), json!("met")));
    let list = app.get(&format!("/api/v1/indicators/{id}/measurements")).token(&admin).send().await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);

    // What a measurement must carry.
    let post = |body: Value| app.post(&format!("/api/v1/indicators/{id}/measurements")).token(&admin).json(body);
    let res = post(json!({"value": 50, "measured_on": "2021-12-31"})).send().await;
    assert_eq!(res.field_errors(), vec![("citation".to_owned(), "citation_required".to_owned())]);
    let res =
        post(json!({"value": 50, "measured_on": "2021-12-31", "citation": "x", "source": "computed"})).send().await;
    assert_eq!(res.field_errors(), vec![("source".to_owned(), "computed_by_service".to_owned())]);
    let res = post(json!({"value": 120, "measured_on": "2021-12-31", "citation": "x"})).send().await;
    assert_eq!(res.field_errors(), vec![("value".to_owned(), "out_of_range".to_owned())]);
    let res =
        post(json!({"value": 50, "measured_on": "2021-12-31", "citation": "x", "period": "2021-Q5"})).send().await;
    assert_eq!(res.field_errors(), vec![("period".to_owned(), "invalid_period".to_owned())]);
    let res = app
        .post(&format!("/api/v1/plans/{plan}/indicators"))
        .token(&admin)
        .json(json!({"code": "NO_TARGET", "name": "Thiếu chỉ tiêu", "unit": "percent", "comparator": ">="}))
        .send()
        .await;
    assert_eq!(res.field_errors(), vec![("target_value".to_owned(), "required".to_owned())]);
}

#[actix_web::test]
async fn plans_move_through_their_statuses_and_a_closed_plan_is_frozen() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let (_, coordinator) = app.person(&admin, org, "tchc", "coordinator").await;
    let res = app
        .post("/api/v1/plans")
        .token(&coordinator)
        .json(json!({"code": "P1", "year": 2021, "title": "Kế hoạch"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["status"], "draft");
    let plan = res.id();
    let transition = |to: &'static str| {
        let app = &app;
        let token = coordinator.clone();
        async move {
            app.post(&format!("/api/v1/plans/{plan}/transitions"))
                .token(&token)
                .json(json!({"to": to, "note": "ghi chú"}))
                .send()
                .await
        }
    };

    let res = transition("closed").await;
    let body = res.problem(409, "transition_not_allowed");
    assert_eq!(body["allowed"], json!(["issued"]));
    for to in ["issued", "in_progress"] {
        let res = transition(to).await;
        assert_eq!(res.status, 200, "{}", res.text());
        assert_eq!(res.json()["status"], to);
    }
    let body = transition("draft").await.problem(409, "transition_not_allowed");
    assert_eq!(body["allowed"], json!(["closed"]));
    app.patch(&format!("/api/v1/plans/{plan}"))
        .token(&coordinator)
        .json(json!({"status": "closed"}))
        .send()
        .await
        .problem(400, "validation_failed");
    assert_eq!(transition("closed").await.status, 200);
    let body = transition("in_progress").await.problem(409, "transition_not_allowed");
    assert_eq!(body["allowed"], json!([]));

    app.patch(&format!("/api/v1/plans/{plan}"))
        .token(&coordinator)
        .json(json!({"title": "Đổi"}))
        .send()
        .await
        .problem(409, "plan_closed");
    app.post(&format!("/api/v1/plans/{plan}/items"))
        .token(&coordinator)
        .json(json!({"reference": "I", "kind": "part", "title": "Phần I"}))
        .send()
        .await
        .problem(409, "plan_closed");
    let events =
        app.get(&format!("/api/v1/audit-events?entity_id={plan}&action=transition")).token(&admin).send().await.json();
    let moves: Vec<&str> =
        events["items"].as_array().unwrap().iter().map(|e| e["changes"]["status"]["after"].as_str().unwrap()).collect();
    assert_eq!(moves, ["issued", "in_progress", "closed"]);
    assert_eq!(events["items"][0]["changes"]["note"], "ghi chú");
}

#[actix_web::test]
async fn other_organisations_see_nothing_except_the_parent_plan_they_implement() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let plan = import(&app, &admin).await;
    let outsider_org = app.organization(&admin, "SO-NOI-VU").await;
    let (_, outsider) = app.person(&admin, outsider_org, "outsider", "org_admin").await;
    let items = app.get(&format!("/api/v1/plans/{plan}/items?limit=1")).token(&admin).send().await.json();
    let item = items["items"][0]["id"].as_str().unwrap().to_owned();
    let indicators = app.get(&format!("/api/v1/plans/{plan}/indicators?limit=1")).token(&admin).send().await.json();
    let indicator = indicators["items"][0]["id"].as_str().unwrap().to_owned();
    let documents = app.get("/api/v1/documents?limit=1").token(&admin).send().await.json();
    let document = documents["items"][0]["id"].as_str().unwrap().to_owned();

    for path in [
        format!("/api/v1/plans/{plan}"),
        format!("/api/v1/plans/{plan}/items"),
        format!("/api/v1/plans/{plan}/items?view=tree"),
        format!("/api/v1/plans/{plan}/indicators"),
        format!("/api/v1/plan-items/{item}"),
        format!("/api/v1/indicators/{indicator}"),
        format!("/api/v1/indicators/{indicator}/measurements"),
        format!("/api/v1/documents/{document}"),
    ] {
        app.get(&path).token(&outsider).send().await.problem(404, "not_found");
    }
    for (path, body) in [
        (format!("/api/v1/plans/{plan}"), json!({"title": "x"})),
        (format!("/api/v1/plan-items/{item}"), json!({"title": "x"})),
        (format!("/api/v1/indicators/{indicator}"), json!({"name": "x"})),
        (format!("/api/v1/documents/{document}"), json!({"title": "x"})),
    ] {
        app.patch(&path).token(&outsider).json(body).send().await.problem(404, "not_found");
    }
    // Valid requests, so that only the organisation stands in the way.
    for (path, body) in [
        (format!("/api/v1/plans/{plan}/items"), json!({"reference": "X", "kind": "task", "title": "x"})),
        (
            format!("/api/v1/plans/{plan}/indicators"),
            json!({"code": "X", "name": "x", "unit": "count", "comparator": "=", "target_value": 1}),
        ),
        (
            format!("/api/v1/indicators/{indicator}/measurements"),
            json!({"value": 1, "measured_on": "2021-01-01", "citation": "x"}),
        ),
        (format!("/api/v1/plans/{plan}/transitions"), json!({"to": "in_progress"})),
    ] {
        app.post(&path).token(&outsider).json(body).send().await.problem(404, "not_found");
    }
    for path in [
        format!("/api/v1/plans/{plan}"),
        format!("/api/v1/plan-items/{item}"),
        format!("/api/v1/indicators/{indicator}"),
        format!("/api/v1/documents/{document}"),
    ] {
        app.delete(&path).token(&outsider).send().await.problem(404, "not_found");
    }
    for path in ["/api/v1/plans", "/api/v1/documents"] {
        assert_eq!(app.get(path).token(&outsider).send().await.json()["items"], json!([]), "{path}");
    }

    // A board below the province implements the province's plan: it may read that
    // plan, its items and indicators — and change none of them.
    let province = app.get("/api/v1/organizations?code=UBND-KH").token(&admin).send().await.json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let board = app
        .post("/api/v1/organizations")
        .token(&admin)
        .json(json!({"code": "BQL-2", "name": "Ban quản lý 2", "parent_id": province}))
        .send()
        .await
        .id();
    let (_, board_coordinator) = app.person(&admin, board, "bql2", "coordinator").await;
    let (_, province_admin) = app.person(&admin, province.parse().unwrap(), "ubnd.admin", "org_admin").await;
    let parent = app
        .post("/api/v1/plans")
        .token(&province_admin)
        .json(json!({"code": "KH-590", "year": 2021, "title": "Kế hoạch tuyên truyền CCHC tỉnh năm 2021"}))
        .send()
        .await
        .id();
    app.post(&format!("/api/v1/plans/{parent}/items"))
        .token(&province_admin)
        .json(json!({"reference": "I", "kind": "part", "title": "Mục tiêu"}))
        .send()
        .await;
    app.get(&format!("/api/v1/plans/{parent}")).token(&board_coordinator).send().await.problem(404, "not_found");
    let res = app
        .post("/api/v1/plans")
        .token(&board_coordinator)
        .json(json!({"code": "KH-BQL2", "year": 2021, "title": "Kế hoạch của Ban", "parent_plan_id": parent}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(app.get(&format!("/api/v1/plans/{parent}")).token(&board_coordinator).send().await.status, 200);
    assert_eq!(
        app.get(&format!("/api/v1/plans/{parent}/items?view=tree")).token(&board_coordinator).send().await.json()["count"],
        1
    );
    app.patch(&format!("/api/v1/plans/{parent}"))
        .token(&board_coordinator)
        .json(json!({"title": "x"}))
        .send()
        .await
        .problem(404, "not_found");
    // …but never a plan of an organisation that is not above it.
    let res = app
        .post("/api/v1/plans")
        .token(&outsider)
        .json(json!({"code": "KH-X", "year": 2021, "title": "x", "parent_plan_id": parent}))
        .send()
        .await;
    res.problem(422, "parent_plan_invalid");
}

#[actix_web::test]
async fn roles_and_scopes_decide_who_writes_plans() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let body = json!({"code": "P", "year": 2021, "title": "Kế hoạch"});
    for role in ["viewer", "member"] {
        let (_, token) = app.person(&admin, org, role, role).await;
        assert_eq!(app.get("/api/v1/plans").token(&token).send().await.status, 200);
        app.post("/api/v1/plans").token(&token).json(body.clone()).send().await.problem(403, "forbidden");
        app.post("/api/v1/plans/import").token(&token).json(fixture()).send().await.problem(403, "forbidden");
    }
    for (i, role) in ["leader", "coordinator", "org_admin"].iter().enumerate() {
        let (_, token) = app.person(&admin, org, &format!("writer{i}"), role).await;
        let mut body = body.clone();
        body["code"] = json!(format!("P{i}"));
        assert_eq!(app.post("/api/v1/plans").token(&token).json(body).send().await.status, 201, "{role}");
    }
    let client = |scopes: Value| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let created = app
                .post("/api/v1/service-clients")
                .token(&admin)
                .json(json!({"name": "Hệ thống", "scopes": scopes, "organization_id": org}))
                .send()
                .await
                .json();
            let res = app
                .post("/api/v1/auth/token")
                .json(json!({"grant_type": "client_credentials", "client_id": created["id"], "client_secret": created["client_secret"]}))
                .send()
                .await;
            res.json()["access_token"].as_str().unwrap().to_owned()
        }
    };
    let reader = client(json!(["plans:read"])).await;
    let writer = client(json!(["plans:write"])).await;
    let other = client(json!(["feedback:read"])).await;
    assert_eq!(app.get("/api/v1/plans").token(&reader).send().await.json()["items"].as_array().unwrap().len(), 3);
    app.post("/api/v1/plans").token(&reader).json(body.clone()).send().await.problem(403, "forbidden");
    assert_eq!(
        app.post("/api/v1/plans")
            .token(&writer)
            .json(json!({"code": "PW", "year": 2021, "title": "x"}))
            .send()
            .await
            .status,
        201
    );
    app.get("/api/v1/plans").token(&other).send().await.problem(403, "forbidden");
}

#[actix_web::test]
async fn the_new_collections_follow_the_conventions() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let plan = import(&app, &admin).await;

    // Keyset pages over the 45 items: every item once.
    let mut seen = Vec::new();
    let mut path = format!("/api/v1/plans/{plan}/items?limit=10");
    loop {
        let body = app.get(&path).token(&admin).send().await.json();
        seen.extend(body["items"].as_array().unwrap().iter().map(|i| i["reference"].as_str().unwrap().to_owned()));
        match body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/plans/{plan}/items?limit=10&cursor={c}"),
            None => break,
        }
    }
    let mut expected = fixture_refs();
    assert_eq!(seen.len(), 45);
    seen.sort();
    expected.sort();
    assert_eq!(seen, expected);

    // updated_since with a tombstone, on items.
    let items = app.get(&format!("/api/v1/plans/{plan}/items?limit=200")).token(&admin).send().await.json();
    let leaf = items["items"].as_array().unwrap().iter().find(|i| i["reference"] == "III.3").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    assert_eq!(app.delete(&format!("/api/v1/plan-items/{leaf}")).token(&admin).send().await.status, 204);
    let feed = app.get(&format!("/api/v1/plans/{plan}/items?updated_since={since}")).token(&admin).send().await.json();
    let feed = feed["items"].as_array().unwrap();
    assert_eq!(feed.len(), 1, "{feed:?}");
    assert_eq!(feed[0]["id"], leaf.as_str());
    assert!(feed[0]["deleted_at"].is_string());

    // If-Match on plans, items, indicators and documents.
    let indicator = app.get(&format!("/api/v1/plans/{plan}/indicators?limit=1")).token(&admin).send().await.json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let document = app.get("/api/v1/documents?limit=1").token(&admin).send().await.json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let item = items["items"][0]["id"].as_str().unwrap().to_owned();
    for (path, body) in [
        (format!("/api/v1/plans/{plan}"), json!({"title": "Kế hoạch (sửa)"})),
        (format!("/api/v1/plan-items/{item}"), json!({"title": "Mục tiêu, yêu cầu (sửa)"})),
        (format!("/api/v1/indicators/{indicator}"), json!({"name": "Tên mới"})),
        (format!("/api/v1/documents/{document}"), json!({"title": "Tiêu đề mới"})),
    ] {
        let current = app.get(&path).token(&admin).send().await;
        let etag = current.header("etag").unwrap();
        let res = app.patch(&path).token(&admin).header("If-Match", &etag).json(body.clone()).send().await;
        assert_eq!(res.status, 200, "{path}: {}", res.text());
        app.patch(&path)
            .token(&admin)
            .header("If-Match", &etag)
            .json(body)
            .send()
            .await
            .problem(412, "version_mismatch");
    }

    // Idempotent creation of a document and an indicator.
    for (path, body) in [
        (
            "/api/v1/documents".to_owned(),
            json!({"number": "01/KH-BQL", "issuer": "KDPM", "title": "Kế hoạch mới", "organization_id": app.get(&format!("/api/v1/plans/{plan}")).token(&admin).send().await.json()["organization_id"]}),
        ),
        (
            format!("/api/v1/plans/{plan}/indicators"),
            json!({"code": "NEW", "name": "Chỉ tiêu mới", "unit": "count", "comparator": ">=", "target_value": 4}),
        ),
    ] {
        let key = format!("once-{}", path.len());
        let first = app.post(&path).token(&admin).header("Idempotency-Key", &key).json(body.clone()).send().await;
        assert_eq!(first.status, 201, "{path}: {}", first.text());
        let again = app.post(&path).token(&admin).header("Idempotency-Key", &key).json(body).send().await;
        assert_eq!(again.header("idempotency-replayed").as_deref(), Some("true"), "{path}");
        assert_eq!(again.json(), first.json());
    }
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM documents WHERE number = '01/KH-BQL'"), 1);

    // A cited document cannot be deleted.
    let cited =
        app.get("/api/v1/documents?number=590%2FQ%C4%90-UBND").token(&admin).send().await.json()["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    app.delete(&format!("/api/v1/documents/{cited}")).token(&admin).send().await.problem(409, "document_cited");
}

#[actix_web::test]
async fn demo_data_loads_the_2021_plan_into_an_empty_database() {
    let mut settings = test_settings();
    settings.demo_data = Some(true);
    let app = TestApp::spawn_with(settings).await;
    let admin = app.admin_token().await;
    let plans = app.get("/api/v1/plans").token(&admin).send().await.json();
    let codes: Vec<&str> = plans["items"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["KH-TTCCHC-TINH-2021", "KH-TTCCHC-2021", "KH-TTCCHC-SXD-2021", "KH-TTCCHC-NT-2021"]);
    let board = &plans["items"][1];
    let plan: Uuid = board["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(tree_refs(&app, &admin, plan).await, fixture_refs());
    // The Board's plan implements the province's, item by item; so do two more units',
    // and the province's roll-up shows all three on first start.
    assert_eq!(board["parent_plan_id"], plans["items"][0]["id"]);
    let province = plans["items"][0]["id"].as_str().unwrap();
    let rollup = app.get(&format!("/api/v1/reports/plans/{province}/rollup?period=2021")).token(&admin).send().await;
    assert_eq!(rollup.status, 200, "{}", rollup.text());
    let rollup = rollup.json();
    let mut units: Vec<&str> =
        rollup["units"].as_array().unwrap().iter().map(|u| u["code"].as_str().unwrap()).collect();
    units.sort();
    assert_eq!(units, ["KDPM", "SXD", "UBND-NT"]);
    assert_eq!(rollup["missing"], serde_json::json!([]));
    let ii3c = rollup["items"].as_array().unwrap().iter().find(|i| i["reference"] == "II.3.c").unwrap();
    assert_eq!(ii3c["units"], 2, "the Board's II.3.c and the Department of Construction's II.3");
    let nt = rollup["units"].as_array().unwrap().iter().find(|u| u["code"] == "UBND-NT").unwrap();
    assert_eq!(
        (nt["indicators"][0]["value"].clone(), nt["indicators"][0]["status"].clone()),
        (serde_json::json!(88.0), serde_json::json!("not_met"))
    );
}

/// Walks every page of `path` with `limit`; returns the ids in order, checking that no
/// record comes twice.
async fn walk(app: &TestApp, token: &str, path: &str, limit: usize) -> Vec<String> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut ids = Vec::new();
    let mut next = format!("{path}{sep}limit={limit}");
    loop {
        let res = app.get(&next).token(token).send().await;
        assert_eq!(res.status, 200, "{next}: {}", res.text());
        let body = res.json();
        let items = body["items"].as_array().unwrap();
        assert!(items.len() <= limit);
        ids.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        match body["next_cursor"].as_str() {
            Some(c) => next = format!("{path}{sep}limit={limit}&cursor={c}"),
            None => break,
        }
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "{path}: a record came twice");
    ids
}

#[actix_web::test]
async fn every_new_collection_pages_and_feeds_changes_with_tombstones() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let plan = import(&app, &admin).await;
    let org = app.get(&format!("/api/v1/plans/{plan}")).token(&admin).send().await.json()["organization_id"].clone();
    for code in ["KH-2022", "KH-2023"] {
        let body = json!({"code": code, "year": 2022, "title": code, "organization_id": org});
        assert_eq!(app.post("/api/v1/plans").token(&admin).json(body).send().await.status, 201);
    }
    let uncited = app
        .post("/api/v1/documents")
        .token(&admin)
        .json(json!({"number": "12/TB-BQL", "issuer": "KDPM", "title": "Thông báo", "organization_id": org}))
        .send()
        .await
        .id();
    let indicators = walk(&app, &admin, &format!("/api/v1/plans/{plan}/indicators"), 2).await;
    let measurements = format!("/api/v1/indicators/{}/measurements", indicators[0]);
    for day in 1..=5 {
        let res = app
            .post(&measurements)
            .token(&admin)
            .json(json!({"value": 90 + day, "measured_on": format!("2021-10-0{day}"), "citation": "Báo cáo"}))
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    for (path, limit, count) in [
        ("/api/v1/documents".to_owned(), 3, 11),
        ("/api/v1/plans".to_owned(), 2, 3),
        (format!("/api/v1/plans/{plan}/items"), 7, 45),
        (format!("/api/v1/plans/{plan}/indicators"), 2, 5),
        (measurements.clone(), 2, 5),
    ] {
        assert_eq!(walk(&app, &admin, &path, limit).await.len(), count, "{path}");
    }

    // From now on: changes and deletions in each collection.
    let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true).replace('+', "%2B");
    let uncited = uncited.to_string();
    let plans = walk(&app, &admin, "/api/v1/plans?year=2022", 50).await;
    for (record, body) in [
        (format!("/api/v1/documents/{uncited}"), json!({"title": "Chương trình hành động (sửa)"})),
        (format!("/api/v1/plans/{}", plans[0]), json!({"title": "Kế hoạch 2022 (sửa)"})),
        (format!("/api/v1/indicators/{}", indicators[1]), json!({"name": "Tên mới"})),
    ] {
        assert_eq!(app.patch(&record).token(&admin).json(body).send().await.status, 200, "{record}");
    }
    let new_measurement = app
        .post(&measurements)
        .token(&admin)
        .json(json!({"value": 99, "measured_on": "2021-12-31", "citation": "Báo cáo năm"}))
        .send()
        .await
        .id();
    for record in [
        format!("/api/v1/documents/{uncited}"),
        format!("/api/v1/plans/{}", plans[1]),
        format!("/api/v1/indicators/{}", indicators[2]),
    ] {
        assert_eq!(app.delete(&record).token(&admin).send().await.status, 204, "{record}");
    }
    let feed = |path: String| {
        let app = &app;
        let admin = admin.clone();
        let since = since.clone();
        async move {
            let sep = if path.contains('?') { '&' } else { '?' };
            let body = app.get(&format!("{path}{sep}updated_since={since}")).token(&admin).send().await.json();
            body["items"].as_array().unwrap().clone()
        }
    };
    // The document was changed, then deleted: one entry, now a tombstone.
    let docs = feed("/api/v1/documents".to_owned()).await;
    assert_eq!(docs.len(), 1, "{docs:?}");
    assert_eq!((docs[0]["id"].as_str(), docs[0].as_object().unwrap().len()), (Some(uncited.as_str()), 2));
    let plan_feed = feed("/api/v1/plans".to_owned()).await;
    assert_eq!(plan_feed.len(), 2, "{plan_feed:?}");
    assert_eq!(plan_feed[0]["title"], "Kế hoạch 2022 (sửa)");
    assert_eq!((plan_feed[1]["id"].as_str(), plan_feed[1].as_object().unwrap().len()), (Some(plans[1].as_str()), 2));
    let indicator_feed = feed(format!("/api/v1/plans/{plan}/indicators")).await;
    assert_eq!(indicator_feed.len(), 2, "{indicator_feed:?}");
    assert_eq!(indicator_feed[0]["name"], "Tên mới");
    assert!(indicator_feed[1]["deleted_at"].is_string());
    let measurement_feed = feed(measurements).await;
    assert_eq!(measurement_feed.len(), 1);
    assert_eq!(measurement_feed[0]["id"], json!(new_measurement));
}

#[actix_web::test]
async fn an_imported_plan_finds_the_parent_plan_its_decision_implements() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let plan = import(&app, &admin).await;
    assert_eq!(
        app.get(&format!("/api/v1/plans/{plan}")).token(&admin).send().await.json()["parent_plan_id"],
        Value::Null
    );
    // Its items name the province's items they implement; without the province's plan
    // in the service they are left unlinked.
    let items = app.get(&format!("/api/v1/plans/{plan}/items?limit=200")).token(&admin).send().await.json();
    assert!(items["items"].as_array().unwrap().iter().all(|i| i["implements_item_id"].is_null()));
    // The province records its own plan, issued by 590/QĐ-UBND…
    let province: Value = serde_json::from_str(include_str!("../../fixtures/ubnd-kh-2021.json")).unwrap();
    let parent = app.post("/api/v1/plans/import").token(&admin).json(province).send().await;
    assert_eq!(parent.status, 201, "{}", parent.text());
    let parent_id = parent.json()["plan_id"].clone();
    // …and the board's plan, imported again, now points at it, item by item.
    let res = app.post("/api/v1/plans/import?on_conflict=update").token(&admin).json(fixture()).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let read = app.get(&format!("/api/v1/plans/{plan}")).token(&admin).send().await.json();
    assert_eq!(read["parent_plan_id"], parent_id);
    let theirs = app
        .get(&format!("/api/v1/plans/{}/items?limit=200", parent_id.as_str().unwrap()))
        .token(&admin)
        .send()
        .await
        .json();
    let ours = app.get(&format!("/api/v1/plans/{plan}/items?limit=200")).token(&admin).send().await.json();
    let reference_of = |id: &Value| {
        theirs["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| &i["id"] == id)
            .map(|i| i["reference"].as_str().unwrap().to_owned())
    };
    let linked: Vec<(String, String)> = ours["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| !i["implements_item_id"].is_null())
        .map(|i| (i["reference"].as_str().unwrap().to_owned(), reference_of(&i["implements_item_id"]).unwrap()))
        .collect();
    assert_eq!(linked.len(), 11, "{linked:?}");
    assert!(linked.iter().all(|(ours, theirs)| ours == theirs), "{linked:?}");
}
