//! Open311 GeoReport v2: every endpoint in JSON and XML against the specification's
//! names and types, filing with and without a valid `api_key`, the status mapping,
//! jurisdictions kept apart, and the sender's personal fields never coming back out.
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestResponse, capture_logs, captured_logs, multipart, test_settings};

const NAME: (&str, &str) = ("Lê Thị", "Thu Hà");
const EMAIL: &str = "thuha.le@example.vn";
const PHONE: &str = "0905123456";
const PHOTO: &[u8] = include_bytes!("../fixtures/photo.jpg");

/// An XML element: its name, text and children (enough to check the shapes).
#[derive(Debug, Default)]
struct Node {
    name: String,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &str) -> &Node {
        self.children.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no <{name}> in <{}>", self.name))
    }
    fn names(&self) -> Vec<&str> {
        self.children.iter().map(|c| c.name.as_str()).collect()
    }
}

/// Parses an XML document (it must declare UTF-8) into its root element.
fn xml(res: &TestResponse) -> Node {
    use quick_xml::events::Event;
    assert_eq!(res.header("content-type").as_deref(), Some("text/xml; charset=utf-8"));
    let text = res.text();
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"), "{text}");
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut stack: Vec<Node> = vec![Node::default()];
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => {
                stack.push(Node { name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(), ..Default::default() })
            }
            Event::Empty(e) => stack
                .last_mut()
                .unwrap()
                .children
                .push(Node { name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(), ..Default::default() }),
            Event::Text(t) => stack.last_mut().unwrap().text.push_str(&t.decode().unwrap()),
            Event::GeneralRef(r) => {
                let name = format!("&{};", r.decode().unwrap());
                stack.last_mut().unwrap().text.push_str(&quick_xml::escape::unescape(&name).unwrap());
            }
            Event::End(_) => {
                let done = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(done);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    stack.pop().unwrap().children.pop().expect("a root element")
}

struct World {
    app: TestApp,
    /// `<client_id>:<client_secret>` of a service client of KDPM with feedback:write.
    key: String,
    /// The same of a client of the other organisation.
    other_key: String,
    coordinator: String,
    dept: String,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM311").await;
    let other = app.organization(&admin, "SXD311").await;
    let dept = app.department(&admin, org, "QLDA1").await;
    let (_, coordinator) = app.staff(&admin, org, &dept, "o311.coord", "coordinator").await;
    let res = app
        .post("/api/v1/feedback-categories")
        .token(&coordinator)
        .json(
            json!({"code": "GT", "name": "Giao thông, công trình", "deadline_days": 10, "default_department_id": dept}),
        )
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let other_dept = app.department(&admin, other, "KT").await;
    let (_, other_coordinator) = app.staff(&admin, other, &other_dept, "o311.other", "coordinator").await;
    let res = app
        .post("/api/v1/feedback-categories")
        .token(&other_coordinator)
        .json(json!({"code": "XD", "name": "Cấp phép xây dựng", "deadline_days": 15}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let (id, secret) = app.service_client_secret(&admin, org, &["feedback:write"]).await;
    let (other_id, other_secret) = app.service_client_secret(&admin, other, &["feedback:write"]).await;
    World { app, key: format!("{id}:{secret}"), other_key: format!("{other_id}:{other_secret}"), coordinator, dept }
}

fn form(fields: &[(&str, &str)]) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish().into_bytes()
}

async fn post(app: &TestApp, format: &str, fields: &[(&str, &str)]) -> TestResponse {
    app.post(&format!("/open311/v2/requests.{format}"))
        .raw("application/x-www-form-urlencoded", form(fields))
        .send()
        .await
}

fn filing<'a>(key: &'a str, description: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("api_key", key),
        ("jurisdiction_id", "KDPM311"),
        ("service_code", "GT"),
        ("lat", "12.2388"),
        ("long", "109.1967"),
        ("address_string", "Số 12 đường Trần Phú, Nha Trang"),
        ("description", description),
        ("first_name", NAME.0),
        ("last_name", NAME.1),
        ("email", EMAIL),
        ("phone", PHONE),
        ("device_id", "android-1234"),
        ("attribute[report_url]", "https://example.org/report/1"),
    ]
}

