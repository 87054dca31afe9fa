//! Triage: possible duplicates with their reasons, merging and unmerging, suggested
//! categories and departments with the records behind them, auto-assignment only when
//! turned on, organisations apart, and no personal data in any reason.
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::TestApp;

const PHONE: &str = "0905111222";
const NAME: &str = "Trần Thị Mai";

struct Org {
    id: Uuid,
    coordinator: String,
    /// Department code → (id, a member's token).
    departments: Vec<(String, String, String)>,
    /// Category code → id.
    categories: Vec<(String, String)>,
}

impl Org {
    fn dept(&self, code: &str) -> &str {
        &self.departments.iter().find(|d| d.0 == code).unwrap().1
    }
    fn member(&self, code: &str) -> &str {
        &self.departments.iter().find(|d| d.0 == code).unwrap().2
    }
    fn category(&self, code: &str) -> &str {
        &self.categories.iter().find(|c| c.0 == code).unwrap().1
    }
}

async fn org(app: &TestApp, admin: &str, code: &str) -> Org {
    let id = app.organization(admin, code).await;
    let lower = code.to_lowercase();
    let mut departments = Vec::new();
    for dept in ["VP", "GT", "DAT"] {
        let dept_id = app.department(admin, id, dept).await;
        let (_, member) = app.staff(admin, id, &dept_id, &format!("{lower}.{}", dept.to_lowercase()), "member").await;
        departments.push((dept.to_owned(), dept_id, member));
    }
    let vp = departments[0].1.clone();
    let (_, coordinator) = app.staff(admin, id, &vp, &format!("{lower}.coord"), "coordinator").await;
    let mut categories = Vec::new();
    for (cat, name, dept) in [
        ("GIAO-THONG", "Giao thông, hạ tầng", &departments[1].1),
        ("DAT-DAI", "Đất đai, giải phóng mặt bằng", &departments[2].1),
        ("KHAC", "Khác", &departments[0].1),
    ] {
        let res = app
            .post("/api/v1/feedback-categories")
            .token(&coordinator)
            .json(json!({"code": cat, "name": name, "deadline_days": 10, "default_department_id": dept}))
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        categories.push((cat.to_owned(), res.id().to_string()));
    }
    Org { id, coordinator, departments, categories }
}

async fn file(app: &TestApp, o: &Org, body: Value) -> Value {
    let mut body = body;
    for (k, v) in [("channel", "hotline"), ("kind", "complaint"), ("sender_type", "citizen")] {
        body.as_object_mut().unwrap().entry(k).or_insert(json!(v));
    }
    let res = app.post("/api/v1/feedback").token(&o.coordinator).json(body).send().await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|s| s["feedback_id"].as_str().unwrap().to_owned()).collect()
}

