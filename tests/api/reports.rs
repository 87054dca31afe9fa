//! Reports, snapshots and exports over a seeded quarter. Every expected figure is
//! worked out here from the seed itself (working days, deadlines, percentiles), not
//! by asking the service.
use std::collections::BTreeMap;

use cchc_outreach::domain::time::Clock;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, multipart, test_settings};

const PDF: &[u8] = include_bytes!("../fixtures/minutes.pdf");
const JPEG: &[u8] = include_bytes!("../fixtures/photo.jpg");

/// The day the report is made: after the second quarter of 2021 has ended.
const AS_OF: &str = "2021-07-20T03:00:00Z";
/// Weekdays off in the quarter: the national calendar's (Hùng Kings' day, 30/4, and 3/5
/// in lieu of 1/5), which the seed does not enter.
const HOLIDAYS: [&str; 3] = ["2021-04-21", "2021-04-30", "2021-05-03"];
/// A Saturday the organisation works (its own `working_day`), which the seed enters.
const MAKE_UP: &str = "2021-05-08";

fn at(instant: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(instant).unwrap().with_timezone(&Utc)
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The date in Vietnam of an instant.
fn vn_date(instant: &str) -> NaiveDate {
    (at(instant) + Duration::hours(7)).date_naive()
}

fn working(d: NaiveDate) -> bool {
    d == day(MAKE_UP) || (!matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !HOLIDAYS.iter().any(|h| day(h) == d))
}

/// Working days after `from` up to and including `to`.
fn working_days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    let mut d = from;
    let mut n = 0;
    while d < to {
        d += Duration::days(1);
        n += i64::from(working(d));
    }
    n
}

/// The `days`-th working day after `from`.
fn nth_working_day(from: NaiveDate, days: i64) -> NaiveDate {
    let mut d = from;
    let mut n = 0;
    while n < days {
        d += Duration::days(1);
        n += i64::from(working(d));
    }
    d
}

/// PostgreSQL's `percentile_cont`: linear interpolation between closest ranks.
fn percentile(values: &[i64], p: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().map(|&x| x as f64).collect();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return None;
    }
    let pos = p * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(v[lo] + (pos - lo as f64) * (v[hi] - v[lo]))
}

#[derive(Clone, Copy)]
enum Fate {
    /// Answered at this instant, then rated.
    Answered(&'static str, &'static str),
    Open,
    Rejected,
    Forwarded,
}

/// A feedback record of the seed.
struct Filed {
    received: &'static str,
    channel: &'static str,
    /// `DAT` (10 working days, QLDA1) or `TTHC` (5, QLDA2); none: 10 days, no department.
    category: Option<&'static str>,
    fate: Fate,
}

const FEEDBACK: [Filed; 8] = [
    Filed {
        received: "2021-04-19T09:00:00+07:00",
        channel: "hotline",
        category: Some("DAT"),
        fate: Fate::Answered("2021-04-23T15:00:00+07:00", "satisfied"),
    },
    Filed {
        received: "2021-04-28T10:00:00+07:00",
        channel: "email",
        category: Some("TTHC"),
        fate: Fate::Answered("2021-05-12T09:00:00+07:00", "dissatisfied"),
    },
    Filed {
        received: "2021-05-10T08:00:00+07:00",
        channel: "hotline",
        category: Some("DAT"),
        fate: Fate::Answered("2021-05-10T16:00:00+07:00", "neutral"),
    },
    Filed { received: "2021-06-01T08:00:00+07:00", channel: "website", category: None, fate: Fate::Open },
    Filed { received: "2021-06-15T08:00:00+07:00", channel: "letter", category: Some("TTHC"), fate: Fate::Rejected },
    Filed { received: "2021-06-20T20:00:00+07:00", channel: "hotline", category: Some("DAT"), fate: Fate::Forwarded },
    // Outside the quarter: the first of July in Vietnam, and March.
    Filed { received: "2021-06-30T17:30:00Z", channel: "hotline", category: Some("DAT"), fate: Fate::Open },
    Filed { received: "2021-03-30T08:00:00+07:00", channel: "email", category: Some("DAT"), fate: Fate::Open },
];

/// An activity of the seed.
struct Held {
    /// Index into `[TCHC, QLDA1, QLDA2]`.
    department: usize,
    channel: &'static str,
    /// Indexes into the items `[I, I.1, II]`.
    items: &'static [usize],
    held: &'static str,
    verified: bool,
    files: usize,
}

const ACTIVITIES: [Held; 5] = [
    Held {
        department: 1,
        channel: "meeting",
        items: &[1],
        held: "2021-04-12T08:00:00+07:00",
        verified: true,
        files: 2,
    },
    Held {
        department: 1,
        channel: "website_post",
        items: &[1, 2],
        held: "2021-05-20T08:00:00+07:00",
        verified: true,
        files: 1,
    },
    Held {
        department: 0,
        channel: "meeting",
        items: &[2],
        held: "2021-06-30T23:30:00+07:00",
        verified: true,
        files: 0,
    },
    Held {
        department: 2,
        channel: "training",
        items: &[1],
        held: "2021-05-05T08:00:00+07:00",
        verified: false,
        files: 1,
    },
    // 06:00 on 1 July in Vietnam is still 30 June in UTC: not in the quarter.
    Held {
        department: 1,
        channel: "meeting",
        items: &[1],
        held: "2021-07-01T06:00:00+07:00",
        verified: true,
        files: 1,
    },
];

fn in_quarter(d: NaiveDate) -> bool {
    (day("2021-04-01")..=day("2021-06-30")).contains(&d)
}

