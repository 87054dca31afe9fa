//! Exactly once across crashes: the real binary, killed with SIGKILL while several
//! clients file feedback with idempotency keys, restarted, and every request that was
//! not acknowledged retried with its key.
use std::{
    cell::RefCell,
    collections::{HashMap, VecDeque},
    rc::Rc,
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::helpers::TestApp;

const RECORDS: usize = 300;
const CLIENTS: usize = 6;
const KILLS: usize = 2;

/// The acknowledged answers by request number: `(id, code, replayed)`.
type Acked = Rc<RefCell<HashMap<usize, (String, String, bool)>>>;

/// Files requests from the queue until it is empty or the service is gone; a request
/// without an answer goes back to the queue, to be retried with the same key.
async fn client(
    base: String,
    token: String,
    queue: Rc<RefCell<VecDeque<usize>>>,
    acked: Acked,
    conflicts: Rc<RefCell<usize>>,
) {
    let http = awc::Client::builder().timeout(Duration::from_secs(30)).finish();
    loop {
        let Some(n) = queue.borrow_mut().pop_front() else { return };
        let body = json!({"channel": "hotline", "kind": "feedback", "sender_type": "citizen", "anonymous": true,
            "subject": format!("Phản ánh số {n}"), "content": "Nội dung phản ánh qua tổng đài."});
        let sent = http
            .post(format!("{base}/api/v1/feedback"))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .insert_header(("Idempotency-Key", format!("crash-test-{n}")))
            .send_json(&body)
            .await;
        let answer = match sent {
            Ok(mut res) => {
                let status = res.status().as_u16();
                let replayed = res.headers().contains_key("idempotency-replayed");
                res.body().await.ok().map(|body| (status, replayed, body))
            }
            Err(_) => None,
        };
        match answer {
            Some((201, replayed, body)) => {
                let record: Value = serde_json::from_slice(&body).unwrap();
                let (id, code) = (record["id"].as_str().unwrap(), record["code"].as_str().unwrap());
                let subject = record["subject"].as_str().unwrap();
                assert_eq!(subject, format!("Phản ánh số {n}"), "the answer is this request's");
                acked.borrow_mut().insert(n, (id.to_owned(), code.to_owned(), replayed));
            }
            Some((409, _, _)) => {
                // Its first attempt is still running: try again shortly.
                *conflicts.borrow_mut() += 1;
                queue.borrow_mut().push_back(n);
                actix_web::rt::time::sleep(Duration::from_millis(20)).await;
            }
            Some((status, _, body)) if status < 500 => {
                panic!("request {n}: {status} {}", String::from_utf8_lossy(&body))
            }
            // No answer, or the service going down: not acknowledged.
            _ => {
                queue.borrow_mut().push_back(n);
                return;
            }
        }
    }
}

#[actix_web::test]
async fn keyed_filings_exist_exactly_once_after_kill_9_and_retries() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.organization(&admin, "KDPM").await;
    let res = app
        .post("/api/v1/departments")
        .token(&admin)
        .json(json!({"code": "TCHC", "name": "Phòng TCHC", "organization_id": org}))
        .send()
        .await;
    let dept = res.json()["id"].as_str().unwrap().to_owned();
    let (_, token) = app.staff(&admin, org, &dept, "tongdai", "coordinator").await;

    let queue = Rc::new(RefCell::new((0..RECORDS).collect::<VecDeque<_>>()));
    let acked: Acked = Rc::default();
    let conflicts = Rc::new(RefCell::new(0));
    let unlimited = [("CCHC_RATE_LIMIT", "0"), ("CCHC_RATE_LIMIT_PER_ADDRESS", "0")];
    let started = Instant::now();
    for run in 0..=KILLS {
        let mut binary = app.start_binary(&unlimited).await;
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let (base, token) = (binary.base.clone(), token.clone());
                actix_web::rt::spawn(client(base, token, queue.clone(), acked.clone(), conflicts.clone()))
            })
            .collect();
        if run < KILLS {
            // Kill it in the middle of the filing, as requests are in flight.
            let target = acked.borrow().len() + RECORDS / (KILLS + 2);
            while acked.borrow().len() < target {
                assert!(started.elapsed() < Duration::from_secs(120), "filing stalled");
                actix_web::rt::time::sleep(Duration::from_millis(2)).await;
            }
            binary.child.kill().unwrap(); // SIGKILL
            binary.child.wait().unwrap();
        }
        // After the last restart, whatever was left must go through without waiting
        // for anything to expire.
        let deadline = Instant::now() + Duration::from_secs(45);
        for c in clients {
            while !c.is_finished() {
                assert!(Instant::now() < deadline, "retries did not get through: {} left", queue.borrow().len());
                actix_web::rt::time::sleep(Duration::from_millis(10)).await;
            }
            c.await.unwrap();
        }
    }

    let acked = acked.borrow();
    assert_eq!(acked.len(), RECORDS, "every request acknowledged");
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM feedback"), RECORDS as i64, "each filed exactly once");
    assert_eq!(app.sql_count("SELECT count(DISTINCT subject) AS n FROM feedback"), RECORDS as i64);
    assert_eq!(app.sql_count("SELECT count(*) AS n FROM idempotency_keys"), RECORDS as i64);
    // Codes are gap-free: 1..=RECORDS of the year, each once.
    let mut numbers: Vec<usize> =
        acked.values().map(|(_, code, _)| code.rsplit('-').next().unwrap().parse().unwrap()).collect();
    numbers.sort();
    assert_eq!(numbers, (1..=RECORDS).collect::<Vec<_>>());
    for (n, (id, code, _)) in acked.iter() {
        let found = app.sql_count(&format!(
            "SELECT count(*) AS n FROM feedback WHERE id = '{id}' AND code = '{code}' AND subject = 'Phản ánh số {n}'"
        ));
        assert_eq!(found, 1, "request {n}'s answer names its record");
    }
    let replayed = acked.values().filter(|a| a.2).count();
    eprintln!(
        "{RECORDS} filings, {KILLS} kills: {replayed} answers replayed after a crash, {} retries met a request in flight, {:.1} s",
        conflicts.borrow(),
        started.elapsed().as_secs_f64()
    );
}