/// The one request of a JSON list.
fn only(res: &TestResponse) -> Value {
    assert_eq!(res.status, 200, "{}", res.text());
    let list = res.json();
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    list[0].clone()
}

const REQUEST_FIELDS: [&str; 17] = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
];

#[actix_web::test]
async fn every_endpoint_speaks_json_and_xml_as_the_specification_names_them() {
    let w = world().await;
    let app = &w.app;

    // Discovery.
    let d = app.get("/open311/v2/discovery.json").send().await;
    assert_eq!(d.status, 200, "{}", d.text());
    let d = d.json();
    assert_eq!(d["endpoints"][0]["specification"], "http://wiki.open311.org/GeoReport_v2");
    assert_eq!(d["endpoints"][0]["formats"], json!(["application/json", "text/xml"]));
    for field in ["changeset", "contact", "key_service"] {
        assert!(d[field].is_string(), "{field}: {d}");
    }
    let x = xml(&app.get("/open311/v2/discovery.xml").send().await);
    assert_eq!(x.name, "discovery");
    assert_eq!(x.names(), ["changeset", "contact", "key_service", "endpoints"]);
    let endpoint = x.child("endpoints").child("endpoint");
    assert_eq!(endpoint.names(), ["specification", "url", "changeset", "type", "formats"]);
    assert_eq!(endpoint.child("formats").names(), ["format", "format"]);

    // Services: the categories.
    let s = app.get("/open311/v2/services.json?jurisdiction_id=KDPM311").send().await;
    assert_eq!(s.status, 200, "{}", s.text());
    let services = s.json();
    assert_eq!(services.as_array().unwrap().len(), 1, "only this jurisdiction's: {services}");
    let gt = &services[0];
    assert_eq!(
        (gt["service_code"].clone(), gt["metadata"].clone(), gt["type"].clone()),
        (json!("GT"), json!(false), json!("realtime"))
    );
    assert_eq!(gt["service_name"], "Giao thông, công trình");
    assert!(gt["description"].as_str().unwrap().contains("10 ngày làm việc"));
    let x = xml(&app.get("/open311/v2/services.xml?jurisdiction_id=KDPM311").send().await);
    assert_eq!((x.name.as_str(), x.names()), ("services", vec!["service"]));
    let service = x.child("service");
    assert_eq!(
        service.names(),
        ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
    );
    assert_eq!((service.child("metadata").text.as_str(), service.child("type").text.as_str()), ("false", "realtime"));
    let def = app.get("/open311/v2/services/GT.json?jurisdiction_id=KDPM311").send().await.json();
    assert_eq!(def, json!({"service_code": "GT", "attributes": []}));
    let x = xml(&app.get("/open311/v2/services/GT.xml?jurisdiction_id=KDPM311").send().await);
    assert_eq!((x.name.as_str(), x.names()), ("service_definition", vec!["service_code", "attributes"]));

    // Filing: JSON answer.
    let res = post(app, "json", &filing(&w.key, "Ổ gà lớn trên đường Trần Phú\nNguy hiểm cho xe máy.")).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let filed = res.json();
    let code = filed[0]["service_request_id"].as_str().unwrap().to_owned();
    assert!(code.starts_with("PAKN-"), "{filed}");
    let notice = filed[0]["service_notice"].as_str().unwrap();
    assert!(notice.contains("Mã tra cứu (PIN)"), "{notice}");
    assert_eq!(filed[0]["account_id"], Value::Null);
    assert!(res.header("location").unwrap().starts_with(&format!("/open311/v2/requests/{code}.json")));
    // XML answer.
    let res = post(app, "xml", &filing(&w.key, "Đèn đường hỏng")).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let x = xml(&res);
    assert_eq!((x.name.as_str(), x.names()), ("service_requests", vec!["request"]));
    assert_eq!(x.child("request").names(), ["service_request_id", "service_notice", "account_id"]);
    let second = x.child("request").child("service_request_id").text.clone();

    // A normal feedback record, with the deadline and department of its category.
    let staff = app.get(&format!("/api/v1/feedback?q={code}")).token(&w.coordinator).send().await.json();
    let record = &staff["items"][0];
    assert_eq!((record["channel"].clone(), record["department_id"].clone()), (json!("portal"), json!(w.dept)));
    assert_eq!(record["subject"], "Ổ gà lớn trên đường Trần Phú");
    assert_eq!(record["location"]["address"], "Số 12 đường Trần Phú, Nha Trang");

    // Reading one and many, with the api_key: every field of the specification.
    let one = only(
        &app.get(&format!("/open311/v2/requests/{code}.json?jurisdiction_id=KDPM311&api_key={}", w.key)).send().await,
    );
    let mut keys: Vec<&str> = one.as_object().unwrap().keys().map(String::as_str).collect();
    let mut fields = REQUEST_FIELDS.to_vec();
    keys.sort();
    fields.sort();
    assert_eq!(keys, fields);
    assert_eq!(one["status"], "open");
    assert_eq!((one["lat"].as_f64(), one["long"].as_f64()), (Some(12.2388), Some(109.1967)));
    assert_eq!(one["service_code"], "GT");
    assert_eq!(one["agency_responsible"], "QLDA1", "the department's name");
    let requested = one["requested_datetime"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(requested).is_ok() && requested.ends_with("+07:00"), "{requested}");
    assert!(one["expected_datetime"].as_str().unwrap().ends_with("T17:00:00+07:00"));
    let x = xml(&app
        .get(&format!("/open311/v2/requests/{code}.xml?jurisdiction_id=KDPM311&api_key={}", w.key))
        .send()
        .await);
    assert_eq!((x.name.as_str(), x.names()), ("service_requests", vec!["request"]));
    assert_eq!(x.child("request").names(), REQUEST_FIELDS);
    assert_eq!(x.child("request").child("lat").text, "12.2388");
    let many = app
        .get(&format!("/open311/v2/requests.json?jurisdiction_id=KDPM311&api_key={}&start_date=2000-01-01T00:00:00Z&end_date=2000-02-01T00:00:00Z", w.key))
        .send()
        .await;
    assert_eq!(many.json(), json!([]), "nothing received in January 2000");
    let both = app
        .get(&format!("/open311/v2/requests.json?api_key={}&service_request_id={code},{second}", w.key))
        .send()
        .await;
    assert_eq!(both.json().as_array().unwrap().len(), 2, "{}", both.text());
    let x = xml(&app.get(&format!("/open311/v2/requests.xml?api_key={}&status=open", w.key)).send().await);
    assert_eq!(x.names(), ["request", "request"]);

    // A token is the record's id.
    let id = record["id"].as_str().unwrap();
    let t = app.get(&format!("/open311/v2/tokens/{id}.json?jurisdiction_id=KDPM311")).send().await;
    assert_eq!(t.json(), json!([{"service_request_id": code, "token": id}]));
    let x = xml(&app.get(&format!("/open311/v2/tokens/{id}.xml?jurisdiction_id=KDPM311")).send().await);
    assert_eq!(x.child("request").names(), ["service_request_id", "token"]);

    // Errors in the specification's shape, in both formats.
    let res = app.get("/open311/v2/services/NOPE.json?jurisdiction_id=KDPM311").send().await;
    assert_eq!(res.status, 404);
    assert_eq!(res.json(), json!([{"code": 404, "description": "service_code not found."}]));
    let res = app.get("/open311/v2/services.xml?jurisdiction_id=NOWHERE").send().await;
    assert_eq!(res.status, 404);
    let x = xml(&res);
    assert_eq!((x.name.as_str(), x.names()), ("errors", vec!["error"]));
    assert_eq!(x.child("error").child("code").text, "404");
    assert_eq!(x.child("error").child("description").text, "jurisdiction_id not found.");
    let res = app.get("/open311/v2/services.json").send().await;
    assert_eq!((res.status, res.json()[0]["code"].clone()), (400, json!(400)));
    let res = app.get("/open311/v2/services.csv?jurisdiction_id=KDPM311").send().await;
    assert_eq!(res.status, 404);
    assert_eq!(res.json()[0]["code"], 404);
    let res = app.get("/open311/v2/services.json?jurisdiction_id=KDPM311&colour=red").send().await;
    assert_eq!(res.status, 400);
    let res = app
        .get(&format!(
            "/open311/v2/requests.json?api_key={}&start_date=2021-01-01T00:00:00Z&end_date=2021-06-01T00:00:00Z",
            w.key
        ))
        .send()
        .await;
    assert_eq!(res.status, 400, "a span over 90 days: {}", res.text());
    let res = app.call(actix_web::http::Method::PUT, "/open311/v2/requests.json").send().await;
    assert_eq!(res.status, 405, "{}", res.text());
    assert_eq!(res.header("allow").as_deref(), Some("GET, POST"));
}