struct Seeded {
    app: TestApp,
    clock: Clock,
    admin: String,
    coordinator: String,
    org: Uuid,
    plan: String,
    /// TCHC, QLDA1, QLDA2.
    departments: Vec<String>,
    /// I, I.1, II.
    items: Vec<String>,
    /// DAT, TTHC.
    categories: Vec<String>,
    /// NEWS, HOTLINE, NODATA.
    indicators: Vec<String>,
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let res = app.post(path).token(token).json(body).send().await;
    assert!(res.status == 200 || res.status == 201, "{path}: {}", res.text());
    res.json()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn seed() -> Seeded {
    let clock = Clock::fixed(at("2021-03-20T03:00:00Z"));
    let mut settings = test_settings();
    settings.clock = clock.clone();
    let app = TestApp::spawn_with(settings).await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    // The figures below are worked out for calendar quarters; the decree's cut-off has
    // its own test.
    app.count_periods(&admin, org, "calendar").await;
    let mut departments = Vec::new();
    for code in ["TCHC", "QLDA1", "QLDA2"] {
        let body = json!({"code": code, "name": format!("Phòng {code}"), "organization_id": org});
        departments.push(id(&post(&app, &admin, "/api/v1/departments", body).await));
    }
    let (_, coordinator) = app.staff(&admin, org, &departments[0], "tchc", "coordinator").await;
    let c = &coordinator;
    let plan = id(&post(
        &app,
        c,
        "/api/v1/plans",
        json!({"code": "KH-18", "year": 2021, "title": "Kế hoạch tuyên truyền CCHC năm 2021"}),
    )
    .await);
    let items_path = format!("/api/v1/plans/{plan}/items");
    let section =
        id(&post(&app, c, &items_path, json!({"reference": "I", "kind": "section", "title": "Mục đích"})).await);
    let task = id(&post(
        &app,
        c,
        &items_path,
        json!({"reference": "I.1", "kind": "task", "title": "Phổ biến", "parent_id": section}),
    )
    .await);
    let other =
        id(&post(&app, c, &items_path, json!({"reference": "II", "kind": "content", "title": "Nội dung"})).await);
    let items = vec![section, task, other];

    // Assignments: QLDA1 leads I.1 (monthly, due 15 June), QLDA2 carries it out
    // (quarterly), TCHC leads II (no reports) and is done.
    let a1 = id(&post(&app, c, "/api/v1/assignments", json!({"plan_item_id": items[1], "department_id": departments[1], "role": "lead", "reporting": "monthly", "due_on": "2021-06-15"})).await);
    post(
        &app,
        c,
        "/api/v1/assignments",
        json!({"plan_item_id": items[1], "department_id": departments[2], "role": "execute", "reporting": "quarterly"}),
    )
    .await;
    let a3 = id(&post(
        &app,
        c,
        "/api/v1/assignments",
        json!({"plan_item_id": items[2], "department_id": departments[0], "role": "lead"}),
    )
    .await);
    post(&app, c, &format!("/api/v1/assignments/{a3}/transitions"), json!({"to": "done"})).await;
    // April's report on time (due 5 May), May's late (due 5 June), June's never.
    clock.set(at("2021-05-03T03:00:00Z"));
    post(&app, c, &format!("/api/v1/assignments/{a1}/reports/2021-M04"), json!({"summary": "Đã họp phổ biến"})).await;
    clock.set(at("2021-06-10T03:00:00Z"));
    post(&app, c, &format!("/api/v1/assignments/{a1}/reports/2021-M05"), json!({"summary": "Đã đăng tin"})).await;

    // Activities, their evidence, and verification.
    for a in &ACTIVITIES {
        clock.set(at(a.held));
        let ids: Vec<&String> = a.items.iter().map(|&i| &items[i]).collect();
        let made = id(&post(&app, c, "/api/v1/activities", json!({"title": format!("Hoạt động {}", a.channel),
            "plan_item_ids": ids, "department_id": departments[a.department], "channel": a.channel, "audience": "public",
            "held_from": a.held})).await);
        for f in 0..a.files {
            let (file, bytes) = if f % 2 == 0 { ("biên bản.pdf", PDF) } else { ("ảnh.jpg", JPEG) };
            let (ct, body) = multipart(&[("file", Some(file), bytes)]);
            let res = app.post(&format!("/api/v1/activities/{made}/evidence")).token(c).raw(&ct, body).send().await;
            assert_eq!(res.status, 201, "{}", res.text());
        }
        post(&app, c, &format!("/api/v1/activities/{made}/transitions"), json!({"to": "submitted"})).await;
        if a.verified {
            post(&app, c, &format!("/api/v1/activities/{made}/transitions"), json!({"to": "verified"})).await;
        }
    }

    // Indicators: one met, one not, one without a value in the quarter.
    let mut indicators = Vec::new();
    for (code, unit, target, values) in [
        ("NEWS", "count", 10, &[("2021-03-31", 2), ("2021-05-31", 6), ("2021-06-30", 11), ("2021-07-10", 3)][..]),
        ("HOTLINE", "percent", 90, &[("2021-04-30", 80)][..]),
        ("NODATA", "count", 1, &[("2021-03-15", 4)][..]),
    ] {
        let ind = id(&post(
            &app,
            c,
            &format!("/api/v1/plans/{plan}/indicators"),
            json!({"code": code, "name": format!("Chỉ tiêu {code}"),
            "unit": unit, "comparator": ">=", "target_value": target}),
        )
        .await);
        for (on, value) in values {
            post(
                &app,
                c,
                &format!("/api/v1/indicators/{ind}/measurements"),
                json!({"value": value, "measured_on": on,
                "citation": format!("Báo cáo ngày {on}")}),
            )
            .await;
        }
        indicators.push(ind);
    }

    // Feedback, the organisation's make-up Saturday, and categories.
    post(&app, c, "/api/v1/holidays", json!({"day": MAKE_UP, "kind": "working_day", "name": "Làm bù"})).await;
    let mut categories = Vec::new();
    for (code, days, dept) in [("DAT", 10, &departments[1]), ("TTHC", 5, &departments[2])] {
        categories.push(id(&post(
            &app,
            c,
            "/api/v1/feedback-categories",
            json!({"code": code, "name": format!("Lĩnh vực {code}"),
            "deadline_days": days, "default_department_id": dept}),
        )
        .await));
    }
    let (_, qlda1) = app.staff(&admin, org, &departments[1], "qlda1", "member").await;
    let (_, qlda2) = app.staff(&admin, org, &departments[2], "qlda2", "member").await;
    for f in &FEEDBACK {
        clock.set(at(f.received));
        let category = f.category.map(|code| if code == "DAT" { &categories[0] } else { &categories[1] });
        // Senders who gave their name and phone: none of it may reach a report or export.
        let (name, phone) = sender(FEEDBACK.iter().position(|x| x.received == f.received).unwrap());
        let record = post(&app, c, "/api/v1/feedback", json!({"received_at": f.received, "channel": f.channel, "kind": "feedback",
            "sender_type": "citizen", "sender_name": name, "sender_phone": phone, "sender_email": format!("{phone}@thu.vn"),
            "subject": "Phản ánh", "content": "Nội dung", "category_id": category})).await;
        let path = format!("/api/v1/feedback/{}", id(&record));
        match f.fate {
            Fate::Answered(when, rating) => {
                post(&app, c, &format!("{path}/transitions"), json!({"to": "accepted"})).await;
                clock.set(at(when));
                let answerer = if f.category == Some("DAT") { &qlda1 } else { &qlda2 };
                post(&app, answerer, &format!("{path}/answers"), json!({"text": "Trả lời"})).await;
                post(&app, c, &format!("{path}/satisfaction"), json!({"rating": rating, "channel": "hotline"})).await;
            }
            Fate::Rejected => {
                post(
                    &app,
                    c,
                    &format!("{path}/transitions"),
                    json!({"to": "rejected", "reason": "Không thuộc thẩm quyền"}),
                )
                .await;
            }
            Fate::Forwarded => {
                post(
                    &app,
                    c,
                    &format!("{path}/transitions"),
                    json!({"to": "forwarded", "forwarded_to": "Sở Xây dựng"}),
                )
                .await;
            }
            Fate::Open => {}
        }
    }
    clock.set(at(AS_OF));
    Seeded { app, clock, admin, coordinator, org, plan, departments, items, categories, indicators }
}

/// The sheet `name` of `book`, under its title block, holds the CSV `csv` cell by cell:
/// the same headings, text as text (a code by its label), numbers and dates as such.
fn sheet_is_the_csv(book: &mut calamine::Xlsx<std::io::Cursor<Vec<u8>>>, name: &str, csv: &str) {
    use calamine::{Data, Reader};
    let range = book.worksheet_range(name).unwrap();
    let sheet: Vec<Vec<Data>> = range.rows().skip(5).map(<[Data]>::to_vec).collect();
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert!(rows.len() <= sheet.len(), "{name}: {} CSV rows, {} in the sheet", rows.len(), sheet.len());
    for (r, row) in rows.iter().enumerate() {
        for (c, text) in row.iter().enumerate() {
            let cell = sheet[r].get(c).cloned().unwrap_or(Data::Empty);
            let text = unquote(text);
            let same = match &cell {
                Data::Empty => text.is_empty(),
                Data::String(s) => s == text || cchc_outreach::domain::labels::of_code(text).any(|l| l == s),
                Data::Float(x) => text.parse::<f64>().is_ok_and(|y| (x - y).abs() < 1e-9),
                Data::Int(x) => text.parse::<i64>() == Ok(*x),
                Data::Bool(b) => text == b.to_string(),
                Data::DateTime(d) => {
                    let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap();
                    (epoch + Duration::days(d.as_f64().floor() as i64)).to_string() == text
                }
                other => panic!("{name} {r}:{c}: {other:?}"),
            };
            assert!(same, "{name}, row {r}, column {c}: the sheet has {cell:?}, the CSV {text:?}");
        }
    }
    // The heading of the first column names something a person reads, not an id.
    assert!(!rows[0][0].contains("định danh"), "{name}: {:?}", &rows[0]);
}

/// The name and phone of the sender of the `i`-th record of the seed.
fn sender(i: usize) -> (String, String) {
    (format!("Phạm Thị Người Gửi {i}"), format!("09870000{i:02}"))
}

/// The text of every cell of every sheet of a workbook.
fn workbook_text(body: &[u8]) -> String {
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(body.to_vec())).expect("a workbook");
    let mut text = String::new();
    for name in book.sheet_names() {
        for row in book.worksheet_range(&name).unwrap().rows() {
            for cell in row {
                text.push_str(&cell.to_string());
                text.push('\t');
            }
        }
    }
    text
}

