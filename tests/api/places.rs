//! Places and citizens' attachments on feedback: the location's rules, `near=` at known
//! distances, photos stored without their location metadata, and what the public sees.
use std::io::Cursor;

use bytes::Bytes;
use img_parts::ImageEXIF;
use serde_json::{Value, json};

use crate::helpers::{TestApp, multipart};

const PHOTO: &[u8] = include_bytes!("../fixtures/photo.jpg");
const PDF: &[u8] = include_bytes!("../fixtures/minutes.pdf");
/// Nha Trang, by the sea.
const HERE: (f64, f64) = (12.2388, 109.1967);
/// The earth's radius earthdistance works with (`earth()`), in metres.
const EARTH_M: f64 = 6_378_168.0;

/// The great-circle distance in metres, as earthdistance reckons it.
fn metres((lat1, long1): (f64, f64), (lat2, long2): (f64, f64)) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let (dp, dl) = ((lat2 - lat1).to_radians(), (long2 - long1).to_radians());
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_M * a.sqrt().asin()
}

/// The suite's photo with EXIF holding an orientation and where it was taken, and an
/// XMP packet repeating the place.
pub fn photo_with_place() -> Vec<u8> {
    let fields = [
        exif::Field { tag: exif::Tag::Orientation, ifd_num: exif::In::PRIMARY, value: exif::Value::Short(vec![6]) },
        exif::Field {
            tag: exif::Tag::GPSLatitudeRef,
            ifd_num: exif::In::PRIMARY,
            value: exif::Value::Ascii(vec![b"N".to_vec()]),
        },
        exif::Field {
            tag: exif::Tag::GPSLatitude,
            ifd_num: exif::In::PRIMARY,
            value: exif::Value::Rational(vec![(12, 1).into(), (14, 1).into(), (1968, 100).into()]),
        },
        exif::Field {
            tag: exif::Tag::GPSLongitude,
            ifd_num: exif::In::PRIMARY,
            value: exif::Value::Rational(vec![(109, 1).into(), (11, 1).into(), (4812, 100).into()]),
        },
    ];
    let mut writer = exif::experimental::Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut tiff = Cursor::new(Vec::new());
    writer.write(&mut tiff, false).unwrap();
    let mut image = img_parts::jpeg::Jpeg::from_bytes(Bytes::from_static(PHOTO)).unwrap();
    image.set_exif(Some(Bytes::from(tiff.into_inner())));
    let xmp = [
        &b"http://ns.adobe.com/xap/1.0/\0"[..],
        b"<x:xmpmeta><exif:GPSLatitude>12,14.328N</exif:GPSLatitude></x:xmpmeta>",
    ]
    .concat();
    image.segments_mut().insert(1, img_parts::jpeg::JpegSegment::new_with_contents(0xE1, Bytes::from(xmp)));
    let mut out = Vec::new();
    image.encoder().write_to(&mut out).unwrap();
    out
}

struct Org {
    dept: String,
    coordinator: String,
    member: String,
    client: String,
    other_client: String,
}

async fn org(app: &TestApp, admin: &str, code: &str) -> Org {
    let id = app.organization(admin, code).await;
    let dept = app.department(admin, id, "TCHC").await;
    let lower = code.to_lowercase();
    let (_, coordinator) = app.staff(admin, id, &dept, &format!("{lower}.coord"), "coordinator").await;
    let (_, member) = app.staff(admin, id, &dept, &format!("{lower}.member"), "member").await;
    let (_, client) = app.service_client(admin, id, &["feedback:write"]).await;
    let (_, other_client) = app.service_client(admin, id, &["feedback:write"]).await;
    Org { dept, coordinator, member, client, other_client }
}

