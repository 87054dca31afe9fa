//! Rate limits shared by several instances through a real Redis (`CCHC_REDIS_URL`).
//! This kind of machine runs one on 127.0.0.1:6379; where none runs, the test says so
//! and does nothing.
use std::{net::TcpStream, time::Duration};

use crate::helpers::{TestApp, test_settings};

const REDIS: &str = "127.0.0.1:6379";

#[actix_web::test]
async fn two_instances_count_each_caller_once_through_redis() {
    if TcpStream::connect_timeout(&REDIS.parse().unwrap(), Duration::from_secs(1)).is_err() {
        eprintln!("SKIPPED: no Redis at {REDIS}; the shared rate limits are not tested here");
        return;
    }
    let mut settings = test_settings();
    settings.redis_url = Some(format!("redis://{REDIS}"));
    settings.rate_limit_per_token = 5;
    settings.rate_limit_per_address = 0;
    settings.public_rate_limit = 4;
    settings.trust_forwarded_for = true;
    let a = TestApp::spawn_with(settings).await;
    let b = a.start_another().await;
    let admin = a.admin_token().await;
    // Five requests of one token, alternately on each instance: the allowance goes down
    // across both; the sixth, wherever it lands, is refused.
    let mut remaining = Vec::new();
    for i in 0..5 {
        let res = if i % 2 == 0 {
            a.get("/api/v1/me").token(&admin).send().await
        } else {
            a.at(&b).get("/api/v1/me").token(&admin).send().await
        };
        assert_eq!(res.status, 200, "request {i}: {}", res.text());
        assert_eq!(res.header("ratelimit-limit").as_deref(), Some("5"));
        remaining.push(res.header("ratelimit-remaining").unwrap().parse::<u32>().unwrap());
    }
    assert_eq!(remaining, vec![4, 3, 2, 1, 0], "one count for both instances");
    let refused = a.at(&b).get("/api/v1/me").token(&admin).send().await;
    assert_eq!(refused.status, 429, "{}", refused.text());
    assert!(refused.header("retry-after").is_some());
    assert_eq!(a.get("/api/v1/me").token(&admin).send().await.status, 429);
    // The public limit of one address, shared too (an address of its own per run).
    let address = format!("198.51.100.{}", uuid::Uuid::now_v7().as_u128() % 250 + 1);
    let mut statuses = Vec::new();
    for i in 0..5 {
        let path = "/api/v1/public/organizations/NONE/feedback";
        let call = if i % 2 == 0 { a.get(path) } else { a.at(&b).get(path) };
        statuses.push(call.header("X-Forwarded-For", &address).send().await.status);
    }
    assert_eq!(statuses[..4].iter().filter(|s| **s == 429).count(), 0, "{statuses:?}");
    assert_eq!(statuses[4], 429, "{statuses:?}");
}