/// Every report, section, format, snapshot and export of the seed holds no sender's
/// name, phone or e-mail — the seed's senders all gave theirs.
#[actix_web::test]
async fn no_report_snapshot_or_export_carries_a_senders_personal_data() {
    let s = seed().await;
    let get = |path: String| {
        let (app, token) = (&s.app, s.coordinator.clone());
        async move {
            let res = app.get(&path).token(&token).send().await;
            assert_eq!(res.status, 200, "{path}: {}", res.text());
            let xlsx = res.header("content-type").is_some_and(|t| t.contains("spreadsheetml"));
            let text = if xlsx { workbook_text(&res.body) } else { res.text() };
            (path, text)
        }
    };
    let mut read = Vec::new();
    let base = format!("/api/v1/reports/plans/{}?period=2021-Q2", s.plan);
    read.push(get(base.clone()).await);
    read.push(get(format!("{base}&format=xlsx")).await);
    for (section, _) in CSV_HEADERS {
        read.push(get(format!("{base}&format=csv&section={section}&headers=vi")).await);
    }
    for group in ["category", "channel", "department", "month"] {
        let feedback = format!("/api/v1/reports/feedback?period=2021-Q2&group_by={group}");
        read.push(get(feedback.clone()).await);
        read.push(get(format!("{feedback}&format=csv")).await);
        read.push(get(format!("{feedback}&format=xlsx")).await);
    }
    let snap = post(
        &s.app,
        &s.coordinator,
        &format!("/api/v1/reports/plans/{}/snapshots", s.plan),
        json!({"period": "2021-Q2"}),
    )
    .await;
    let content = snap["content_url"].as_str().unwrap().to_owned();
    read.push(get(content.clone()).await);
    read.push(get(format!("{content}?format=xlsx")).await);
    read.push(get(format!("{content}?format=csv&section=feedback")).await);
    for collection in cchc_outreach::routes::exports::collection_names() {
        read.push(get(format!("/api/v1/exports/{collection}")).await);
        read.push(get(format!("/api/v1/exports/{collection}?format=ndjson")).await);
    }
    // The feedback itself is there (so the search looks where it should) …
    let (_, export) = read.iter().find(|(p, _)| p == "/api/v1/exports/feedback?format=ndjson").unwrap();
    assert_eq!(export.lines().count(), FEEDBACK.len());
    // … its senders are not.
    for i in 0..FEEDBACK.len() {
        let (name, phone) = sender(i);
        for (path, text) in &read {
            for personal in [name.as_str(), phone.as_str(), "@thu.vn"] {
                assert!(!text.contains(personal), "{personal} in {path}");
            }
        }
    }
    // They were given: a list shows them masked.
    let one = s.app.get("/api/v1/feedback?limit=1").token(&s.coordinator).send().await.json();
    assert_eq!(one["items"][0]["sender"]["phone"], "09******00", "{one}");
}

/// A person with `role` in another organisation (SXD, made on first use); their token.
async fn outsider(s: &Seeded, role: &str) -> String {
    let found = s.app.get("/api/v1/organizations?code=SXD").token(&s.admin).send().await.json();
    let other = match found["items"][0]["id"].as_str() {
        Some(id) => Uuid::parse_str(id).unwrap(),
        None => s.app.organization(&s.admin, "SXD").await,
    };
    let body = json!({"code": format!("VP-{role}"), "name": "Văn phòng", "organization_id": other});
    let dept = post(&s.app, &s.admin, "/api/v1/departments", body).await;
    s.app.staff(&s.admin, other, &id(&dept), &format!("sxd.{role}"), role).await.1
}

/// The feedback figures the seed should give for the calendar quarter, for the records
/// that `keep`.
fn expected_feedback(keep: impl Fn(&Filed) -> bool) -> Value {
    expected_feedback_between((day("2021-04-01"), day("2021-06-30")), keep)
}

/// The feedback figures the seed should give for records received in `[from, to]`
/// (Vietnam dates) that `keep`.
fn expected_feedback_between((from, to): (NaiveDate, NaiveDate), keep: impl Fn(&Filed) -> bool) -> Value {
    let as_of = vn_date(AS_OF);
    let rows: Vec<&Filed> = FEEDBACK.iter().filter(|f| (from..=to).contains(&vn_date(f.received)) && keep(f)).collect();
    let mut days = Vec::new();
    let (mut answered, mut on_time, mut overdue, mut rejected, mut forwarded) = (0, 0, 0, 0, 0);
    let (mut satisfied, mut neutral, mut dissatisfied) = (0, 0, 0);
    for f in &rows {
        let received = vn_date(f.received);
        let deadline = nth_working_day(received, if f.category == Some("TTHC") { 5 } else { 10 });
        match f.fate {
            Fate::Answered(when, rating) => {
                answered += 1;
                on_time += i64::from(vn_date(when) <= deadline);
                days.push(working_days_between(received, vn_date(when)));
                match rating {
                    "satisfied" => satisfied += 1,
                    "neutral" => neutral += 1,
                    _ => dissatisfied += 1,
                }
            }
            Fate::Open => overdue += i64::from(deadline < as_of),
            Fate::Rejected => rejected += 1,
            Fate::Forwarded => forwarded += 1,
        }
    }
    let rated = satisfied + neutral + dissatisfied;
    json!({
        "received": rows.len(), "answered": answered, "answered_on_time": on_time, "overdue": overdue,
        "rejected": rejected, "forwarded": forwarded,
        // No record of this model is extended or escalated.
        "extended": 0, "escalated": 0, "reopened": 0, "answered_within_original_deadline": on_time, "answered_within_extension": 0,
        "median_working_days": percentile(&days, 0.5), "p90_working_days": percentile(&days, 0.9),
        "rated": rated, "satisfied": satisfied, "neutral": neutral, "dissatisfied": dissatisfied,
        "satisfaction_rate": (rated > 0).then(|| (satisfied as f64 * 10_000.0 / rated as f64).round() / 100.0),
        // No record of this model is merged: each is a matter of its own.
        "merged": 0, "matters": rows.len(),
    })
}

/// The figures of a group, without its key and names.
fn stats_of(group: &Value) -> Value {
    let mut g = group.as_object().unwrap().clone();
    for k in ["key", "code", "name"] {
        g.remove(k);
    }
    Value::Object(g)
}

fn group<'a>(groups: &'a Value, key: Option<&str>) -> &'a Value {
    groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"].as_str() == key)
        .unwrap_or_else(|| panic!("no group {key:?} in {groups}"))
}

#[actix_web::test]
async fn periods_cut_off_as_decree_09_counts_them() {
    let s = seed().await;
    s.app.count_periods(&s.admin, s.org, "decree_09").await;
    // The second quarter from 15 March to 14 June: the records of 30 March to 1 June.
    let r = s.app.get("/api/v1/reports/feedback?period=2021-Q2&group_by=month").token(&s.coordinator).send().await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = r.json();
    assert_eq!(
        r["period"],
        json!({"code": "2021-Q2", "from": "2021-03-15", "to": "2021-06-14", "counting": "decree_09"})
    );
    assert_eq!(stats_of(&r["total"]), expected_feedback_between((day("2021-03-15"), day("2021-06-14")), |_| true));
    // Months from the 15th to the 14th: 30 March counts in April.
    let months: Vec<(&str, i64)> = r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["key"].as_str().unwrap(), g["received"].as_i64().unwrap()))
        .collect();
    assert_eq!(months, [("2021-04", 1), ("2021-05", 3), ("2021-06", 1)]);
    for (key, from, to) in [
        ("2021-04", "2021-03-15", "2021-04-14"),
        ("2021-05", "2021-04-15", "2021-05-14"),
        ("2021-06", "2021-05-15", "2021-06-14"),
    ] {
        assert_eq!(
            stats_of(group(&r["groups"], Some(key))),
            expected_feedback_between((day(from), day(to)), |_| true),
            "{key}"
        );
    }

    // The plan report says which counting it used, also in its spreadsheet's title.
    let plan =
        s.app.get(&format!("/api/v1/reports/plans/{}?period=2021-Q2", s.plan)).token(&s.coordinator).send().await;
    let plan = plan.json();
    assert_eq!(
        (plan["period"]["from"].as_str(), plan["period"]["counting"].as_str()),
        (Some("2021-03-15"), Some("decree_09"))
    );
    let months: Vec<&str> =
        plan["activities_by_month"].as_array().unwrap().iter().map(|m| m["month"].as_str().unwrap()).collect();
    assert_eq!(months, ["2021-04", "2021-05", "2021-06"]);
    let xlsx = s
        .app
        .get(&format!("/api/v1/reports/plans/{}?period=2021-Q2&format=xlsx", s.plan))
        .token(&s.coordinator)
        .send()
        .await;
    assert_eq!(xlsx.status, 200);
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(xlsx.body.clone())).expect("a workbook");
    let sheet = book.worksheet_range("Nhiệm vụ").unwrap();
    assert_eq!(
        sheet.rows().nth(2).unwrap()[0].to_string(),
        "Kỳ báo cáo: Quý II/2021 (15/03/2021 – 14/06/2021, chốt số liệu theo Nghị định 09/2019/NĐ-CP)"
    );

    // A snapshot keeps the counting it was cut by.
    let snap = post(
        &s.app,
        &s.coordinator,
        &format!("/api/v1/reports/plans/{}/snapshots", s.plan),
        json!({"period": "2021-Q2"}),
    )
    .await;
    assert_eq!((snap["from"].as_str(), snap["to"].as_str()), (Some("2021-03-15"), Some("2021-06-14")));
    assert_eq!(snap["reporting_periods"], "decree_09");
    s.app.count_periods(&s.admin, s.org, "calendar").await;
    let kept = s.app.get(snap["content_url"].as_str().unwrap()).token(&s.coordinator).send().await.json();
    assert_eq!(kept["period"]["counting"], "decree_09");
}