async fn file(app: &TestApp, token: &str, location: Value) -> Value {
    let res = app
        .post("/api/v1/feedback")
        .token(token)
        .json(json!({"channel": "portal", "kind": "feedback", "sender_type": "citizen", "sender_name": "Trần Văn Bình",
            "consent": {"publish": true},
            "subject": "Ổ gà trên đường", "content": "Đường có ổ gà lớn, nguy hiểm cho xe máy.", "location": location}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()
}

#[actix_web::test]
async fn a_location_is_checked_kept_changed_and_found_near_a_point() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let o = org(&app, &admin, "PLACES").await;

    // A point comes whole and in range; a location says something.
    let base =
        json!({"channel": "portal", "kind": "feedback", "sender_type": "citizen", "subject": "S", "content": "C"});
    let with = |location: Value| {
        let mut body = base.clone();
        body["location"] = location;
        body
    };
    for (location, status, field, code) in [
        (json!({"lat": 12.2}), 422, "location.long", "required"),
        (json!({"long": 109.1}), 422, "location.lat", "required"),
        (json!({}), 422, "location", "location_empty"),
        (json!({"lat": 91, "long": 109.1}), 400, "location.lat", "out_of_range"),
        (json!({"lat": 12.2, "long": -181}), 400, "location.long", "out_of_range"),
        (json!({"address": "  "}), 400, "location.address", "not_blank"),
        (json!({"lat": 12.2, "long": 109.1, "height": 3}), 400, "location.height", "unknown_field"),
    ] {
        let res = app.post("/api/v1/feedback").token(&o.coordinator).json(with(location.clone())).send().await;
        assert_eq!(res.status, status, "{location}: {}", res.text());
        let errors = res.field_errors();
        assert!(errors.iter().any(|(f, c)| f == field && c == code), "{location}: {errors:?}");
    }
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM feedback"), 0, "nothing filed by a refused request");

    // Kept, read back, changed, removed.
    let here =
        file(&app, &o.coordinator, json!({"lat": HERE.0, "long": HERE.1, "address": "Đường Trần Phú, Nha Trang"}))
            .await;
    assert_eq!(here["location"], json!({"lat": HERE.0, "long": HERE.1, "address": "Đường Trần Phú, Nha Trang"}));
    let id = here["id"].as_str().unwrap();
    let read = app.get(&format!("/api/v1/feedback/{id}")).token(&o.member).send().await;
    assert_eq!(read.json()["location"], here["location"]);
    let res = app
        .patch(&format!("/api/v1/feedback/{id}"))
        .token(&o.coordinator)
        .json(json!({"location": {"address": "Chợ Đầm"}}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["location"], json!({"lat": null, "long": null, "address": "Chợ Đầm"}));
    let res =
        app.patch(&format!("/api/v1/feedback/{id}")).token(&o.coordinator).json(json!({"location": null})).send().await;
    assert_eq!(res.json()["location"], Value::Null);
    // The written place is masked in the trail, and no event carries it.
    let trail = app.get(&format!("/api/v1/audit-events?entity_id={id}")).token(&admin).send().await.text();
    assert!(!trail.contains("Trần Phú") && !trail.contains("Chợ Đầm"), "{trail}");
    assert_eq!(
        app.sql_count(
            "SELECT count(*) AS n FROM events WHERE data::text LIKE '%Trần Phú%' OR data::text LIKE '%Chợ Đầm%'"
        ),
        0
    );

    // `near=`: 500.94 m north of the point is inside 501 m and outside 500 m.
    let north = (HERE.0 + 0.0045, HERE.1);
    let far = (HERE.0 + 0.05, HERE.1 + 0.05);
    assert!((metres(HERE, north) - 500.94).abs() < 0.01, "{}", metres(HERE, north));
    let at_here = file(&app, &o.coordinator, json!({"lat": HERE.0, "long": HERE.1})).await;
    let at_north = file(&app, &o.coordinator, json!({"lat": north.0, "long": north.1})).await;
    let at_far = file(&app, &o.coordinator, json!({"lat": far.0, "long": far.1})).await;
    file(&app, &o.coordinator, json!({"address": "Không có toạ độ"})).await;
    // Numbers too small for the earth's arithmetic are kept to a centimetre: zero.
    let tiny = file(&app, &o.coordinator, json!({"lat": -5e-324, "long": 1e-300})).await;
    assert_eq!((tiny["location"]["lat"].as_f64(), tiny["location"]["long"].as_f64()), (Some(0.0), Some(0.0)));
    let found = |radius: u32| {
        let app = &app;
        let token = o.coordinator.clone();
        async move {
            let res = app
                .get(&format!("/api/v1/feedback?near={},{}&radius_m={radius}", HERE.0, HERE.1))
                .token(&token)
                .send()
                .await;
            assert_eq!(res.status, 200, "{}", res.text());
            let mut ids: Vec<String> =
                res.json()["items"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_owned()).collect();
            ids.sort();
            ids
        }
    };
    let ids = |records: &[&Value]| {
        let mut ids: Vec<String> = records.iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect();
        ids.sort();
        ids
    };
    assert_eq!(found(500).await, ids(&[&at_here]));
    assert_eq!(found(501).await, ids(&[&at_here, &at_north]));
    let to_far = metres(HERE, far).ceil() as u32;
    assert_eq!(found(to_far - 1).await, ids(&[&at_here, &at_north]));
    assert_eq!(found(to_far).await, ids(&[&at_here, &at_north, &at_far]));
    // Default 1,000 m; the query's own rules.
    let res = app.get(&format!("/api/v1/feedback?near={},{}", HERE.0, HERE.1)).token(&o.coordinator).send().await;
    assert_eq!(res.json()["items"].as_array().unwrap().len(), 2);
    for bad in ["near=95,10", "near=12.2", "near=abc", "near=12,109&radius_m=0", "near=12,109&radius_m=100001"] {
        let res = app.get(&format!("/api/v1/feedback?{bad}")).token(&o.coordinator).send().await;
        assert_eq!(res.status, 400, "{bad}: {}", res.text());
    }
    // A radius without a point is a rule between parameters: 422.
    let res = app.get("/api/v1/feedback?radius_m=100").token(&o.coordinator).send().await;
    res.problem(422, "rule_violated");
    // The index answers it.
    let plan = app.sql_count("SELECT count(*) AS n FROM pg_indexes WHERE indexname = 'feedback_locations_earth_idx'");
    assert_eq!(plan, 1);
}

#[actix_web::test]
async fn photos_lose_their_place_and_reach_the_public_only_when_chosen() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let o = org(&app, &admin, "PHOTOS").await;
    let record = file(&app, &o.client, json!({"lat": HERE.0, "long": HERE.1, "address": "Số 5 Lê Lợi"})).await;
    let id = record["id"].as_str().unwrap().to_owned();

    let with_place = photo_with_place();
    let found = exif::Reader::new().read_from_container(&mut Cursor::new(&with_place)).unwrap();
    assert!(found.get_field(exif::Tag::GPSLatitude, exif::In::PRIMARY).is_some(), "the test photo has a place");
    let (ct, body) =
        multipart(&[("file", Some("CCCD Trần Văn Bình.jpg"), &with_place), ("file", Some("đơn.pdf"), PDF)]);
    let res = app.post(&format!("/api/v1/feedback/{id}/attachments")).token(&o.client).raw(&ct, body).send().await;
    assert_eq!(res.status, 201, "{}", res.text());
    let items = res.json()["items"].as_array().unwrap().clone();
    let (photo, pdf) = (&items[0], &items[1]);
    assert_eq!((photo["content_type"].clone(), photo["location_removed"].clone()), (json!("image/jpeg"), json!(true)));
    assert_eq!(
        (pdf["content_type"].clone(), pdf["location_removed"].clone()),
        (json!("application/pdf"), json!(false))
    );
    assert_eq!(photo["original_name"], "CCCD Trần Văn Bình.jpg");
    assert_eq!(photo["publishable"], false);

    // What is stored has no place, keeps its orientation, and is what its SHA-256 says.
    let stored = app.get(photo["content_url"].as_str().unwrap()).token(&o.coordinator).send().await;
    assert_eq!(stored.status, 200, "{}", stored.text());
    let bytes = stored.body.clone();
    assert_eq!(cchc_outreach::domain::sha256_hex(&bytes), photo["sha256"].as_str().unwrap());
    assert_eq!(bytes.len() as i64, photo["size_bytes"].as_i64().unwrap());
    let left = exif::Reader::new().read_from_container(&mut Cursor::new(&bytes)).unwrap();
    assert!(!left.fields().any(|f| f.tag.context() == exif::Context::Gps), "no GPS field left");
    assert_eq!(left.get_field(exif::Tag::Orientation, exif::In::PRIMARY).unwrap().value.get_uint(0), Some(6));
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains("GPSLatitude") && !text.contains("ns.adobe.com/xap"), "no XMP left");
    let pdf_back = app.get(pdf["content_url"].as_str().unwrap()).token(&o.coordinator).send().await;
    assert_eq!(pdf_back.body, PDF, "a PDF is kept as sent");

    // Recognised by content, not by name; nothing stored of a refused upload.
    let (ct, body) = multipart(&[("file", Some("ảnh.jpg"), b"this is plain text, not a photo")]);
    let res = app.post(&format!("/api/v1/feedback/{id}/attachments")).token(&o.client).raw(&ct, body).send().await;
    res.problem(415, "unsupported_file_type");
    let (ct, body) = multipart(&[("file", Some("ảnh.jpg"), PHOTO), ("caption", None, b"x")]);
    let res = app.post(&format!("/api/v1/feedback/{id}/attachments")).token(&o.client).raw(&ct, body).send().await;
    assert_eq!(res.status, 400, "{}", res.text());
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM feedback_attachments"), 2);
    // A service client reaches only the records it filed.
    let (ct, body) = multipart(&[("file", Some("ảnh.jpg"), PHOTO)]);
    let res =
        app.post(&format!("/api/v1/feedback/{id}/attachments")).token(&o.other_client).raw(&ct, body).send().await;
    assert_eq!(res.status, 404, "{}", res.text());
    let res = app.get(photo["content_url"].as_str().unwrap()).token(&o.other_client).send().await;
    assert_eq!(res.status, 404, "{}", res.text());

    // The public sees nothing before publication, then only what the coordinator chose,
    // without its name, and the place only to some 100 m.
    let photo_id = photo["id"].as_str().unwrap();
    let public_url = format!("/api/v1/public/feedback-attachments/{photo_id}/content");
    assert_eq!(app.get(&public_url).send().await.status, 404);
    let res = app
        .patch(&format!("/api/v1/feedback/{id}"))
        .token(&o.coordinator)
        .json(json!({"department_id": o.dept}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    for step in [json!({"to": "accepted"}), json!({"to": "in_progress"})] {
        let res = app.post(&format!("/api/v1/feedback/{id}/transitions")).token(&o.coordinator).json(step).send().await;
        assert_eq!(res.status, 200, "{}", res.text());
    }
    let res = app
        .post(&format!("/api/v1/feedback/{id}/answers"))
        .token(&o.coordinator)
        .json(json!({"text": "Đã vá ổ gà."}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let res = app
        .post(&format!("/api/v1/feedback/{id}/publish"))
        .token(&o.coordinator)
        .json(json!({"summary": "Đã sửa chữa mặt đường."}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let code = record["code"].as_str().unwrap();
    let public = app.get(&format!("/api/v1/public/feedback/{code}")).send().await;
    assert_eq!(public.json()["attachments"], json!([]));
    assert_eq!(public.json()["place"], json!({"lat": 12.239, "long": 109.197}));
    assert!(!public.text().contains("Lê Lợi"), "no written address in public");
    assert_eq!(app.get(&public_url).send().await.status, 404, "not chosen yet");
    let res = app
        .patch(&format!("/api/v1/feedback-attachments/{photo_id}"))
        .token(&o.member)
        .json(json!({"publishable": true}))
        .send()
        .await;
    assert_eq!(res.status, 403, "the coordinator chooses: {}", res.text());
    let res = app
        .patch(&format!("/api/v1/feedback-attachments/{photo_id}"))
        .token(&o.coordinator)
        .header("If-Match", "\"1\"")
        .json(json!({"publishable": true}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let public = app.get(&format!("/api/v1/public/feedback/{code}")).send().await;
    let listed = public.json()["attachments"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["url"], public_url.as_str());
    assert!(!public.text().contains("CCCD"), "no file name in public");
    let got = app.get(&public_url).send().await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, bytes);
    assert!(!got.header("content-disposition").unwrap().contains("CCCD"));
    // Unpublished: gone from the public again.
    let res = app.delete(&format!("/api/v1/feedback/{id}/publish")).token(&o.coordinator).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(app.get(&public_url).send().await.status, 404);

    // The file's name is personal: masked in the trail, in no event.
    let trail = app.get(&format!("/api/v1/audit-events?entity_id={photo_id}")).token(&admin).send().await.text();
    assert!(trail.contains("feedback_attachment") && !trail.contains("Trần Văn Bình"), "{trail}");
    let events = app.sql_count(
        "SELECT count(*) AS n FROM events WHERE type = 'feedback_attachment.created' AND NOT data ? 'original_name'",
    );
    assert_eq!(events, 2);
    // Deleted: gone from the list.
    let res = app.delete(&format!("/api/v1/feedback-attachments/{photo_id}")).token(&o.coordinator).send().await;
    assert_eq!(res.status, 204, "{}", res.text());
    let list = app.get(&format!("/api/v1/feedback/{id}/attachments")).token(&o.coordinator).send().await;
    assert_eq!(list.json()["items"].as_array().unwrap().len(), 1);
}
