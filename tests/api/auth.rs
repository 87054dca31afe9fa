//! Signing in, and every way a token must be refused.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use cchc_outreach::config::{ExternalIdpSettings, ExternalKey};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Value, json};

use crate::helpers::{ADMIN, ADMIN_PASSWORD, MAX_FAILURES, TestApp, test_settings};

#[actix_web::test]
async fn a_person_signs_in_with_json_or_a_form() {
    let app = TestApp::spawn().await;
    let res = app
        .post("/api/v1/auth/token")
        .json(json!({"grant_type": "password", "username": ADMIN, "password": ADMIN_PASSWORD}))
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    let body = res.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "role:admin");

    let res = app
        .post("/api/v1/auth/token")
        .raw(
            "application/x-www-form-urlencoded",
            format!("grant_type=password&username={ADMIN}&password={ADMIN_PASSWORD}&client_id="),
        )
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let token = res.json()["access_token"].as_str().unwrap().to_owned();
    let me = app.get("/api/v1/me").token(&token).send().await.json();
    assert_eq!(me["kind"], "user");
    assert_eq!(me["name"], ADMIN);
    assert_eq!(me["role"], "admin");
    assert_eq!(me["organization_id"], Value::Null);
}

#[actix_web::test]
async fn a_service_client_signs_in_with_basic_authentication_and_narrower_scopes() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let created = app
        .post("/api/v1/service-clients")
        .token(&admin)
        .json(json!({"name": "Hệ thống báo cáo", "scopes": ["reports:read", "directory:read"], "organization_id": org}))
        .send()
        .await
        .json();
    let (id, secret) = (created["id"].as_str().unwrap(), created["client_secret"].as_str().unwrap());
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    let res = app
        .post("/api/v1/auth/token")
        .header("Authorization", &format!("Basic {basic}"))
        .raw("application/x-www-form-urlencoded", "grant_type=client_credentials&scope=reports:read")
        .send()
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let body = res.json();
    assert_eq!(body["scope"], "reports:read");
    let token = body["access_token"].as_str().unwrap();
    let me = app.get("/api/v1/me").token(token).send().await.json();
    assert_eq!(me["scopes"], json!(["reports:read"]), "the token is narrowed to what was asked");
    app.get("/api/v1/departments").token(token).send().await.problem(403, "forbidden");

    let res = app
        .post("/api/v1/auth/token")
        .json(json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret, "scope": "plans:write"}))
        .send()
        .await;
    res.token_error(400, "invalid_scope", "invalid_scope");
    let res = app
        .post("/api/v1/auth/token")
        .json(json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret, "scope": "everything"}))
        .send()
        .await;
    res.token_error(400, "invalid_scope", "invalid_scope");
}

#[actix_web::test]
async fn wrong_usernames_and_wrong_passwords_look_the_same_and_repeated_failures_lock() {
    let app = TestApp::spawn().await;
    let wrong_password = app
        .post("/api/v1/auth/token")
        .json(json!({"grant_type": "password", "username": ADMIN, "password": "not-the-password"}))
        .send()
        .await;
    let no_such_user = app
        .post("/api/v1/auth/token")
        .json(json!({"grant_type": "password", "username": "nobody-here", "password": "not-the-password"}))
        .send()
        .await;
    let a = wrong_password.token_error(400, "invalid_grant", "invalid_grant");
    let b = no_such_user.token_error(400, "invalid_grant", "invalid_grant");
    for key in ["type", "title", "status", "detail", "code"] {
        assert_eq!(a[key], b[key], "{key} must not tell the two apart");
    }
    assert_eq!(wrong_password.header("www-authenticate"), no_such_user.header("www-authenticate"));

    let max: usize = MAX_FAILURES.parse().unwrap();
    for _ in 1..max {
        let res = app
            .post("/api/v1/auth/token")
            .json(json!({"grant_type": "password", "username": ADMIN, "password": "still-wrong"}))
            .send()
            .await;
        res.token_error(400, "invalid_grant", "invalid_grant");
    }
    // Locked now: even the right password is refused until the lock ends.
    let res = app
        .post("/api/v1/auth/token")
        .json(json!({"grant_type": "password", "username": "ADMIN", "password": ADMIN_PASSWORD}))
        .send()
        .await;
    res.token_error(429, "temporarily_unavailable", "login_locked");
    let retry: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 900, "{retry}");
    // The counter lives in PostgreSQL.
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM login_throttle WHERE locked_until > now()"), 1);
    // Other accounts are unaffected.
    app.post("/api/v1/auth/token")
        .json(json!({"grant_type": "password", "username": "nobody-here", "password": "x"}))
        .send()
        .await
        .token_error(400, "invalid_grant", "invalid_grant");
}