#[actix_web::test]
async fn the_quarter_report_matches_figures_worked_out_from_the_seed() {
    let s = seed().await;
    let res = s.app.get(&format!("/api/v1/reports/plans/{}?period=2021-Q2", s.plan)).token(&s.coordinator).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let r = res.json();
    assert_eq!(
        r["period"],
        json!({"code": "2021-Q2", "from": "2021-04-01", "to": "2021-06-30", "counting": "calendar"})
    );
    assert_eq!(r["as_of"], "2021-07-20");

    // Items: verified activities of the quarter that serve each, and their files.
    let quarter: Vec<&Held> = ACTIVITIES.iter().filter(|a| a.verified && in_quarter(vn_date(a.held))).collect();
    for (i, reference) in ["I", "I.1", "II"].iter().enumerate() {
        let line = r["items"].as_array().unwrap().iter().find(|l| l["reference"] == *reference).unwrap();
        let serving: Vec<&&Held> = quarter.iter().filter(|a| a.items.contains(&i)).collect();
        assert_eq!(line["verified_activities"], json!(serving.len()), "{reference}");
        assert_eq!(line["evidence_files"], json!(serving.iter().map(|a| a.files).sum::<usize>()), "{reference}");
    }
    let refs: Vec<&str> = r["items"].as_array().unwrap().iter().map(|l| l["reference"].as_str().unwrap()).collect();
    assert_eq!(refs, ["I", "I.1", "II"], "tree order");
    let task = &r["items"][1];
    assert_eq!(task["depth"], 1);
    let lead = task["assignments"].as_array().unwrap().iter().find(|a| a["department_code"] == "QLDA1").unwrap();
    // April on time, May late, June missing (due 5 July; the report is of 20 July).
    assert_eq!(lead["reports"], json!({"on_time": 1, "late": 1, "missing": 1, "due": 0, "upcoming": 0}));
    assert_eq!(lead["overdue"], true, "due 15 June, not done");
    let exec = task["assignments"].as_array().unwrap().iter().find(|a| a["department_code"] == "QLDA2").unwrap();
    assert_eq!(exec["reports"], json!({"on_time": 0, "late": 0, "missing": 1, "due": 0, "upcoming": 0}));

    // Departments.
    for (i, code) in ["TCHC", "QLDA1", "QLDA2"].iter().enumerate() {
        let line = r["departments"].as_array().unwrap().iter().find(|d| d["code"] == *code).unwrap();
        let theirs: Vec<&&Held> = quarter.iter().filter(|a| a.department == i).collect();
        assert_eq!(line["verified_activities"], json!(theirs.len()), "{code}");
        assert_eq!(line["evidence_files"], json!(theirs.iter().map(|a| a.files).sum::<usize>()), "{code}");
        let mut by_channel: BTreeMap<&str, usize> = BTreeMap::new();
        for a in &theirs {
            *by_channel.entry(a.channel).or_default() += 1;
        }
        for (channel, n) in line["activities_by_channel"].as_object().unwrap() {
            assert_eq!(n, &json!(by_channel.get(channel.as_str()).copied().unwrap_or(0)), "{code} {channel}");
        }
    }
    let qlda1 = r["departments"].as_array().unwrap().iter().find(|d| d["code"] == "QLDA1").unwrap();
    assert_eq!(qlda1["assignments"], json!({"assigned": 1, "in_progress": 0, "done": 0, "cancelled": 0, "overdue": 1}));
    assert_eq!(qlda1["reports"]["late"], 1);
    let tchc = r["departments"].as_array().unwrap().iter().find(|d| d["code"] == "TCHC").unwrap();
    assert_eq!(tchc["assignments"]["done"], 1);

    // Indicators: the latest value dated in the quarter, and whether it meets the target.
    let ind = |code: &str| r["indicators"].as_array().unwrap().iter().find(|i| i["code"] == code).unwrap().clone();
    let news = ind("NEWS");
    assert_eq!(
        (news["value"].as_f64(), news["measured_on"].as_str(), news["status"].as_str()),
        (Some(11.0), Some("2021-06-30"), Some("met"))
    );
    assert_eq!(
        (news["source"].as_str(), news["citation"].as_str()),
        (Some("entered"), Some("Báo cáo ngày 2021-06-30"))
    );
    assert_eq!((ind("HOTLINE")["value"].as_f64(), ind("HOTLINE")["status"].as_str()), (Some(80.0), Some("not_met")));
    assert_eq!((ind("NODATA")["value"].clone(), ind("NODATA")["status"].as_str()), (Value::Null, Some("no_data")));

    // Activities per month: every month of the quarter.
    let months: Vec<(String, usize)> = ["2021-04", "2021-05", "2021-06"]
        .iter()
        .map(|m| (m.to_string(), quarter.iter().filter(|a| vn_date(a.held).format("%Y-%m").to_string() == *m).count()))
        .collect();
    let got: Vec<(String, usize)> = r["activities_by_month"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["month"].as_str().unwrap().to_owned(), m["verified_activities"].as_u64().unwrap() as usize))
        .collect();
    assert_eq!(got, months);

    // Feedback: the total and each grouping.
    let f = &r["feedback"];
    assert_eq!(f["total"], expected_feedback(|_| true));
    for channel in ["hotline", "email", "website", "letter"] {
        assert_eq!(
            stats_of(group(&f["by_channel"], Some(channel))),
            expected_feedback(|x| x.channel == channel),
            "{channel}"
        );
    }
    for (i, code) in ["DAT", "TTHC"].iter().enumerate() {
        let g = group(&f["by_category"], Some(s.categories[i].as_str()));
        assert_eq!((g["code"].as_str(), g["name"].as_str()), (Some(*code), Some(format!("Lĩnh vực {code}").as_str())));
        assert_eq!(stats_of(g), expected_feedback(|x| x.category == Some(code)), "{code}");
        let dept = group(&f["by_department"], Some(s.departments[i + 1].as_str()));
        assert_eq!(stats_of(dept), expected_feedback(|x| x.category == Some(code)));
    }
    assert_eq!(stats_of(group(&f["by_category"], None)), expected_feedback(|x| x.category.is_none()));
    // The seed has what the figures are meant to show.
    assert_eq!(f["total"]["received"], 6);
    // Answers after 3, 9 and 0 working days (19 to 23 April skips Hùng Kings' day; 28
    // April to 12 May skips 30 April and 3 May and counts Saturday 8 May, worked).
    assert_eq!(f["total"]["median_working_days"].as_f64(), Some(3.0));
    assert!((f["total"]["p90_working_days"].as_f64().unwrap() - 7.8).abs() < 1e-9, "{}", f["total"]);

    // The feedback report alone agrees, grouped by month or by category.
    let by_month =
        s.app.get("/api/v1/reports/feedback?period=2021-Q2&group_by=month").token(&s.coordinator).send().await.json();
    assert_eq!(by_month["total"], expected_feedback(|_| true));
    for m in ["2021-04", "2021-05", "2021-06"] {
        let expected = expected_feedback(|x| vn_date(x.received).format("%Y-%m").to_string() == m);
        assert_eq!(stats_of(group(&by_month["groups"], Some(m))), expected, "{m}");
    }
    let ranged =
        s.app.get("/api/v1/reports/feedback?from=2021-04-01&to=2021-06-30").token(&s.coordinator).send().await.json();
    assert_eq!(ranged["total"], by_month["total"]);
    assert_eq!(ranged["group_by"], "category");
}

#[actix_web::test]
async fn members_see_their_department_and_access_follows_the_matrix() {
    let s = seed().await;
    let (_, member) = s.app.staff(&s.admin, s.org, &s.departments[1], "qlda1.b", "member").await;
    let r = s.app.get(&format!("/api/v1/reports/plans/{}?period=2021-Q2", s.plan)).token(&member).send().await.json();
    assert_eq!(r["department_id"], json!(s.departments[1]));
    let codes: Vec<&str> = r["departments"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["QLDA1"]);
    for item in r["items"].as_array().unwrap() {
        assert!(item["assignments"].as_array().unwrap().iter().all(|a| a["department_code"] == "QLDA1"), "{item}");
    }
    assert_eq!(r["feedback"]["total"], expected_feedback(|f| f.category == Some("DAT")));
    // A member cannot read the whole organisation's frozen report.
    let snap = post(
        &s.app,
        &s.coordinator,
        &format!("/api/v1/reports/plans/{}/snapshots", s.plan),
        json!({"period": "2021-Q2"}),
    )
    .await;
    s.app
        .get(&format!("/api/v1/reports/snapshots/{}/content", id(&snap)))
        .token(&member)
        .send()
        .await
        .problem(403, "other_department");
    s.app
        .post(&format!("/api/v1/reports/plans/{}/snapshots", s.plan))
        .token(&member)
        .json(json!({"period": "2021-Q1"}))
        .send()
        .await
        .problem(403, "forbidden");

    // Service clients need reports:read; another organisation sees nothing.
    let (_, reader) = s.app.service_client(&s.admin, s.org, &["reports:read"]).await;
    let (_, plans_only) = s.app.service_client(&s.admin, s.org, &["plans:read"]).await;
    let path = format!("/api/v1/reports/plans/{}?period=2021-Q2", s.plan);
    assert_eq!(s.app.get(&path).token(&reader).send().await.status, 200);
    s.app.get(&path).token(&plans_only).send().await.problem(403, "forbidden");
    let outsider = outsider(&s, "leader").await;
    s.app.get(&path).token(&outsider).send().await.problem(404, "not_found");
    let theirs = s.app.get("/api/v1/reports/feedback?period=2021-Q2").token(&outsider).send().await.json();
    assert_eq!(theirs["total"]["received"], 0);
    s.app
        .get(&format!("/api/v1/reports/snapshots/{}", id(&snap)))
        .token(&outsider)
        .send()
        .await
        .problem(404, "not_found");

    // Bad periods are a clear 400 (malformed) or 422 (well-formed, but not together).
    for (query, status) in [
        ("period=2021-Q5", 400),
        ("format=pdf&period=2021", 400),
        ("period=2021-Q2&from=2021-04-01", 422),
        ("from=2021-07-01&to=2021-04-01", 422),
        ("", 422),
    ] {
        let res = s.app.get(&format!("/api/v1/reports/plans/{}?{query}", s.plan)).token(&s.coordinator).send().await;
        assert_eq!(res.status, status, "{query}: {}", res.text());
    }
    let res = s
        .app
        .get(&format!("/api/v1/reports/plans/{}?period=2021-Q2&format=csv", s.plan))
        .token(&s.coordinator)
        .send()
        .await;
    assert_eq!(res.field_errors(), [("section".to_owned(), "required".to_owned())]);
}

