//! Activities, their evidence files, and staff reach.
use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::helpers::{TestApp, multipart, test_settings};

/// Test files made for this suite (see tests/fixtures/README.md).
const PDF: &[u8] = include_bytes!("../fixtures/minutes.pdf");
const JPEG: &[u8] = include_bytes!("../fixtures/photo.jpg");

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The ids of everything the tests need in one organisation.
struct Setup {
    org: Uuid,
    plan: Uuid,
    items: Vec<String>,
    departments: Vec<String>,
}

/// An organisation with two departments (A, B), a plan with two items and a
/// `STAFF_INFORMED` indicator.
async fn setup(app: &TestApp, admin: &str, code: &str) -> Setup {
    let org = app.organization(admin, code).await;
    let mut departments = Vec::new();
    for dept in ["A", "B"] {
        let res = app
            .post("/api/v1/departments")
            .token(admin)
            .json(json!({"code": dept, "name": format!("Phòng {dept}"), "organization_id": org}))
            .send()
            .await;
        departments.push(res.json()["id"].as_str().unwrap().to_owned());
    }
    let plan = app
        .post("/api/v1/plans")
        .token(admin)
        .json(json!({"code": "KH-2021", "year": 2021, "title": "Kế hoạch tuyên truyền", "organization_id": org}))
        .send()
        .await
        .id();
    let mut items = Vec::new();
    for reference in ["II.1.1", "II.3.a"] {
        let res = app
            .post(&format!("/api/v1/plans/{plan}/items"))
            .token(admin)
            .json(json!({"reference": reference, "kind": "content", "title": format!("Mục {reference}")}))
            .send()
            .await;
        items.push(res.json()["id"].as_str().unwrap().to_owned());
    }
    let res = app
        .post(&format!("/api/v1/plans/{plan}/indicators"))
        .token(admin)
        .json(json!({"code": "STAFF_INFORMED", "name": "Tỷ lệ cán bộ được tuyên truyền", "unit": "percent", "comparator": ">=", "target_value": 100}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    Setup { org, plan, items, departments }
}

async fn activity(app: &TestApp, token: &str, s: &Setup, dept: usize, audience: &str, attendees: &[String]) -> Value {
    let res = app
        .post("/api/v1/activities")
        .token(token)
        .json(json!({"title": "Họp phổ biến kế hoạch tuyên truyền", "plan_item_ids": [s.items[0]], "department_id": s.departments[dept],
            "channel": "meeting", "audience": audience, "held_from": "2021-04-12T08:00:00+07:00", "attendee_ids": attendees,
            "place": "Phòng họp tầng 2", "links": ["https://kdpm.khanhhoa.gov.vn/tin-tuc/hop-pho-bien"]}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()
}

async fn upload(
    app: &TestApp,
    token: &str,
    activity: &str,
    parts: &[(&str, Option<&str>, &[u8])],
) -> crate::helpers::TestResponse {
    let (content_type, body) = multipart(parts);
    app.post(&format!("/api/v1/activities/{activity}/evidence")).token(token).raw(&content_type, body).send().await
}

/// Uploads a PDF of `size` bytes to `activity` over a raw connection, in chunks of 8 KiB
/// 10 ms apart (chunked, so no length is announced), until the service answers; returns
/// the answer and how many bytes of the body had been sent when it came.
fn trickled_upload(address: &str, token: &str, activity: &str, size: usize) -> (String, usize) {
    use std::{
        io::{Read, Write},
        sync::{
            Arc,
            atomic::{AtomicBool, AtomicUsize, Ordering},
        },
    };
    let mut stream = std::net::TcpStream::connect(address.trim_start_matches("http://")).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "POST /api/v1/activities/{activity}/evidence HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary=XYZ\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut body = b"--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"lon.pdf\"\r\n\
        Content-Type: application/pdf\r\n\r\n"
        .to_vec();
    body.extend_from_slice(PDF);
    body.resize(size, b' ');
    let (sent, answered) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
    let mut writer_stream = stream.try_clone().unwrap();
    let writer = std::thread::spawn({
        let (sent, answered) = (sent.clone(), answered.clone());
        move || {
            for chunk in body.chunks(8 * 1024) {
                let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
                if answered.load(Ordering::SeqCst) || writer_stream.write_all(&framed).is_err() {
                    return;
                }
                sent.fetch_add(chunk.len(), Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = writer_stream.write_all(b"0\r\n\r\n");
        }
    });
    let mut first = [0u8; 1];
    let _ = stream.read(&mut first);
    let at_answer = sent.load(Ordering::SeqCst);
    answered.store(true, Ordering::SeqCst);
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    let _ = writer.join();
    let answer = [&first[..], &rest[..]].concat();
    (String::from_utf8_lossy(&answer).into_owned(), at_answer)
}

/// Files under a folder (the evidence store, the upload folder).
fn files_under(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries.flatten().map(|e| if e.path().is_dir() { files_under(&e.path()) } else { 1 }).sum()
}

#[actix_web::test]
async fn evidence_round_trips_byte_for_byte_with_its_vietnamese_name() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let s = setup(&app, &admin, "KDPM").await;
    let a = activity(&app, &admin, &s, 0, "staff", &[]).await;
    let id = a["id"].as_str().unwrap();
    let res = upload(
        &app,
        &admin,
        id,
        &[
            ("file", Some("Biên bản họp phòng QLDA1.pdf"), PDF),
            ("caption", None, "Biên bản cuộc họp".as_bytes()),
            ("file", Some("Ảnh hội nghị.jpg"), JPEG),
            ("caption", None, "Ảnh chụp hội trường".as_bytes()),
        ],
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.header("location").unwrap(), format!("/api/v1/activities/{id}/evidence"));
    let items = res.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    for (item, (bytes, name, mime, caption)) in items.iter().zip([
        (PDF, "Biên bản họp phòng QLDA1.pdf", "application/pdf", "Biên bản cuộc họp"),
        (JPEG, "Ảnh hội nghị.jpg", "image/jpeg", "Ảnh chụp hội trường"),
    ]) {
        assert_eq!(item["sha256"], sha256(bytes));
        assert_eq!(item["size_bytes"], bytes.len());
        assert_eq!(
            (item["file_name"].as_str(), item["content_type"].as_str(), item["caption"].as_str()),
            (Some(name), Some(mime), Some(caption))
        );
        let meta =
            app.get(&format!("/api/v1/evidence/{}", item["id"].as_str().unwrap())).token(&admin).send().await.json();
        assert_eq!(&meta, item);
        let res = app.get(item["content_url"].as_str().unwrap()).token(&admin).send().await;
        assert_eq!(res.status, 200);
        assert_eq!(res.body, bytes, "identical bytes");
        assert_eq!(sha256(&res.body), item["sha256"].as_str().unwrap());
        assert_eq!(res.header("content-type").as_deref(), Some(mime));
        assert_eq!(res.header("etag"), Some(format!("\"{}\"", sha256(bytes))));
        assert_eq!(res.header("accept-ranges").as_deref(), Some("bytes"));
        let disposition = res.header("content-disposition").unwrap();
        let encoded = disposition.split("filename*=UTF-8''").nth(1).unwrap().trim_matches('"');
        let decoded = String::from_utf8(
            form_urlencoded::parse(format!("x={}", encoded.replace('+', "%2B")).as_bytes())
                .next()
                .unwrap()
                .1
                .as_bytes()
                .to_vec(),
        )
        .unwrap();
        assert_eq!(decoded, name, "{disposition}");
        assert!(disposition.starts_with("attachment"), "{disposition}");
    }

    // Ranges, and a copy the client already has.
    let url = items[0]["content_url"].as_str().unwrap();
    let res = app.get(url).token(&admin).header("Range", "bytes=0-7").send().await;
    assert_eq!((res.status, res.body.as_slice()), (206, &PDF[..8]));
    assert_eq!(res.header("content-range"), Some(format!("bytes 0-7/{}", PDF.len())));
    let res = app.get(url).token(&admin).header("Range", "bytes=-5").send().await;
    assert_eq!((res.status, res.body.as_slice()), (206, &PDF[PDF.len() - 5..]));
    let res = app.get(url).token(&admin).header("Range", &format!("bytes={}-", PDF.len() + 10)).send().await;
    res.problem(416, "range_not_satisfiable");
    assert_eq!(res.header("content-range"), Some(format!("bytes */{}", PDF.len())));
    let res = app.get(url).token(&admin).header("If-None-Match", &format!("\"{}\"", sha256(PDF))).send().await;
    assert_eq!((res.status, res.body.len()), (304, 0));

    // The same file twice is stored once; both records read it.
    let again = upload(&app, &admin, id, &[("file", Some("bản sao.pdf"), PDF)]).await;
    assert_eq!(again.status, 201);
    assert_eq!(files_under(&app.settings.data_dir.join("evidence")), 2);
    let list = app.get(&format!("/api/v1/activities/{id}/evidence?limit=2")).token(&admin).send().await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert!(list["next_cursor"].is_string());
}

#[actix_web::test]
async fn only_accepted_kinds_of_file_and_sizes_are_kept_and_a_refusal_leaves_nothing() {
    let mut settings = test_settings();
    settings.max_upload_bytes = 64 * 1024;
    let app = TestApp::spawn_with(settings).await;
    let admin = app.admin_token().await;
    let s = setup(&app, &admin, "KDPM").await;
    let a = activity(&app, &admin, &s, 0, "staff", &[]).await;
    let id = a["id"].as_str().unwrap();
    let store = app.settings.data_dir.join("evidence");
    let tmp = app.settings.data_dir.join("tmp");

    // A program named like a PDF.
    let program = std::fs::read("/bin/true").unwrap();
    let res = upload(&app, &admin, id, &[("file", Some("bao-cao.pdf"), &program[..60_000.min(program.len())])]).await;
    let body = res.problem(415, "unsupported_file_type");
    assert!(body["detail"].as_str().unwrap().contains("bao-cao.pdf"), "{body}");
    let res = upload(&app, &admin, id, &[("file", Some("ghi-chu.pdf"), b"just some text, not a PDF")]).await;
    res.problem(415, "unsupported_file_type");
    // One bad file spoils the whole upload.
    let res =
        upload(&app, &admin, id, &[("file", Some("ok.pdf"), PDF), ("file", Some("bad.pdf"), b"MZ\x90\x00 not a pdf")])
            .await;
    res.problem(415, "unsupported_file_type");
    // Over the limit, found while the bytes arrive.
    let mut big = PDF.to_vec();
    big.resize(100 * 1024, b' ');
    let res = upload(&app, &admin, id, &[("file", Some("lớn.pdf"), &big)]).await;
    res.problem(413, "file_too_large");
    // Sent slowly in pieces, without a length: refused once the limit is passed, while
    // the rest is still to come.
    let (answer, sent) = actix_web::web::block({
        let (address, token, id) = (app.address.clone(), admin.clone(), id.to_owned());
        move || trickled_upload(&address, &token, &id, 1024 * 1024)
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("file_too_large"), "{answer}");
    assert!(sent < 512 * 1024, "the answer came only after {sent} bytes");
    app.post(&format!("/api/v1/activities/{id}/evidence"))
        .token(&admin)
        .json(json!({"file": "x"}))
        .send()
        .await
        .problem(415, "unsupported_media_type");
    upload(&app, &admin, id, &[("caption", None, b"no file")]).await.problem(400, "no_files");
    upload(&app, &admin, id, &[("attachment", Some("x.pdf"), PDF)]).await.problem(400, "validation_failed");

    assert_eq!(app.sql_count("SELECT count(*) AS n FROM evidence"), 0);
    assert_eq!(files_under(&store), 0, "no object was stored");
    assert_eq!(files_under(&tmp), 0, "no temporary file was left");
    assert_eq!(upload(&app, &admin, id, &[("file", Some("ok.pdf"), PDF)]).await.status, 201);
    assert_eq!(files_under(&tmp), 0);
    // Captions are counted in characters, as the document says: 2,000 Vietnamese ones
    // (some 5,000 bytes) are fine, one more is not.
    let long = "ệ".repeat(2000);
    let res = upload(&app, &admin, id, &[("file", Some("dài.pdf"), PDF), ("caption", None, long.as_bytes())]).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let longer = format!("{long}a");
    let res = upload(&app, &admin, id, &[("file", Some("dài.pdf"), PDF), ("caption", None, longer.as_bytes())]).await;
    res.problem(400, "validation_failed");
}

#[actix_web::test]
async fn objects_nobody_refers_to_are_swept_and_damaged_content_is_not_served() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let s = setup(&app, &admin, "KDPM").await;
    let a = activity(&app, &admin, &s, 0, "staff", &[]).await;
    let res = upload(&app, &admin, a["id"].as_str().unwrap(), &[("file", Some("biên bản.pdf"), PDF)]).await;
    let kept = res.json()["items"][0].clone();

    // An object whose row was never committed (the upload was interrupted).
    let store = cchc_outreach::storage::EvidenceStore::open(None, &app.settings.data_dir).unwrap();
    let orphan = sha256(JPEG);
    let mut file = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut file, JPEG).unwrap();
    store.put_file(&orphan, file.reopen().unwrap()).await.unwrap();
    let evidence_dir = app.settings.data_dir.join("evidence");
    assert_eq!(files_under(&evidence_dir), 2);
    let pool = cchc_outreach::db::pool(&app.database_url, 2, Duration::from_secs(5));
    let sweep = |hours_ago: i64| {
        let (store, pool) = (store.clone(), pool.clone());
        async move {
            cchc_outreach::startup::sweep_evidence(
                &store,
                &pool,
                chrono::Utc::now() - chrono::Duration::hours(hours_ago),
            )
            .await
            .unwrap()
        }
    };
    assert_eq!(sweep(24).await, 0, "a young object may still be getting its row");
    assert_eq!(sweep(-1).await, 1, "once old enough, the orphan goes");
    assert_eq!(files_under(&evidence_dir), 1);
    let res = app.get(kept["content_url"].as_str().unwrap()).token(&admin).send().await;
    assert_eq!(res.body, PDF, "what a row refers to stays");

    // Damage the stored bytes: a full download no longer completes.
    let path = evidence_dir
        .join("evidence")
        .join(&kept["sha256"].as_str().unwrap()[..2])
        .join(kept["sha256"].as_str().unwrap());
    let mut damaged = PDF.to_vec();
    damaged[20] ^= 0xFF;
    std::fs::write(&path, &damaged).unwrap();
    let sent =
        awc::Client::default().get(app.url(kept["content_url"].as_str().unwrap())).bearer_auth(&admin).send().await;
    let completed = match sent {
        Ok(mut res) => {
            // Either the transfer breaks off, or (when nothing was sent yet) it becomes a 500.
            let status = res.status();
            status == 200 && res.body().await.is_ok_and(|b| b.len() == damaged.len())
        }
        Err(_) => false,
    };
    assert!(!completed, "a download that does not match its SHA-256 is cut off");
    // A part of it is still served (it cannot be checked against the whole).
    let res = app.get(kept["content_url"].as_str().unwrap()).token(&admin).header("Range", "bytes=0-9").send().await;
    assert_eq!((res.status, res.body.as_slice()), (206, &damaged[..10]));
}

#[actix_web::test]
async fn departments_record_and_the_coordinator_verifies() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let s = setup(&app, &admin, "KDPM").await;
    let (_, member) = app.staff(&admin, s.org, &s.departments[0], "a.member", "member").await;
    let (_, coordinator) = app.staff(&admin, s.org, &s.departments[1], "b.coordinator", "coordinator").await;
    let (_, viewer) = app.staff(&admin, s.org, &s.departments[0], "a.viewer", "viewer").await;

    // A member records for their own department only.
    let body = |dept: usize| {
        json!({"title": "Tuyên truyền trên trang thông tin điện tử", "plan_item_ids": [s.items[1]], "department_id": s.departments[dept],
            "channel": "website_post", "audience": "public", "held_from": "2021-05-03T09:00:00+07:00"})
    };
    app.post("/api/v1/activities").token(&member).json(body(1)).send().await.problem(403, "other_department");
    app.post("/api/v1/activities").token(&viewer).json(body(0)).send().await.problem(403, "forbidden");
    let res = app.post("/api/v1/activities").token(&member).json(body(0)).send().await;
    assert_eq!(res.status, 201, "{}", res.text());
    let id = res.id();
    let path = format!("/api/v1/activities/{id}");
    assert_eq!(res.json()["status"], "draft");
    assert_eq!(app.get(&path).token(&viewer).send().await.status, 200, "everyone reads");
    assert_eq!(
        upload(&app, &member, &id.to_string(), &[("file", Some("ảnh chụp màn hình.jpg"), JPEG)]).await.status,
        201
    );

    let transition = |token: &str, to: Value| app.post(&format!("{path}/transitions")).token(token).json(to);
    transition(&member, json!({"to": "verified"})).send().await.problem(403, "forbidden");
    transition(&coordinator, json!({"to": "verified"})).send().await.problem(409, "transition_not_allowed");
    assert_eq!(transition(&member, json!({"to": "submitted"})).send().await.json()["status"], "submitted");
    transition(&coordinator, json!({"to": "returned"})).send().await.problem(422, "rule_violated");
    let res = transition(&coordinator, json!({"to": "returned", "reason": "Thiếu đường dẫn bài viết"})).send().await;
    assert_eq!(
        (res.json()["status"].as_str(), res.json()["return_reason"].as_str()),
        (Some("returned"), Some("Thiếu đường dẫn bài viết"))
    );
    let res =
        app.patch(&path).token(&member).json(json!({"links": ["https://kdpm.khanhhoa.gov.vn/tin/123"]})).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    app.patch(&path).token(&member).json(json!({"links": ["ftp://x"]})).send().await.problem(400, "validation_failed");
    app.patch(&path)
        .token(&member)
        .json(json!({"department_id": s.departments[1]}))
        .send()
        .await
        .problem(403, "other_department");
    assert_eq!(transition(&member, json!({"to": "submitted"})).send().await.json()["return_reason"], Value::Null);
    let res = transition(&coordinator, json!({"to": "verified"})).send().await;
    assert_eq!(res.json()["status"], "verified");
    assert!(res.json()["verified_at"].is_string());

    // Verified: read-only, evidence included.
    app.patch(&path).token(&coordinator).json(json!({"title": "Sửa"})).send().await.problem(409, "activity_verified");
    upload(&app, &member, &id.to_string(), &[("file", Some("thêm.pdf"), PDF)]).await.problem(409, "activity_verified");
    let evidence = app.get(&format!("{path}/evidence")).token(&member).send().await.json();
    let evidence_id = evidence["items"][0]["id"].as_str().unwrap();
    app.delete(&format!("/api/v1/evidence/{evidence_id}"))
        .token(&member)
        .send()
        .await
        .problem(409, "activity_verified");
    app.delete(&path).token(&coordinator).send().await.problem(409, "activity_verified");
    let body = transition(&coordinator, json!({"to": "returned", "reason": "x"}))
        .send()
        .await
        .problem(409, "transition_not_allowed");
    assert_eq!(body["allowed"], json!([]));
}

#[actix_web::test]
async fn staff_reach_counts_people_reached_by_verified_staff_activities() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let s = setup(&app, &admin, "KDPM").await;
    // Eight active people: five in A, three in B; one more, inactive, does not count.
    let mut people = Vec::new();
    for i in 0..8 {
        let dept = if i < 5 { &s.departments[0] } else { &s.departments[1] };
        let role = if i == 0 { "coordinator" } else { "member" };
        people.push(app.staff(&admin, s.org, dept, &format!("staff{i}"), role).await);
    }
    let (gone, _) = app.staff(&admin, s.org, &s.departments[1], "staff-left", "member").await;
    app.patch(&format!("/api/v1/users/{gone}")).token(&admin).json(json!({"active": false})).send().await;
    let coordinator = people[0].1.clone();
    let ids: Vec<String> = people.iter().map(|(id, _)| id.clone()).collect();

    // Six attend a staff meeting; the inactive person's attendance does not count.
    let mut attendees: Vec<String> = [0, 1, 2, 3, 5, 6].iter().map(|&i| ids[i].clone()).collect();
    attendees.push(gone.clone());
    let meeting = activity(&app, &coordinator, &s, 0, "staff", &attendees).await;
    // The other two attend only things that do not count: a public event, and a staff
    // meeting that is never verified.
    let public = activity(&app, &coordinator, &s, 1, "public", &[ids[4].clone(), ids[7].clone()]).await;
    activity(&app, &coordinator, &s, 1, "staff", &[ids[4].clone()]).await;
    let reach = |as_of: &'static str| {
        let app = &app;
        let token = coordinator.clone();
        let plan = s.plan;
        async move { app.get(&format!("/api/v1/plans/{plan}/staff-reach?as_of={as_of}")).token(&token).send().await.json() }
    };
    assert_eq!(reach("2021-12-31").await["reached"], 0, "nothing verified yet");

    for a in [&meeting, &public] {
        let path = format!("/api/v1/activities/{}/transitions", a["id"].as_str().unwrap());
        app.post(&path).token(&coordinator).json(json!({"to": "submitted"})).send().await;
        let res = app.post(&path).token(&coordinator).json(json!({"to": "verified"})).send().await;
        assert_eq!(res.status, 200, "{}", res.text());
    }
    let body = reach("2021-12-31").await;
    assert_eq!(
        (body["total"].as_i64(), body["reached"].as_i64(), body["percent"].as_f64()),
        (Some(8), Some(6), Some(75.0))
    );
    let not_reached: Vec<(String, Vec<String>)> = body["not_reached"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let names =
                d["people"].as_array().unwrap().iter().map(|p| p["username"].as_str().unwrap().to_owned()).collect();
            (d["department_code"].as_str().unwrap().to_owned(), names)
        })
        .collect();
    assert_eq!(not_reached, [("A".to_owned(), vec!["staff4".to_owned()]), ("B".to_owned(), vec!["staff7".to_owned()])]);
    // Before the meeting was held, nobody was reached.
    assert_eq!(reach("2021-04-11").await["reached"], 0);
    assert_eq!(reach("2021-04-12").await["reached"], 6, "held on 12 April in Vietnam");

    // The indicator moved with the verification.
    let indicators = app.get(&format!("/api/v1/plans/{}/indicators", s.plan)).token(&coordinator).send().await.json();
    let staff = &indicators["items"][0];
    assert_eq!(staff["code"], "STAFF_INFORMED");
    assert_eq!(staff["latest"]["value"], 75.0);
    assert_eq!(staff["latest"]["source"], "computed");
    // Verified today, about the 2021 plan: the measurement is the plan's, at its period's end.
    assert_eq!(
        (staff["latest"]["period"].as_str(), staff["latest"]["measured_on"].as_str()),
        (Some("2021"), Some("2021-12-31"))
    );
    assert!(staff["latest"]["citation"].as_str().unwrap().starts_with("6/8"));
    assert_eq!(staff["status"], "not_met");
}

