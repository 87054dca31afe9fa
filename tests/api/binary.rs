//! The binary's own commands and start-up, run as a newcomer or an operator runs them.
use std::process::Command;

use serde_json::{Value, json};

use crate::helpers::{ADMIN, ADMIN_PASSWORD, TestApp};

fn run(mut command: Command) -> (bool, String, String) {
    let out = command.output().expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn openapi_prints_the_committed_document_byte_for_byte() {
    let out = Command::new(env!("CARGO_BIN_EXE_cchc-outreach")).arg("openapi").env_clear().output().unwrap();
    assert!(out.status.success());
    let committed = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json")).unwrap();
    assert!(out.stdout == committed, "`cchc-outreach openapi` differs from openapi/openapi.json: regenerate it");
}

#[actix_web::test]
async fn migrate_builds_an_empty_database_and_changes_nothing_the_second_time() {
    let app = TestApp::spawn().await;
    app.sql("DROP SCHEMA public CASCADE");
    app.sql("CREATE SCHEMA public");
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().join("up.sql").exists())
        .count() as i64;
    for round in 0..2 {
        let mut command = app.binary_command();
        command.arg("migrate").env("CCHC_JWT_SECRET", "x".repeat(32));
        let (ok, _, stderr) = run(command);
        assert!(ok, "round {round}: {stderr}");
        assert_eq!(app.sql_count("SELECT count(*) AS n FROM __diesel_schema_migrations"), migrations, "round {round}");
    }
    // Migrated, not served: no administrator was created.
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM users"), 0);
    assert!(app.sql_count("SELECT count(*) AS n FROM national_days") > 150, "the national calendar is seeded");
}

#[actix_web::test]
async fn import_is_all_or_nothing_and_update_brings_the_plan_in_line() {
    let app = TestApp::spawn().await;
    let dir = app.settings.data_dir.join("import");
    std::fs::create_dir_all(&dir).unwrap();
    let mut plan: Value = serde_json::from_str(include_str!("../../fixtures/kdpm-2021.json")).unwrap();
    let import = |file: &Value, update: bool| {
        let path = dir.join(format!("plan-{}.json", uuid::Uuid::now_v7()));
        std::fs::write(&path, file.to_string()).unwrap();
        let mut command = app.binary_command();
        command.arg("import").arg(&path).env("CCHC_JWT_SECRET", "x".repeat(32));
        if update {
            command.arg("--update");
        }
        run(command)
    };
    let (ok, _, stderr) = import(&plan, false);
    assert!(ok, "{stderr}");
    let items = app.sql_count("SELECT count(*) AS n FROM plan_items WHERE deleted_at IS NULL");
    assert!(items > 20, "{items} items");
    let title_of_i = "SELECT count(*) AS n FROM plan_items WHERE reference = 'I' AND title = 'Mục tiêu, yêu cầu'";
    assert_eq!(app.sql_count(title_of_i), 1);
    // Without --update, the same plan again is refused.
    let (ok, _, stderr) = import(&plan, false);
    assert!(!ok && stderr.contains("KH-TTCCHC-2021"), "{stderr}");

    // A changed title and an assignment to a department that does not exist: the
    // whole update is refused, the title included, and the command says why.
    plan["plan"]["items"][0]["title"] = json!("Mục tiêu và yêu cầu");
    let mut broken = plan.clone();
    broken["plan"]["items"][0]["assignments"] = json!([{"department": "NO-SUCH", "role": "lead"}]);
    let before = app.sql_count("SELECT count(*) AS n FROM audit_events");
    let (ok, _, stderr) = import(&broken, true);
    assert!(!ok, "the broken update was accepted");
    assert!(stderr.contains("NO-SUCH"), "{stderr}");
    assert_eq!(app.sql_count(title_of_i), 1, "nothing of the refused update stayed");
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM audit_events"), before);
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM plan_items WHERE deleted_at IS NULL"), items);

    // The same change alone goes through, and only the title moves.
    let (ok, stdout, stderr) = import(&plan, true);
    assert!(ok, "{stdout}{stderr}");
    assert_eq!(
        app.sql_count("SELECT count(*) AS n FROM plan_items WHERE reference = 'I' AND title = 'Mục tiêu và yêu cầu'"),
        1
    );
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM plan_items WHERE deleted_at IS NULL"), items);
}

