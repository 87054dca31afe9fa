//! The token endpoint through a standard OAuth 2.0 client library (the `oauth2` crate),
//! as another system would call it: both grants succeed, and every error parses as
//! RFC 6749 §5.2 has it.
use oauth2::{
    AuthType, ClientId, ClientSecret, HttpRequest, HttpResponse, RequestTokenError, ResourceOwnerPassword,
    ResourceOwnerUsername, Scope, TokenResponse, TokenUrl,
    basic::{BasicClient, BasicErrorResponseType, BasicRequestTokenError},
};

use crate::helpers::{ADMIN, ADMIN_PASSWORD, MAX_FAILURES, TestApp};

/// The library's HTTP transport, over the test suite's client.
async fn send(request: HttpRequest) -> Result<HttpResponse, std::io::Error> {
    let client = awc::Client::default();
    let method = awc::http::Method::from_bytes(request.method().as_str().as_bytes()).unwrap();
    let mut req = client.request(method, request.uri().to_string());
    for (name, value) in request.headers() {
        req = req.insert_header((name.as_str(), value.to_str().unwrap()));
    }
    let mut res = req.send_body(request.into_body()).await.map_err(|e| std::io::Error::other(e.to_string()))?;
    let body = res.body().await.map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut answer = oauth2::http::Response::builder().status(res.status().as_u16());
    for (name, value) in res.headers() {
        answer = answer.header(name.as_str(), value.as_bytes());
    }
    Ok(answer.body(body.to_vec()).unwrap())
}

/// What the server said, as the library parsed it.
fn server_error(err: BasicRequestTokenError<std::io::Error>) -> (BasicErrorResponseType, String) {
    match err {
        RequestTokenError::ServerResponse(response) => {
            (response.error().clone(), response.error_description().cloned().unwrap_or_default())
        }
        other => panic!("the library could not read the error: {other:?}"),
    }
}

#[actix_web::test]
async fn an_oauth2_client_library_signs_in_with_both_grants_and_reads_every_error() {
    let app = TestApp::spawn().await;
    let token_url = TokenUrl::new(app.url("/api/v1/auth/token")).unwrap();
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let created = app
        .post("/api/v1/service-clients")
        .token(&admin)
        .json(serde_json::json!({"name": "Cổng CCHC", "scopes": ["reports:read", "directory:read"], "organization_id": org}))
        .send()
        .await
        .json();
    let (id, secret) =
        (created["id"].as_str().unwrap().to_owned(), created["client_secret"].as_str().unwrap().to_owned());

    // Client credentials, with HTTP Basic (the library's default) and in the body.
    for auth in [AuthType::BasicAuth, AuthType::RequestBody] {
        let client = BasicClient::new(ClientId::new(id.clone()))
            .set_client_secret(ClientSecret::new(secret.clone()))
            .set_auth_type(auth.clone())
            .set_token_uri(token_url.clone());
        let token = client
            .exchange_client_credentials()
            .add_scope(Scope::new("reports:read".into()))
            .request_async(&send)
            .await
            .unwrap_or_else(|e| panic!("{auth:?}: {e:?}"));
        assert_eq!(token.scopes().unwrap(), &vec![Scope::new("reports:read".into())]);
        assert!(token.expires_in().is_some_and(|d| d.as_secs() == 3600));
        let me = app.get("/api/v1/me").token(token.access_token().secret()).send().await;
        assert_eq!(me.status, 200, "{}", me.text());
        assert_eq!(me.json()["scopes"], serde_json::json!(["reports:read"]));

        let wrong = BasicClient::new(ClientId::new(id.clone()))
            .set_client_secret(ClientSecret::new("not-the-secret".into()))
            .set_auth_type(auth.clone())
            .set_token_uri(token_url.clone());
        let (error, description) =
            server_error(wrong.exchange_client_credentials().request_async(&send).await.unwrap_err());
        assert_eq!(error, BasicErrorResponseType::InvalidClient, "{auth:?}");
        assert!(!description.is_empty());

        let (error, _) = server_error(
            client
                .exchange_client_credentials()
                .add_scope(Scope::new("plans:write".into()))
                .request_async(&send)
                .await
                .unwrap_err(),
        );
        assert_eq!(error, BasicErrorResponseType::InvalidScope);
    }

    // The password grant, from a public client (no secret).
    let public = BasicClient::new(ClientId::new("script".into())).set_token_uri(token_url.clone());
    let token = public
        .exchange_password(
            &ResourceOwnerUsername::new(ADMIN.into()),
            &ResourceOwnerPassword::new(ADMIN_PASSWORD.into()),
        )
        .request_async(&send)
        .await
        .unwrap();
    assert_eq!(token.scopes().unwrap(), &vec![Scope::new("role:admin".into())]);
    let me = app.get("/api/v1/me").token(token.access_token().secret()).send().await;
    assert_eq!(me.json()["name"], ADMIN);

    let wrong = ResourceOwnerPassword::new("not-the-password".into());
    let (error, description) = server_error(
        public
            .exchange_password(&ResourceOwnerUsername::new(ADMIN.into()), &wrong)
            .request_async(&send)
            .await
            .unwrap_err(),
    );
    assert_eq!(error, BasicErrorResponseType::InvalidGrant);
    assert_eq!(description, "The username or password is wrong.", "in ASCII, as RFC 6749 asks");

    // Locked after repeated failures: an error the RFC registers, with Retry-After.
    let max: usize = MAX_FAILURES.parse().unwrap();
    for _ in 1..max {
        public
            .exchange_password(&ResourceOwnerUsername::new(ADMIN.into()), &wrong)
            .request_async(&send)
            .await
            .unwrap_err();
    }
    let (error, _) = server_error(
        public
            .exchange_password(
                &ResourceOwnerUsername::new(ADMIN.into()),
                &ResourceOwnerPassword::new(ADMIN_PASSWORD.into()),
            )
            .request_async(&send)
            .await
            .unwrap_err(),
    );
    assert_eq!(error, BasicErrorResponseType::Extension("temporarily_unavailable".into()));
}