#[actix_web::test]
async fn activities_and_their_files_stay_inside_their_organisation() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let s = setup(&app, &admin, "KDPM").await;
    let a = activity(&app, &admin, &s, 0, "staff", &[]).await;
    let id = a["id"].as_str().unwrap();
    let uploaded = upload(&app, &admin, id, &[("file", Some("biên bản.pdf"), PDF)]).await.json();
    let evidence = uploaded["items"][0]["id"].as_str().unwrap();
    let other = setup(&app, &admin, "OTHER").await;
    let (_, outsider) = app.staff(&admin, other.org, &other.departments[0], "outsider", "coordinator").await;

    for path in [
        format!("/api/v1/activities/{id}"),
        format!("/api/v1/activities/{id}/evidence"),
        format!("/api/v1/evidence/{evidence}"),
        format!("/api/v1/evidence/{evidence}/content"),
        format!("/api/v1/plans/{}/staff-reach", s.plan),
    ] {
        app.get(&path).token(&outsider).send().await.problem(404, "not_found");
    }
    app.patch(&format!("/api/v1/activities/{id}"))
        .token(&outsider)
        .json(json!({"title": "x"}))
        .send()
        .await
        .problem(404, "not_found");
    app.post(&format!("/api/v1/activities/{id}/transitions"))
        .token(&outsider)
        .json(json!({"to": "submitted"}))
        .send()
        .await
        .problem(404, "not_found");
    upload(&app, &outsider, id, &[("file", Some("x.pdf"), PDF)]).await.problem(404, "not_found");
    app.delete(&format!("/api/v1/evidence/{evidence}")).token(&outsider).send().await.problem(404, "not_found");
    app.delete(&format!("/api/v1/activities/{id}")).token(&outsider).send().await.problem(404, "not_found");
    assert_eq!(app.get("/api/v1/activities").token(&outsider).send().await.json()["items"], json!([]));
    // Nor may another organisation's items or people be used.
    let res = app
        .post("/api/v1/activities")
        .token(&outsider)
        .json(json!({"title": "x", "plan_item_ids": [s.items[0]], "department_id": other.departments[0], "channel": "oral",
            "audience": "staff", "held_from": "2021-04-12T08:00:00+07:00"}))
        .send()
        .await;
    res.problem(422, "items_other_plan");
    let (someone, _) = app.staff(&admin, s.org, &s.departments[0], "insider", "member").await;
    let res = app
        .post("/api/v1/activities")
        .token(&outsider)
        .json(json!({"title": "x", "plan_item_ids": [other.items[0]], "department_id": other.departments[0], "channel": "oral",
            "audience": "staff", "held_from": "2021-04-12T08:00:00+07:00", "attendee_ids": [someone]}))
        .send()
        .await;
    res.problem(422, "reference_invalid");
}