/// The CSV header of each section, as documented in docs/reports.md.
const CSV_HEADERS: [(&str, &str); 5] = [
    (
        "items",
        "item_id,reference,depth,kind,title,verified_activities,evidence_files,department_code,role,assignment_status,due_on,overdue,reports_on_time,reports_late,reports_missing,reports_due,reports_upcoming",
    ),
    (
        "departments",
        "department_id,code,name,assigned,in_progress,done,cancelled,overdue,verified_activities,evidence_files,reports_on_time,reports_late,reports_missing,reports_due,reports_upcoming,activities_meeting,activities_conference,activities_training,activities_internal_network,activities_website_post,activities_portal_news,activities_press_article,activities_interview,activities_party_meeting,activities_oral,activities_banner,activities_sms_email,activities_contest_entry,activities_other",
    ),
    (
        "indicators",
        "indicator_id,code,name,unit,comparator,target_value,baseline,value,measured_on,source,citation,status",
    ),
    ("activities_by_month", "month,verified_activities,evidence_files"),
    (
        "feedback",
        "dimension,key,code,name,received,answered,answered_on_time,overdue,rejected,forwarded,extended,escalated,reopened,answered_within_original_deadline,answered_within_extension,median_working_days,p90_working_days,rated,satisfied,neutral,dissatisfied,satisfaction_rate,merged,matters",
    ),
];

#[test]
fn csv_headers_are_documented() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/reports.md")).unwrap();
    for (section, header) in CSV_HEADERS {
        assert!(doc.contains(&format!("| `{section}` | `{header}` |")), "docs/reports.md lacks the {section} header");
    }
    for collection in cchc_outreach::routes::exports::collection_names() {
        let header = cchc_outreach::routes::exports::header_of(collection).unwrap().join(",");
        assert!(
            doc.contains(&format!("| `{collection}` | `{header}` |")),
            "docs/reports.md lacks the {collection} export"
        );
    }
}

#[actix_web::test]
async fn csv_and_xlsx_carry_the_same_figures() {
    let s = seed().await;
    let base = format!("/api/v1/reports/plans/{}?period=2021-Q2", s.plan);
    let json = s.app.get(&base).token(&s.coordinator).send().await.json();
    for (section, header) in CSV_HEADERS {
        let res = s.app.get(&format!("{base}&format=csv&section={section}")).token(&s.coordinator).send().await;
        assert_eq!(res.status, 200, "{}", res.text());
        assert!(res.header("content-type").unwrap().starts_with("text/csv"));
        assert!(res.header("content-disposition").unwrap().contains(&format!("bao-cao_KH-18_2021-Q2_{section}.csv")));
        // For Excel: the UTF-8 byte order mark first, by default.
        assert!(res.body.starts_with(b"\xEF\xBB\xBF"), "{section}");
        let text = res.text();
        assert_eq!(text.trim_start_matches('\u{feff}').split("\r\n").next().unwrap(), header, "{section}");
        // For scripts: without it, and otherwise the same bytes.
        let plain =
            s.app.get(&format!("{base}&format=csv&section={section}&bom=false")).token(&s.coordinator).send().await;
        assert_eq!(plain.body, res.body[3..], "{section}");
    }
    // Vietnamese headings on request, in the workbook's words.
    let vi = s.app.get(&format!("{base}&format=csv&section=indicators&headers=vi")).token(&s.coordinator).send().await;
    let first_line = vi.text().trim_start_matches('\u{feff}').split("\r\n").next().unwrap().to_owned();
    assert!(first_line.starts_with("Mã chỉ tiêu,Tên chỉ tiêu,Đơn vị"), "{first_line}");
    assert!(first_line.ends_with(",Mã định danh chỉ tiêu"), "ids last, for people: {first_line}");
    // Asked for with Accept, the departments' figures agree with the JSON.
    let res = s
        .app
        .get(&format!("{base}&section=departments"))
        .token(&s.coordinator)
        .header("Accept", "text/csv")
        .send()
        .await;
    let mut reader = csv::Reader::from_reader(res.body.as_slice());
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), json["departments"].as_array().unwrap().len());
    for (row, line) in rows.iter().zip(json["departments"].as_array().unwrap()) {
        assert_eq!(row[col("code")], *line["code"].as_str().unwrap());
        assert_eq!(row[col("verified_activities")], line["verified_activities"].to_string());
        assert_eq!(row[col("activities_meeting")], line["activities_by_channel"]["meeting"].to_string());
        assert_eq!(row[col("reports_missing")], line["reports"]["missing"].to_string());
    }

    // The workbook opens, with a sheet per section, Vietnamese headings, and values.
    let res = s.app.get(&format!("{base}&format=xlsx")).token(&s.coordinator).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.header("content-type").unwrap(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(res.body.clone())).expect("a workbook");
    assert_eq!(
        book.sheet_names(),
        [
            "Nhiệm vụ",
            "Phòng ban",
            "Chỉ tiêu",
            "Hoạt động theo tháng",
            "Phản ánh kiến nghị",
            "Đăng tải văn bản",
            "Kinh phí",
            "Kinh phí theo phòng",
            "Kinh phí theo quý"
        ]
    );
    let months = book.worksheet_range("Hoạt động theo tháng").unwrap();
    let all: Vec<Vec<Data>> = months.rows().map(<[Data]>::to_vec).collect();
    // Each sheet opens with who, what, which period and when, then a blank row.
    let title: Vec<String> = all.iter().take(4).map(|r| r[0].to_string()).collect();
    assert_eq!(title[0], "Đơn vị: Tổ chức KDPM", "{title:?}");
    assert!(title[1].starts_with("Kế hoạch: KH-18"), "{title:?}");
    assert_eq!(title[2], "Kỳ báo cáo: Quý II/2021 (01/04/2021 – 30/06/2021)");
    assert!(title[3].starts_with("Lập lúc: ") && title[3].ends_with("(giờ Việt Nam)"), "{title:?}");
    assert!(all[4].iter().all(|c| *c == Data::Empty), "a blank row under the title");
    let rows = &all[5..];
    assert_eq!(
        rows[0],
        [
            Data::String("Tháng".into()),
            Data::String("Hoạt động đã xác nhận".into()),
            Data::String("Tệp minh chứng".into())
        ]
    );
    for (row, line) in rows[1..].iter().zip(json["activities_by_month"].as_array().unwrap()) {
        assert_eq!(row[0], Data::String(line["month"].as_str().unwrap().to_owned()));
        assert_eq!(row[1], Data::Float(line["verified_activities"].as_f64().unwrap()));
    }
    let indicators = book.worksheet_range("Chỉ tiêu").unwrap();
    let news = indicators.rows().find(|r| r[0] == Data::String("NEWS".into())).unwrap();
    assert_eq!(
        (news[4].clone(), news[6].clone(), news[10].clone()),
        (Data::Float(10.0), Data::Float(11.0), Data::String("đạt".into()))
    );
    assert!(matches!(news[7], Data::DateTime(_)), "a real date: {:?}", news[7]);
    // Every sheet, cell by cell, is its section's CSV (with Vietnamese headings: the same
    // order, what names a row first and ids last) — labels for codes, numbers as numbers.
    for (section, _) in CSV_HEADERS {
        let csv = s
            .app
            .get(&format!("{base}&format=csv&section={section}&headers=vi&bom=false"))
            .token(&s.coordinator)
            .send()
            .await;
        let sheet = ["Nhiệm vụ", "Phòng ban", "Chỉ tiêu", "Hoạt động theo tháng", "Phản ánh kiến nghị"]
            [CSV_HEADERS.iter().position(|(s, _)| *s == section).unwrap()];
        sheet_is_the_csv(&mut book, sheet, &csv.text());
    }
    let feedback = book.worksheet_range("Phản ánh kiến nghị").unwrap();
    let total = feedback.rows().nth(6).unwrap();
    assert_eq!((total[0].clone(), total[4].clone()), (Data::String("tổng cộng".into()), Data::Float(6.0)));
    // Codes are shown by their labels; the CSV keeps the codes.
    let channels: Vec<String> = feedback
        .rows()
        .skip(7)
        .filter(|r| r[0] == Data::String("kênh tiếp nhận".into()))
        .map(|r| r[1].to_string())
        .collect();
    assert!(
        channels.iter().all(|c| cchc_outreach::domain::feedback::FeedbackChannel::ALL.iter().any(|k| k.label() == c)),
        "{channels:?}"
    );
    assert!(!channels.is_empty());
    // And the two charts: activities per month, indicators against their targets.
    for chart in ["xl/charts/chart1.xml", "xl/charts/chart2.xml"] {
        assert!(res.body.windows(chart.len()).any(|w| w == chart.as_bytes()), "{chart}");
    }
    // The feedback report as CSV has the same header.
    let res = s
        .app
        .get("/api/v1/reports/feedback?period=2021-Q2&group_by=channel&format=csv&bom=false")
        .token(&s.coordinator)
        .send()
        .await;
    assert_eq!(res.text().split("\r\n").next().unwrap(), CSV_HEADERS[4].1);
    assert_eq!(res.text().trim_end().split("\r\n").count(), 1 + 1 + 4, "header, total, four channels");
}

