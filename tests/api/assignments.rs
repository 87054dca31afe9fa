//! Department assignments, reporting duties and progress reports.
use cchc_outreach::domain::time::Clock;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{PASSWORD, TestApp, test_settings};

const FIXTURE: &str = include_str!("../../fixtures/kdpm-2021.json");

fn at(instant: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(instant).unwrap().with_timezone(&Utc)
}

/// An app whose clock stands at `instant` (and can be moved), with the 2021 plan imported.
async fn app_at(instant: &str) -> (TestApp, Clock, String, Uuid) {
    let clock = Clock::fixed(at(instant));
    let mut settings = test_settings();
    settings.clock = clock.clone();
    let app = TestApp::spawn_with(settings).await;
    let admin = app.admin_token().await;
    let res = app.post("/api/v1/plans/import").token(&admin).raw("application/json", FIXTURE).send().await;
    assert_eq!(res.status, 201, "{}", res.text());
    let plan = Uuid::parse_str(res.json()["plan_id"].as_str().unwrap()).unwrap();
    (app, clock, admin, plan)
}

async fn department(app: &TestApp, admin: &str, code: &str) -> String {
    let body = app.get(&format!("/api/v1/departments?code={code}")).token(admin).send().await.json();
    body["items"][0]["id"].as_str().unwrap().to_owned()
}

async fn kdpm(app: &TestApp, admin: &str) -> Value {
    app.get("/api/v1/organizations?code=KDPM").token(admin).send().await.json()["items"][0]["id"].clone()
}

/// A person of KDPM with `role` in the department `dept`; returns their token.
async fn staff(app: &TestApp, admin: &str, dept: &str, username: &str, role: &str) -> String {
    let res = app
        .post("/api/v1/users")
        .token(admin)
        .json(json!({"username": username, "full_name": username, "role": role, "password": PASSWORD,
            "organization_id": kdpm(app, admin).await, "department_id": department(app, admin, dept).await}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    app.token(username, PASSWORD).await
}

/// The assignment of `dept` on the item `reference` (or plan-wide with `None`).
async fn assignment_of(app: &TestApp, admin: &str, plan: Uuid, reference: Option<&str>, dept: &str) -> Value {
    let dept_id = department(app, admin, dept).await;
    let list = app
        .get(&format!("/api/v1/assignments?plan_id={plan}&department_id={dept_id}"))
        .token(admin)
        .send()
        .await
        .json();
    let items = app.get(&format!("/api/v1/plans/{plan}/items?limit=200")).token(admin).send().await.json();
    let item_id = reference
        .map(|r| items["items"].as_array().unwrap().iter().find(|i| i["reference"] == r).unwrap()["id"].clone());
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["plan_item_id"] == item_id.clone().unwrap_or(Value::Null))
        .unwrap_or_else(|| panic!("no assignment of {dept} on {reference:?}"))
        .clone()
}

#[actix_web::test]
async fn importing_the_plan_creates_its_assignments() {
    let (app, _, admin, plan) = app_at("2021-04-10T03:00:00Z").await;
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM assignments"), 14);

    let lead = assignment_of(&app, &admin, plan, None, "TCHC").await;
    assert_eq!((lead["role"].as_str(), lead["reporting"].as_str()), (Some("lead"), Some("none")));
    assert!(lead["duty"].as_str().unwrap().starts_with("Phòng Tổ chức hành chính có trách nhiệm"));
    let report_lead = assignment_of(&app, &admin, plan, Some("III.1"), "TCHC").await;
    assert_eq!((report_lead["role"].as_str(), report_lead["reporting"].as_str()), (Some("lead"), Some("quarterly")));
    for dept in ["QLDA1", "QLDA2", "QLDA3", "TCKT", "MTXH"] {
        let a = assignment_of(&app, &admin, plan, Some("III.4"), dept).await;
        assert_eq!((a["role"].as_str(), a["reporting"].as_str()), (Some("execute"), Some("quarterly")), "{dept}");
        assert_eq!(
            (a["starts_on"].as_str(), a["due_on"].as_str(), a["status"].as_str()),
            (Some("2021-03-24"), Some("2021-12-31"), Some("assigned"))
        );
        let plan_wide = assignment_of(&app, &admin, plan, None, dept).await;
        assert_eq!(plan_wide["role"], "execute", "Article 3 names {dept}");
    }
    assert_eq!(assignment_of(&app, &admin, plan, Some("III.4"), "TCHC").await["role"], "coordinate");
    assert_eq!(assignment_of(&app, &admin, plan, Some("III.5"), "TCKT").await["role"], "lead");

    // Importing again (update) creates nothing twice.
    let res =
        app.post("/api/v1/plans/import?on_conflict=update").token(&admin).raw("application/json", FIXTURE).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["assignments_created"], 0);
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM assignments"), 14);
}

