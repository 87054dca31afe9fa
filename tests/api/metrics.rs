//! `GET /metrics`: Prometheus text, not public, with requests by route template.
use crate::helpers::{TestApp, test_settings};

#[actix_web::test]
async fn metrics_are_prometheus_text_for_a_scraper_only_by_route_template() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    assert_eq!(app.get("/metrics").send().await.status, 401, "never public");
    let (_, reader) = app.service_client(&admin, org, &["plans:read"]).await;
    assert_eq!(app.get("/metrics").token(&reader).send().await.status, 403);
    let (_, scraper) = app.service_client(&admin, org, &["metrics:read"]).await;
    // A record that does not exist, and a path that matches no route.
    let made_up = uuid::Uuid::now_v7();
    assert_eq!(app.get(&format!("/api/v1/plans/{made_up}")).token(&reader).send().await.status, 404);
    assert_eq!(app.get(&format!("/api/v1/nothing-here/{made_up}")).token(&reader).send().await.status, 404);
    let res = app.get("/metrics").token(&scraper).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.header("content-type").unwrap().starts_with("text/plain; version=0.0.4"));
    let text = res.text();
    let value = |series: &str| -> Option<f64> {
        text.lines().find(|l| l.starts_with(series)).and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse().ok())
    };
    let plans = r#"cchc_http_requests_total{method="GET",route="/api/v1/plans/{id}",status="404"}"#;
    assert!(value(plans).is_some_and(|n| n >= 1.0), "{text}");
    assert!(!text.contains(&made_up.to_string()), "routes by template, never a path");
    assert!(text.contains(r#"route="other""#), "{text}");
    assert!(text.contains("cchc_http_request_duration_seconds_bucket{"), "{text}");
    assert!(value(r#"cchc_db_pool_connections{state="in_use"}"#).is_some(), "{text}");
    assert!(value(r#"cchc_db_pool_connections{state="idle"}"#).is_some(), "{text}");
    assert!(value("cchc_jobs_due").is_some(), "{text}");
    assert!(value("cchc_jobs_oldest_due_seconds").is_some(), "{text}");
}

#[actix_web::test]
async fn a_private_metrics_address_serves_them_without_a_token() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut settings = test_settings();
    settings.metrics_bind = Some(format!("127.0.0.1:{port}"));
    let app = TestApp::spawn_with(settings).await;
    let res = app.at(&format!("http://127.0.0.1:{port}")).get("/metrics").send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.text().contains("cchc_jobs_due"), "{}", res.text());
    // Only the metrics there; the main port still asks for a token.
    assert_eq!(app.at(&format!("http://127.0.0.1:{port}")).get("/api/v1/me").send().await.status, 404);
    assert_eq!(app.get("/metrics").send().await.status, 401);
}