#[actix_web::test]
async fn a_snapshot_stays_as_it_was_when_the_data_changes() {
    let s = seed().await;
    let path = format!("/api/v1/reports/plans/{}/snapshots", s.plan);
    let res = s
        .app
        .post(&path)
        .token(&s.coordinator)
        .header("Idempotency-Key", "snap-q2")
        .json(json!({"period": "2021-Q2"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let snap = res.json();
    let content = format!("/api/v1/reports/snapshots/{}/content", id(&snap));
    assert_eq!(snap["content_url"], json!(content));
    let before = s.app.get(&content).token(&s.coordinator).send().await;
    let sha: String = {
        use sha2::{Digest, Sha256};
        Sha256::digest(&before.body).iter().map(|b| format!("{b:02x}")).collect()
    };
    assert_eq!(snap["sha256"], json!(sha));
    assert_eq!(snap["size_bytes"], json!(before.body.len()));
    assert!(before.header("repr-digest").unwrap().starts_with("sha-256=:"));
    let live = s
        .app
        .get(&format!("/api/v1/reports/plans/{}?period=2021-Q2", s.plan))
        .token(&s.coordinator)
        .send()
        .await
        .json();
    let frozen: Value = serde_json::from_slice(&before.body).unwrap();
    assert_eq!(frozen["feedback"], live["feedback"]);

    // The data changes: a late measurement, another verified activity, a record deleted.
    s.clock.set(at("2021-07-21T03:00:00Z"));
    post(
        &s.app,
        &s.coordinator,
        &format!("/api/v1/indicators/{}/measurements", s.indicators[1]),
        json!({"value": 95, "measured_on": "2021-06-29", "citation": "Báo cáo bổ sung"}),
    )
    .await;
    let extra = post(&s.app, &s.coordinator, "/api/v1/activities", json!({"title": "Bổ sung", "plan_item_ids": [s.items[2]],
        "department_id": s.departments[0], "channel": "banner", "audience": "public", "held_from": "2021-06-10T08:00:00+07:00"})).await;
    for to in ["submitted", "verified"] {
        post(&s.app, &s.coordinator, &format!("/api/v1/activities/{}/transitions", id(&extra)), json!({"to": to}))
            .await;
    }
    let list = s.app.get("/api/v1/feedback?channel=letter").token(&s.coordinator).send().await.json();
    let letter = list["items"][0]["id"].as_str().unwrap();
    assert_eq!(s.app.delete(&format!("/api/v1/feedback/{letter}")).token(&s.coordinator).send().await.status, 204);

    let now = s
        .app
        .get(&format!("/api/v1/reports/plans/{}?period=2021-Q2", s.plan))
        .token(&s.coordinator)
        .send()
        .await
        .json();
    assert_ne!(now["indicators"], frozen["indicators"]);
    assert_ne!(now["feedback"]["total"]["received"], frozen["feedback"]["total"]["received"]);
    let after = s.app.get(&content).token(&s.coordinator).send().await;
    assert_eq!(after.body, before.body, "byte for byte");
    // As CSV and XLSX it is made from the frozen document.
    let csv = s.app.get(&format!("{content}?format=csv&section=feedback")).token(&s.coordinator).send().await.text();
    assert!(csv.contains(&format!("total,,,,{},", frozen["feedback"]["total"]["received"])), "{csv}");
    // Its workbook is its CSV, cell by cell, section by section.
    let xlsx = s.app.get(&format!("{content}?format=xlsx")).token(&s.coordinator).send().await;
    assert_eq!(xlsx.status, 200);
    let mut book: calamine::Xlsx<_> =
        calamine::Reader::new(std::io::Cursor::new(xlsx.body.clone())).expect("a workbook");
    let sheets = ["Nhiệm vụ", "Phòng ban", "Chỉ tiêu", "Hoạt động theo tháng", "Phản ánh kiến nghị"];
    for ((section, _), sheet) in CSV_HEADERS.iter().zip(sheets) {
        let csv = s
            .app
            .get(&format!("{content}?format=csv&section={section}&headers=vi&bom=false"))
            .token(&s.coordinator)
            .send()
            .await;
        assert_eq!(csv.status, 200, "{}", csv.text());
        sheet_is_the_csv(&mut book, sheet, &csv.text());
    }

    // Once per period, only a closed one; listed with its digest.
    s.app
        .post(&path)
        .token(&s.coordinator)
        .json(json!({"period": "2021-Q2"}))
        .send()
        .await
        .problem(409, "snapshot_exists");
    s.app
        .post(&path)
        .token(&s.coordinator)
        .json(json!({"period": "2021-Q3"}))
        .send()
        .await
        .problem(409, "period_not_closed");
    let again = s
        .app
        .post(&path)
        .token(&s.coordinator)
        .header("Idempotency-Key", "snap-q2")
        .json(json!({"period": "2021-Q2"}))
        .send()
        .await;
    assert_eq!((again.status, again.header("idempotency-replayed").as_deref()), (201, Some("true")));
    let listed = s.app.get(&path).token(&s.coordinator).send().await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["sha256"], json!(sha));
    // Even the database refuses to change it.
    let update = format!("UPDATE report_snapshots SET body = '{{}}' WHERE id = '{}'", id(&snap));
    let changed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| s.app.sql(&update)));
    assert!(changed.is_err(), "a frozen snapshot cannot be rewritten");
}