#[actix_web::test]
async fn plans_imported_before_assignments_existed_get_them_at_start() {
    let (app, _, _, _) = app_at("2021-04-10T03:00:00Z").await;
    // As a database from before this feature: the file kept, no assignments made from it.
    app.sql("DELETE FROM assignments");
    app.sql("UPDATE plan_imports SET assignments_applied = false");
    app.start_another().await;
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM assignments"), 14);
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM plan_imports WHERE assignments_applied"), 1);
    // Only once: a further start changes nothing.
    app.start_another().await;
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM assignments"), 14);
}

#[actix_web::test]
async fn an_item_has_one_lead_and_a_department_one_assignment() {
    let (app, _, admin, plan) = app_at("2021-04-10T03:00:00Z").await;
    let lead = assignment_of(&app, &admin, plan, Some("III.1"), "TCHC").await;
    let item = lead["plan_item_id"].as_str().unwrap().to_owned();
    let qlda1 = department(&app, &admin, "QLDA1").await;
    let new_lead = json!({"plan_item_id": item, "department_id": qlda1, "role": "lead"});
    let res = app.post("/api/v1/assignments").token(&admin).json(new_lead.clone()).send().await;
    res.problem(409, "lead_taken");
    let tchc = department(&app, &admin, "TCHC").await;
    let res = app
        .post("/api/v1/assignments")
        .token(&admin)
        .json(json!({"plan_item_id": item, "department_id": tchc, "role": "coordinate"}))
        .send()
        .await;
    res.problem(409, "already_assigned");
    // The same rule holds in the database itself, whoever writes.
    let direct = format!(
        "INSERT INTO assignments (id, organization_id, plan_id, plan_item_id, department_id, role) \
         SELECT gen_random_uuid(), organization_id, plan_id, plan_item_id, '{qlda1}', 'lead' FROM assignments WHERE id = '{}'",
        lead["id"].as_str().unwrap()
    );
    let mut conn = <diesel::PgConnection as diesel::Connection>::establish(&app.database_url).unwrap();
    let err = diesel::RunQueryDsl::execute(diesel::sql_query(direct), &mut conn).unwrap_err();
    assert!(err.to_string().contains("assignments_one_lead"), "{err}");

    // Once the lead is cancelled another department may lead; the old one cannot come back.
    let path = format!("/api/v1/assignments/{}/transitions", lead["id"].as_str().unwrap());
    assert_eq!(app.post(&path).token(&admin).json(json!({"to": "cancelled"})).send().await.status, 200);
    let res = app.post("/api/v1/assignments").token(&admin).json(new_lead).send().await;
    assert_eq!(res.status, 201, "{}", res.text());
    app.post(&path).token(&admin).json(json!({"to": "assigned"})).send().await.problem(409, "lead_taken");
    let body =
        app.post(&path).token(&admin).json(json!({"to": "done"})).send().await.problem(409, "transition_not_allowed");
    assert_eq!(body["allowed"], json!(["assigned"]));
}