#[actix_web::test]
async fn malformed_token_requests_are_refused_clearly() {
    let app = TestApp::spawn().await;
    let res = app.post("/api/v1/auth/token").json(json!({"grant_type": "implicit"})).send().await;
    res.token_error(400, "unsupported_grant_type", "unsupported_grant_type");
    let res = app.post("/api/v1/auth/token").json(json!({"grant_type": "password"})).send().await;
    res.token_error(400, "invalid_request", "validation_failed");
    assert_eq!(
        res.field_errors(),
        vec![("username".to_owned(), "required".to_owned()), ("password".to_owned(), "required".to_owned())]
    );
    app.post("/api/v1/auth/token").raw("text/plain", "grant_type=password").send().await.token_error(
        400,
        "invalid_request",
        "unsupported_media_type",
    );
    app.post("/api/v1/auth/token").raw("application/json", "{not json").send().await.token_error(
        400,
        "invalid_request",
        "malformed_json",
    );
}

fn claims(app_issuer: &str, audience: &str, exp_offset: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"iss": app_issuer, "aud": audience, "sub": uuid::Uuid::now_v7().to_string(), "typ": "user",
        "iat": now, "nbf": now, "exp": now + exp_offset, "jti": "t"})
}

fn unsigned(header: Value, claims: &Value) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap()),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap())
    )
}

#[actix_web::test]
async fn forged_expired_and_misdirected_tokens_are_refused() {
    let settings = test_settings();
    let secret = settings.jwt.secret.clone().unwrap();
    let key = EncodingKey::from_secret(secret.expose().as_bytes());
    let app = TestApp::spawn_with(settings).await;
    let good = app.admin_token().await;
    let me = app.get("/api/v1/me").token(&good).send().await.json();
    let admin_id = me["id"].as_str().unwrap();

    // A well-formed token for the administrator, signed with the right key, works.
    let mut base = claims("cchc-outreach", "cchc-outreach", 600);
    base["sub"] = json!(admin_id);
    let forged_ok = encode(&Header::new(Algorithm::HS256), &base, &key).unwrap();
    assert_eq!(app.get("/api/v1/me").token(&forged_ok).send().await.status, 200, "control: the crafted token is valid");

    let with = |field: &str, value: Value| {
        let mut c = base.clone();
        c[field] = value;
        c
    };
    let now = chrono::Utc::now().timestamp();
    let mut without_exp = base.clone();
    without_exp.as_object_mut().unwrap().remove("exp");
    let other_key = EncodingKey::from_secret(b"another key that is long enough to be a real one");
    let cases: Vec<(&str, String)> = vec![
        ("alg none", unsigned(json!({"alg": "none", "typ": "JWT"}), &base)),
        (
            "alg none, signature kept",
            format!("{}{}", unsigned(json!({"alg": "none"}), &base), forged_ok.rsplit('.').next().unwrap()),
        ),
        ("another algorithm, same key", encode(&Header::new(Algorithm::HS512), &base, &key).unwrap()),
        ("another key", encode(&Header::new(Algorithm::HS256), &base, &other_key).unwrap()),
        ("expired", encode(&Header::new(Algorithm::HS256), &with("exp", json!(now - 120)), &key).unwrap()),
        ("not yet valid", encode(&Header::new(Algorithm::HS256), &with("nbf", json!(now + 600)), &key).unwrap()),
        ("wrong issuer", encode(&Header::new(Algorithm::HS256), &with("iss", json!("someone-else")), &key).unwrap()),
        ("wrong audience", encode(&Header::new(Algorithm::HS256), &with("aud", json!("other-service")), &key).unwrap()),
        ("no exp", encode(&Header::new(Algorithm::HS256), &without_exp, &key).unwrap()),
        (
            "unknown subject",
            encode(&Header::new(Algorithm::HS256), &with("sub", json!(uuid::Uuid::now_v7().to_string())), &key)
                .unwrap(),
        ),
        ("unknown kind", encode(&Header::new(Algorithm::HS256), &with("typ", json!("root")), &key).unwrap()),
        ("RS256 header over an HMAC signature", {
            let mut parts: Vec<String> = forged_ok.split('.').map(str::to_owned).collect();
            parts[0] = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
            parts.join(".")
        }),
        ("injection in kid", {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some("../../etc/passwd' OR '1'='1".to_owned());
            let mut t = encode(&header, &base, &other_key).unwrap();
            t.push('x');
            t
        }),
        ("garbage", "not.a.token".to_owned()),
        ("empty", String::new()),
    ];
    for (name, token) in cases {
        let res = app.get("/api/v1/me").header("Authorization", &format!("Bearer {token}")).send().await;
        assert_eq!(res.status, 401, "{name}: {}", res.text());
        assert!(res.header("www-authenticate").unwrap().starts_with("Bearer"), "{name}");
        assert!(matches!(res.json()["code"].as_str(), Some("invalid_token" | "unauthenticated")), "{name}");
    }
    app.get("/api/v1/me").header("Authorization", &format!("Basic {good}")).send().await.problem(401, "invalid_token");
    app.get("/api/v1/me").send().await.problem(401, "unauthenticated");
}