#[actix_web::test]
async fn planted_duplicates_are_found_with_reasons_and_another_matter_of_the_sender_is_not() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let o = org(&app, &admin, "TRIAGE1").await;
    let first = file(&app, &o, json!({"received_at": "2021-05-03T08:10:00+07:00", "sender_name": NAME, "sender_phone": PHONE,
        "subject": "Ổ gà lớn trên đường Trần Phú trước khách sạn Yasaka",
        "content": "Đoạn đường Trần Phú trước khách sạn Yasaka có ổ gà lớn, đêm qua hai xe máy bị ngã. Đề nghị sửa chữa mặt đường gấp.",
        "location": {"lat": 12.2388, "long": 109.1967}})).await;
    assert_eq!(first["similar"], json!([]), "nothing before it");
    // The same matter, re-worded by e-mail three days later, the phone written otherwise.
    let copy = file(&app, &o, json!({"received_at": "2021-05-06T14:00:00+07:00", "channel": "email", "sender_name": NAME,
        "sender_phone": "+84 905 111 222",
        "subject": "Đề nghị vá ổ gà đường Trần Phú (gần khách sạn Yasaka)",
        "content": "Kính gửi UBND thành phố. Trên đường Trần Phú, chỗ khách sạn Yasaka, ổ gà lớn làm nhiều xe máy bị ngã. Kính đề nghị sửa chữa mặt đường sớm.",
        "location": {"lat": 12.2392, "long": 109.1968}})).await;
    let similar = copy["similar"].as_array().unwrap();
    assert_eq!(ids(&copy["similar"]), [first["id"].as_str().unwrap()]);
    let codes: Vec<&str> =
        similar[0]["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
    for code in ["similar_text", "same_sender", "near", "days_apart"] {
        assert!(codes.contains(&code), "{code} in {codes:?}");
    }
    let near = similar[0]["reasons"].as_array().unwrap().iter().find(|r| r["code"] == "near").unwrap();
    assert!((40.0..50.0).contains(&near["value"].as_f64().unwrap()), "{near}");
    assert!(similar[0]["score"].as_f64().unwrap() >= 0.6, "{similar:?}");
    // A different matter from the same sender, and a stranger's other matter: not offered.
    let other = file(&app, &o, json!({"received_at": "2021-05-07T09:00:00+07:00", "sender_name": NAME, "sender_phone": PHONE,
        "subject": "Hỏi thủ tục cấp giấy chứng nhận quyền sử dụng đất",
        "content": "Gia đình tôi có thửa đất ở phường Vĩnh Hòa, xin hỏi hồ sơ cấp giấy chứng nhận gồm những giấy tờ gì và nộp ở đâu."})).await;
    assert_eq!(other["similar"], json!([]), "the sender alone is not a duplicate");
    let stranger = file(&app, &o, json!({"received_at": "2021-05-08T09:00:00+07:00", "anonymous": true,
        "subject": "Tiếng ồn quán karaoke đường Hùng Vương",
        "content": "Quán karaoke trên đường Hùng Vương mở nhạc to sau 23 giờ đêm, người dân xung quanh không ngủ được."})).await;
    assert_eq!(stranger["similar"], json!([]));
    // The same, asked again; the first record finds its copy too.
    let res = app
        .get(&format!("/api/v1/feedback/{}/similar", first["id"].as_str().unwrap()))
        .token(&o.coordinator)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(ids(&res.json()["items"]), [copy["id"].as_str().unwrap()]);
    assert_eq!(res.json()["window_days"], 30);
    // Nothing personal, nor the text, in any reason.
    let text = res.text() + &copy["similar"].to_string();
    for secret in [PHONE, "905 111 222", NAME, "Trần Phú", "Yasaka", "ổ gà"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    // Keys, not contacts, outside the protected table.
    let plain = app.sql_count(&format!(
        "SELECT count(*) AS n FROM feedback_sender_keys WHERE key::text LIKE '%{PHONE}%' OR encode(key, 'escape') LIKE '%{PHONE}%'"
    ));
    assert_eq!(plain, 0);
    assert_eq!(app.sql_count("SELECT count(DISTINCT key) AS n FROM feedback_sender_keys"), 1, "one sender, one key");
}

#[actix_web::test]
async fn a_merged_record_follows_its_parent_until_unmerged() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let o = org(&app, &admin, "TRIAGE2").await;
    let gt = o.dept("GT").to_owned();
    let parent = file(
        &app,
        &o,
        json!({"received_at": "2021-06-01T08:00:00+07:00", "department_id": gt,
        "subject": "Đèn đường hỏng trên đường Nguyễn Thị Minh Khai", "content": "Cả dãy đèn đường tắt ba đêm nay."}),
    )
    .await;
    let child = file(&app, &o, json!({"received_at": "2021-06-02T08:00:00+07:00", "sender_email": "nguoidan@example.vn",
        "notify_by": ["email"], "subject": "Đường Nguyễn Thị Minh Khai tối om", "content": "Đèn đường hỏng mấy đêm liền."})).await;
    let pin = child["tracking_pin"].as_str().unwrap().to_owned();
    let (p, c) = (parent["id"].as_str().unwrap().to_owned(), child["id"].as_str().unwrap().to_owned());
    let merge = |id: &str, into: &str| {
        app.post(&format!("/api/v1/feedback/{id}/merge")).token(&o.coordinator).json(json!({"into": into}))
    };
    merge(&c, &c).send().await.problem(409, "merge_into_self");
    let res =
        app.post(&format!("/api/v1/feedback/{c}/merge")).token(o.member("GT")).json(json!({"into": p})).send().await;
    assert_eq!(res.status, 403, "staff who manage feedback merge: {}", res.text());
    let res = merge(&c, &p).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!((res.json()["status"].clone(), res.json()["merged_into"].clone()), (json!("merged"), json!(p)));
    merge(&c, &p).send().await.problem(409, "feedback_merged");
    merge(&p, &c).send().await.problem(409, "merge_into_merged");
    let third =
        file(&app, &o, json!({"received_at": "2021-06-03T08:00:00+07:00", "subject": "Đèn", "content": "Đèn hỏng."}))
            .await;
    merge(&p, third["id"].as_str().unwrap()).send().await.problem(409, "feedback_has_merged");
    assert_eq!(
        app.sql_count(&format!(
            "SELECT count(*) AS n FROM events WHERE type = 'feedback.merged' AND subject_id = '{c}'"
        )),
        1
    );

    // The parent is answered: the child's sender hears of it, and its tracking shows it.
    for step in ["accepted", "in_progress"] {
        let res = app
            .post(&format!("/api/v1/feedback/{p}/transitions"))
            .token(&o.coordinator)
            .json(json!({"to": step}))
            .send()
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
    }
    let res = app
        .post(&format!("/api/v1/feedback/{p}/answers"))
        .token(o.member("GT"))
        .json(json!({"text": "Đã thay bóng đèn."}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(
        app.sql_count(&format!(
            "SELECT count(*) AS n FROM outbound_messages WHERE feedback_id = '{c}' AND kind = 'answer'"
        )),
        1,
        "the merged record's sender is told of the answer"
    );
    let code = child["code"].as_str().unwrap();
    let status = app.get(&format!("/api/v1/public/feedback/{code}/status?pin={pin}")).send().await;
    assert_eq!(status.status, 200, "{}", status.text());
    let status = status.json();
    assert_eq!((status["code"].clone(), status["merged_into"].clone()), (json!(code), parent["code"].clone()));
    assert_eq!((status["status"].clone(), status["answer"].clone()), (json!("answered"), json!("Đã thay bóng đèn.")));
    // Reports: three received, two matters.
    let stats = app.get("/api/v1/reports/feedback?period=2021").token(&o.coordinator).send().await.json();
    assert_eq!(
        (stats["total"]["received"].clone(), stats["total"]["merged"].clone(), stats["total"]["matters"].clone()),
        (json!(3), json!(1), json!(2))
    );

    // Unmerged: back to where it was, a matter of its own.
    let res = app.post(&format!("/api/v1/feedback/{c}/unmerge")).token(&o.coordinator).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!((res.json()["status"].clone(), res.json()["merged_into"].clone()), (json!("received"), Value::Null));
    app.post(&format!("/api/v1/feedback/{c}/unmerge"))
        .token(&o.coordinator)
        .send()
        .await
        .problem(409, "feedback_not_merged");
    let stats = app.get("/api/v1/reports/feedback?period=2021").token(&o.coordinator).send().await.json();
    assert_eq!(stats["total"]["matters"], 3);
    assert_eq!(
        app.sql_count(&format!(
            "SELECT count(*) AS n FROM events WHERE type = 'feedback.unmerged' AND subject_id = '{c}'"
        )),
        1
    );
}

/// Past records of each category, answered by their department.
async fn answered_past(app: &TestApp, o: &Org) -> Vec<(String, String)> {
    let past = [
        (
            "GIAO-THONG",
            "GT",
            "Ổ gà trên đường Lê Hồng Phong",
            "Mặt đường Lê Hồng Phong bị sụt lún, ổ gà sâu gây nguy hiểm cho xe máy.",
        ),
        (
            "GIAO-THONG",
            "GT",
            "Mặt đường sụt lún đường 23 Tháng 10",
            "Đường 23 Tháng 10 có nhiều ổ gà và mặt đường sụt lún sau mưa lớn.",
        ),
        (
            "GIAO-THONG",
            "GT",
            "Cống thoát nước đường Yersin bị vỡ",
            "Nắp cống thoát nước trên đường Yersin bị vỡ, mặt đường sụt lún nguy hiểm.",
        ),
        (
            "DAT-DAI",
            "DAT",
            "Chậm cấp giấy chứng nhận quyền sử dụng đất",
            "Hồ sơ cấp giấy chứng nhận quyền sử dụng đất nộp từ tháng ba chưa có kết quả.",
        ),
        (
            "DAT-DAI",
            "DAT",
            "Bồi thường giải phóng mặt bằng dự án đường Vành đai",
            "Gia đình chưa nhận tiền bồi thường giải phóng mặt bằng dự án đường Vành đai.",
        ),
        (
            "KHAC",
            "VP",
            "Góp ý giờ làm việc bộ phận một cửa",
            "Đề nghị bộ phận một cửa làm việc thêm sáng thứ bảy để người dân tiện nộp hồ sơ.",
        ),
    ];
    let mut filed = Vec::new();
    for (i, (cat, dept, subject, content)) in past.into_iter().enumerate() {
        let record = file(
            app,
            o,
            json!({"received_at": format!("2021-03-{:02}T08:00:00+07:00", i + 1), "category_id": o.category(cat),
            "department_id": o.dept(dept), "subject": subject, "content": content}),
        )
        .await;
        let id = record["id"].as_str().unwrap();
        let res = app
            .post(&format!("/api/v1/feedback/{id}/transitions"))
            .token(&o.coordinator)
            .json(json!({"to": "accepted"}))
            .send()
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        let res = app
            .post(&format!("/api/v1/feedback/{id}/answers"))
            .token(o.member(dept))
            .json(json!({"text": "Đã xử lý."}))
            .send()
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        filed.push((cat.to_owned(), record["code"].as_str().unwrap().to_owned()));
    }
    filed
}

#[actix_web::test]
async fn suggestions_come_with_their_records_and_route_only_when_turned_on() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let o = org(&app, &admin, "TRIAGE3").await;
    let past = answered_past(&app, &o).await;
    let road: Vec<&str> = past.iter().filter(|(c, _)| c == "GIAO-THONG").map(|(_, code)| code.as_str()).collect();

    let new = file(
        &app,
        &o,
        json!({"received_at": "2021-04-05T08:00:00+07:00", "subject": "Ổ gà, mặt đường sụt lún đường Trần Phú",
        "content": "Đường Trần Phú có ổ gà sâu, mặt đường sụt lún làm xe máy bị ngã."}),
    )
    .await;
    assert_eq!(
        (new["category_id"].clone(), new["department_id"].clone(), new["assigned_by_suggestion"].clone()),
        (Value::Null, Value::Null, json!(false))
    );
    let s = &new["suggestions"];
    assert_eq!(s["categories"][0]["code"], "GIAO-THONG", "{s}");
    assert_eq!(s["departments"][0]["code"], "GT", "{s}");
    assert!(s["categories"][0]["score"].as_f64().unwrap() > 0.5, "{s}");
    let basis: Vec<&str> =
        s["categories"][0]["basis"].as_array().unwrap().iter().map(|b| b["code"].as_str().unwrap()).collect();
    assert!(!basis.is_empty() && basis.iter().all(|c| road.contains(c)), "the road records led to it: {basis:?}");
    assert_eq!(s["assigned_by_suggestion"], false);
    let id = new["id"].as_str().unwrap().to_owned();
    let again = app.get(&format!("/api/v1/feedback/{id}/suggestions")).token(&o.coordinator).send().await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json(), *s, "kept as made");
    // Staff take the first: the triage report counts it.
    let res = app
        .patch(&format!("/api/v1/feedback/{id}"))
        .token(&o.coordinator)
        .json(json!({"category_id": o.category("GIAO-THONG"), "department_id": o.dept("DAT")}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let report = app.get("/api/v1/reports/triage?period=2021").token(&o.coordinator).send().await;
    assert_eq!(report.status, 200, "{}", report.text());
    let total = &report.json()["total"];
    assert_eq!(
        (
            total["suggested"].clone(),
            total["category_first_taken"].clone(),
            total["department_chosen"].clone(),
            total["department_first_taken"].clone()
        ),
        (json!(1), json!(1), json!(1), json!(0))
    );
    assert_eq!(report.json()["lines"][0]["month"], "2021-04");
    let csv = app.get("/api/v1/reports/triage?period=2021&format=csv&bom=false").token(&o.coordinator).send().await;
    assert!(csv.text().starts_with("month,category_code,suggested,"), "{}", csv.text());

    // Auto-assignment: off by default (above); on, it routes by the first suggestions.
    let res = app
        .patch(&format!("/api/v1/organizations/{}", o.id))
        .token(&admin)
        .json(json!({"auto_assign_min_score": 0.4}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let routed = file(
        &app,
        &o,
        json!({"received_at": "2021-04-06T08:00:00+07:00", "subject": "Chậm cấp giấy chứng nhận quyền sử dụng đất",
        "content": "Tôi nộp hồ sơ cấp giấy chứng nhận quyền sử dụng đất đã lâu mà chưa có kết quả."}),
    )
    .await;
    assert_eq!(routed["assigned_by_suggestion"], true, "{routed}");
    assert_eq!(
        (routed["category_id"].clone(), routed["department_id"].clone()),
        (json!(o.category("DAT-DAI")), json!(o.dept("DAT")))
    );
    let read = app
        .get(&format!("/api/v1/feedback/{}", routed["id"].as_str().unwrap()))
        .token(&o.coordinator)
        .send()
        .await
        .json();
    assert_eq!(read["assigned_by_suggestion"], true, "the record says so");
    // Filed routed, in one change: its event says so.
    let assigned = app.sql_count(&format!(
        "SELECT count(*) AS n FROM events WHERE type = 'feedback.received' AND subject_id = '{}' AND data->>'assigned_by_suggestion' = 'true'",
        routed["id"].as_str().unwrap()
    ));
    assert_eq!(assigned, 1);
    // A record that came with its category gets none.
    let given = file(
        &app,
        &o,
        json!({"received_at": "2021-04-07T08:00:00+07:00", "category_id": o.category("KHAC"),
        "subject": "Góp ý", "content": "Góp ý về giờ làm việc."}),
    )
    .await;
    assert_eq!(given["suggestions"], Value::Null);
}

#[actix_web::test]
async fn organisations_never_see_each_others_records_in_triage() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (a, b) = (org(&app, &admin, "TRIAGE4A").await, org(&app, &admin, "TRIAGE4B").await);
    answered_past(&app, &b).await;
    let text = json!({"received_at": "2021-04-05T08:00:00+07:00", "sender_phone": PHONE,
        "subject": "Ổ gà, mặt đường sụt lún đường Lê Hồng Phong", "content": "Mặt đường Lê Hồng Phong bị sụt lún, ổ gà sâu gây nguy hiểm."});
    let in_b = file(&app, &b, text.clone()).await;
    let in_a = file(&app, &a, text).await;
    assert_eq!(in_a["similar"], json!([]), "the same text and sender in another organisation is not offered");
    assert_eq!(in_a["suggestions"]["categories"], json!([]), "nor are its answered records");
    let res = app
        .get(&format!("/api/v1/feedback/{}/similar", in_b["id"].as_str().unwrap()))
        .token(&a.coordinator)
        .send()
        .await;
    assert_eq!(res.status, 404, "{}", res.text());
    let res = app
        .post(&format!("/api/v1/feedback/{}/merge", in_a["id"].as_str().unwrap()))
        .token(&a.coordinator)
        .json(json!({"into": in_b["id"]}))
        .send()
        .await;
    res.problem(422, "reference_invalid");
    // Filing into an organisation that does not exist is still the filing's 422, not a
    // 404 of triage's read before it (the fuzzer found that).
    let res = app
        .post("/api/v1/feedback")
        .token(&admin)
        .json(
            json!({"channel": "hotline", "kind": "complaint", "sender_type": "citizen", "subject": "S", "content": "C",
            "organization_id": Uuid::now_v7()}),
        )
        .send()
        .await;
    res.problem(422, "organization_not_found");
}