#[actix_web::test]
async fn members_report_for_their_own_department_only() {
    let (app, _, admin, plan) = app_at("2021-07-02T03:00:00Z").await;
    let member = staff(&app, &admin, "QLDA1", "qlda1.member", "member").await;
    let own = assignment_of(&app, &admin, plan, Some("III.4"), "QLDA1").await;
    let other = assignment_of(&app, &admin, plan, Some("III.4"), "MTXH").await;
    let report = json!({"summary": "Đã phổ biến kế hoạch trong phòng.", "progress_percent": 50});

    let res = app
        .post(&format!("/api/v1/assignments/{}/reports/2021-Q2", other["id"].as_str().unwrap()))
        .token(&member)
        .json(report.clone())
        .send()
        .await;
    res.problem(403, "other_department");
    let res = app
        .post(&format!("/api/v1/assignments/{}/reports/2021-Q2", own["id"].as_str().unwrap()))
        .token(&member)
        .json(report)
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(
        res.header("location").unwrap(),
        format!("/api/v1/assignments/{}/reports/2021-Q2", own["id"].as_str().unwrap())
    );

    // The member reads, but does not change, assignments.
    let own_path = format!("/api/v1/assignments/{}", own["id"].as_str().unwrap());
    assert_eq!(app.get(&own_path).token(&member).send().await.status, 200);
    app.patch(&own_path).token(&member).json(json!({"duty": "Khác"})).send().await.problem(403, "forbidden");
    app.post(&format!("{own_path}/transitions"))
        .token(&member)
        .json(json!({"to": "done"}))
        .send()
        .await
        .problem(403, "forbidden");
    app.post(&format!("{own_path}/reports/2021-Q2/transitions"))
        .token(&member)
        .json(json!({"to": "accepted"}))
        .send()
        .await
        .problem(403, "forbidden");
    let viewer = staff(&app, &admin, "QLDA1", "qlda1.viewer", "viewer").await;
    app.post(&format!("{own_path}/reports/2021-Q3"))
        .token(&viewer)
        .json(json!({"summary": "x"}))
        .send()
        .await
        .problem(403, "forbidden");

    // Their work list: their department's assignments by due date, items inline.
    let dept = department(&app, &admin, "QLDA1").await;
    let list = app.get(&format!("/api/v1/departments/{dept}/assignments")).token(&member).send().await.json();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["item_reference"], Value::Null, "the plan-wide assignment (Article 3)");
    assert_eq!(items[1]["item_reference"], "III.4");
    assert_eq!(items[1]["item_title"], "Các phòng chuyên môn triển khai, phối hợp với TCHC, báo cáo định kỳ");
    assert_eq!((items[0]["due_on"].as_str(), items[1]["due_on"].as_str()), (Some("2021-12-31"), Some("2021-12-31")));
}