#[actix_web::test]
async fn exports_stream_every_collection_with_changes_since() {
    let s = seed().await;
    for (collection, rows) in [
        ("plans", 1),
        ("plan-items", 3),
        ("indicators", 3),
        ("measurements", 6),
        ("assignments", 3),
        ("activities", ACTIVITIES.len()),
        ("evidence", ACTIVITIES.iter().map(|a| a.files).sum()),
        ("feedback", FEEDBACK.len()),
    ] {
        let res = s.app.get(&format!("/api/v1/exports/{collection}")).token(&s.coordinator).send().await;
        assert_eq!(res.status, 200, "{collection}: {}", res.text());
        assert!(res.header("content-type").unwrap().starts_with("text/csv"));
        assert!(res.body.starts_with(b"\xEF\xBB\xBFid,"), "{collection}: the byte order mark, then the header");
        let plain = s.app.get(&format!("/api/v1/exports/{collection}?bom=false")).token(&s.coordinator).send().await;
        assert!(plain.body.starts_with(b"id,"), "{collection}");
        let mut reader = csv::Reader::from_reader(plain.body.as_slice());
        let keys = reader.headers().unwrap().clone();
        assert_eq!(keys.get(0), Some("id"));
        assert_eq!(reader.records().count(), rows, "{collection}");
        // For people: the same columns under Vietnamese headings.
        let vi =
            s.app.get(&format!("/api/v1/exports/{collection}?bom=false&headers=vi")).token(&s.coordinator).send().await;
        let mut reader = csv::Reader::from_reader(vi.body.as_slice());
        let headings = reader.headers().unwrap().clone();
        assert_eq!(headings.len(), keys.len(), "{collection}");
        for (key, heading) in keys.iter().zip(headings.iter()) {
            assert_eq!(heading, cchc_outreach::db::exports::heading(key), "{collection}");
            assert_ne!(heading, key, "{collection}: {key} has no Vietnamese heading");
        }
        assert_eq!(reader.records().count(), rows, "{collection}");
        let nd = s
            .app
            .get(&format!("/api/v1/exports/{collection}"))
            .token(&s.coordinator)
            .header("Accept", "application/x-ndjson")
            .send()
            .await;
        assert_eq!(nd.header("content-type").as_deref(), Some("application/x-ndjson"));
        let lines: Vec<Value> = nd.text().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), rows, "{collection}");
    }
    // The feedback export has no personal data or internal notes.
    let res = s.app.get("/api/v1/exports/feedback").token(&s.coordinator).send().await;
    let header = res.text().lines().next().unwrap().to_owned();
    for hidden in ["sender_name", "phone", "email", "address", "internal_note"] {
        assert!(!header.split(',').any(|c| c.contains(hidden)), "{hidden} in {header}");
    }
    // Changes since a moment, with tombstones, oldest change first.
    let since = "2021-07-20T03:00:00Z";
    s.clock.set(at("2021-07-22T03:00:00Z"));
    let res = s
        .app
        .patch(&format!("/api/v1/plan-items/{}", s.items[0]))
        .token(&s.coordinator)
        .json(json!({"title": "Mục đích, yêu cầu"}))
        .send()
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(
        s.app.delete(&format!("/api/v1/indicators/{}", s.indicators[2])).token(&s.coordinator).send().await.status,
        204
    );
    let feed = |collection: &'static str| {
        let (app, token) = (&s.app, s.coordinator.clone());
        async move {
            let res = app
                .get(&format!("/api/v1/exports/{collection}?updated_since={since}&format=ndjson"))
                .token(&token)
                .send()
                .await;
            res.text().lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).collect::<Vec<_>>()
        }
    };
    let items = feed("plan-items").await;
    assert!(items.iter().any(|i| i["id"] == json!(s.items[0]) && i["title"] == "Mục đích, yêu cầu"), "{items:?}");
    let indicators = feed("indicators").await;
    let tomb = indicators.iter().find(|i| i["id"] == json!(s.indicators[2])).unwrap();
    assert_eq!(tomb.as_object().unwrap().len(), 2, "a tombstone: {tomb}");
    assert!(tomb["deleted_at"].is_string());
    // Who may export what; another organisation's records are not in its export.
    let (_, plans_only) = s.app.service_client(&s.admin, s.org, &["plans:read"]).await;
    assert_eq!(s.app.get("/api/v1/exports/plans").token(&plans_only).send().await.status, 200);
    s.app.get("/api/v1/exports/feedback").token(&plans_only).send().await.problem(403, "forbidden");
    s.app.get("/api/v1/exports/users").token(&s.coordinator).send().await.problem(404, "not_found");
    let (_, hotline) = s.app.service_client(&s.admin, s.org, &["feedback:write"]).await;
    let mine = s.app.get("/api/v1/exports/feedback?format=ndjson").token(&hotline).send().await;
    assert_eq!(mine.text(), "", "a client exports only what it sent");
    let outsider = outsider(&s, "coordinator").await;
    let theirs = s.app.get("/api/v1/exports/activities").token(&outsider).send().await;
    assert_eq!(theirs.text().trim_end().lines().count(), 1, "only the header");
}

#[actix_web::test]
async fn a_large_export_streams_without_holding_it_in_memory() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    // 60 000 feedback records of about 1.3 kB each: some 80 MB of NDJSON.
    let rows = 60_000;
    app.bulk_feedback(org, rows, 20).await;
    // The real binary in its own process, so that its memory is its own.
    let binary = app.start_binary(&[]).await;
    let before = binary.rss();
    let mut peak = before;
    let mut lines = 0u64;
    let mut chunks = 0u64;
    let (status, bytes) = app
        .at(&binary.base)
        .get("/api/v1/exports/feedback?format=ndjson")
        .token(&admin)
        .stream(|chunk| {
            lines += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
            chunks += 1;
            if chunks.is_multiple_of(16) {
                peak = peak.max(binary.rss());
            }
        })
        .await;
    assert_eq!(status, 200);
    assert_eq!(lines, rows);
    assert!(bytes > 60_000_000, "{bytes} bytes");
    // Loosely: holding the export would take at least its size; streaming it takes a few
    // chunks and the connection's buffers (the benchmark measures it on a million rows).
    let growth = peak.saturating_sub(before);
    eprintln!("export of {bytes} bytes: the service's resident memory grew by {growth} bytes");
    assert!(growth < bytes / 4, "memory grew by {growth} bytes for an export of {bytes}");
}

#[actix_web::test]
async fn the_example_script_mirrors_feedback_incrementally() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let dept = id(&post(
        &app,
        &admin,
        "/api/v1/departments",
        json!({"code": "TCHC", "name": "Tổ chức", "organization_id": org}),
    )
    .await);
    let (_, coordinator) = app.staff(&admin, org, &dept, "tchc", "coordinator").await;
    let made = serde_json::from_str::<Value>(
        &app.post("/api/v1/service-clients")
            .token(&admin)
            .json(json!({"name": "Hệ thống báo cáo tỉnh", "scopes": ["feedback:read"], "organization_id": org}))
            .send()
            .await
            .text(),
    )
    .unwrap();
    let file = |subject: &'static str| {
        let (app, token) = (&app, coordinator.clone());
        async move {
            id(&post(app, &token, "/api/v1/feedback", json!({"channel": "hotline", "kind": "question", "sender_type": "citizen",
                "sender_name": "Trần Văn Bình", "sender_phone": "0905123456", "subject": subject, "content": "Nội dung"})).await)
        }
    };
    let mut ids = Vec::new();
    // The third is a formula to a spreadsheet: the mirror keeps it as text, run after run.
    for subject in ["Hỏi về thủ tục", "Phản ánh tiến độ", "=Đề nghị hỗ trợ"] {
        ids.push(file(subject).await);
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("phan-anh.csv");
    let run = || {
        let (base, client, secret, out) = (
            app.address.clone(),
            made["id"].as_str().unwrap().to_owned(),
            // `=`: a secret may begin with `-`, which argparse would take for an option.
            format!("--client-secret={}", made["client_secret"].as_str().unwrap()),
            out.clone(),
        );
        async move {
            let target = out.clone();
            let output = actix_web::web::block(move || {
                std::process::Command::new("python3")
                    .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/mirror_feedback.py"))
                    .args(["--base-url", &base, "--client-id", &client, &secret, "--out"])
                    .arg(&target)
                    .output()
                    .expect("python3 runs")
            })
            .await
            .unwrap();
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            let mut reader = csv::Reader::from_path(&out).unwrap();
            let header = reader.headers().unwrap().clone();
            let subject = header.iter().position(|h| h == "subject").unwrap();
            let rows: Vec<(String, String)> =
                reader.records().map(|r| r.unwrap()).map(|r| (r[0].to_owned(), r[subject].to_owned())).collect();
            (header, rows)
        }
    };
    let (header, rows) = run().await;
    assert_eq!(rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>(), ids);
    let mirrored = std::fs::read_to_string(&out).unwrap();
    for personal in ["Trần Văn Bình", "0905123456", "Tran Van Binh"] {
        assert!(!mirrored.contains(personal), "{personal} in the mirrored file");
    }
    assert!(!header.iter().any(|h| h.contains("sender_name") || h.contains("phone")), "{header:?}");
    assert!(out.with_extension("csv.state.json").exists(), "the position is kept");

    // Changes: one new, one changed, one deleted; the next run brings just those.
    let added = file("Kiến nghị mới").await;
    let res = app
        .patch(&format!("/api/v1/feedback/{}", ids[1]))
        .token(&coordinator)
        .json(json!({"subject": "Phản ánh tiến độ (bổ sung)"}))
        .send()
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(app.delete(&format!("/api/v1/feedback/{}", ids[0])).token(&coordinator).send().await.status, 204);
    let (_, rows) = run().await;
    assert_eq!(
        rows,
        [
            (ids[1].clone(), "Phản ánh tiến độ (bổ sung)".to_owned()),
            (ids[2].clone(), "'=Đề nghị hỗ trợ".to_owned()),
            (added, "Kiến nghị mới".to_owned()),
        ]
    );
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(out.with_extension("csv.state.json")).unwrap()).unwrap();
    assert!(state["since"].as_str().unwrap().ends_with('Z'), "{state}");
}