#[actix_web::test]
async fn activities_follow_the_conventions() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let s = setup(&app, &admin, "KDPM").await;
    let mut made = Vec::new();
    for _ in 0..5 {
        made.push(activity(&app, &admin, &s, 0, "staff", &[]).await["id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/activities?limit=2".to_owned();
    loop {
        let body = app.get(&path).token(&admin).send().await.json();
        seen.extend(body["items"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_owned()));
        match body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/activities?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, made);
    // Search without diacritics, and filters.
    let found = app.get("/api/v1/activities?q=hop%20pho%20bien&channel=meeting").token(&admin).send().await.json();
    assert_eq!(found["items"].as_array().unwrap().len(), 5);
    assert_eq!(app.get("/api/v1/activities?channel=banner").token(&admin).send().await.json()["items"], json!([]));
    let by_item = app.get(&format!("/api/v1/activities?plan_item_id={}", s.items[1])).token(&admin).send().await.json();
    assert_eq!(by_item["items"], json!([]));

    let path = format!("/api/v1/activities/{}", made[0]);
    let etag = app.get(&path).token(&admin).send().await.header("etag").unwrap();
    assert_eq!(
        app.patch(&path)
            .token(&admin)
            .header("If-Match", &etag)
            .json(json!({"participant_count": 12}))
            .send()
            .await
            .status,
        200
    );
    app.patch(&path)
        .token(&admin)
        .header("If-Match", &etag)
        .json(json!({"participant_count": 13}))
        .send()
        .await
        .problem(412, "version_mismatch");
    app.patch(&path).token(&admin).json(json!({"status": "verified"})).send().await.problem(400, "validation_failed");

    let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true).replace('+', "%2B");
    let body = json!({"title": "Phát thanh nội bộ", "plan_item_ids": [s.items[0]], "department_id": s.departments[1], "channel": "oral",
        "audience": "staff", "held_from": "2021-06-01T07:30:00+07:00"});
    let first =
        app.post("/api/v1/activities").token(&admin).header("Idempotency-Key", "act-1").json(body.clone()).send().await;
    let again = app.post("/api/v1/activities").token(&admin).header("Idempotency-Key", "act-1").json(body).send().await;
    assert_eq!((first.status, again.header("idempotency-replayed").as_deref()), (201, Some("true")));
    assert_eq!(app.delete(&format!("/api/v1/activities/{}", first.id())).token(&admin).send().await.status, 204);
    let feed = app.get(&format!("/api/v1/activities?updated_since={since}")).token(&admin).send().await.json();
    let feed = feed["items"].as_array().unwrap();
    assert_eq!(feed.len(), 1);
    assert!(feed[0]["deleted_at"].is_string());

    // The search finds what matches and leaves out what does not, of the same channel.
    let training = app
        .post("/api/v1/activities")
        .token(&admin)
        .json(json!({"title": "Tập huấn nghiệp vụ một cửa", "plan_item_ids": [s.items[0]], "department_id": s.departments[0],
            "channel": "meeting", "audience": "staff", "held_from": "2021-05-10T08:00:00+07:00"}))
        .send()
        .await
        .id()
        .to_string();
    let ids = |body: Value| -> Vec<String> {
        body["items"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_owned()).collect()
    };
    let meetings =
        ids(app.get("/api/v1/activities?q=hop%20pho%20bien&channel=meeting").token(&admin).send().await.json());
    let mut all_meetings = ids(app.get("/api/v1/activities?channel=meeting").token(&admin).send().await.json());
    assert!(all_meetings.contains(&training) && all_meetings.len() > 2, "{all_meetings:?}");
    all_meetings.retain(|id| *id != training);
    assert_eq!(meetings, all_meetings, "every meeting that matches, and only those");
    let trainings = ids(app.get("/api/v1/activities?q=tap%20huan").token(&admin).send().await.json());
    assert_eq!(trainings, [training]);
}

/// A ZIP archive of `entries`, stored uncompressed in the order given.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in entries {
        out.start_file(*name, options).unwrap();
        out.write_all(bytes).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// An OLE2 compound file whose root says it is a Word or an Excel file (by its CLSID),
/// padded past the first 64 KiB the service reads of other files.
fn compound_file(clsid: &str) -> Vec<u8> {
    use std::io::Write;
    let mut file = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
    file.set_storage_clsid("/", uuid::Uuid::parse_str(clsid).unwrap()).unwrap();
    file.create_stream("/Filler").unwrap().write_all(&vec![0u8; 100 * 1024]).unwrap();
    file.flush().unwrap();
    file.into_inner().into_inner()
}

/// Every type the README lists is taken, known by its content; a file that only has the
/// name of one is refused.
#[actix_web::test]
async fn every_listed_file_type_is_taken_and_a_misnamed_file_is_refused() {
    let mut settings = test_settings();
    settings.max_upload_bytes = 1024 * 1024;
    let app = TestApp::spawn_with(settings).await;
    let admin = app.admin_token().await;
    let s = setup(&app, &admin, "KDPM").await;
    let a = activity(&app, &admin, &s, 0, "staff", &[]).await;
    let id = a["id"].as_str().unwrap();
    let content_types =
        br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#;
    let rels = br#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>"#;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    let files: Vec<(&str, &str, Vec<u8>)> = vec![
        ("Biên bản.pdf", "application/pdf", PDF.to_vec()),
        ("Ảnh hội nghị.jpg", "image/jpeg", JPEG.to_vec()),
        ("Chụp màn hình.png", "image/png", png),
        ("Ảnh.webp", "image/webp", b"RIFF\x24\0\0\0WEBPVP8 \x18\0\0\0\x30\x01\0\x9d\x01\x2a\x01\0\x01\0".to_vec()),
        (
            "Báo cáo.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            zip_of(&[
                ("[Content_Types].xml", content_types),
                ("_rels/.rels", rels),
                // As Word writes them: the parts' folder named by the third and fourth entries.
                ("word/_rels/document.xml.rels", rels),
                ("word/document.xml", b"<w:document/>"),
            ]),
        ),
        (
            "Danh sách.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            zip_of(&[
                ("[Content_Types].xml", content_types),
                ("_rels/.rels", rels),
                ("xl/_rels/workbook.xml.rels", rels),
                ("xl/workbook.xml", b"<workbook/>"),
            ]),
        ),
        (
            "Biên bản.odt",
            "application/vnd.oasis.opendocument.text",
            zip_of(&[
                ("mimetype", b"application/vnd.oasis.opendocument.text"),
                ("content.xml", b"<office:document-content/>"),
            ]),
        ),
        ("Phóng sự.mp4", "video/mp4", b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2\0\0\0\x08free".to_vec()),
        ("Ảnh iPhone.heic", "image/heif", b"\0\0\0\x18ftypheic\0\0\0\0mif1heic\0\0\0\x08free".to_vec()),
        ("Video iPhone.mov", "video/quicktime", b"\0\0\0\x14ftypqt  \0\0\0\0qt  \0\0\0\x08wide".to_vec()),
        ("Công văn cũ.doc", "application/msword", compound_file("00020906-0000-0000-c000-000000000046")),
        ("Bảng cũ.xls", "application/vnd.ms-excel", compound_file("00020820-0000-0000-c000-000000000046")),
    ];
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for (name, expected, bytes) in &files {
        let extension = name.rsplit('.').next().unwrap().to_uppercase();
        let listed = match extension.as_str() {
            "HEIC" => "HEIC/HEIF".to_owned(),
            "JPG" => "JPEG".to_owned(),
            _ => extension.clone(),
        };
        assert!(readme.contains(&listed), "the README lists {listed}");
        let res = upload(&app, &admin, id, &[("file", Some(name), bytes)]).await;
        assert_eq!(res.status, 201, "{name}: {}", res.text());
        let evidence = &res.json()["items"][0];
        assert_eq!(evidence["content_type"], *expected, "{name}");
        let download = app
            .get(&format!("/api/v1/evidence/{}/content", evidence["id"].as_str().unwrap()))
            .token(&admin)
            .send()
            .await;
        assert_eq!(download.header("content-type").as_deref(), Some(*expected), "{name}");
        assert_eq!(&download.body, bytes, "{name}");
    }
    // Only the name of a type: a plain archive named .docx, a web page named .png, a
    // compound file of another program named .doc.
    let misnamed: [(&str, Vec<u8>); 3] = [
        ("Báo cáo.docx", zip_of(&[("notes.txt", b"not a document")])),
        ("Ảnh.png", b"<!DOCTYPE html><html><body>not a picture</body></html>".to_vec()),
        ("Công văn.doc", compound_file("00000000-0000-0000-0000-000000000001")),
    ];
    for (name, bytes) in &misnamed {
        upload(&app, &admin, id, &[("file", Some(name), bytes)]).await.problem(415, "unsupported_file_type");
    }
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM evidence"), files.len() as i64);
}