/// Each duty's period, first day, the part it covers, due date and whether partial.
fn duty_rows(duties: &Value) -> Vec<(&str, &str, &str, &str, &str, bool)> {
    duties["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let text = |field: &str| d[field].as_str().unwrap();
            (
                text("period"),
                text("starts_on"),
                text("covers_from"),
                text("covers_to"),
                text("due_on"),
                d["partial"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn duties_follow_each_frequency_over_the_2021_plan() {
    let (app, _, admin, plan) = app_at("2021-04-10T03:00:00Z").await;
    let quarterly = assignment_of(&app, &admin, plan, Some("III.4"), "QLDA2").await;
    let duties_of = |id: String| {
        let (app, admin) = (&app, admin.clone());
        async move {
            let duties = app.get(&format!("/api/v1/assignments/{id}/reports")).token(&admin).send().await.json();
            assert_eq!(duties["next_cursor"], Value::Null, "every duty in one answer");
            duties
        }
    };
    let quarterly_id = quarterly["id"].as_str().unwrap().to_owned();

    // An organisation made by the import counts as Decree 09/2019 does (the default):
    // quarters from the 15th of the month before to the 14th of their last month, so
    // 15–31 December 2021 belong to 2022's first quarter.
    let duties = duties_of(quarterly_id.clone()).await;
    assert_eq!(duties["reporting_periods"], "decree_09");
    let found = duty_rows(&duties);
    assert_eq!(
        found,
        [
            ("2021-Q2", "2021-03-15", "2021-03-24", "2021-06-14", "2021-06-19", true),
            ("2021-Q3", "2021-06-15", "2021-06-15", "2021-09-14", "2021-09-19", false),
            ("2021-Q4", "2021-09-15", "2021-09-15", "2021-12-14", "2021-12-19", false),
            ("2022-Q1", "2021-12-15", "2021-12-15", "2021-12-31", "2022-03-19", true),
        ]
    );

    // By the calendar.
    let org = Uuid::parse_str(kdpm(&app, &admin).await.as_str().unwrap()).unwrap();
    app.count_periods(&admin, org, "calendar").await;
    let duties = duties_of(quarterly_id).await;
    let list = duties["items"].as_array().unwrap();
    let found = duty_rows(&duties);
    assert_eq!(
        found,
        [
            ("2021-Q1", "2021-01-01", "2021-03-24", "2021-03-31", "2021-04-05", true),
            ("2021-Q2", "2021-04-01", "2021-04-01", "2021-06-30", "2021-07-05", false),
            ("2021-Q3", "2021-07-01", "2021-07-01", "2021-09-30", "2021-10-05", false),
            ("2021-Q4", "2021-10-01", "2021-10-01", "2021-12-31", "2022-01-05", false),
        ]
    );
    let states: Vec<&str> = list.iter().map(|d| d["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["missing", "upcoming", "upcoming", "upcoming"], "on 10 April 2021");

    // The other frequencies, on a new item of the plan.
    let item = app
        .post(&format!("/api/v1/plans/{plan}/items"))
        .token(&admin)
        .json(json!({"reference": "III.6", "kind": "task", "title": "Báo cáo thử"}))
        .send()
        .await
        .id();
    for (i, (reporting, expected)) in [
        (
            "monthly",
            vec![
                "2021-M03", "2021-M04", "2021-M05", "2021-M06", "2021-M07", "2021-M08", "2021-M09", "2021-M10",
                "2021-M11", "2021-M12",
            ],
        ),
        ("half_yearly", vec!["2021-H1", "2021-H2"]),
        ("yearly", vec!["2021"]),
        ("none", vec![]),
    ]
    .into_iter()
    .enumerate()
    {
        let dept = department(&app, &admin, ["QLDA1", "QLDA2", "QLDA3", "MTXH"][i]).await;
        let created = app
            .post("/api/v1/assignments")
            .token(&admin)
            .json(json!({"plan_item_id": item, "department_id": dept, "role": "execute", "reporting": reporting}))
            .send()
            .await;
        assert_eq!(created.status, 201, "{}", created.text());
        let duties =
            app.get(&format!("/api/v1/assignments/{}/reports", created.id())).token(&admin).send().await.json();
        let periods: Vec<&str> =
            duties["items"].as_array().unwrap().iter().map(|d| d["period"].as_str().unwrap()).collect();
        assert_eq!(periods, expected, "{reporting}");
    }
    let res = app
        .post(&format!("/api/v1/assignments/{}/reports/2021-Q5", quarterly["id"].as_str().unwrap()))
        .token(&admin)
        .json(json!({"summary": "x"}))
        .send()
        .await;
    res.problem(422, "unknown_period");
    let res = app
        .post(&format!("/api/v1/assignments/{}/reports/2021-M04", quarterly["id"].as_str().unwrap()))
        .token(&admin)
        .json(json!({"summary": "x"}))
        .send()
        .await;
    assert!(res.problem(422, "unknown_period")["detail"].as_str().unwrap().contains("2021-Q1, 2021-Q2"));
}

#[actix_web::test]
async fn reports_are_on_time_late_or_missing_around_the_due_date() {
    // 5 July 2021, 23:59:59 in Vietnam: the last moment the second quarter's report is on time.
    let (app, clock, admin, plan) = app_at("2021-07-05T16:59:59Z").await;
    // Written in calendar quarters (Decree 09's are in the test above).
    let org = Uuid::parse_str(kdpm(&app, &admin).await.as_str().unwrap()).unwrap();
    app.count_periods(&admin, org, "calendar").await;
    let on_time = assignment_of(&app, &admin, plan, Some("III.4"), "QLDA1").await;
    let late = assignment_of(&app, &admin, plan, Some("III.4"), "QLDA2").await;
    let state = |a: &Value, period: &'static str| {
        let app = &app;
        let admin = admin.clone();
        let id = a["id"].as_str().unwrap().to_owned();
        async move {
            let duties = app.get(&format!("/api/v1/assignments/{id}/reports")).token(&admin).send().await.json();
            let d = duties["items"].as_array().unwrap().iter().find(|d| d["period"] == period).unwrap().clone();
            d["state"].as_str().unwrap().to_owned()
        }
    };
    assert_eq!(state(&on_time, "2021-Q2").await, "due");
    assert_eq!(state(&on_time, "2021-Q3").await, "upcoming");
    let submit = |a: &Value| {
        let app = &app;
        let admin = admin.clone();
        let id = a["id"].as_str().unwrap().to_owned();
        async move {
            app.post(&format!("/api/v1/assignments/{id}/reports/2021-Q2"))
                .token(&admin)
                .json(json!({"summary": "Báo cáo quý II", "progress_percent": 45}))
                .send()
                .await
        }
    };
    let res = submit(&on_time).await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!((res.json()["late"].as_bool(), res.json()["due_on"].as_str()), (Some(false), Some("2021-07-05")));

    // One second later it is 6 July in Vietnam.
    clock.set(at("2021-07-05T17:00:00Z"));
    assert_eq!(state(&late, "2021-Q2").await, "missing");
    let missing = app
        .get(&format!("/api/v1/plans/{plan}/reporting-duties?state=missing&period=2021-Q2"))
        .token(&admin)
        .send()
        .await
        .json();
    assert_eq!(missing["as_of"], "2021-07-06");
    let depts: Vec<&str> =
        missing["items"].as_array().unwrap().iter().map(|d| d["department_id"].as_str().unwrap()).collect();
    assert_eq!(depts.len(), 5, "QLDA2, QLDA3, TCKT, MTXH on III.4 and TCHC on III.1: {missing}");
    assert!(!depts.contains(&on_time["department_id"].as_str().unwrap()));
    let res = submit(&late).await;
    assert_eq!(res.status, 201);
    assert_eq!(res.json()["late"], true, "kept, and marked late");
    assert_eq!(state(&late, "2021-Q2").await, "late");
    assert_eq!(state(&on_time, "2021-Q2").await, "submitted");
    let late_ones =
        app.get(&format!("/api/v1/plans/{plan}/reporting-duties?state=late")).token(&admin).send().await.json();
    assert_eq!(late_ones["items"].as_array().unwrap().len(), 1);
    assert_eq!(late_ones["items"][0]["department_id"], late["department_id"]);
}

#[actix_web::test]
async fn accepted_reports_are_frozen_and_corrections_are_new_versions() {
    let (app, _, admin, plan) = app_at("2021-07-02T03:00:00Z").await;
    let coordinator = staff(&app, &admin, "TCHC", "tchc.coordinator", "coordinator").await;
    let member = staff(&app, &admin, "TCKT", "tckt.member", "member").await;
    let a = assignment_of(&app, &admin, plan, Some("III.4"), "TCKT").await;
    let path = format!("/api/v1/assignments/{}/reports/2021-Q2", a["id"].as_str().unwrap());

    // The activities a report refers to must be of the plan.
    let res = app
        .post(&path)
        .token(&member)
        .json(json!({"summary": "Bản đầu", "activity_ids": [Uuid::now_v7()]}))
        .send()
        .await;
    res.problem(422, "reference_invalid");
    let activity = app
        .post("/api/v1/activities")
        .token(&member)
        .json(
            json!({"title": "Họp phòng TCKT", "plan_item_ids": [a["plan_item_id"]], "department_id": a["department_id"],
            "channel": "meeting", "audience": "staff", "held_from": "2021-05-10T08:00:00+07:00"}),
        )
        .send()
        .await
        .id();
    let first = app
        .post(&path)
        .token(&member)
        .json(json!({"summary": "Bản đầu", "progress_percent": 30, "activity_ids": [activity]}))
        .send()
        .await;
    assert_eq!(first.json()["activity_ids"], json!([activity]));
    assert_eq!(first.status, 201);
    assert_eq!(first.json()["revision"], 1);
    app.post(&path).token(&member).json(json!({"summary": "Gửi lại"})).send().await.problem(409, "report_pending");
    // Returned, changed, accepted.
    let etag = first.header("etag").unwrap();
    let res = app
        .post(&format!("{path}/transitions"))
        .token(&coordinator)
        .header("If-Match", &etag)
        .json(json!({"to": "returned", "note": "Bổ sung số liệu"}))
        .send()
        .await;
    assert_eq!(res.json()["status"], "returned");
    let res = app
        .patch(&path)
        .token(&member)
        .json(json!({"summary": "Bản đầu, đã bổ sung", "progress_percent": 35}))
        .send()
        .await;
    assert_eq!((res.status, res.json()["status"].as_str()), (200, Some("submitted")));
    let res = app.post(&format!("{path}/transitions")).token(&coordinator).json(json!({"to": "accepted"})).send().await;
    assert_eq!(res.json()["status"], "accepted");
    let accepted = res.json();

    // Frozen: no change, no second review.
    app.patch(&path).token(&member).json(json!({"summary": "Sửa trộm"})).send().await.problem(409, "report_frozen");
    let body = app
        .post(&format!("{path}/transitions"))
        .token(&coordinator)
        .json(json!({"to": "returned"}))
        .send()
        .await
        .problem(409, "transition_not_allowed");
    assert_eq!(body["allowed"], json!([]));
    // A correction is a new version; the accepted one stays as it was.
    let correction =
        app.post(&path).token(&member).json(json!({"summary": "Đính chính: 40%", "progress_percent": 40})).send().await;
    assert_eq!(correction.status, 201, "{}", correction.text());
    assert_eq!(
        (correction.json()["revision"].as_i64(), correction.json()["status"].as_str()),
        (Some(2), Some("submitted"))
    );
    let latest = app.get(&path).token(&member).send().await.json();
    assert_eq!(latest["revision"], 2);
    let versions = app.get(&format!("{path}/versions")).token(&member).send().await.json();
    let versions = versions["items"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0], accepted);
    assert_eq!(versions[1]["summary"], "Đính chính: 40%");
    app.get(&format!("/api/v1/assignments/{}/reports/2021-Q3", a["id"].as_str().unwrap()))
        .token(&member)
        .send()
        .await
        .problem(404, "not_found");
    // Deleting an assignment with reports is refused; cancelling is the way.
    app.delete(&format!("/api/v1/assignments/{}", a["id"].as_str().unwrap()))
        .token(&admin)
        .send()
        .await
        .problem(409, "has_dependents");
}

#[actix_web::test]
async fn overdue_turns_at_midnight_in_vietnam() {
    // 30 June 2021, 23:59:59 in Vietnam.
    let (app, clock, admin, plan) = app_at("2021-06-30T16:59:59Z").await;
    let dept = department(&app, &admin, "MTXH").await;
    let items = app.get(&format!("/api/v1/plans/{plan}/items?limit=200")).token(&admin).send().await.json();
    let item = items["items"].as_array().unwrap().iter().find(|i| i["reference"] == "III.3").unwrap()["id"].clone();
    let res = app
        .post("/api/v1/assignments")
        .token(&admin)
        .json(json!({"plan_item_id": item, "department_id": dept, "role": "lead", "due_on": "2021-06-30"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let id = res.id();
    assert_eq!(res.json()["overdue"], false);
    let overdue_ids = |query: &'static str| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let list = app.get(&format!("/api/v1/assignments?{query}")).token(&admin).send().await.json();
            list["items"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    assert!(!overdue_ids("overdue=true").await.contains(&id.to_string()));

    clock.set(at("2021-06-30T17:00:00Z")); // 1 July, 00:00 in Vietnam
    assert_eq!(app.get(&format!("/api/v1/assignments/{id}")).token(&admin).send().await.json()["overdue"], true);
    assert_eq!(overdue_ids("overdue=true").await, [id.to_string()]);
    assert!(!overdue_ids("overdue=false").await.contains(&id.to_string()));
    let list =
        app.get(&format!("/api/v1/departments/{dept}/assignments?overdue=true")).token(&admin).send().await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    // Done is never overdue.
    let res = app
        .post(&format!("/api/v1/assignments/{id}/transitions"))
        .token(&admin)
        .json(json!({"to": "done"}))
        .send()
        .await;
    assert_eq!((res.status, res.json()["overdue"].as_bool()), (200, Some(false)));
    assert!(overdue_ids("overdue=true").await.is_empty());
}

#[actix_web::test]
async fn assignments_follow_the_conventions_and_stay_inside_their_organisation() {
    let (app, _, admin, plan) = app_at("2021-07-02T03:00:00Z").await;
    let ids: Vec<String> = {
        let mut out = Vec::new();
        let mut path = "/api/v1/assignments?limit=5".to_owned();
        loop {
            let body = app.get(&path).token(&admin).send().await.json();
            out.extend(body["items"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_owned()));
            match body["next_cursor"].as_str() {
                Some(c) => path = format!("/api/v1/assignments?limit=5&cursor={c}"),
                None => break,
            }
        }
        out
    };
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((ids.len(), unique.len()), (14, 14));

    let a = assignment_of(&app, &admin, plan, Some("III.4"), "QLDA3").await;
    let path = format!("/api/v1/assignments/{}", a["id"].as_str().unwrap());
    let etag = app.get(&path).token(&admin).send().await.header("etag").unwrap();
    assert_eq!(
        app.patch(&path)
            .token(&admin)
            .header("If-Match", &etag)
            .json(json!({"duty": "Báo cáo quý"}))
            .send()
            .await
            .status,
        200
    );
    app.patch(&path)
        .token(&admin)
        .header("If-Match", &etag)
        .json(json!({"duty": "Cũ"}))
        .send()
        .await
        .problem(412, "version_mismatch");
    app.patch(&path).token(&admin).json(json!({"status": "done"})).send().await.problem(400, "validation_failed");

    // Idempotent creation, then a change feed with its tombstone.
    let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true).replace('+', "%2B");
    let item = app
        .post(&format!("/api/v1/plans/{plan}/items"))
        .token(&admin)
        .json(json!({"reference": "III.7", "kind": "task", "title": "Thử"}))
        .send()
        .await
        .id();
    let body = json!({"plan_item_id": item, "department_id": a["department_id"], "role": "execute"});
    let first = app
        .post("/api/v1/assignments")
        .token(&admin)
        .header("Idempotency-Key", "asg-1")
        .json(body.clone())
        .send()
        .await;
    let again =
        app.post("/api/v1/assignments").token(&admin).header("Idempotency-Key", "asg-1").json(body).send().await;
    assert_eq!((first.status, again.header("idempotency-replayed").as_deref()), (201, Some("true")));
    assert_eq!(again.json(), first.json());
    assert_eq!(app.delete(&format!("/api/v1/assignments/{}", first.id())).token(&admin).send().await.status, 204);
    let feed = app.get(&format!("/api/v1/assignments?updated_since={since}")).token(&admin).send().await.json();
    let feed = feed["items"].as_array().unwrap();
    assert_eq!(feed.len(), 1, "{feed:?}");
    assert_eq!(feed[0]["id"], first.json()["id"]);
    assert!(feed[0]["deleted_at"].is_string());

    // Another organisation sees and changes none of it.
    let other = app.organization(&admin, "OTHER").await;
    let (_, outsider) = app.person(&admin, other, "outsider", "org_admin").await;
    let dept = a["department_id"].as_str().unwrap();
    for url in [
        path.clone(),
        format!("{path}/reports"),
        format!("/api/v1/departments/{dept}/assignments"),
        format!("/api/v1/plans/{plan}/reporting-duties"),
    ] {
        app.get(&url).token(&outsider).send().await.problem(404, "not_found");
    }
    app.patch(&path).token(&outsider).json(json!({"duty": "x"})).send().await.problem(404, "not_found");
    app.post(&format!("{path}/transitions"))
        .token(&outsider)
        .json(json!({"to": "done"}))
        .send()
        .await
        .problem(404, "not_found");
    app.post(&format!("{path}/reports/2021-Q2"))
        .token(&outsider)
        .json(json!({"summary": "x"}))
        .send()
        .await
        .problem(404, "not_found");
    app.delete(&path).token(&outsider).send().await.problem(404, "not_found");
    assert_eq!(app.get("/api/v1/assignments").token(&outsider).send().await.json()["items"], json!([]));
    let res = app
        .post("/api/v1/assignments")
        .token(&outsider)
        .json(json!({"plan_item_id": a["plan_item_id"], "department_id": dept, "role": "coordinate"}))
        .send()
        .await;
    res.problem(422, "reference_invalid");
}