/// Text that a spreadsheet would run as a formula.
const HOSTILE: [&str; 8] = [
    "=HYPERLINK(\"http://evil.example\",\"Bấm\")",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1",
    "\r=1",
    "'=already quoted",
    "Đường hỏng = nguy hiểm",
];

/// What a reader of the service's CSV does to get the text back: drop one leading `'`.
fn unquote(cell: &str) -> &str {
    cell.strip_prefix('\'').unwrap_or(cell)
}

#[actix_web::test]
async fn csv_text_is_never_a_formula_and_numbers_stay_numbers() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let body = json!({"code": "TCHC", "name": "Phòng TCHC", "organization_id": org});
    let dept = id(&post(&app, &admin, "/api/v1/departments", body).await);
    let (_, c) = app.staff(&admin, org, &dept, "tchc", "coordinator").await;
    let category = id(&post(
        &app,
        &c,
        "/api/v1/feedback-categories",
        json!({"code": "HOSTILE", "name": HOSTILE[0], "deadline_days": 10}),
    )
    .await);
    for subject in HOSTILE {
        post(
            &app,
            &c,
            "/api/v1/feedback",
            json!({"channel": "portal", "kind": "feedback", "sender_type": "citizen",
            "anonymous": true, "subject": subject, "content": subject, "category_id": category}),
        )
        .await;
    }
    let plan = id(&post(&app, &c, "/api/v1/plans", json!({"code": "KH", "year": 2021, "title": "Kế hoạch"})).await);
    let indicator = id(&post(
        &app,
        &c,
        &format!("/api/v1/plans/{plan}/indicators"),
        json!({"code": "DELTA", "name": "-Chênh lệch", "unit": "count", "comparator": ">=", "target_value": -3}),
    )
    .await);
    let body = json!({"value": -5, "measured_on": "2021-05-31", "citation": "=1+1"});
    post(&app, &c, &format!("/api/v1/indicators/{indicator}/measurements"), body).await;

    // The feedback export: every hostile text comes back behind a `'`, exactly.
    let res = app.get("/api/v1/exports/feedback").token(&c).send().await;
    let mut reader = csv::Reader::from_reader(res.body.as_slice());
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let mut subjects: Vec<&str> = rows.iter().map(|r| &r[col("subject")]).collect();
    for cell in &subjects {
        assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "a live formula: {cell:?}");
    }
    subjects.iter_mut().for_each(|s| *s = unquote(s));
    // Subjects are trimmed when filed.
    let mut expected: Vec<&str> = HOSTILE.iter().map(|s| s.trim()).collect();
    expected.sort();
    subjects.sort();
    assert_eq!(subjects, expected);
    assert_eq!(&rows[0][col("anonymous")], "true", "booleans as they are");

    // Numbers stay numbers, text around them is neutralised.
    let res = app.get("/api/v1/exports/measurements").token(&c).send().await;
    let mut reader = csv::Reader::from_reader(res.body.as_slice());
    let headers = reader.headers().unwrap().clone();
    let row = reader.records().next().unwrap().unwrap();
    let cell = |name: &str| row[headers.iter().position(|h| h == name).unwrap()].to_owned();
    assert_eq!(cell("value").parse::<f64>().unwrap(), -5.0, "a negative amount is a number");
    assert_eq!(cell("citation"), "'=1+1");
    let res = app.get("/api/v1/exports/indicators").token(&c).send().await;
    let text = res.text();
    assert!(text.contains(",'-Chênh lệch,") && text.contains(",-3"), "{text}");

    // The reports' CSV: the category's name is text.
    let year = chrono::Utc::now().format("%Y");
    let res =
        app.get(&format!("/api/v1/reports/feedback?period={year}&group_by=category&format=csv")).token(&c).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let mut reader = csv::Reader::from_reader(res.body.as_slice());
    let row = reader.records().map(Result::unwrap).find(|r| &r[2] == "HOSTILE").expect("the category's row");
    assert_eq!(&row[3], &format!("'{}", HOSTILE[0]));
    assert_eq!(unquote(&row[3]), HOSTILE[0]);
    assert_eq!(&row[4], "8", "counts are numbers");
    let res = app
        .get(&format!("/api/v1/reports/plans/{plan}?period=2021&format=csv&section=indicators"))
        .token(&c)
        .send()
        .await;
    let text = res.text();
    assert!(text.contains(",'-Chênh lệch,") && text.contains(",-3,") && text.contains(",-5,"), "{text}");

    // XLSX writes strings as strings: the same texts, and not one formula.
    use calamine::{Data, Reader, Xlsx};
    let res = app
        .get(&format!("/api/v1/reports/feedback?period={year}&group_by=category&format=xlsx"))
        .token(&c)
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(res.body.clone())).expect("a workbook");
    let mut found = false;
    for sheet in book.sheet_names() {
        let formulas = book.worksheet_formula(&sheet).unwrap();
        assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()), "a formula in {sheet}");
        let range = book.worksheet_range(&sheet).unwrap();
        if let Some(row) = range.rows().find(|r| r.get(2) == Some(&Data::String("HOSTILE".into()))) {
            assert_eq!(row[3], Data::String(HOSTILE[0].into()));
            assert_eq!(row[4], Data::Float(8.0));
            found = true;
        }
    }
    assert!(found, "the category's row in the workbook");
}

/// A month as people write it (`2021-06`) is the same period as `2021-M06`, kept in
/// the `M` form.
#[actix_web::test]
async fn a_month_written_2021_06_is_the_period_2021_m06() {
    let s = seed().await;
    let report = |period: &str| {
        let path = format!("/api/v1/reports/plans/{}?period={period}", s.plan);
        let app = &s.app;
        let token = s.coordinator.clone();
        async move {
            let mut body = app.get(&path).token(&token).send().await.json();
            body.as_object_mut().unwrap().remove("generated_at");
            body
        }
    };
    let plain = report("2021-06").await;
    assert_eq!(plain["period"]["code"], "2021-M06", "{}", plain["period"]);
    assert_eq!(plain, report("2021-M06").await);
    let res = s.app.get(&format!("/api/v1/reports/plans/{}?period=2021-13", s.plan)).token(&s.coordinator).send().await;
    res.problem(400, "validation_failed");
}

#[actix_web::test]
async fn the_csv_export_as_postgresql_writes_it_has_crlf_records_quoted_breaks_and_tombstones() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let (_, c) = app.person(&admin, org, "tchc", "coordinator").await;
    let mut ids = Vec::new();
    for content in ["Dòng một\nDòng hai, có \"ngoặc kép\"", "Một dòng"] {
        let body = json!({"channel": "portal", "kind": "feedback", "sender_type": "citizen", "anonymous": true,
            "subject": "Phản ánh", "content": content});
        let res = app.post("/api/v1/feedback").token(&c).json(body).send().await;
        assert_eq!(res.status, 201, "{}", res.text());
        ids.push(res.json()["id"].as_str().unwrap().to_owned());
    }
    let since = chrono::Utc::now() - chrono::Duration::minutes(1);
    assert_eq!(app.delete(&format!("/api/v1/feedback/{}", ids[1])).token(&c).send().await.status, 204);

    let res = app.get("/api/v1/exports/feedback?bom=false").token(&c).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let text = res.text();
    // Three records (header and two rows), each ending in CRLF; the break inside the
    // quoted content stays a bare LF.
    assert_eq!(text.matches("\r\n").count(), 2, "{text:?}");
    assert!(text.contains("Dòng một\nDòng hai, có \"\"ngoặc kép\"\""), "{text:?}");
    let mut reader = csv::Reader::from_reader(res.body.as_slice());
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert_eq!(rows.len(), 1, "the deleted one is not among the live records");
    assert_eq!(&rows[0][col("content")], "Dòng một\nDòng hai, có \"ngoặc kép\"");
    // The same values as the NDJSON export, cell by cell.
    let ndjson = app.get("/api/v1/exports/feedback?format=ndjson").token(&c).send().await.text();
    let object: serde_json::Value = serde_json::from_str(ndjson.lines().next().unwrap()).unwrap();
    for (i, name) in headers.iter().enumerate() {
        let expected = match &object[name] {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        assert_eq!(&rows[0][i], expected.as_str(), "{name}");
    }

    // The feed of changes in CSV: the deleted record as a tombstone, its id and deletion only.
    let since = since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let res = app.get(&format!("/api/v1/exports/feedback?bom=false&updated_since={since}")).token(&c).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let mut reader = csv::Reader::from_reader(res.body.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let tomb = rows.iter().find(|r| r[col("id")] == ids[1]).expect("the tombstone");
    let filled: Vec<&str> = headers.iter().zip(tomb.iter()).filter(|(_, v)| !v.is_empty()).map(|(h, _)| h).collect();
    assert_eq!(filled, ["id", "deleted_at"], "{tomb:?}");
    assert!(rows.iter().any(|r| r[col("id")] == ids[0] && r[col("subject")] == *"Phản ánh"));
}