#[actix_web::test]
async fn token_errors_have_the_rfcs_statuses_and_headers() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let (id, _) = app.service_client(&admin, org, &["reports:read"]).await;
    let basic = |secret: &str| {
        use base64::Engine;
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")))
    };
    // invalid_client: 401 and the scheme the client may use, whichever way it authenticated.
    let res = app
        .post("/api/v1/auth/token")
        .header("Authorization", &basic("wrong"))
        .raw("application/x-www-form-urlencoded", "grant_type=client_credentials")
        .send()
        .await;
    res.token_error(401, "invalid_client", "invalid_client");
    assert_eq!(res.header("www-authenticate").as_deref(), Some("Basic realm=\"cchc-outreach\""));
    let res = app
        .post("/api/v1/auth/token")
        .raw(
            "application/x-www-form-urlencoded",
            format!("grant_type=client_credentials&client_id={id}&client_secret=wrong"),
        )
        .send()
        .await;
    res.token_error(401, "invalid_client", "invalid_client");
    assert_eq!(res.header("www-authenticate").as_deref(), Some("Basic realm=\"cchc-outreach\""));
    // invalid_grant: 400, and no challenge (the client did not fail).
    let res = app
        .post("/api/v1/auth/token")
        .raw("application/x-www-form-urlencoded", format!("grant_type=password&username={ADMIN}&password=wrong"))
        .send()
        .await;
    res.token_error(400, "invalid_grant", "invalid_grant");
    assert_eq!(res.header("www-authenticate"), None);
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    // Two ways of client authentication at once.
    app.post("/api/v1/auth/token")
        .header("Authorization", &basic("wrong"))
        .raw(
            "application/x-www-form-urlencoded",
            format!("grant_type=client_credentials&client_secret=x&client_id={id}"),
        )
        .send()
        .await
        .token_error(400, "invalid_request", "several_client_credentials");
    // Missing and unknown grant types; English on request.
    let res = app.post("/api/v1/auth/token").raw("application/x-www-form-urlencoded", "username=a").send().await;
    res.token_error(400, "invalid_request", "validation_failed");
    let res = app
        .post("/api/v1/auth/token")
        .header("Accept-Language", "en")
        .raw("application/x-www-form-urlencoded", "grant_type=authorization_code&code=x")
        .send()
        .await;
    let body = res.token_error(400, "unsupported_grant_type", "unsupported_grant_type");
    assert_eq!(body["error_description"], "Only the password and client_credentials grant types are supported.");
}
