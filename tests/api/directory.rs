//! Organisations, departments, people and service clients: roles, isolation between
//! organisations, pagination, sync feeds, ETags and the audit trail.
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{PASSWORD, TestApp};

/// An organisation with an `org_admin`; returns `(org, org_admin token)`.
async fn org_with_admin(app: &TestApp, admin: &str, code: &str) -> (Uuid, String) {
    let org = app.organization(admin, code).await;
    let (_, token) = app.person(admin, org, &format!("{}.admin", code.to_lowercase()), "org_admin").await;
    (org, token)
}

async fn department(app: &TestApp, token: &str, code: &str) -> Value {
    let res = app
        .post("/api/v1/departments")
        .token(token)
        .json(json!({"code": code, "name": format!("Phòng {code}")}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()
}

#[actix_web::test]
async fn an_administrator_sets_up_an_organisation_its_departments_and_people() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;

    let province = app.organization(&admin, "UBND-KH").await;
    let res = app
        .post("/api/v1/organizations")
        .token(&admin)
        .json(json!({"code": "KDPM", "name": "Ban Quản lý dự án Phát triển tỉnh Khánh Hòa", "parent_id": province,
            "name_en": "Khanh Hoa Provincial Development Project Management Board", "website": "https://kdpm.khanhhoa.gov.vn"}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let board = res.json();
    let board_id = board["id"].as_str().unwrap();
    assert_eq!(res.header("location").unwrap(), format!("/api/v1/organizations/{board_id}"));
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(board["parent_id"], json!(province));
    assert_eq!(board["version"], 1);

    // The administrator acts for the board by naming it.
    let res = app
        .post("/api/v1/departments")
        .token(&admin)
        .json(json!({"code": "TCHC", "name": "Phòng Tổ chức hành chính", "organization_id": board_id}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let tchc = res.json();
    assert_eq!(tchc["organization_id"], board_id);

    // Without naming one, the administrator is told to.
    let res = app.post("/api/v1/departments").token(&admin).json(json!({"code": "X", "name": "X"})).send().await;
    res.problem(422, "organization_required");
    assert_eq!(res.field_errors(), vec![("organization_id".to_owned(), "organization_required".to_owned())]);

    let (_, org_admin) = app.person(&admin, board_id.parse().unwrap(), "kdpm.admin", "org_admin").await;
    let qlda1 = department(&app, &org_admin, "QLDA1").await;
    assert_eq!(qlda1["organization_id"], board_id);

    let res = app
        .post("/api/v1/users")
        .token(&org_admin)
        .json(json!({"username": "tchc.nguyenvana", "full_name": "Nguyễn Văn A", "email": "nguyenvana@kdpm.khanhhoa.gov.vn",
            "role": "coordinator", "department_id": tchc["id"], "password": PASSWORD}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let user = res.json();
    assert!(user.get("password").is_none() && user.get("password_hash").is_none(), "{user}");
    assert_eq!(user["active"], true);

    let coordinator = app.token("tchc.nguyenvana", PASSWORD).await;
    let me = app.get("/api/v1/me").token(&coordinator).send().await.json();
    assert_eq!(me["kind"], "user");
    assert_eq!(me["role"], "coordinator");
    assert_eq!(me["organization_id"], board_id);
    assert_eq!(me["department_id"], tchc["id"]);

    let people = app.get("/api/v1/users").token(&coordinator).send().await.json();
    let names: Vec<&str> =
        people["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["kdpm.admin", "tchc.nguyenvana"]);

    // An organisation administrator may rename their organisation but not move it.
    let res = app
        .patch(&format!("/api/v1/organizations/{board_id}"))
        .token(&org_admin)
        .json(json!({"name_en": null}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["name_en"], Value::Null);
    app.patch(&format!("/api/v1/organizations/{board_id}"))
        .token(&org_admin)
        .json(json!({"parent_id": null}))
        .send()
        .await
        .problem(403, "forbidden");
}

#[actix_web::test]
async fn roles_decide_who_may_do_what() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (org, org_admin) = org_with_admin(&app, &admin, "KDPM").await;
    let (_, member) = app.person(&admin, org, "member1", "member").await;
    let (_, viewer) = app.person(&admin, org, "viewer1", "viewer").await;
    let (_, leader) = app.person(&admin, org, "leader1", "leader").await;

    let new_user = json!({"username": "someone", "full_name": "Ai đó", "role": "member", "password": PASSWORD});
    app.post("/api/v1/users").token(&member).json(new_user.clone()).send().await.problem(403, "forbidden");
    app.post("/api/v1/users").token(&viewer).json(new_user.clone()).send().await.problem(403, "forbidden");
    app.post("/api/v1/departments")
        .token(&viewer)
        .json(json!({"code": "X", "name": "X"}))
        .send()
        .await
        .problem(403, "forbidden");
    assert_eq!(app.get("/api/v1/departments").token(&viewer).send().await.status, 200);
    app.post("/api/v1/organizations")
        .token(&org_admin)
        .json(json!({"code": "NEW", "name": "Mới"}))
        .send()
        .await
        .problem(403, "forbidden");
    // Only the system administrator makes system administrators.
    app.post("/api/v1/users")
        .token(&org_admin)
        .json(json!({"username": "root2", "full_name": "Root", "role": "admin", "password": PASSWORD}))
        .send()
        .await
        .problem(403, "forbidden");
    app.get("/api/v1/audit-events").token(&member).send().await.problem(403, "forbidden");
    assert_eq!(app.get("/api/v1/audit-events").token(&leader).send().await.status, 200);
    app.get("/api/v1/service-clients").token(&leader).send().await.problem(403, "forbidden");
    assert_eq!(app.post("/api/v1/users").token(&org_admin).json(new_user).send().await.status, 201);
}

#[actix_web::test]
async fn one_organisation_never_sees_or_changes_anothers_records() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (org_a, admin_a) = org_with_admin(&app, &admin, "ORG-A").await;
    let (_, admin_b) = org_with_admin(&app, &admin, "ORG-B").await;

    let dept_a = department(&app, &admin_a, "TCHC").await;
    let (user_a, _) = app.person(&admin, org_a, "a.member", "member").await;
    let client_a = app
        .post("/api/v1/service-clients")
        .token(&admin_a)
        .json(json!({"name": "Hệ thống A", "scopes": ["directory:read"]}))
        .send()
        .await
        .json();
    let dept_a_id = dept_a["id"].as_str().unwrap();
    let client_a_id = client_a["id"].as_str().unwrap();

    for path in [
        format!("/api/v1/departments/{dept_a_id}"),
        format!("/api/v1/users/{user_a}"),
        format!("/api/v1/service-clients/{client_a_id}"),
        format!("/api/v1/organizations/{org_a}"),
    ] {
        app.get(&path).token(&admin_b).send().await.problem(404, "not_found");
    }
    app.patch(&format!("/api/v1/departments/{dept_a_id}"))
        .token(&admin_b)
        .json(json!({"name": "Đổi tên"}))
        .send()
        .await
        .problem(404, "not_found");
    app.delete(&format!("/api/v1/users/{user_a}")).token(&admin_b).send().await.problem(404, "not_found");
    app.post(&format!("/api/v1/service-clients/{client_a_id}/secret"))
        .token(&admin_b)
        .send()
        .await
        .problem(404, "not_found");
    app.post(&format!("/api/v1/users/{user_a}/password"))
        .token(&admin_b)
        .json(json!({"new_password": "a-new-password-1"}))
        .send()
        .await
        .problem(404, "not_found");

    // Lists and filters stay inside the caller's organisation.
    let depts = app.get("/api/v1/departments").token(&admin_b).send().await.json();
    assert_eq!(depts["items"], json!([]));
    let users = app.get(&format!("/api/v1/users?department_id={dept_a_id}")).token(&admin_b).send().await.json();
    assert_eq!(users["items"], json!([]));
    let orgs = app.get("/api/v1/organizations").token(&admin_b).send().await.json();
    assert_eq!(orgs["items"].as_array().unwrap().len(), 1);
    assert_eq!(orgs["items"][0]["code"], "ORG-B");
    // An organisation administrator may oversee the organisations below: any other one
    // a read names is a 404, as its records would be.
    let res = app.get(&format!("/api/v1/users?organization_id={org_a}")).token(&admin_b).send().await;
    res.problem(404, "not_found");
    let res = app
        .post("/api/v1/departments")
        .token(&admin_b)
        .json(json!({"code": "X", "name": "X", "organization_id": org_a}))
        .send()
        .await;
    res.problem(403, "organization_not_allowed");
    assert_eq!(res.field_errors(), vec![("organization_id".to_owned(), "organization_not_allowed".to_owned())]);
    // Naming one's own organisation is fine.
    let own = app.get("/api/v1/me").token(&admin_b).send().await.json()["organization_id"].clone();
    let res = app.get(&format!("/api/v1/users?organization_id={}", own.as_str().unwrap())).token(&admin_b).send().await;
    assert_eq!(res.status, 200);
    // A department of another organisation cannot be given to one's people.
    let res = app
        .post("/api/v1/users")
        .token(&admin_b)
        .json(json!({"username": "b.x", "full_name": "B X", "role": "member", "password": PASSWORD, "department_id": dept_a_id}))
        .send()
        .await;
    res.problem(422, "department_not_found");

    // The administrator sees both, and may filter.
    let all = app.get("/api/v1/organizations").token(&admin).send().await.json();
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let a_only = app.get(&format!("/api/v1/departments?organization_id={org_a}")).token(&admin).send().await.json();
    assert_eq!(a_only["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn keyset_pages_cover_every_record_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, token) = org_with_admin(&app, &admin, "KDPM").await;
    let codes: Vec<String> = (1..=7).map(|i| format!("D{i}")).collect();
    for code in &codes {
        department(&app, &token, code).await;
    }

    let mut seen = Vec::new();
    let mut path = "/api/v1/departments?limit=3".to_owned();
    let mut pages = 0;
    loop {
        let res = app.get(&path).token(&token).send().await;
        assert_eq!(res.status, 200, "{}", res.text());
        pages += 1;
        let body = res.json();
        seen.extend(body["items"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap().to_owned()));
        match body["next_cursor"].as_str() {
            Some(cursor) => {
                // The Link header points at the same next page.
                let link = res.header("link").expect("a Link header when there is a next page");
                let next = link.strip_prefix('<').and_then(|l| l.split_once('>')).unwrap().0.to_owned();
                assert!(link.ends_with("rel=\"next\""), "{link}");
                assert!(next.contains(&format!("cursor={cursor}")) && next.contains("limit=3"), "{next}");
                path = next;
            }
            None => {
                assert!(res.header("link").is_none());
                break;
            }
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, codes, "every record once, in creation order");

    for bad in ["limit=0", "limit=201", "limit=many", "limit=1&limit=2"] {
        let res = app.get(&format!("/api/v1/departments?{bad}")).token(&token).send().await;
        res.problem(400, "validation_failed");
        assert_eq!(res.field_errors()[0].0, "limit", "{bad}");
    }
    let first = app.get("/api/v1/departments?limit=2").token(&token).send().await.json();
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let mut tampered = cursor.clone().into_bytes();
    tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    // Altered, it is still of the documented form, but not this list's: a 422.
    app.get(&format!("/api/v1/departments?cursor={tampered}"))
        .token(&token)
        .send()
        .await
        .problem(422, "unknown_cursor");
    // Not of the form at all: a 400.
    for malformed in ["x", "a.b", &format!("{cursor}x"), &cursor.replace('.', "+")] {
        app.get(&format!("/api/v1/departments?cursor={malformed}"))
            .token(&token)
            .send()
            .await
            .problem(400, "invalid_cursor");
    }
    // A cursor is bound to its list.
    app.get(&format!("/api/v1/users?cursor={cursor}")).token(&token).send().await.problem(422, "unknown_cursor");
    let res = app.get("/api/v1/departments?colour=red").token(&token).send().await;
    res.problem(400, "validation_failed");
    assert_eq!(res.field_errors(), vec![("colour".to_owned(), "unknown_parameter".to_owned())]);
}

#[actix_web::test]
async fn updated_since_feeds_changes_with_tombstones() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, token) = org_with_admin(&app, &admin, "KDPM").await;
    let kept = department(&app, &token, "KEPT").await;
    let gone = department(&app, &token, "GONE").await;
    let gone_id = gone["id"].as_str().unwrap();
    assert_eq!(app.delete(&format!("/api/v1/departments/{gone_id}")).token(&token).send().await.status, 204);

    app.get(&format!("/api/v1/departments/{gone_id}")).token(&token).send().await.problem(404, "not_found");
    let live = app.get("/api/v1/departments").token(&token).send().await.json();
    assert_eq!(live["items"], json!([kept]));

    // One record a page, following cursors: the change feed holds both, in update order.
    let mut items = Vec::new();
    let mut path = "/api/v1/departments?updated_since=2000-01-01T00:00:00Z&limit=1".to_owned();
    loop {
        let body = app.get(&path).token(&token).send().await.json();
        items.extend(body["items"].as_array().unwrap().iter().cloned());
        match body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/departments?updated_since=2000-01-01T00:00:00Z&limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0], kept);
    let tombstone = items[1].as_object().unwrap();
    assert_eq!(tombstone.len(), 2, "a tombstone is only id and deleted_at: {tombstone:?}");
    assert_eq!(tombstone["id"], gone_id);
    let deleted_at = tombstone["deleted_at"].as_str().unwrap().to_owned();

    // Asking from the deletion on gives just the tombstone.
    let since = deleted_at.replace('+', "%2B");
    let later = app.get(&format!("/api/v1/departments?updated_since={since}")).token(&token).send().await.json();
    assert_eq!(later["items"], json!([{"id": gone_id, "deleted_at": deleted_at}]));
    // A plain cursor does not fit a sync feed.
    department(&app, &token, "MORE").await;
    let plain = app.get("/api/v1/departments?limit=1").token(&token).send().await.json();
    app.get(&format!(
        "/api/v1/departments?updated_since=2000-01-01T00:00:00Z&cursor={}",
        plain["next_cursor"].as_str().unwrap()
    ))
    .token(&token)
    .send()
    .await
    .problem(422, "unknown_cursor");
}

#[actix_web::test]
async fn if_match_prevents_lost_updates() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, token) = org_with_admin(&app, &admin, "KDPM").await;
    let dept = department(&app, &token, "TCHC").await;
    let path = format!("/api/v1/departments/{}", dept["id"].as_str().unwrap());
    assert_eq!(app.get(&path).token(&token).send().await.header("etag").as_deref(), Some("\"1\""));

    let res =
        app.patch(&path).token(&token).header("If-Match", "\"1\"").json(json!({"name": "Phòng TCHC"})).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(res.json()["version"], 2);

    let res = app.patch(&path).token(&token).header("If-Match", "\"1\"").json(json!({"name": "Cũ"})).send().await;
    res.problem(412, "version_mismatch");
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(app.get(&path).token(&token).send().await.json()["name"], "Phòng TCHC", "a 412 changes nothing");

    app.delete(&path).token(&token).header("If-Match", "\"1\"").send().await.problem(412, "version_mismatch");
    app.delete(&path).token(&token).header("If-Match", "not-an-etag").send().await.problem(400, "invalid_header");
    // Lists of tags, weak tags and bare versions are read as the document's pattern says.
    app.delete(&path).token(&token).header("If-Match", "W/\"1\", 0").send().await.problem(412, "version_mismatch");
    let res = app.patch(&path).token(&token).header("If-Match", "1, W/\"2\"").json(json!({"name": "Mới"})).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(app.delete(&path).token(&token).header("If-Match", "3").send().await.status, 204);
    app.get(&path).token(&token).send().await.problem(404, "not_found");
}

#[actix_web::test]
async fn every_change_and_sign_in_is_audited_with_personal_data_masked() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (org, token) = org_with_admin(&app, &admin, "KDPM").await;

    let created =
        app.post("/api/v1/departments").token(&token).json(json!({"code": "TCHC", "name": "Phòng A"})).send().await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/departments/{id}");
    let updated = app.patch(&path).token(&token).json(json!({"name": "Phòng B"})).send().await;
    let deleted = app.delete(&path).token(&token).send().await;
    assert_eq!(deleted.status, 204);

    let events = app.get(&format!("/api/v1/audit-events?entity_id={id}")).token(&token).send().await.json();
    let events = events["items"].as_array().unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["create", "update", "delete"]);
    let me = app.get("/api/v1/me").token(&token).send().await.json();
    for (event, res) in events.iter().zip([&created, &updated, &deleted]) {
        assert_eq!(event["actor_id"], me["id"]);
        assert_eq!(event["actor_kind"], "user");
        assert_eq!(event["organization_id"], json!(org));
        assert_eq!(event["entity_type"], "department");
        assert_eq!(event["request_id"].as_str(), res.header("x-request-id").as_deref());
        assert_eq!(event["client_addr"], "127.0.0.1");
    }
    assert_eq!(events[0]["changes"]["code"], json!({"before": null, "after": "TCHC"}));
    assert_eq!(events[1]["changes"], json!({"name": {"before": "Phòng A", "after": "Phòng B"}}));
    assert_eq!(events[2]["changes"]["name"], json!({"before": "Phòng B", "after": null}));

    // Personal data is masked.
    let res = app
        .post("/api/v1/users")
        .token(&token)
        .json(json!({"username": "nva", "full_name": "Nguyễn Văn A", "email": "nguyenvana@kdpm.gov.vn", "role": "member", "password": PASSWORD}))
        .send()
        .await;
    let user = res.id();
    let events =
        app.get(&format!("/api/v1/audit-events?entity_id={user}&action=create")).token(&token).send().await.json();
    assert_eq!(events["items"][0]["changes"]["email"], json!({"before": null, "after": "n***@kdpm.gov.vn"}));

    // Sign-ins, failed and successful.
    let bad = app
        .post("/api/v1/auth/token")
        .json(json!({"grant_type": "password", "username": "nva", "password": "wrong-password"}))
        .send()
        .await;
    bad.token_error(400, "invalid_grant", "invalid_grant");
    app.token("nva", PASSWORD).await;
    let events =
        app.get(&format!("/api/v1/audit-events?entity_id={user}&entity_type=user")).token(&token).send().await.json();
    let actions: Vec<&str> =
        events["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["create", "login_failed", "login_succeeded"]);
    assert_eq!(events["items"][1]["actor_kind"], "anonymous");
    assert_eq!(events["items"][1]["changes"]["reason"], "bad_credentials");

    // The trail cannot be changed, not even from SQL.
    let total = app.sql_count("SELECT count(*) AS n FROM audit_events");
    let mut conn = <diesel::PgConnection as diesel::Connection>::establish(&app.database_url).unwrap();
    let update = diesel::RunQueryDsl::execute(diesel::sql_query("UPDATE audit_events SET action = 'x'"), &mut conn);
    assert!(update.is_err());
    let delete = diesel::RunQueryDsl::execute(diesel::sql_query("DELETE FROM audit_events"), &mut conn);
    assert!(delete.is_err());
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM audit_events"), total);
}

#[actix_web::test]
async fn deactivated_deleted_and_re_keyed_accounts_lose_access_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (org, org_admin) = org_with_admin(&app, &admin, "KDPM").await;
    let (member_id, member) = app.person(&admin, org, "member1", "member").await;
    let member_path = format!("/api/v1/users/{member_id}");

    assert_eq!(app.get("/api/v1/me").token(&member).send().await.status, 200);
    assert_eq!(app.patch(&member_path).token(&org_admin).json(json!({"active": false})).send().await.status, 200);
    app.get("/api/v1/me").token(&member).send().await.problem(401, "invalid_token");
    let res = app
        .post("/api/v1/auth/token")
        .json(json!({"grant_type": "password", "username": "member1", "password": PASSWORD}))
        .send()
        .await;
    res.token_error(400, "invalid_grant", "invalid_grant");
    assert_eq!(app.patch(&member_path).token(&org_admin).json(json!({"active": true})).send().await.status, 200);
    assert_eq!(app.get("/api/v1/me").token(&member).send().await.status, 200);

    // A role change takes effect on the next request.
    assert_eq!(app.patch(&member_path).token(&org_admin).json(json!({"role": "viewer"})).send().await.status, 200);
    assert_eq!(app.get("/api/v1/me").token(&member).send().await.json()["role"], "viewer");

    // Nobody changes their own role or deletes themselves.
    let me = app.get("/api/v1/me").token(&org_admin).send().await.json();
    let own = format!("/api/v1/users/{}", me["id"].as_str().unwrap());
    app.patch(&own)
        .token(&org_admin)
        .json(json!({"role": "member"}))
        .send()
        .await
        .problem(422, "cannot_change_own_account");
    app.delete(&own).token(&org_admin).send().await.problem(422, "cannot_change_own_account");

    // Changing one's password needs the current one and ends older tokens.
    let password_path = format!("{member_path}/password");
    app.post(&password_path)
        .token(&member)
        .json(json!({"current_password": "not-the-password", "new_password": "a-brand-new-password"}))
        .send()
        .await
        .problem(422, "wrong_password");
    let res =
        app.post(&password_path).token(&member).json(json!({"new_password": "a-brand-new-password"})).send().await;
    assert_eq!(res.field_errors(), vec![("current_password".to_owned(), "required".to_owned())]);
    let res = app
        .post(&password_path)
        .token(&member)
        .json(json!({"current_password": PASSWORD, "new_password": "short"}))
        .send()
        .await;
    assert_eq!(res.field_errors(), vec![("new_password".to_owned(), "weak_password".to_owned())]);
    // Tokens carry whole seconds: make sure the change is in a later second than the old token.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let res = app
        .post(&password_path)
        .token(&member)
        .json(json!({"current_password": PASSWORD, "new_password": "a-brand-new-password"}))
        .send()
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    app.get("/api/v1/me").token(&member).send().await.problem(401, "invalid_token");
    let fresh = app.token("member1", "a-brand-new-password").await;
    // A viewer cannot set someone else's password.
    app.post(&format!("/api/v1/users/{}/password", me["id"].as_str().unwrap()))
        .token(&fresh)
        .json(json!({"new_password": "hijacked-password"}))
        .send()
        .await
        .problem(403, "forbidden");

    assert_eq!(app.delete(&member_path).token(&org_admin).send().await.status, 204);
    app.get("/api/v1/me").token(&fresh).send().await.problem(401, "invalid_token");
    // The username is free again once its holder is deleted.
    app.person(&admin, org, "member1", "member").await;
}

#[actix_web::test]
async fn deleting_a_record_still_referred_to_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (org, org_admin) = org_with_admin(&app, &admin, "KDPM").await;
    let dept = department(&app, &org_admin, "TCHC").await;
    let dept_id = dept["id"].as_str().unwrap();
    let res = app
        .post("/api/v1/users")
        .token(&org_admin)
        .json(json!({"username": "tchc1", "full_name": "Nhân viên", "role": "member", "password": PASSWORD, "department_id": dept_id}))
        .send()
        .await;
    assert_eq!(res.status, 201);
    let res = app.delete(&format!("/api/v1/departments/{dept_id}")).token(&org_admin).send().await;
    res.problem(409, "has_dependents");
    let res = app.delete(&format!("/api/v1/organizations/{org}")).token(&admin).send().await;
    res.problem(409, "has_dependents");
    assert!(res.json()["detail"].as_str().unwrap().contains("phòng"), "in Vietnamese: {}", res.text());
    let res =
        app.delete(&format!("/api/v1/organizations/{org}")).token(&admin).header("Accept-Language", "en").send().await;
    assert!(res.problem(409, "has_dependents")["detail"].as_str().unwrap().contains("departments"));
}

#[actix_web::test]
async fn organisations_form_a_tree_without_cycles() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let top = app.organization(&admin, "TOP").await;
    let res = app
        .post("/api/v1/organizations")
        .token(&admin)
        .json(json!({"code": "MID", "name": "Giữa", "parent_id": top}))
        .send()
        .await;
    let mid = res.id();
    let res =
        app.patch(&format!("/api/v1/organizations/{top}")).token(&admin).json(json!({"parent_id": mid})).send().await;
    res.problem(422, "parent_cycle");
    let res =
        app.patch(&format!("/api/v1/organizations/{top}")).token(&admin).json(json!({"parent_id": top})).send().await;
    res.problem(422, "parent_cycle");
    let res = app
        .post("/api/v1/organizations")
        .token(&admin)
        .json(json!({"code": "ORPHAN", "name": "Mồ côi", "parent_id": Uuid::now_v7()}))
        .send()
        .await;
    res.problem(422, "reference_invalid");
    let res =
        app.post("/api/v1/organizations").token(&admin).json(json!({"code": "top", "name": "Trùng mã"})).send().await;
    res.problem(409, "organization_code_taken");
}

#[actix_web::test]
async fn service_clients_get_a_secret_once_and_act_within_their_scopes() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, org_admin) = org_with_admin(&app, &admin, "KDPM").await;
    department(&app, &org_admin, "TCHC").await;

    let res = app
        .post("/api/v1/service-clients")
        .token(&org_admin)
        .json(json!({"name": "Cổng dịch vụ công", "scopes": ["directory:read", "plans:read"]}))
        .send()
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let created = res.json();
    let id = created["id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(created["client_id"], id.as_str());
    let read = app.get(&format!("/api/v1/service-clients/{id}")).token(&org_admin).send().await.json();
    assert!(read.get("client_secret").is_none() && read.get("secret_hash").is_none(), "{read}");
    assert_eq!(read["scopes"], json!(["directory:read", "plans:read"]));

    let sign_in = |secret: String| {
        let id = id.clone();
        let app = &app;
        async move {
            app.post("/api/v1/auth/token")
                .raw(
                    "application/x-www-form-urlencoded",
                    format!("grant_type=client_credentials&client_id={id}&client_secret={secret}"),
                )
                .send()
                .await
        }
    };
    let res = sign_in(secret.clone()).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let token = res.json()["access_token"].as_str().unwrap().to_owned();
    let me = app.get("/api/v1/me").token(&token).send().await.json();
    assert_eq!(me["kind"], "client");
    assert_eq!(me["scopes"], json!(["directory:read", "plans:read"]));
    assert_eq!(app.get("/api/v1/departments").token(&token).send().await.json()["items"].as_array().unwrap().len(), 1);
    app.post("/api/v1/departments")
        .token(&token)
        .json(json!({"code": "X", "name": "X"}))
        .send()
        .await
        .problem(403, "forbidden");
    app.get("/api/v1/service-clients").token(&token).send().await.problem(403, "forbidden");

    // Removing a scope takes effect at once.
    let res = app
        .patch(&format!("/api/v1/service-clients/{id}"))
        .token(&org_admin)
        .json(json!({"scopes": ["plans:read"]}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    app.get("/api/v1/departments").token(&token).send().await.problem(403, "forbidden");

    // Rotation: the old secret and its tokens stop working.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let res = app.post(&format!("/api/v1/service-clients/{id}/secret")).token(&org_admin).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let new_secret = res.json()["client_secret"].as_str().unwrap().to_owned();
    app.get("/api/v1/me").token(&token).send().await.problem(401, "invalid_token");
    sign_in(secret).await.token_error(401, "invalid_client", "invalid_client");
    assert_eq!(sign_in(new_secret.clone()).await.status, 200);

    // A deactivated client cannot sign in.
    assert_eq!(
        app.patch(&format!("/api/v1/service-clients/{id}"))
            .token(&org_admin)
            .json(json!({"active": false}))
            .send()
            .await
            .status,
        200
    );
    sign_in(new_secret).await.token_error(401, "invalid_client", "invalid_client");
}