#[actix_web::test]
async fn without_a_secret_the_binary_generates_one_keeps_it_and_its_tokens_outlive_a_restart() {
    let app = TestApp::spawn().await;
    let dir = app.settings.data_dir.join("generated-key");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let first = app.start_binary_in(port, &dir, &[]).await;
    let key_file = dir.join("jwt-secret");
    let key = std::fs::read_to_string(&key_file).expect("the key is kept in CCHC_DATA_DIR/jwt-secret");
    assert!(key.trim().len() >= 32, "{} bytes", key.trim().len());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600, "readable by its owner only");
    let res = app
        .at(&first.base)
        .post("/api/v1/auth/token")
        .json(json!({"grant_type": "password", "username": ADMIN, "password": ADMIN_PASSWORD}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let token = res.json()["access_token"].as_str().unwrap().to_owned();
    drop(first);

    let second = app.start_binary_in(port, &dir, &[]).await;
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), key, "the key is kept, not made again");
    assert_eq!(app.at(&second.base).get("/api/v1/me").token(&token).send().await.status, 200);
    // And the in-process service of this test, with its own key, refuses that token.
    app.get("/api/v1/me").token(&token).send().await.problem(401, "invalid_token");
}

/// The default algorithm of an external identity provider is RS256: configured with
/// only its issuer, audience and public key, the binary accepts its RS256 tokens for
/// people it knows and refuses one signed with another key.
#[actix_web::test]
async fn an_identity_provider_signs_with_rs256_by_default() {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("SKIPPED: openssl, which makes the provider's RSA key, is not on this machine");
        return;
    }
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    app.person(&admin, org, "sso.leader", "leader").await;
    let dir = app.settings.data_dir.join("idp");
    std::fs::create_dir_all(&dir).unwrap();
    let key = |name: &str| {
        let private = dir.join(format!("{name}.pem"));
        let public = dir.join(format!("{name}.pub.pem"));
        let made = Command::new("openssl")
            .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out"])
            .arg(&private)
            .output()
            .unwrap();
        assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
        let out = Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(&private)
            .arg("-out")
            .arg(&public)
            .output()
            .unwrap();
        assert!(out.status.success());
        (std::fs::read(private).unwrap(), public)
    };
    let (provider, public) = key("provider");
    let (stranger, _) = key("stranger");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let secret = app.settings.jwt.secret.as_ref().unwrap().expose().to_owned();
    let binary = app
        .start_binary_in(
            port,
            &app.settings.data_dir.join("idp-binary"),
            &[
                ("CCHC_JWT_SECRET", secret.as_str()),
                ("CCHC_IDP_ISSUER", "https://sso.khanhhoa.gov.vn"),
                ("CCHC_IDP_AUDIENCE", "cchc"),
                ("CCHC_IDP_PUBLIC_KEY_FILE", public.to_str().unwrap()),
            ],
        )
        .await;
    let sign = |pem: &[u8], username: &str| {
        let now = chrono::Utc::now().timestamp();
        let claims = json!({"iss": "https://sso.khanhhoa.gov.vn", "aud": "cchc", "sub": "42",
            "preferred_username": username, "iat": now, "exp": now + 300});
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_rsa_pem(pem).unwrap(),
        )
        .unwrap()
    };
    let me = app.at(&binary.base).get("/api/v1/me").token(&sign(&provider, "sso.leader")).send().await;
    assert_eq!(me.status, 200, "{}", me.text());
    assert_eq!((me.json()["name"].as_str(), me.json()["role"].as_str()), (Some("sso.leader"), Some("leader")));
    let forged = app.at(&binary.base).get("/api/v1/me").token(&sign(&stranger, "sso.leader")).send().await;
    assert_eq!(forged.status, 401, "{}", forged.text());
    let unknown = app.at(&binary.base).get("/api/v1/me").token(&sign(&provider, "nobody")).send().await;
    assert_eq!(unknown.status, 401, "{}", unknown.text());
}