#[actix_web::test]
async fn filing_needs_a_valid_api_key_of_its_jurisdiction_and_a_valid_form() {
    let w = world().await;
    let app = &w.app;
    let count = || app.sql_count("SELECT count(*) AS n FROM feedback");

    let mut no_key = filing("", "Thiếu khoá");
    no_key.retain(|(k, _)| *k != "api_key");
    let res = post(app, "json", &no_key).await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(res.json()[0]["code"], 403);
    for bad in ["not-a-key", "0193f0a0-0000-7000-8000-000000000000:wrong", &format!("{}x", w.key)] {
        let res = post(app, "xml", &filing(bad, "Khoá sai")).await;
        assert_eq!(res.status, 403, "{bad}: {}", res.text());
        assert_eq!(xml(&res).child("error").child("code").text, "403");
    }
    // Another organisation's key, for this jurisdiction.
    let res = post(app, "json", &filing(&w.other_key, "Khoá của đơn vị khác")).await;
    assert_eq!(res.status, 403, "{}", res.text());
    let form_with = |extra: (&'static str, &'static str), drop: &'static str| {
        let mut f = filing(&w.key, "Mô tả");
        f.retain(|(k, _)| *k != drop && *k != extra.0);
        f.push(extra);
        f
    };
    for (fields, status, says) in [
        (form_with(("service_code", "NOPE"), ""), 404, "service_code not found."),
        (form_with(("lat", "abc"), ""), 400, "lat is not a number."),
        (form_with(("long", "109.1"), "lat"), 400, "lat and long come together."),
        (form_with(("media_url", "https://example.invalid/a.jpg"), ""), 400, "media_url could not be fetched"),
        (form_with(("colour", "red"), ""), 400, "Unknown field: colour."),
        (form_with(("email", "not an email"), ""), 400, "email:"),
        (form_with(("lat", "95"), ""), 400, "lat:"),
    ] {
        let res = post(app, "json", &fields).await;
        assert_eq!(res.status, status, "{fields:?}: {}", res.text());
        assert!(res.text().contains(says), "{says}: {}", res.text());
    }
    let mut no_place = filing(&w.key, "Không có vị trí");
    no_place.retain(|(k, _)| !matches!(*k, "lat" | "long" | "address_string"));
    assert_eq!(post(app, "json", &no_place).await.status, 400);
    let res = app.post("/open311/v2/requests.json").raw("application/json", b"{}".to_vec()).send().await;
    assert_eq!(res.status, 415, "{}", res.text());
    assert_eq!(count(), 0, "nothing filed by a refused request");

    // A bearer token does as well as an api_key.
    let mut with_token = filing("", "Bằng token");
    with_token.retain(|(k, _)| *k != "api_key");
    let res = app
        .post("/open311/v2/requests.json")
        .token(&w.coordinator)
        .raw("application/x-www-form-urlencoded", form(&with_token))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    // Photos as media parts, their location taken out, the first one the media_url.
    let (ct, body) = multipart(&[
        ("api_key", None, w.key.as_bytes()),
        ("jurisdiction_id", None, b"KDPM311"),
        ("service_code", None, b"GT"),
        ("address_string", None, "Chợ Đầm".as_bytes()),
        ("description", None, "Rác thải tồn đọng".as_bytes()),
        ("media", Some("ảnh.jpg"), PHOTO),
    ]);
    let res = app.post("/open311/v2/requests.json").raw(&ct, body).send().await;
    assert_eq!(res.status, 201, "{}", res.text());
    let code = res.json()[0]["service_request_id"].as_str().unwrap().to_owned();
    let read = only(&app.get(&format!("/open311/v2/requests/{code}.json?api_key={}", w.key)).send().await);
    let media = read["media_url"].as_str().unwrap();
    assert!(media.contains("/api/v1/feedback-attachments/") && media.ends_with("/content"), "{media}");
    assert_eq!(read["lat"], Value::Null);
    assert_eq!(read["address"], "Chợ Đầm");
    assert_eq!(count(), 2);
}