#[actix_web::test]
async fn tokens_of_a_configured_identity_provider_are_accepted_for_known_people() {
    // The provider's key pair exists only for this test.
    let signing = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let private_pem = signing.to_pkcs8_pem(LineEnding::LF).unwrap();
    let public_pem = signing.public_key().to_public_key_pem(LineEnding::LF).unwrap();
    let dir = std::env::temp_dir().join(format!("cchc-idp-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("idp.pem");
    std::fs::write(&key_file, public_pem.as_bytes()).unwrap();

    let app = TestApp::spawn_with_idp(ExternalIdpSettings {
        issuer: "https://sso.khanhhoa.gov.vn".to_owned(),
        audience: "cchc".to_owned(),
        algorithm: Algorithm::ES256,
        key: ExternalKey::PublicKeyFile(key_file.clone()),
        username_claim: "preferred_username".to_owned(),
    })
    .await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    app.person(&admin, org, "sso.user", "leader").await;

    let key = EncodingKey::from_ec_pem(private_pem.as_bytes()).unwrap();
    let now = chrono::Utc::now().timestamp();
    let token_for = |username: &str, iss: &str| {
        encode(
            &Header::new(Algorithm::ES256),
            &json!({"iss": iss, "aud": "cchc", "sub": "abc-123", "preferred_username": username, "iat": now, "exp": now + 300}),
            &key,
        )
        .unwrap()
    };
    let res = app.get("/api/v1/me").token(&token_for("sso.user", "https://sso.khanhhoa.gov.vn")).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["role"], "leader");
    app.get("/api/v1/me")
        .token(&token_for("not.a.user", "https://sso.khanhhoa.gov.vn"))
        .send()
        .await
        .problem(401, "invalid_token");
    app.get("/api/v1/me")
        .token(&token_for("sso.user", "https://evil.example"))
        .send()
        .await
        .problem(401, "invalid_token");
    // The provider's public key, used as an HMAC secret, must not verify anything.
    let confused = encode(
        &Header::new(Algorithm::HS256),
        &json!({"iss": "https://sso.khanhhoa.gov.vn", "aud": "cchc", "sub": "x", "preferred_username": "sso.user", "exp": now + 300}),
        &EncodingKey::from_secret(public_pem.as_bytes()),
    )
    .unwrap();
    app.get("/api/v1/me").token(&confused).send().await.problem(401, "invalid_token");
    // Signed by another key.
    let stranger = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let forged = encode(
        &Header::new(Algorithm::ES256),
        &json!({"iss": "https://sso.khanhhoa.gov.vn", "aud": "cchc", "sub": "x", "preferred_username": "sso.user", "exp": now + 300}),
        &EncodingKey::from_ec_pem(stranger.to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes()).unwrap(),
    )
    .unwrap();
    app.get("/api/v1/me").token(&forged).send().await.problem(401, "invalid_token");
    let _ = std::fs::remove_dir_all(dir);
}

#[actix_web::test]
async fn a_jwks_file_picks_the_key_by_kid() {
    let first = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let second = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let jwk = |key: &p256::SecretKey, kid: &str| {
        let mut jwk: Value = serde_json::from_str(&key.public_key().to_jwk_string()).unwrap();
        jwk["kid"] = json!(kid);
        jwk["alg"] = json!("ES256");
        jwk["use"] = json!("sig");
        jwk
    };
    let dir = std::env::temp_dir().join(format!("cchc-jwks-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let jwks_file = dir.join("jwks.json");
    std::fs::write(&jwks_file, json!({"keys": [jwk(&first, "k1"), jwk(&second, "k2")]}).to_string()).unwrap();

    let app = TestApp::spawn_with_idp(ExternalIdpSettings {
        issuer: "https://sso.example".to_owned(),
        audience: "cchc".to_owned(),
        algorithm: Algorithm::ES256,
        key: ExternalKey::JwksFile(jwks_file),
        username_claim: "preferred_username".to_owned(),
    })
    .await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    app.person(&admin, org, "sso.viewer", "viewer").await;

    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iss": "https://sso.example", "aud": "cchc", "sub": "s", "preferred_username": "sso.viewer", "exp": now + 300});
    let sign = |key: &p256::SecretKey, kid: Option<&str>| {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = kid.map(str::to_owned);
        encode(
            &header,
            &claims,
            &EncodingKey::from_ec_pem(key.to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes()).unwrap(),
        )
        .unwrap()
    };
    for (token, expected) in [
        (sign(&first, Some("k1")), 200),
        (sign(&second, Some("k2")), 200),
        (sign(&first, Some("k2")), 401),
        (sign(&first, Some("k3")), 401),
        (sign(&first, None), 401),
    ] {
        assert_eq!(app.get("/api/v1/me").token(&token).send().await.status, expected);
    }
    let _ = std::fs::remove_dir_all(dir);
}