#[actix_web::test]
async fn statuses_map_to_open_and_closed_and_jurisdictions_stay_apart() {
    let w = world().await;
    let app = &w.app;
    // One record per status, filed through Open311, moved by staff.
    let moves: [(&str, &[Value]); 7] = [
        ("received", &[]),
        ("accepted", &[json!({"to": "accepted"})]),
        ("in_progress", &[json!({"to": "accepted"}), json!({"to": "in_progress"})]),
        ("answered", &[json!({"to": "accepted"})]),
        ("closed", &[json!({"to": "accepted"})]),
        ("rejected", &[json!({"to": "rejected", "reason": "Không thuộc thẩm quyền của Ban"})]),
        ("forwarded", &[json!({"to": "forwarded", "forwarded_to": "Sở Giao thông vận tải"})]),
    ];
    let mut codes = Vec::new();
    for (status, steps) in moves {
        let res = post(app, "json", &filing(&w.key, status)).await;
        assert_eq!(res.status, 201, "{}", res.text());
        let code = res.json()[0]["service_request_id"].as_str().unwrap().to_owned();
        let id =
            app.get(&format!("/api/v1/feedback?q={code}")).token(&w.coordinator).send().await.json()["items"][0]["id"]
                .as_str()
                .unwrap()
                .to_owned();
        for step in steps {
            let res = app
                .post(&format!("/api/v1/feedback/{id}/transitions"))
                .token(&w.coordinator)
                .json(step.clone())
                .send()
                .await;
            assert_eq!(res.status, 200, "{status}: {}", res.text());
        }
        if matches!(status, "answered" | "closed") {
            let res = app
                .post(&format!("/api/v1/feedback/{id}/answers"))
                .token(&w.coordinator)
                .json(json!({"text": "Đã sửa chữa xong."}))
                .send()
                .await;
            assert_eq!(res.status, 201, "{}", res.text());
        }
        if status == "closed" {
            let res = app
                .post(&format!("/api/v1/feedback/{id}/transitions"))
                .token(&w.coordinator)
                .json(json!({"to": "closed"}))
                .send()
                .await;
            assert_eq!(res.status, 200, "{}", res.text());
        }
        codes.push((status, code, id));
    }
    for (status, code, _) in &codes {
        let read = only(&app.get(&format!("/open311/v2/requests/{code}.json?api_key={}", w.key)).send().await);
        let expected = if matches!(*status, "received" | "accepted" | "in_progress") { "open" } else { "closed" };
        assert_eq!(read["status"], expected, "{status}");
        let notes = read["status_notes"].as_str().unwrap_or_default();
        match *status {
            "answered" | "closed" => assert_eq!(notes, "Đã sửa chữa xong."),
            "rejected" => assert_eq!(notes, "Không thuộc thẩm quyền của Ban"),
            "forwarded" => assert_eq!(notes, "Đã chuyển đến: Sở Giao thông vận tải"),
            _ => assert!(notes.contains("hạn trả lời"), "{status}: {notes}"),
        }
    }
    let open = app.get(&format!("/open311/v2/requests.json?api_key={}&status=open", w.key)).send().await.json();
    assert_eq!(open.as_array().unwrap().len(), 3);
    let closed = app.get(&format!("/open311/v2/requests.json?api_key={}&status=closed", w.key)).send().await.json();
    assert_eq!(closed.as_array().unwrap().len(), 4);

    // A merged record is closed, its notes pointing at the record it joined.
    let res = post(app, "json", &filing(&w.key, "Ổ gà trước số 12, báo lần hai")).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let again = res.json()[0]["service_request_id"].as_str().unwrap().to_owned();
    let again_id = app.get(&format!("/api/v1/feedback?q={again}")).token(&w.coordinator).send().await.json()["items"]
        [0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, parent_code, parent_id) = &codes[2];
    let res = app
        .post(&format!("/api/v1/feedback/{again_id}/merge"))
        .token(&w.coordinator)
        .json(json!({"into": parent_id}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let merged = only(&app.get(&format!("/open311/v2/requests/{again}.json?api_key={}", w.key)).send().await);
    assert_eq!(merged["status"], "closed", "{merged}");
    assert_eq!(
        merged["status_notes"],
        format!("Đã gộp vào {parent_code} (cùng nội dung): theo dõi tại {parent_code}."),
        "{merged}"
    );

    // The public sees published results only: the summary, never the content or the
    // written place; the point to some 100 m.
    let public = app.get("/open311/v2/requests.json?jurisdiction_id=KDPM311").send().await;
    assert_eq!(public.json(), json!([]), "nothing published yet");
    let (_, answered, answered_id) = &codes[3];
    let res = app
        .post(&format!("/api/v1/feedback/{answered_id}/publish"))
        .token(&w.coordinator)
        .json(json!({"summary": "Ban đã phối hợp vá mặt đường."}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let public = only(&app.get("/open311/v2/requests.json?jurisdiction_id=KDPM311").send().await);
    assert_eq!(public["service_request_id"], answered.as_str());
    assert_eq!(public["description"], "Ban đã phối hợp vá mặt đường.");
    assert_eq!(
        (public["lat"].as_f64(), public["long"].as_f64(), public["address"].clone()),
        (Some(12.239), Some(109.197), Value::Null)
    );
    let res = app.get(&format!("/open311/v2/requests/{}.json?jurisdiction_id=KDPM311", codes[0].1)).send().await;
    assert_eq!(res.status, 404, "not published: {}", res.text());

    // Jurisdictions apart: the other organisation's key reads none of these, and may not
    // name this jurisdiction; its own list is empty.
    let res = app
        .get(&format!("/open311/v2/requests/{answered}.json?jurisdiction_id=KDPM311&api_key={}", w.other_key))
        .send()
        .await;
    assert_eq!(res.status, 403, "{}", res.text());
    let theirs = app.get(&format!("/open311/v2/requests.json?api_key={}", w.other_key)).send().await;
    assert_eq!(theirs.json(), json!([]));
    let res = app
        .get(&format!("/open311/v2/requests.json?jurisdiction_id=SXD311&service_request_id={answered}"))
        .send()
        .await;
    assert_eq!(res.json(), json!([]), "a code of another jurisdiction is not found there");
    let services = app.get("/open311/v2/services.json?jurisdiction_id=SXD311").send().await.json();
    assert_eq!(
        services.as_array().unwrap().iter().map(|s| s["service_code"].clone()).collect::<Vec<_>>(),
        [json!("XD")]
    );
}

#[actix_web::test]
async fn the_senders_personal_fields_never_come_back_out() {
    capture_logs();
    let w = world().await;
    let app = &w.app;
    let res = post(app, "json", &filing(&w.key, "Phản ánh có thông tin cá nhân")).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let code = res.json()[0]["service_request_id"].as_str().unwrap().to_owned();
    let secrets = [NAME.0, NAME.1, EMAIL, PHONE];
    let mut answers = vec![res.text()];
    for format in ["json", "xml"] {
        for path in [
            format!("/open311/v2/requests/{code}.{format}?api_key={}", w.key),
            format!("/open311/v2/requests.{format}?api_key={}", w.key),
            format!("/open311/v2/requests.{format}?jurisdiction_id=KDPM311"),
        ] {
            answers.push(app.get(&path).send().await.text());
        }
    }
    for text in &answers {
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    // They went to the protected sender: the coordinator sees them.
    let id = app.get(&format!("/api/v1/feedback?q={code}")).token(&w.coordinator).send().await.json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let record = app.get(&format!("/api/v1/feedback/{id}")).token(&w.coordinator).send().await.json();
    assert_eq!(record["sender"]["name"], format!("{} {}", NAME.0, NAME.1));
    assert_eq!((record["sender"]["email"].clone(), record["sender"]["phone"].clone()), (json!(EMAIL), json!(PHONE)));
    // Not in the feed, the trail or the logs.
    for secret in secrets {
        let q = format!("SELECT count(*) AS n FROM events WHERE data::text LIKE '%{secret}%'");
        assert_eq!(app.sql_count(&q), 0, "{secret} in an event");
        let q = format!("SELECT count(*) AS n FROM audit_events WHERE changes::text LIKE '%{secret}%'");
        assert_eq!(app.sql_count(&q), 0, "{secret} in the trail");
    }
    let logs = captured_logs();
    for secret in secrets {
        assert!(!logs.contains(secret), "{secret} in the logs");
    }
    assert!(!logs.contains(w.key.split(':').nth(1).unwrap()), "the api_key's secret in the logs");
}

/// Serves `body` as a JPEG to whoever asks, on a free port of loopback; the address.
fn serve_photo(body: Vec<u8>) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    format!("http://{address}/uploads/o-ga.jpg")
}

#[actix_web::test]
async fn a_media_url_is_fetched_under_the_outbound_rules_and_kept_without_its_place() {
    // A photo with a place in it, at an address of this machine's.
    let photo = crate::places::photo_with_place();
    let url = serve_photo(photo);
    // By default no private (nor plain-http) address is fetched: refused, nothing filed.
    let strict = world().await;
    let mut fields = filing(&strict.key, "Ảnh gửi kèm theo đường dẫn");
    fields.push(("media_url", url.as_str()));
    let res = post(&strict.app, "json", &fields).await;
    assert_eq!(res.status, 400, "{}", res.text());
    assert!(res.text().contains("media_url could not be fetched: the address is refused"), "{}", res.text());
    assert_eq!(strict.app.sql_count("SELECT count(*) AS n FROM feedback"), 0);

    // Where the deployment allows it (as for webhook receivers): fetched and kept like
    // an upload — recognised, its place taken out.
    let mut settings = test_settings();
    settings.webhooks.allow_http = true;
    settings.webhooks.allow_private = true;
    let app = TestApp::spawn_with(settings).await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM311").await;
    let dept = app.department(&admin, org, "QLDA1").await;
    let (_, coordinator) = app.staff(&admin, org, &dept, "o311.media", "coordinator").await;
    let res = app
        .post("/api/v1/feedback-categories")
        .token(&coordinator)
        .json(json!({"code": "GT", "name": "Giao thông", "deadline_days": 10, "default_department_id": dept}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let (id, secret) = app.service_client_secret(&admin, org, &["feedback:write"]).await;
    let key = format!("{id}:{secret}");
    let mut fields = filing(&key, "Ảnh gửi kèm theo đường dẫn");
    fields.push(("media_url", url.as_str()));
    let res = post(&app, "json", &fields).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let code = res.json()[0]["service_request_id"].as_str().unwrap().to_owned();
    let read = only(&app.get(&format!("/open311/v2/requests/{code}.json?api_key={key}")).send().await);
    let media = read["media_url"].as_str().unwrap().to_owned();
    let path = media.split_once("/api/v1/").map(|(_, p)| format!("/api/v1/{p}")).unwrap();
    let stored = app.get(&path).token(&coordinator).send().await;
    assert_eq!(stored.status, 200, "{}", stored.text());
    let exif = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(&stored.body)).unwrap();
    assert!(!exif.fields().any(|f| f.tag.context() == exif::Context::Gps), "no GPS field left");
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM feedback_attachments WHERE location_removed"), 1);
}
